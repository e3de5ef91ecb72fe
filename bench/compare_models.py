#!/usr/bin/python3
"""Runs `cnn bench models --lockstep` and bench/peer_torch_models.py
--lockstep side by side, alternating them phase by phase (cnn's FMA peak,
a model's setup, a mode's warm-up, then each timed sample: cnn's sample k,
PyTorch's sample k, cnn's sample k+1, ...), so that never both run at once
and load from elsewhere on the machine hits both alike; then prints, per
model and mode, both times, images/s and the ratio PyTorch time / cnn time
(above 1: cnn is faster) as the median with min and max of the per-sample
ratios.

    bench/compare_models.py --cnn build/bin/cnn --threads 2 --out DIR \
        [--models LIST] [--batch N] [--samples S] [--warmup W] [--min-ms MS]

Writes DIR/cnn.json, DIR/torch.json (each program's own report), the
sample pairs as DIR/samples.csv, each side's output as DIR/cnn.txt and
DIR/torch.txt, and the comparison as DIR/compare.md.
bench/compare_models.sh finds the programs and calls this.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def step(proc, log, expect):
    """Lets proc run one phase; returns its '@' line's words."""
    proc.stdin.write("\n")
    proc.stdin.flush()
    while True:
        line = proc.stdout.readline()
        if not line:
            raise SystemExit(f"compare_models.py: {expect} ended early "
                             f"(exit {proc.wait()}); see its log")
        log.write(line)
        log.flush()  # the logs show how far a long run has come
        if line.startswith("@ "):
            words = line.split()[1:]
            if words[0] == "error":
                raise SystemExit(f"compare_models.py: {expect}: {line}")
            return words


def spread(values):
    return statistics.median(values), min(values), max(values)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cnn", required=True)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--models", default="alexnet,alexnet-one-tower,"
                    "resnet18,resnet50,small")
    ap.add_argument("--batch", type=int, default=0)
    ap.add_argument("--samples", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--min-ms", type=float, default=100.0)
    ap.add_argument("--out", default="bench-results")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    common = ["--models", a.models, "--threads", str(a.threads), "--samples",
              str(a.samples), "--warmup", str(a.warmup), "--min-ms",
              str(a.min_ms), "--lockstep"]
    if a.batch:
        common += ["--batch", str(a.batch)]
    env = dict(os.environ, OMP_NUM_THREADS=str(a.threads),
               OPENBLAS_NUM_THREADS=str(a.threads))
    sides = {
        "cnn": [a.cnn, "bench", "models", "--device", "cpu", *common,
                "--json", os.path.join(a.out, "cnn.json")],
        "torch": [sys.executable, os.path.join(HERE, "peer_torch_models.py"),
                  *common, "--json", os.path.join(a.out, "torch.json")]}
    procs, logs = {}, {}
    for side, cmd in sides.items():
        logs[side] = open(os.path.join(a.out, side + ".txt"), "w")
        procs[side] = subprocess.Popen(cmd, stdin=subprocess.PIPE,
                                       stdout=subprocess.PIPE, text=True,
                                       env=env)
    phases = 1  # cnn's FMA peak
    for name in a.models.split(","):
        phases += 1 + 2 * (1 + a.samples)
    pairs = {}  # (model, mode) -> [(cnn ms, torch ms)]
    batches = {}
    for _ in range(phases):
        # PyTorch first in the first phase: its "@ peak" line comes after
        # its import, so cnn then measures the FMA peak on an idle peer.
        order = ("torch", "cnn") if not batches and not pairs else procs
        got = {side: step(procs[side], logs[side], side) for side in order}
        c, t = got["cnn"], got["torch"]
        if c[0] != t[0] or (c[0] != "peak" and c[:3] != t[:3]):
            raise SystemExit(f"compare_models.py: out of step: {c} {t}")
        if c[0] == "setup":
            batches[c[1]] = int(c[3])
        if c[0] == "sample":
            pairs.setdefault((c[1], c[2]), []).append((float(c[4]),
                                                       float(t[4])))
    for side, proc in procs.items():
        proc.stdin.close()
        for line in proc.stdout:
            logs[side].write(line)
        proc.wait()
        logs[side].close()
    with open(os.path.join(a.out, "cnn.json")) as f:
        report = json.load(f)
    cnn = {(r["model"], r["mode"]): r for r in report["results"]}
    peak_gflops = report["peak_gflops"]
    with open(os.path.join(a.out, "samples.csv"), "w") as f:
        f.write("model,mode,sample,cnn_ms,torch_ms\n")
        for (model, mode), ps in pairs.items():
            for k, (cm, tm) in enumerate(ps):
                f.write(f"{model},{mode},{k},{cm:.4f},{tm:.4f}\n")
    head = ("| model | mode | batch | cnn ms [min-max] | cnn img/s | "
            "PyTorch ms [min-max] | PyTorch img/s | PyTorch / cnn [min, max]"
            " | cnn GFLOP/s | cnn % of FMA peak |")
    lines = [head, "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | "
             "---: | ---: |"]
    for (model, mode), ps in pairs.items():
        n = batches[model]
        cm, cmin, cmax = spread([p[0] for p in ps])
        tm, tmin, tmax = spread([p[1] for p in ps])
        rm, rmin, rmax = spread([p[1] / p[0] for p in ps])
        r = cnn.get((model, mode), {})
        gf = r.get("gflop")
        gflops = f"{gf * 1e3 / cm:.1f}" if gf else "-"
        peak = f"{100 * gf * 1e3 / cm / peak_gflops:.0f}%" if gf else "-"
        lines.append(
            f"| {model} | {mode} | {n} | {cm:.1f} [{cmin:.1f}-{cmax:.1f}] | "
            f"{n * 1e3 / cm:.1f} | {tm:.1f} [{tmin:.1f}-{tmax:.1f}] | "
            f"{n * 1e3 / tm:.1f} | {rm:.2f}x [{rmin:.2f}, {rmax:.2f}] | "
            f"{gflops} | {peak} |")
    text = (f"cnn {report['version']} against PyTorch on {a.threads} threads, "
            f"samples interleaved; CPU FMA peak {report['peak_method']}\n\n"
            + "\n".join(lines) + "\n")
    with open(os.path.join(a.out, "compare.md"), "w") as f:
        f.write(text)
    print(text, end="")
    return 1 if any(p.returncode for p in procs.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
