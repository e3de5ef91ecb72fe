#!/usr/bin/python3
"""PyTorch's side of `cnn bench models`: the same networks in plain torch.nn
(torchvision is not needed), timed the same way with torch 1.13 on the CPU,
written in the same JSON schema (bench/bench_models.h) with "tool":
"pytorch".

    /usr/bin/python3 bench/peer_torch_models.py --threads 2 --json torch.json

The networks follow include/cnn/models.h and src/models/: AlexNet on
227x227x3 (the paper's two towers: groups 2 on conv2, conv4 and conv5, and
LRN(5, alpha 5e-4, beta 0.75, k 2) within each tower; or one tower),
ResNet-18 and -50 v1.5 on 224x224x3 (1000 classes), and the small
Fashion-MNIST net on 28x28x1 (10 classes).

Modes, as cnn times them: "forward" is model.eval() under torch.no_grad();
"train" is model.train(), zero_grad, forward, F.cross_entropy, backward and
torch.optim.SGD(lr 0.01, momentum 0.9, weight_decay 5e-4).step(). One
seeded synthetic batch (normal images, uniform labels). `--warmup`
untimed iterations (the last sizes a sample: iterations repeat until a
sample lasts --min-ms), then --samples samples, times per iteration.
--lockstep: as `cnn bench models --lockstep`, wait for a line on stdin
before each phase and print an '@' line after it (bench/compare_models.py).
"""
import argparse
import json
import math
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

DEFAULTS = {"alexnet": 64, "alexnet-one-tower": 64, "resnet18": 32,
            "resnet50": 32, "small": 64}


class TowerLRN(nn.Module):
    """LRN within each of `towers` channel groups (the paper's towers)."""

    def __init__(self, towers):
        super().__init__()
        self.towers = towers
        self.lrn = nn.LocalResponseNorm(5, alpha=5e-4, beta=0.75, k=2.0)

    def forward(self, x):
        if self.towers == 1:
            return self.lrn(x)
        return torch.cat([self.lrn(t) for t in x.chunk(self.towers, 1)], 1)


def alexnet(towers, classes=1000):
    g = towers
    features = nn.Sequential(
        nn.Conv2d(3, 96, 11, stride=4), nn.ReLU(inplace=True), TowerLRN(g),
        nn.MaxPool2d(3, 2),
        nn.Conv2d(96, 256, 5, padding=2, groups=g), nn.ReLU(inplace=True),
        TowerLRN(g), nn.MaxPool2d(3, 2),
        nn.Conv2d(256, 384, 3, padding=1), nn.ReLU(inplace=True),
        nn.Conv2d(384, 384, 3, padding=1, groups=g), nn.ReLU(inplace=True),
        nn.Conv2d(384, 256, 3, padding=1, groups=g), nn.ReLU(inplace=True),
        nn.MaxPool2d(3, 2))
    classifier = nn.Sequential(
        nn.Dropout(0.5), nn.Linear(256 * 6 * 6, 4096), nn.ReLU(inplace=True),
        nn.Dropout(0.5), nn.Linear(4096, 4096), nn.ReLU(inplace=True),
        nn.Linear(4096, classes))
    return nn.Sequential(features, nn.Flatten(), classifier)


def conv_bn(cin, cout, k, stride=1):
    return [nn.Conv2d(cin, cout, k, stride, k // 2, bias=False),
            nn.BatchNorm2d(cout)]


class Block(nn.Module):
    """torchvision's BasicBlock (bottleneck False) or Bottleneck (v1.5: the
    stride on the 3x3 conv)."""

    def __init__(self, cin, width, stride, bottleneck):
        super().__init__()
        cout = width * (4 if bottleneck else 1)
        if bottleneck:
            layers = (conv_bn(cin, width, 1) + [nn.ReLU(inplace=True)] +
                      conv_bn(width, width, 3, stride) +
                      [nn.ReLU(inplace=True)] + conv_bn(width, cout, 1))
        else:
            layers = (conv_bn(cin, width, 3, stride) +
                      [nn.ReLU(inplace=True)] + conv_bn(width, cout, 3))
        self.body = nn.Sequential(*layers)
        self.down = (nn.Sequential(*conv_bn(cin, cout, 1, stride))
                     if stride != 1 or cin != cout else nn.Identity())
        self.cout = cout

    def forward(self, x):
        return F.relu(self.body(x) + self.down(x), inplace=True)


def resnet(depth, classes=1000):
    blocks, bottleneck = {18: ([2, 2, 2, 2], False),
                          50: ([3, 4, 6, 3], True)}[depth]
    layers = conv_bn(3, 64, 7, 2) + [nn.ReLU(inplace=True),
                                     nn.MaxPool2d(3, 2, 1)]
    cin = 64
    for stage, count in enumerate(blocks):
        for i in range(count):
            b = Block(cin, 64 << stage, 2 if i == 0 and stage > 0 else 1,
                      bottleneck)
            layers.append(b)
            cin = b.cout
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(cin, classes)]
    net = nn.Sequential(*layers)
    for m in net.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out",
                                    nonlinearity="relu")
    return net


def small(classes=10):
    return nn.Sequential(
        *conv_bn(1, 32, 3), nn.ReLU(inplace=True), nn.MaxPool2d(2, 2),
        *conv_bn(32, 64, 3), nn.ReLU(inplace=True), nn.MaxPool2d(2, 2),
        nn.Flatten(), nn.Linear(64 * 7 * 7, 128), nn.ReLU(inplace=True),
        nn.Dropout(0.25), nn.Linear(128, classes))


def build(name):
    """(model, input shape [C, H, W], classes)"""
    if name == "alexnet":
        return alexnet(2), (3, 227, 227), 1000
    if name == "alexnet-one-tower":
        return alexnet(1), (3, 227, 227), 1000
    if name in ("resnet18", "resnet50"):
        return resnet(int(name[6:])), (3, 224, 224), 1000
    if name == "small":
        return small(), (1, 28, 28), 10
    raise SystemExit(f"peer_torch_models.py: unknown model {name}")


def gate(args):
    if args.lockstep:
        sys.stdout.flush()
        if not sys.stdin.readline():
            raise SystemExit(1)


def say(args, text):
    if args.lockstep:
        print("@ " + text)
    sys.stdout.flush()


def sync(args):
    """Waits for the GPU's queued work, so that a wall-clock sample covers
    it (the CPU's work is done on return)."""
    if args.device == "cuda":
        torch.cuda.synchronize()


def time_mode(args, name, batch, step, train):
    row = {"model": name, "device": args.device, "mode": "train" if train else
           "forward", "batch": batch, "status": "ok", "note": ""}
    gate(args)
    last = 0.0
    for _ in range(args.warmup):
        sync(args)
        t0 = time.perf_counter()
        loss = step()
        sync(args)
        last = (time.perf_counter() - t0) * 1e3
    inner = 1 if last >= args.min_ms else min(1000, math.ceil(
        args.min_ms / max(last, 1e-3)))
    say(args, f"warmup {name} {row['mode']} inner {inner}")
    samples = []
    for k in range(args.samples):
        gate(args)
        sync(args)
        t0 = time.perf_counter()
        for _ in range(inner):
            loss = step()
        sync(args)
        samples.append((time.perf_counter() - t0) * 1e3 / inner)
        say(args, f"sample {name} {row['mode']} {k} {samples[-1]:.6f}")
    median = statistics.median(samples)
    row.update(median_ms=median, min_ms=min(samples), max_ms=max(samples),
               samples=len(samples), inner=inner, samples_ms=samples,
               gflop=None, images_per_s=batch * 1e3 / median, gflops=None,
               peak_fraction=None, loss=float(loss) if train else None)
    if train:
        row["note"] = f"last loss {float(loss):.4g}"
    return row


def run_model(args, name):
    batch = args.batch or DEFAULTS[name]
    gate(args)
    torch.manual_seed(args.seed)
    model, shape, classes = build(name)
    model = model.to(args.device)  # the batch already on the device, as cnn's
    x = torch.randn(batch, *shape).to(args.device)
    y = torch.randint(0, classes, (batch,)).to(args.device)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9,
                          weight_decay=5e-4)
    say(args, f"setup {name} batch {batch}")

    def forward():
        with torch.no_grad():
            model(x)

    def train():
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss.detach()

    model.eval()
    rows = [time_mode(args, name, batch, forward, False)]
    model.train()
    rows.append(time_mode(args, name, batch, train, True))
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", default=",".join(DEFAULTS))
    parser.add_argument("--batch", type=int, default=0)
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--samples", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--min-ms", type=float, default=100.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--lockstep", action="store_true")
    parser.add_argument("--json")
    parser.add_argument("--device", default="cpu", choices=("cpu", "cuda"),
                        help="cuda: time on the first GPU")
    parser.add_argument("--tf32", action="store_true",
                        help="let matmul and cuDNN use TF32 (default: IEEE fp32, as cnn)")
    args = parser.parse_args()
    if args.samples < 5 or args.warmup < 1:
        parser.error("--samples needs at least 5, --warmup at least 1")
    if args.device == "cuda" and not torch.cuda.is_available():
        parser.error("--device cuda: this PyTorch sees no GPU")
    torch.backends.cuda.matmul.allow_tf32 = args.tf32
    torch.backends.cudnn.allow_tf32 = args.tf32
    torch.backends.cudnn.benchmark = True  # as cnn, which finds algorithms once
    torch.set_num_threads(args.threads)
    print(f"peer_torch_models.py: PyTorch {torch.__version__}, "
          f"{torch.get_num_threads()} threads")
    gate(args)  # cnn measures its FMA peak in this phase
    say(args, "peak -")
    rows = []
    for name in args.models.split(","):
        if name not in DEFAULTS:
            parser.error(f"unknown model {name} ({', '.join(DEFAULTS)})")
        for r in run_model(args, name):
            rows.append(r)
            print(f"{r['model']:18} {r['mode']:7} {r['batch']:5} "
                  f"{r['median_ms']:9.2f} [{r['min_ms']:.2f}-{r['max_ms']:.2f}]"
                  f" ms {r['images_per_s']:9.1f} images/s  {r['note']}")
            sys.stdout.flush()
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"schema": "cnn-bench-models/1", "tool": "pytorch",
                       "version": torch.__version__,
                       "threads": torch.get_num_threads(),
                       "device": (torch.cuda.get_device_name(0)
                                  if args.device == "cuda" else "cpu"),
                       "math": "tf32" if args.tf32 else "fp32",
                       "peak_gflops": None, "peak_method": "",
                       "results": rows}, f, indent=1)


if __name__ == "__main__":
    main()
