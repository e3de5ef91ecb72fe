#!/usr/bin/env python3
"""Moves weights between PyTorch and cnn.

    convert_torch.py to-cnn STATE_DICT.pt OUT.ckpt [--model NAME]
        a state_dict saved with torch.save (or a dict holding one under
        "state_dict") into a cnn checkpoint that cnn_net_load and
        `cnn eval --checkpoint` read. Parameter names are torchvision's on
        both sides, so a torchvision ResNet's state_dict loads into
        cnn_model_resnet. Batch norm's num_batches_tracked counters have no
        place in cnn and are left out.
    convert_torch.py to-torch IN.ckpt OUT.pt
        a cnn checkpoint's weights and buffers (not its optimizer state)
        into a state_dict that torchvision's models load with strict=True
        (num_batches_tracked set to 0).

Needs PyTorch (Debian's python3-torch).
"""
import argparse
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cnn_ckpt  # noqa: E402

NUMPY = {"f32": "<f4", "i32": "<i4", "i64": "<i8", "u8": "u1", "f16": "<f2"}


def to_cnn(source, target, model):
    state = torch.load(source, map_location="cpu")
    if isinstance(state, dict) and "state_dict" in state:
        state = state["state_dict"]
    tensors, skipped = {}, []
    for name, value in state.items():
        if name.endswith("num_batches_tracked"):
            skipped.append(name)
            continue
        value = value.detach().cpu()
        if value.is_floating_point():
            array, dtype = value.to(torch.float32).numpy(), "f32"
        else:
            array, dtype = value.to(torch.int64).numpy(), "i64"
        dims = tuple(array.shape) or (1,)
        raw = np.ascontiguousarray(array.astype(NUMPY[dtype])).tobytes()
        tensors[name] = (dtype, dims, raw)
    meta = {"source": "pytorch state_dict"}
    if model:
        meta["model"] = model
    cnn_ckpt.write(target, meta, tensors)
    print(f"{target}: {len(tensors)} tensors"
          + (f" ({len(skipped)} num_batches_tracked left out)" if skipped
             else ""))


def to_torch(source, target):
    _meta, tensors = cnn_ckpt.read(source)
    state = {}
    for name, (dtype, dims, raw) in tensors.items():
        if name.startswith("momentum."):
            continue  # optimizer state, not weights
        if dtype not in NUMPY:
            sys.exit(f"convert_torch: {name} has dtype {dtype}, which this "
                     "tool does not convert")
        array = np.frombuffer(raw, dtype=NUMPY[dtype]).reshape(dims).copy()
        state[name] = torch.from_numpy(array)
        if name.endswith(".running_var"):
            counter = name[:-len("running_var")] + "num_batches_tracked"
            state[counter] = torch.tensor(0, dtype=torch.int64)
    torch.save(state, target)
    print(f"{target}: {len(state)} tensors")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    a = sub.add_parser("to-cnn")
    a.add_argument("source")
    a.add_argument("target")
    a.add_argument("--model", default=None)
    b = sub.add_parser("to-torch")
    b.add_argument("source")
    b.add_argument("target")
    args = parser.parse_args()
    if args.command == "to-cnn":
        to_cnn(args.source, args.target, args.model)
    else:
        to_torch(args.source, args.target)


if __name__ == "__main__":
    main()
