#!/usr/bin/env python3
"""Reads a cnn checkpoint with nothing but Python's standard library (the
reader in tools/cnn_ckpt.py, written from docs/checkpoint.md) and prints
its metadata and tensors.

    read_checkpoint.py FILE            print what is in FILE
    read_checkpoint.py --check-sample FILE
                                       also check the values that
                                       tests/make_sample_checkpoint.c wrote

Exits 1 (with a message) when the file is not a valid checkpoint.
"""
import os
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "tools"))
import cnn_ckpt  # noqa: E402

CODES = {"f32": "f", "i32": "i", "i64": "q", "u8": "B", "f16": "e",
         "bf16": "H"}


def values(dtype, raw):
    code = CODES[dtype]
    return struct.unpack(f"<{len(raw) // cnn_ckpt.SIZES[dtype]}{code}", raw)


def main(argv):
    check = argv[1:2] == ["--check-sample"]
    path = argv[2] if check else (argv[1] if len(argv) > 1 else None)
    if not path:
        sys.exit(__doc__)
    try:
        meta, tensors = cnn_ckpt.read(path)
    except cnn_ckpt.FormatError as e:
        sys.exit(f"read_checkpoint: {e}")
    for key, value in meta.items():
        print(f"meta {key} = {value}")
    for name, (dtype, dims, raw) in tensors.items():
        shape = "x".join(map(str, dims))
        print(f"tensor {name} {dtype} [{shape}] {list(values(dtype, raw))[:8]}")
    if not check:
        return
    expected_meta = {"model": "sample", "step": "42"}
    expected = {
        "fc.weight": ("f32", (2, 3), (0.5, -1.0, 2.0, 3.25, -0.125)),
        "counts": ("i32", (4,), (1, -2, 3, 2147483647)),
    }
    if meta != expected_meta:
        sys.exit(f"read_checkpoint: metadata {meta} != {expected_meta}")
    for name, (dtype, dims, head) in expected.items():
        got = tensors.get(name)
        if not got or got[0] != dtype or got[1] != dims or \
                values(dtype, got[2])[:len(head)] != head:
            sys.exit(f"read_checkpoint: tensor {name} is not {dtype} {dims} "
                     f"{head}")
    if abs(values("f32", tensors["fc.weight"][2])[5] - 1e-3) > 1e-9:
        sys.exit("read_checkpoint: fc.weight[5] is not 0.001")
    print("sample checkpoint: as expected")


if __name__ == "__main__":
    main(sys.argv)
