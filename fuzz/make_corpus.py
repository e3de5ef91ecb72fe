#!/usr/bin/python3
"""Writes the seed corpus of the fuzz targets into fuzz/corpus/<target>/.

Run with Debian's python3 (python3-pil, python3-numpy); the outputs are
committed, so the fuzz script never needs this. Every seed is small (a few
hundred bytes to a few KB) and valid, so that the fuzzers start from inputs
that reach deep into each reader.
"""
import gzip
import io
import os
import shutil
import struct

import numpy as np
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "corpus")


def put(target, name, data):
    folder = os.path.join(OUT, target)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, name), "wb") as f:
        f.write(data)


def pattern(h, w, c, seed):
    rng = np.random.default_rng(seed)
    base = np.linspace(0, 255, h * w * c).reshape(h, w, c)
    return np.clip(base + rng.integers(-40, 40, (h, w, c)), 0, 255).astype(np.uint8)


def encoded(img, fmt, **kw):
    b = io.BytesIO()
    img.save(b, fmt, **kw)
    return b.getvalue()


def images():
    rgb = Image.fromarray(pattern(12, 17, 3, 1), "RGB")
    grey = Image.fromarray(pattern(9, 7, 1, 2)[:, :, 0], "L")
    put("fuzz_image", "rgb420.jpg", encoded(rgb, "JPEG", quality=80))
    put("fuzz_image", "rgb444.jpg", encoded(rgb, "JPEG", quality=90, subsampling=0))
    put("fuzz_image", "progressive.jpg", encoded(rgb, "JPEG", progressive=True))
    put("fuzz_image", "grey.jpg", encoded(grey, "JPEG"))
    put("fuzz_image", "cmyk.jpg", encoded(rgb.convert("CMYK"), "JPEG"))
    big = Image.fromarray(pattern(40, 64, 3, 3), "RGB")
    put("fuzz_image", "big.jpg", encoded(big, "JPEG", quality=50))
    put("fuzz_image", "rgb.png", encoded(rgb, "PNG"))
    put("fuzz_image", "grey.png", encoded(grey, "PNG"))
    put("fuzz_image", "bilevel.png", encoded(grey.convert("1"), "PNG"))
    put("fuzz_image", "rgba.png", encoded(rgb.convert("RGBA"), "PNG"))
    put("fuzz_image", "la.png", encoded(grey.convert("LA"), "PNG"))
    put("fuzz_image", "palette.png",
        encoded(rgb.convert("P", palette=Image.ADAPTIVE, colors=16), "PNG",
                transparency=3))
    put("fuzz_image", "interlaced.png", encoded(rgb, "PNG", interlace=1))
    grey16 = Image.fromarray((pattern(6, 5, 1, 4)[:, :, 0].astype(np.int32) * 3), "I")
    put("fuzz_image", "grey16.png", encoded(grey16, "PNG"))


def idx(dims, payload):
    return bytes([0, 0, 8, len(dims)]) + b"".join(struct.pack(">I", d) for d in dims) + payload


def idx_pair(images_file, labels_file):
    # fuzz_idx: the first byte times 16 is the length of the image file.
    assert len(images_file) % 16 == 0 and len(images_file) // 16 < 256
    return bytes([len(images_file) // 16]) + images_file + labels_file


def idx_seeds():
    # 3 images of 4 x 4 (16 + 48 bytes = 64), 3 labels.
    pixels = bytes(range(48))
    images_file = idx([3, 4, 4], pixels)
    labels_file = idx([3], bytes([0, 2, 1]))
    put("fuzz_idx", "plain", idx_pair(images_file, labels_file))
    gz_images = gzip.compress(images_file, mtime=0)
    gz_images += b"\0" * (-len(gz_images) % 16)  # gzip ignores trailing zeros
    put("fuzz_idx", "gzip", idx_pair(gz_images, gzip.compress(labels_file, mtime=0)))


def cifar_seeds():
    rng = np.random.default_rng(5)
    records = b""
    for label in (3, 9):
        records += bytes([label]) + rng.integers(0, 256, 3072, dtype=np.uint8).tobytes()
    put("fuzz_cifar", "two_records.bin", records)


def list_seeds():
    # fuzz_list: the scratch folder holds a.png.
    put("fuzz_list", "list.txt",
        b"# a list\na.png 3\n\n  a.png\t0  \nmissing.png 1\n./a.png 7\n")


def checkpoint_seeds():
    src = os.path.join(HERE, "..", "tests", "fixtures", "sample.ckpt")
    folder = os.path.join(OUT, "fuzz_checkpoint")
    os.makedirs(folder, exist_ok=True)
    shutil.copyfile(src, os.path.join(folder, "sample.ckpt"))


if __name__ == "__main__":
    shutil.rmtree(OUT, ignore_errors=True)
    images()
    idx_seeds()
    cifar_seeds()
    checkpoint_seeds()
    list_seeds()
