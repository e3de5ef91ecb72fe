#!/usr/bin/env python3
"""tests/gpu/summarize.py WORK OUT - the tables of the GPU check.

Reads the JSON reports that tests/gpu/check.sh left in WORK (cnn's
`cnn_*.json`, PyTorch's `torch_*.json`; any may be missing), writes them
merged as OUT/cnn.json and OUT/torch.json, the comparison as OUT/summary.md
(models: images/s on the GPU, the ratio to PyTorch on the same GPU in FP32
and TF32, the speedup over the CPU; ops: cnn's and PyTorch's GPU times) and,
when matplotlib is there, OUT/speedup.png. Standard library only, apart
from the optional plot.
"""
import glob
import json
import os
import sys


def load(work, prefix):
    reports = {}
    for path in sorted(glob.glob(os.path.join(work, prefix + "_*.json"))):
        key = os.path.basename(path)[len(prefix) + 1:-len(".json")]
        try:
            with open(path) as f:
                reports[key] = json.load(f)
        except (OSError, ValueError) as err:
            reports[key] = {"error": str(err), "results": []}
    return reports


def model_rows(report):
    """(model, mode) -> row with images_per_s, for rows that ran."""
    rows = {}
    for r in (report or {}).get("results", []):
        if r.get("images_per_s"):
            rows[(r["model"], r["mode"])] = r
    return rows


def op_rows(report):
    rows = {}
    for r in (report or {}).get("results", []):
        if r.get("median_ms"):
            rows[(r["case"], r.get("pass", ""))] = r
    return rows


def fmt(value, pattern="{:.1f}"):
    return "-" if value is None else pattern.format(value)


def models_table(cnn, torch):
    gpu, tf32 = model_rows(cnn.get("models_gpu")), model_rows(cnn.get("models_gpu_tf32"))
    cpu = model_rows(cnn.get("models_cpu"))
    tgpu = model_rows(torch.get("models_gpu"))
    ttf32 = model_rows(torch.get("models_gpu_tf32"))
    lines = ["## Models on the GPU (images/s; ratio = cnn / PyTorch, above 1: cnn faster)",
             "",
             "| model | mode | batch | cnn fp32 | PyTorch fp32 | ratio | cnn tf32 | PyTorch tf32 | ratio | cnn CPU (batch) | GPU/CPU |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    plot = []
    for key in sorted(set(gpu) | set(cpu)):
        g, t = gpu.get(key), tgpu.get(key)
        g32, t32 = tf32.get(key), ttf32.get(key)
        c = cpu.get(key)
        ips = lambda r: r["images_per_s"] if r else None
        ratio = lambda a, b: a / b if a and b else None
        speedup = ratio(ips(g), ips(c))
        lines.append("| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |".format(
            key[0], key[1], g["batch"] if g else "-", fmt(ips(g)), fmt(ips(t)),
            fmt(ratio(ips(g), ips(t)), "{:.2f}x"), fmt(ips(g32)), fmt(ips(t32)),
            fmt(ratio(ips(g32), ips(t32)), "{:.2f}x"),
            "{} ({})".format(fmt(ips(c)), c["batch"]) if c else "-",
            fmt(speedup, "{:.0f}x")))
        if speedup:
            plot.append(("{} {}".format(*key), speedup))
    return lines, plot


def engines_table(cnn):
    vendor, native = model_rows(cnn.get("models_gpu")), model_rows(cnn.get("models_gpu_native"))
    lines = ["## Engines on the GPU (images/s: AUTO = cuDNN/cuBLAS where they have the op, NATIVE = our kernels)",
             "", "| model | mode | AUTO | NATIVE | NATIVE / AUTO |", "| --- | --- | --- | --- | --- |"]
    for key in sorted(native):
        a, n = vendor.get(key), native[key]
        ratio = n["images_per_s"] / a["images_per_s"] if a else None
        lines.append("| {} | {} | {} | {} | {} |".format(
            key[0], key[1], fmt(a["images_per_s"] if a else None),
            fmt(n["images_per_s"]), fmt(ratio, "{:.2f}x")))
    return lines


def ops_table(cnn, torch):
    mine, theirs = op_rows(cnn.get("ops_gpu")), op_rows(torch.get("ops_gpu"))
    lines = ["## Ops on the GPU (median ms; ratio = PyTorch time / cnn time)", "",
             "| case | pass | cnn ms | PyTorch ms | ratio | cnn GFLOP/s |",
             "| --- | --- | --- | --- | --- | --- |"]
    for key in sorted(mine):
        r, t = mine[key], theirs.get(key)
        ratio = t["median_ms"] / r["median_ms"] if t else None
        lines.append("| {} | {} | {} | {} | {} | {} |".format(
            key[0], key[1], fmt(r["median_ms"], "{:.3f}"),
            fmt(t["median_ms"] if t else None, "{:.3f}"),
            fmt(ratio, "{:.2f}x"), fmt(r.get("gflops"))))
    failed = [r for r in (cnn.get("ops_gpu") or {}).get("results", [])
              if r.get("status") not in ("ok", None)]
    if failed:
        lines += ["", "Not timed: " + ", ".join(
            "{} {} ({})".format(r["case"], r.get("pass", ""), r["status"])
            for r in failed)]
    return lines


def plot_speedup(points, path):
    if not points:
        return "no GPU and CPU pair to plot"
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "matplotlib is not installed: no plot"
    fig, ax = plt.subplots(figsize=(8, 0.4 * len(points) + 1.5))
    ax.barh([p[0] for p in points], [p[1] for p in points])
    ax.set_xscale("log")
    ax.set_xlabel("GPU images/s / CPU images/s")
    ax.set_title("cnn: GPU over CPU")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    return "plot: " + path


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: summarize.py WORK OUT")
    work, out = sys.argv[1], sys.argv[2]
    cnn, torch = load(work, "cnn"), load(work, "torch")
    for name, data in (("cnn.json", cnn), ("torch.json", torch)):
        with open(os.path.join(out, name), "w") as f:
            json.dump(data, f, indent=1)
    models, points = models_table(cnn, torch)
    lines = ["# GPU check", ""]
    info = os.path.join(out, "info.txt")
    if os.path.exists(info):
        with open(info) as f:
            lines += ["```"] + f.read().splitlines()[:12] + ["```", ""]
    lines += models + [""] + engines_table(cnn) + [""] + ops_table(cnn, torch) + [""]
    with open(os.path.join(out, "summary.md"), "w") as f:
        f.write("\n".join(lines))
    print(plot_speedup(points, os.path.join(out, "speedup.png")))


if __name__ == "__main__":
    main()
