#!/usr/bin/python3
"""PyTorch's side of `cnn bench ops`: times the cases of bench/shapes_ops.txt
with torch 1.13 on the CPU and writes the same JSON schema as the cnn
program (bench/bench_report.h), with "tool": "pytorch".

    /usr/bin/python3 bench/peer_torch.py --threads 2 --json torch.json

Timing matches the C harness: each pass runs once to warm up and to size a
sample (calls repeat until a sample lasts --min-ms), then --repeat samples;
rows give the median, min and max time per call. What each pass times:
  fwd   the functional call under torch.no_grad() (no autograd bookkeeping)
  bwd   torch.autograd.grad of the forward's output with a fixed dy, for the
        same gradients cnn's backward computes (retain_graph, so the graph of
        one forward serves every call); softmax_xent's bwd is the loss and its
        gradient, as cnn_softmax_cross_entropy computes both; concat's bwd is
        torch.split plus .contiguous() (cnn_split writes separate tensors)
  step  torch.optim.SGD.step() (foreach off, 1.13's default)
PyTorch allocates its outputs at each call, as it does in training.
The script also times a float32 matrix product (torch.mm, 2048 x 2048) and
records its rate as "sgemm_gflops", the machine's GEMM yardstick.
"""
import argparse
import json
import math
import os
import statistics
import sys
import time

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))


def parse_cases(path, quick):
    """The shapes file's cases, batch lists expanded (bench_case.c)."""
    cases = []
    with open(path) as f:
        for number, line in enumerate(f, 1):
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            name, op, *pairs = line.split()
            keys = dict(p.split("=", 1) for p in pairs)
            batches = [int(b) for b in keys["n"].split(",")] if "n" in keys else [None]
            if quick:
                batches = batches[:1]
            for n in batches:
                k = dict(keys)
                if n is not None:
                    k["n"] = str(n)
                cases.append({"name": f"{name}/n{n}" if n is not None else name,
                              "op": op, "keys": k,
                              "shape": " ".join(f"{a}={b}" for a, b in k.items()),
                              "line": number})
    return cases


def matches(case, words):
    return not words or any(w in case["name"] or w == case["op"] for w in words)


# Where the tensors live: "cpu", or "cuda" with --device cuda (the inputs
# are drawn on the CPU and moved, so both devices time the same values).
DEVICE = "cpu"


def uniform(gen, *shape, low=-1.0, high=1.0, grad=False):
    t = (torch.rand(*shape, generator=gen) * (high - low) + low).to(DEVICE)
    return t.requires_grad_(grad)


def sync():
    """Waits for the GPU's queued work, so that a wall-clock sample covers
    it (a no-op on the CPU)."""
    if DEVICE != "cpu":
        torch.cuda.synchronize()


def integer(keys, name, default=None):
    return int(keys[name]) if name in keys else default


def real(keys, name, default=None):
    return float(keys[name]) if name in keys else default


def build(case, gen):
    """{pass name: callable} for the case."""
    k, op = case["keys"], case["op"]
    n = integer(k, "n")
    if op in ("conv2d", "linear"):
        if op == "conv2d":
            c, h, w = integer(k, "c"), integer(k, "h"), integer(k, "w")
            groups, stride, pad = integer(k, "groups", 1), integer(k, "stride", 1), integer(k, "pad", 0)
            fan_in = c // groups * integer(k, "r") * integer(k, "s")
            x = uniform(gen, n, c, h, w, grad=True)
            a = 1.0 / math.sqrt(fan_in)
            wt = uniform(gen, integer(k, "k"), c // groups, integer(k, "r"), integer(k, "s"),
                         low=-a, high=a, grad=True)
            b = uniform(gen, integer(k, "k"), low=-a, high=a, grad=True) if integer(k, "bias", 1) else None

            def fn():
                return F.conv2d(x, wt, b, stride=stride, padding=pad, groups=groups)
        else:
            a = 1.0 / math.sqrt(integer(k, "in"))
            x = uniform(gen, n, integer(k, "in"), grad=True)
            wt = uniform(gen, integer(k, "out"), integer(k, "in"), low=-a, high=a, grad=True)
            b = uniform(gen, integer(k, "out"), low=-a, high=a, grad=True)

            def fn():
                return F.linear(x, wt, b)
        inputs = [t for t in (x, wt, b) if t is not None]
        return unary_passes(fn, inputs, gen)
    if op in ("relu", "dropout", "lrn", "maxpool", "avgpool", "global_avgpool", "batchnorm"):
        shape = (n, integer(k, "c")) + ((integer(k, "h"), integer(k, "w")) if "h" in k else ())
        x = uniform(gen, *shape, grad=True)
        inputs = [x]
        if op == "relu":
            def fn():
                return F.relu(x)
        elif op == "dropout":
            p = real(k, "p", 0.5)

            def fn():
                return F.dropout(x, p=p, training=True)
        elif op == "lrn":
            size, groups = integer(k, "size"), integer(k, "groups", 1)
            alpha, beta, kk = real(k, "alpha", 1e-4), real(k, "beta", 0.75), real(k, "k", 1.0)
            c, h, w = shape[1:]

            def fn():  # one LRN per group of channels (AlexNet's towers)
                y = F.local_response_norm(x.view(n * groups, c // groups, h, w),
                                          size, alpha=alpha, beta=beta, k=kk)
                return y.view(n, c, h, w)
        elif op in ("maxpool", "avgpool"):
            kernel, stride, pad = integer(k, "kernel"), integer(k, "stride"), integer(k, "pad", 0)
            if op == "maxpool":
                def fn():
                    return F.max_pool2d(x, kernel, stride, pad)
            else:
                def fn():
                    return F.avg_pool2d(x, kernel, stride, pad, count_include_pad=True)
        elif op == "global_avgpool":
            def fn():
                return F.adaptive_avg_pool2d(x, 1)
        else:
            c = shape[1]
            gamma = uniform(gen, c, low=0.5, high=1.5, grad=True)
            beta_t = uniform(gen, c, low=-0.5, high=0.5, grad=True)
            mean, var = torch.zeros(c, device=DEVICE), torch.ones(c, device=DEVICE)
            inputs = [x, gamma, beta_t]

            def fn():
                return F.batch_norm(x, mean, var, gamma, beta_t, training=True,
                                    momentum=0.1, eps=1e-5)
        return unary_passes(fn, inputs, gen)
    if op == "add":
        shape = (n, integer(k, "c")) + ((integer(k, "h"), integer(k, "w")) if "h" in k else ())
        a, b = uniform(gen, *shape), uniform(gen, *shape)
        return {"fwd": lambda: a + b}
    if op == "softmax_xent":
        classes = integer(k, "classes")
        logits = uniform(gen, n, classes, low=-4.0, high=4.0, grad=True)
        labels = torch.tensor([(i * 7919) % classes for i in range(n)], dtype=torch.long,
                              device=DEVICE)

        def fwd():
            with torch.no_grad():
                return F.cross_entropy(logits, labels)

        def bwd():
            loss = F.cross_entropy(logits, labels)
            return loss, torch.autograd.grad(loss, [logits])
        return {"fwd": fwd, "bwd": bwd}
    if op == "concat":
        sizes = [int(p) for p in k["parts"].split("+")]
        h, w = integer(k, "h"), integer(k, "w")
        parts = [uniform(gen, n, s, h, w) for s in sizes]
        g = uniform(gen, n, sum(sizes), h, w)
        return {"fwd": lambda: torch.cat(parts, dim=1),
                "bwd": lambda: [t.contiguous() for t in torch.split(g, sizes, dim=1)]}
    if op == "sgd":
        dims = [int(d) for d in k["dims"].split("x")]
        param = torch.nn.Parameter(uniform(gen, *dims, low=-0.05, high=0.05))
        param.grad = uniform(gen, *dims, low=-0.01, high=0.01)
        opt = torch.optim.SGD([param], lr=real(k, "lr", 0.01), momentum=real(k, "momentum", 0.9),
                              weight_decay=real(k, "wd", 5e-4), nesterov=bool(integer(k, "nesterov", 0)))
        return {"step": opt.step}
    raise ValueError(f"unknown op {op}")


def unary_passes(fn, inputs, gen):
    """fwd: fn under no_grad; bwd: the gradients of one forward's output."""
    def fwd():
        with torch.no_grad():
            return fn()
    state = {}

    def bwd():
        if "y" not in state:
            state["y"] = fn()
            state["dy"] = uniform(gen, *state["y"].shape)
        return torch.autograd.grad(state["y"], inputs, state["dy"], retain_graph=True)
    return {"fwd": fwd, "bwd": bwd}


def time_call(fn, repeat, min_ms):
    fn()  # warm-up: allocations, cuDNN's algorithm choice
    sync()
    t0 = time.perf_counter()
    fn()
    sync()
    first = (time.perf_counter() - t0) * 1e3
    inner = 1 if first >= min_ms else min(10000, math.ceil(min_ms / max(first, 1e-4)))
    samples = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(inner):
            fn()
        sync()
        samples.append((time.perf_counter() - t0) * 1e3 / inner)
    return statistics.median(samples), min(samples), max(samples), inner


def sgemm_rate(repeat, min_ms):
    a, b = torch.rand(2048, 2048, device=DEVICE), torch.rand(2048, 2048, device=DEVICE)
    median, _, _, _ = time_call(lambda: torch.mm(a, b), repeat, min_ms)
    return 2.0 * 2048 ** 3 / (median * 1e6)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--min-ms", type=float, default=20.0)
    parser.add_argument("--filter", default="")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--shapes", default=os.path.join(HERE, "shapes_ops.txt"))
    parser.add_argument("--json")
    parser.add_argument("--device", default="cpu", choices=("cpu", "cuda"),
                        help="cuda: time on the first GPU")
    parser.add_argument("--tf32", action="store_true",
                        help="let matmul and cuDNN use TF32 (default: IEEE fp32, as cnn)")
    args = parser.parse_args()
    if args.repeat < 5:
        parser.error("--repeat needs at least 5")
    global DEVICE
    DEVICE = args.device
    if DEVICE == "cuda" and not torch.cuda.is_available():
        parser.error("--device cuda: this PyTorch sees no GPU")
    torch.backends.cuda.matmul.allow_tf32 = args.tf32
    torch.backends.cudnn.allow_tf32 = args.tf32
    torch.backends.cudnn.benchmark = True  # as cnn, which finds algorithms once
    torch.set_num_threads(args.threads)
    words = [w for w in args.filter.split(",") if w]
    cases = [c for c in parse_cases(args.shapes, args.quick) if matches(c, words)]
    print(f"peer_torch: torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"repeat {args.repeat}, {len(cases)} cases\n")
    print(f"{'case':34} {'pass':4} {'status':11} {'median ms':>9} {'min ms':>9} {'max ms':>9}")
    results = []
    started = time.perf_counter()
    for case in cases:
        gen = torch.Generator().manual_seed(1)
        try:
            passes = build(case, gen)
        except Exception as e:  # a bad line: report, keep going
            passes = {"fwd": None}
            error = str(e)
        for name, fn in passes.items():
            row = {"case": case["name"], "op": case["op"], "pass": name, "shape": case["shape"],
                   "status": "ok", "note": "", "median_ms": None, "min_ms": None, "max_ms": None,
                   "runs": None, "inner": None, "gflop": None, "gbytes": None, "gflops": None,
                   "gbs": None, "max_rel_err": None}
            try:
                if fn is None:
                    raise RuntimeError(error)
                median, low, high, inner = time_call(fn, args.repeat, args.min_ms)
                row.update(median_ms=median, min_ms=low, max_ms=high, runs=args.repeat, inner=inner)
                print(f"{case['name']:34} {name:4} {'ok':11} {median:9.3f} {low:9.3f} {high:9.3f}",
                      flush=True)
            except Exception as e:
                row.update(status="error", note=str(e))
                print(f"{case['name']:34} {name:4} {'error':11} {e}", flush=True)
            results.append(row)
    sgemm = sgemm_rate(args.repeat, args.min_ms)
    print(f"\n{len(results)} rows in {time.perf_counter() - started:.0f} s; "
          f"torch.mm 2048^3 float32: {sgemm:.1f} GFLOP/s")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"schema": "cnn-bench-ops/1", "tool": "pytorch", "version": torch.__version__,
                       "device": (torch.cuda.get_device_name(0) if DEVICE == "cuda"
                                  else f"cpu ({torch.get_num_threads()} threads)"),
                       "engine": "pytorch" + (" tf32" if args.tf32 else ""),
                       "threads": torch.get_num_threads(), "repeat": args.repeat,
                       "sgemm_gflops": sgemm, "results": results}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
