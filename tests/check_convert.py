#!/usr/bin/env python3
"""Checks tools/convert_torch.py on ResNet-18: a PyTorch ResNet-18 (built
here with torchvision's module names, so no torchvision is needed) with
random weights and batch norm statistics goes to a cnn checkpoint; cnn's
ResNet-18 must give PyTorch's logits (computed in float64) on the same
batch; the checkpoint converted back must load into PyTorch with
strict=True and hold the same tensors.

    check_convert.py RESNET_LOGITS_PROGRAM SCRATCH_FOLDER

Exits 77 (CTest's skip code) when PyTorch is not installed.
"""
import os
import subprocess
import sys

try:
    import numpy as np
    import torch
    from torch import nn
except ImportError:
    print("check_convert: skipped, PyTorch is not installed "
          "(apt-get install python3-torch)")
    sys.exit(77)

HERE = os.path.dirname(os.path.abspath(__file__))
CONVERT = os.path.join(HERE, "..", "tools", "convert_torch.py")


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU()
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(
                nn.Conv2d(cin, cout, 1, stride, bias=False),
                nn.BatchNorm2d(cout))

    def forward(self, x):
        y = self.bn2(self.conv2(self.relu(self.bn1(self.conv1(x)))))
        return self.relu(y + (self.downsample(x) if self.downsample else x))


class ResNet18(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU()
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        channels = 64
        for i, width in enumerate((64, 128, 256, 512)):
            stride = 1 if i == 0 else 2
            layer = nn.Sequential(BasicBlock(channels, width, stride),
                                  BasicBlock(width, width, 1))
            setattr(self, f"layer{i + 1}", layer)
            channels = width
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(512, 1000)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        for i in range(4):
            x = getattr(self, f"layer{i + 1}")(x)
        return self.fc(torch.flatten(self.avgpool(x), 1))


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    program, scratch = sys.argv[1], sys.argv[2]
    os.makedirs(scratch, exist_ok=True)
    torch.manual_seed(0)
    model = ResNet18().eval()
    with torch.no_grad():  # batch norm statistics that matter
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.uniform_(-0.2, 0.2)
                m.running_var.uniform_(0.5, 1.5)
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.2, 0.2)
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        want = model.double()(x.double()).numpy()
    model.float()
    pt = os.path.join(scratch, "resnet18.pt")
    ckpt = os.path.join(scratch, "resnet18.ckpt")
    back = os.path.join(scratch, "resnet18_back.pt")
    torch.save(model.state_dict(), pt)
    subprocess.run([sys.executable, CONVERT, "to-cnn", pt, ckpt, "--model",
                    "resnet18"], check=True)
    x.numpy().astype("<f4").tofile(os.path.join(scratch, "input.f32"))
    subprocess.run([program, ckpt, os.path.join(scratch, "input.f32"),
                    os.path.join(scratch, "logits.f32")], check=True)
    got = np.fromfile(os.path.join(scratch, "logits.f32"), "<f4")
    got = got.reshape(2, 1000)
    worst = np.max(np.abs(got - want)) / np.max(np.abs(want))
    print(f"ResNet-18 logits: largest difference {worst:.2e} of the largest "
          "logit")
    if worst > 1e-4:
        sys.exit("check_convert: cnn's logits differ from PyTorch's")
    subprocess.run([sys.executable, CONVERT, "to-torch", ckpt, back],
                   check=True)
    again = ResNet18()
    again.load_state_dict(torch.load(back), strict=True)
    for (name, a), (_, b) in zip(model.state_dict().items(),
                                 again.state_dict().items()):
        if not name.endswith("num_batches_tracked") and not torch.equal(a, b):
            sys.exit(f"check_convert: {name} changed on the way back")
    print("check_convert: PyTorch -> cnn -> PyTorch round trip is exact")


if __name__ == "__main__":
    main()
