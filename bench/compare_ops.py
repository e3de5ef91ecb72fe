#!/usr/bin/python3
"""Prints `cnn bench ops` and bench/peer_torch.py side by side.

    /usr/bin/python3 bench/compare_ops.py cnn.json torch.json [--markdown FILE]

For every (case, pass) both ran: the median and [min - max] ms per call on
each side, the ratio PyTorch time / cnn time (> 1: cnn is faster) and cnn's
GFLOP/s (the FLOP table is bench/bench_flops.c; PyTorch's rate is the same
count over its own time). Then, per convolution layer, forward plus
backward against PyTorch and as a share of the machine's float32 GEMM rate
(the fastest forward of the sgemm.* cases, 2048^3 products as a linear
layer and as a 1x1 convolution, on either side, and torch.mm timed by the
peer script), and the geometric-mean ratio per op. Standard library only.
"""
import argparse
import json
import math
import sys
from collections import OrderedDict, defaultdict


def load(path):
    with open(path) as f:
        data = json.load(f)
    rows = OrderedDict(((r["case"], r["pass"]), r) for r in data["results"])
    return data, rows


def span(r):
    if r is None or r.get("median_ms") is None:
        return (r or {}).get("status", "absent")
    return f"{r['median_ms']:.3f} [{r['min_ms']:.3f}-{r['max_ms']:.3f}]"


def ratio(a, b):
    """PyTorch time over cnn time."""
    if a is None or b is None or a.get("median_ms") is None or b.get("median_ms") is None:
        return None
    return b["median_ms"] / a["median_ms"] if a["median_ms"] > 0 else None


def geomean(values):
    values = [v for v in values if v and v > 0]
    return math.exp(sum(math.log(v) for v in values) / len(values)) if values else None


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("cnn_json")
    parser.add_argument("torch_json")
    parser.add_argument("--markdown", help="also write the tables as Markdown")
    args = parser.parse_args()
    cnn_meta, cnn = load(args.cnn_json)
    torch_meta, torch = load(args.torch_json)
    lines, md = [], []

    def out(text="", markdown=None):
        lines.append(text)
        if markdown is not None:
            md.append(markdown)

    # The machine's GEMM rate: the fastest forward of the sgemm.* cases (a
    # 2048^3 product) on either side, by cnn's FLOP count, or torch.mm.
    candidates = {"torch.mm": torch_meta.get("sgemm_gflops")}
    for key, a in cnn.items():
        if not key[0].startswith("sgemm.") or key[1] != "fwd" or not a.get("median_ms"):
            continue
        candidates[f"cnn {key[0]}"] = a["gflops"]
        peer = torch.get(key)
        if peer and peer.get("median_ms"):
            candidates[f"PyTorch {key[0]}"] = a["gflop"] / (peer["median_ms"] * 1e-3)
    candidates = {k: v for k, v in candidates.items() if v}
    sgemm_from = max(candidates, key=candidates.get) if candidates else None
    sgemm = candidates.get(sgemm_from)
    out(f"cnn {cnn_meta['version']} ({cnn_meta['device']}, engine {cnn_meta['engine']}) vs "
        f"PyTorch {torch_meta['version']} ({torch_meta['threads']} threads); "
        f"repeat {cnn_meta['repeat']} / {torch_meta['repeat']}"
        + (f"; float32 GEMM yardstick: {sgemm:.1f} GFLOP/s ({sgemm_from})" if sgemm else ""),
        f"cnn {cnn_meta['version']} ({cnn_meta['device']}, engine {cnn_meta['engine']}) against "
        f"PyTorch {torch_meta['version']} on {torch_meta['threads']} threads"
        + (f"; this machine's float32 GEMM rate: {sgemm:.1f} GFLOP/s ({sgemm_from})." if sgemm else "."))
    out()
    head = f"{'case':34} {'pass':4} {'cnn ms [min-max]':>28} {'PyTorch ms [min-max]':>28} {'torch/cnn':>9} {'GFLOP/s':>8}"
    out(head, "\n| case | pass | cnn ms [min-max] | PyTorch ms [min-max] | PyTorch / cnn | cnn GFLOP/s | status |\n"
        "| --- | --- | --- | --- | ---: | ---: | --- |")
    by_op = defaultdict(list)
    for key, a in cnn.items():
        b = torch.get(key)
        r = ratio(a, b)
        if r:
            by_op[a["op"]].append(r)
        rate = f"{a['gflops']:.1f}" if a.get("gflops") and a.get("gflop") else "-"
        rtext = f"{r:.2f}x" if r else "-"
        status = a["status"] if a["status"] != "ok" else ""
        out(f"{key[0]:34} {key[1]:4} {span(a):>28} {span(b):>28} {rtext:>9} {rate:>8} {status}",
            f"| {key[0]} | {key[1]} | {span(a)} | {span(b)} | {rtext} | {rate} | {a['status']} |")

    out()
    out("Convolutions, forward + backward:",
        "\n**Convolutions, forward + backward** (ratio > 1: cnn is faster; GEMM share: cnn's rate "
        "over the machine's float32 GEMM rate)\n\n| layer | cnn ms | PyTorch ms | PyTorch / cnn | cnn GFLOP/s | share of GEMM |\n"
        "| --- | ---: | ---: | ---: | ---: | ---: |")
    behind = 0
    for key, a in cnn.items():
        if a["op"] != "conv2d" or key[1] != "fwd":
            continue
        parts = [cnn.get((key[0], p)) for p in ("fwd", "bwd")]
        peers = [torch.get((key[0], p)) for p in ("fwd", "bwd")]
        if any(p is None or p.get("median_ms") is None for p in parts + peers):
            out(f"  {key[0]:34} not timed on both sides",
                f"| {key[0]} | - | - | - | - | - |")
            continue
        ours = sum(p["median_ms"] for p in parts)
        theirs = sum(p["median_ms"] for p in peers)
        flop = sum(p["gflop"] for p in parts)
        rate = flop / (ours * 1e-3)
        share = f"{100 * rate / sgemm:.0f}%" if sgemm else "-"
        behind += theirs < ours
        out(f"  {key[0]:34} cnn {ours:9.2f} ms  PyTorch {theirs:9.2f} ms  {theirs / ours:5.2f}x"
            f"  {rate:7.1f} GFLOP/s  {share} of GEMM",
            f"| {key[0]} | {ours:.2f} | {theirs:.2f} | {theirs / ours:.2f}x | {rate:.1f} | {share} |")
    out()
    out("Geometric mean of PyTorch / cnn per op (> 1: cnn is faster):",
        "\n**Geometric mean of PyTorch / cnn per op**\n\n| op | passes | PyTorch / cnn |\n| --- | ---: | ---: |")
    for op, values in by_op.items():
        g = geomean(values)
        out(f"  {op:16} {len(values):3d} passes  {g:6.2f}x", f"| {op} | {len(values)} | {g:.2f}x |")
    out(f"\n{behind} convolution layer(s) slower than PyTorch, forward + backward.",
        f"\n{behind} convolution layer(s) slower than PyTorch, forward + backward.")
    print("\n".join(lines))
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write("\n".join(md) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
