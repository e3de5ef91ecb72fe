#!/usr/bin/env python3
"""Reads a cnn checkpoint with nothing but Python's standard library, as
docs/checkpoint.md specifies it, and prints its metadata and tensors.

    read_checkpoint.py FILE            print what is in FILE
    read_checkpoint.py --check-sample FILE
                                       also check the values that
                                       tests/make_sample_checkpoint.c wrote

Exits 1 (with a message) when the file is not a valid checkpoint.
"""
import struct
import sys
import zlib

DTYPES = {0: ("f32", "f", 4), 1: ("i32", "i", 4), 2: ("i64", "q", 8),
          3: ("u8", "B", 1), 4: ("f16", "e", 2), 5: ("bf16", "H", 2)}


def fail(message):
    sys.exit(f"read_checkpoint: {message}")


def read(path):
    data = open(path, "rb").read()
    if len(data) < 28 or data[:8] != b"CNNCKPT\0":
        fail(f"{path} is not a cnn checkpoint")
    body, (stored,) = data[:-4], struct.unpack("<I", data[-4:])
    if zlib.crc32(body) != stored:
        fail(f"{path} fails its checksum")
    version, flags, metas, count = struct.unpack_from("<IIII", data, 8)
    if version != 1:
        fail(f"{path} has format version {version}; this reader knows 1")
    at = 24
    meta = {}
    for _ in range(metas):
        (klen,) = struct.unpack_from("<H", data, at)
        key = data[at + 2:at + 2 + klen].decode()
        at += 2 + klen
        (vlen,) = struct.unpack_from("<I", data, at)
        meta[key] = data[at + 4:at + 4 + vlen].decode()
        at += 4 + vlen
    tensors = {}
    for _ in range(count):
        (nlen,) = struct.unpack_from("<H", data, at)
        name = data[at + 2:at + 2 + nlen].decode()
        at += 2 + nlen
        dtype, ndim = struct.unpack_from("<II", data, at)
        at += 8
        dims = struct.unpack_from(f"<{ndim}q", data, at)
        at += 8 * ndim
        offset, nbytes, crc = struct.unpack_from("<QQI", data, at)
        at += 20
        if offset % 64:
            fail(f"tensor {name} is not 64-byte aligned")
        raw = data[offset:offset + nbytes]
        if zlib.crc32(raw) != crc:
            fail(f"tensor {name} fails its checksum")
        label, code, size = DTYPES[dtype]
        n = nbytes // size
        tensors[name] = (label, dims, struct.unpack(f"<{n}{code}", raw))
    return meta, tensors


def main(argv):
    check = argv[1:2] == ["--check-sample"]
    path = argv[2] if check else (argv[1] if len(argv) > 1 else None)
    if not path:
        sys.exit(__doc__)
    meta, tensors = read(path)
    for key, value in meta.items():
        print(f"meta {key} = {value}")
    for name, (label, dims, values) in tensors.items():
        shape = "x".join(map(str, dims))
        print(f"tensor {name} {label} [{shape}] {list(values)[:8]}")
    if check:
        expected_meta = {"model": "sample", "step": "42"}
        expected = {
            "fc.weight": ("f32", (2, 3), (0.5, -1.0, 2.0, 3.25, -0.125)),
            "counts": ("i32", (4,), (1, -2, 3, 2147483647)),
        }
        if meta != expected_meta:
            fail(f"metadata {meta} != {expected_meta}")
        for name, (label, dims, head) in expected.items():
            got = tensors.get(name)
            if not got or got[0] != label or got[1] != dims or \
                    tuple(got[2][:len(head)]) != head:
                fail(f"tensor {name} is {got}, expected {label} {dims} {head}")
        if abs(tensors["fc.weight"][2][5] - 1e-3) > 1e-9:
            fail("fc.weight[5] is not 0.001")
        print("sample checkpoint: as expected")


if __name__ == "__main__":
    main(sys.argv)
