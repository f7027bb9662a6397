#!/usr/bin/env python3
"""Cross-check by hand (docs/torch.md, "torchvision's own models"): torchvision's ResNet-18,
MobileNetV2, MobileNetV3-small, EfficientNet-B0, DenseNet-121 and ViT-B/16 with random weights
(nothing is downloaded), each saved scripted and traced, for examples/torch_layers to load.
Needs Debian's python3-torch and python3-torchvision; never a build or test dependency.

    cd /tmp/tv && /usr/bin/python3 /path/to/xai/scripts/export_torchvision.py
"""
import torch
import torchvision

torch.manual_seed(0)
models = {
    "resnet18": torchvision.models.resnet18(),
    "mobilenet_v2": torchvision.models.mobilenet_v2(),
    "mobilenet_v3_small": torchvision.models.mobilenet_v3_small(),
    "efficientnet_b0": torchvision.models.efficientnet_b0(),
    "densenet121": torchvision.models.densenet121(),
    "vit_b_16": torchvision.models.vit_b_16(),
}
x = torch.rand(1, 3, 224, 224)
for name, m in models.items():
    m.eval()
    torch.jit.script(m).save(f"{name}_script.pt")
    with torch.no_grad():  # as users trace for inference; see docs/torch.md about the ViT
        torch.jit.trace(m, x).save(f"{name}_trace.pt")
    print(name, "ok")
