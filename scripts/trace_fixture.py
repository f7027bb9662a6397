#!/usr/bin/env python3
"""Makes tests/data/traced_cnn.pt, a small classifier traced by PyTorch the way users export
theirs (torch.jit.trace(model, example).save(...)), tests/data/traced_cnn.onnx, the same model
exported by PyTorch's own ONNX exporter (torch.onnx.export, opset 13, a dynamic batch), and
tests/data/traced_cnn_logits.txt, its logits for the fixed input below, which
tests/test_torch_script.cpp (TorchModel::load) and tests/test_onnx.cpp (OnnxModel::load) check.
Run by hand (needs python3-torch, which is never a build or test dependency):

    /usr/bin/python3 scripts/trace_fixture.py tests/data

The network is torchvision-shaped on purpose: a stem (conv1, bn1, relu, maxpool), a
Sequential `layer1` of two residual blocks whose ReLU is shared and called twice and whose
addition is in place, `layer2` with a downsampling shortcut, avgpool, fc.
"""
import math
import sys

import torch
from torch import nn


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        identity = x
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        if self.downsample is not None:
            identity = self.downsample(x)
        out += identity
        return self.relu(out)


class TinyResNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 4, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(4)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        self.layer1 = nn.Sequential(BasicBlock(4, 4, 1), BasicBlock(4, 4, 1))
        self.layer2 = nn.Sequential(BasicBlock(4, 8, 2))
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(8, 4)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer2(self.layer1(x))
        return self.fc(torch.flatten(self.avgpool(x), 1))


def fixed_input():
    """2×3×16×16, x[i] = sin(0.37·i) over the flat index: the C++ test computes the same."""
    values = [math.sin(0.37 * i) for i in range(2 * 3 * 16 * 16)]
    return torch.tensor(values, dtype=torch.float32).reshape(2, 3, 16, 16)


def main(out_dir):
    torch.manual_seed(0)
    model = TinyResNet()
    with torch.no_grad():  # BatchNorm statistics that are not the identity, so eval mode matters
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.uniform_(-0.2, 0.2)
                m.running_var.uniform_(0.5, 1.5)
                m.weight.uniform_(0.8, 1.2)
                m.bias.uniform_(-0.1, 0.1)
    model.eval()
    x = fixed_input()
    traced = torch.jit.trace(model, x)
    traced.save(f"{out_dir}/traced_cnn.pt")
    # PyTorch's exporter folds BatchNorm into the convolutions and names nodes after the module
    # path ("/layer1/layer1.0/conv1/Conv"): what users' ONNX files look like.
    torch.onnx.export(model, x, f"{out_dir}/traced_cnn.onnx", input_names=["input"], output_names=["logits"],
                      dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}}, opset_version=13)
    with torch.no_grad():
        logits = model(x)
    with open(f"{out_dir}/traced_cnn_logits.txt", "w") as f:
        for row in logits.tolist():
            f.write(" ".join(f"{v:.9g}" for v in row) + "\n")
    print(logits)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "tests/data")
