"""Reads and writes cnn checkpoint files (docs/checkpoint.md) with Python's
standard library: used by tools/convert_torch.py and tests/read_checkpoint.py.

A checkpoint is returned as (meta, tensors): meta maps keys to strings;
tensors maps names to (dtype, dims, raw little-endian bytes), dtype being
one of "f32", "i32", "i64", "u8", "f16", "bf16".
"""
import struct
import zlib

MAGIC = b"CNNCKPT\0"
VERSION = 1
ALIGN = 64
DTYPES = ["f32", "i32", "i64", "u8", "f16", "bf16"]
SIZES = {"f32": 4, "i32": 4, "i64": 8, "u8": 1, "f16": 2, "bf16": 2}


class FormatError(Exception):
    """The file is not a valid cnn checkpoint."""


def read(path):
    data = open(path, "rb").read()
    if len(data) < 28 or data[:8] != MAGIC:
        raise FormatError(f"{path} is not a cnn checkpoint")
    (stored,) = struct.unpack("<I", data[-4:])
    if zlib.crc32(data[:-4]) != stored:
        raise FormatError(f"{path} fails its checksum")
    version, _flags, metas, count = struct.unpack_from("<IIII", data, 8)
    if version < 1 or version > VERSION:
        raise FormatError(f"{path} has format version {version}; this "
                          f"reader knows 1 to {VERSION}")
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
        if offset % ALIGN:
            raise FormatError(f"tensor {name} is not {ALIGN}-byte aligned")
        raw = data[offset:offset + nbytes]
        if len(raw) != nbytes or zlib.crc32(raw) != crc:
            raise FormatError(f"tensor {name} fails its checksum")
        tensors[name] = (DTYPES[dtype], tuple(dims), raw)
    return meta, tensors


def write(path, meta, tensors):
    """meta: {key: str}; tensors: {name: (dtype, dims, raw bytes)}. Not
    atomic (the C library's save is); fine for conversion tools."""
    head = bytearray(MAGIC)
    head += struct.pack("<IIII", VERSION, 0, len(meta), len(tensors))
    for key, value in meta.items():
        k, v = key.encode(), value.encode()
        head += struct.pack("<H", len(k)) + k + struct.pack("<I", len(v)) + v
    table_at = []
    for name, (dtype, dims, raw) in tensors.items():
        n = name.encode()
        head += struct.pack("<H", len(n)) + n
        head += struct.pack("<II", DTYPES.index(dtype), len(dims))
        head += struct.pack(f"<{len(dims)}q", *dims)
        table_at.append(len(head))
        head += struct.pack("<QQI", 0, len(raw), zlib.crc32(raw))
    body = bytearray(head)
    for (name, (_dtype, _dims, raw)), at in zip(tensors.items(), table_at):
        body += b"\0" * (-len(body) % ALIGN)
        struct.pack_into("<Q", body, at, len(body))
        body += raw
    body += struct.pack("<I", zlib.crc32(body))
    with open(path, "wb") as f:
        f.write(body)
