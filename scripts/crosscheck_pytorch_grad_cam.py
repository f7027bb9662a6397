#!/usr/bin/env python3
"""Cross-checks FullGrad, ROAD and Deep Feature Factorization against pytorch-grad-cam, by hand
(docs/methods/cam.md, docs/metrics.md): the same ResNet-18 weights and the same normalized input
on both sides. Never a build or test dependency.

    /usr/bin/python3 scripts/crosscheck_pytorch_grad_cam.py build/tools/pytorch_grad_cam_crosscheck \
        data/samples/photos/chelsea_224.png /tmp/pgc-check

Needs Debian's python3-torch, python3-torchvision, python3-opencv, python3-sklearn, python3-scipy,
python3-matplotlib, and pytorch-grad-cam's source on PYTHONPATH (its pytorch_grad_cam/ folder; it
imports ttach for aug_smooth only, so an empty stand-in module will do if ttach is missing).

torchvision's ResNet-18 with random weights (seed 0; nothing is downloaded) and BatchNorm
statistics and affine parameters drawn at random (at initialisation they are 0 and 1, which would
make every effective bias β − μγ/√(σ² + ε) zero), scripted and saved for the C++ side, which
writes its results as float32 files (tools/crosscheck/pytorch_grad_cam.cpp)."""
import os
import subprocess
import sys

import cv2
import numpy as np
import torch
import torch.nn.functional as F
import torchvision
from pytorch_grad_cam import DeepFeatureFactorization, FullGrad
from pytorch_grad_cam.metrics.perturbation_confidence import (PerturbationConfidenceMetric,
                                                                RemoveLeastRelevantFirst,
                                                                RemoveMostRelevantFirst)
from pytorch_grad_cam.metrics.road import NoisyLinearImputer
from pytorch_grad_cam.utils.model_targets import ClassifierOutputSoftmaxTarget, ClassifierOutputTarget

tool, photo, out = sys.argv[1], sys.argv[2], sys.argv[3]
os.makedirs(out, exist_ok=True)
torch.manual_seed(0)
model = torchvision.models.resnet18()
with torch.no_grad():
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.copy_(0.1 * torch.randn_like(m.running_mean))
            m.running_var.copy_(0.5 + torch.rand_like(m.running_var))
            m.weight.copy_(1.0 + 0.2 * torch.randn_like(m.weight))
            m.bias.copy_(0.1 * torch.randn_like(m.bias))
model.eval()
torch.jit.script(model).save(f"{out}/resnet18.pt")

rgb = cv2.cvtColor(cv2.imread(photo), cv2.COLOR_BGR2RGB).astype(np.float32) / 255.0
assert rgb.shape == (224, 224, 3), "a 224×224 photo, so that neither side resizes it"
mean, std = np.array([0.485, 0.456, 0.406], np.float32), np.array([0.229, 0.224, 0.225], np.float32)
x = torch.from_numpy(((rgb - mean) / std).transpose(2, 0, 1)[None].copy())
x.numpy().astype(np.float32).tofile(f"{out}/input.f32")
road_map = np.random.default_rng(0).standard_normal((224, 224)).astype(np.float32)  # no ties
road_map.tofile(f"{out}/map.f32")
if tool != "--reuse":  # --reuse: the C++ side's files in DIR are from this model and input already
    subprocess.run([tool, f"{out}/resnet18.pt", out], check=True)
read = lambda name, shape: np.fromfile(f"{out}/{name}", dtype=np.float32).reshape(shape)
c = int(model(x).argmax())


def rel(a, b):
    return np.abs(a - b).max() / np.abs(b).max()


# ---- FullGrad -------------------------------------------------------------------------------
cam = FullGrad(model, [])
ref_map = cam(input_tensor=x, targets=[ClassifierOutputTarget(c)])[0]
grads = [g.numpy()[0] for g in cam.activations_and_grads.gradients]
names = [n for n, m in model.named_modules()
         if type(m) in (torch.nn.Conv2d, torch.nn.BatchNorm2d) and m.bias is not None]
ours_layers = [line.split() for line in open(f"{out}/bias_terms.txt")]
ours_spatial = [(i, l[0]) for i, l in enumerate(ours_layers) if len(l) == 4]
assert [n for _, n in ours_spatial] == names, (ours_spatial, names)
worst = 0.0
for (i, name), bias, g in zip(ours_spatial, cam.bias_data, grads):
    ref = bias[:, None, None] * g
    worst = max(worst, rel(read(f"bias_{i}.f32", ref.shape), ref))
print(f"FullGrad: {len(names)} BatchNorm layers, max |ours - ref| / max |ref| of grad*bias: {worst:.1e}")
x_grad = x.clone().requires_grad_(True)
model(x_grad)[0, c].backward()
ref_input = (x_grad.grad * x).numpy()[0]
print(f"FullGrad: input term grad*x, max |ours - ref| / max |ref|: {rel(read('input_term.f32', ref_input.shape), ref_input):.1e}")
ours = read("fullgrad.f32", (224, 224))
ours_n = (ours - ours.min()) / (ours.max() - ours.min())
print(f"FullGrad: normalized maps, ours (authors' psi) vs pytorch-grad-cam: max abs {np.abs(ours_n - ref_map).max():.3f}, "
      f"correlation {np.corrcoef(ours_n.ravel(), ref_map.ravel())[0, 1]:.3f}")


def psi(t):  # the authors' _postProcess (idiap/fullgrad-saliency): |t|, min-max over all of C×h×w
    t = np.abs(t)
    t = t - t.min()
    return t / (t.max() + 1e-6)


authors = psi(ref_input).sum(axis=0)
for bias, g in zip(cam.bias_data, grads):
    p = torch.from_numpy(psi(bias[:, None, None] * g).sum(axis=0)[None, None].astype(np.float32))
    authors += F.interpolate(p, size=(224, 224), mode="bilinear", align_corners=True).numpy()[0, 0]
print(f"FullGrad: raw map, ours vs the authors' post-processing of pytorch-grad-cam's gradients: "
      f"max |ours - ref| / max |ref| {rel(ours, authors):.1e}")

# ---- ROAD, without the imputation's noise ---------------------------------------------------
percentiles = [10, 20, 30, 40, 50, 60, 70, 80, 90]
target = [ClassifierOutputSoftmaxTarget(c)]
curves = []
for order in (RemoveMostRelevantFirst, RemoveLeastRelevantFirst):
    curves.append(np.array([PerturbationConfidenceMetric(order(p, NoisyLinearImputer(noise=0.0)))(
        x, road_map[None], target, model)[0] for p in percentiles]))
ours_road = [np.array(list(map(float, line.split()))) for line in open(f"{out}/road.txt")]
for name, a, b in zip(("MoRF", "LeRF"), ours_road[:2], curves):
    print(f"ROAD {name}: max abs difference over the 9 percentiles {np.abs(a - b).max():.1e} (values up to {np.abs(b).max():.3f})")
combined = (curves[1].mean() - curves[0].mean()) / 2
print(f"ROAD combined: ours {ours_road[2][0]:.6f}, pytorch-grad-cam {combined:.6f}")

# ---- Deep Feature Factorization -------------------------------------------------------------
dff = DeepFeatureFactorization(model=model, target_layer=model.layer4, computation_on_concepts=model.fc)
concepts, maps, outputs = dff(x, 5)
scores = torch.softmax(torch.from_numpy(outputs), dim=-1).numpy()
ours_concepts = read("dff_concepts.f32", (512, 5))
ours_maps = read("dff_maps.f32", (5, 224, 224))
ours_scores = read("dff_scores.f32", (5, 1000))
unit = lambda v: v / np.linalg.norm(v, axis=0, keepdims=True)
cos = unit(ours_concepts).T @ unit(concepts)  # ours × theirs
match = cos.argmax(axis=1)
print(f"DFF: each of our 5 concepts' best cosine with pytorch-grad-cam's: {np.round(cos.max(axis=1), 4).tolist()}, "
      f"matched to {match.tolist()}")
print(f"DFF: top classes ours {ours_scores.argmax(axis=1).tolist()}, pytorch-grad-cam's (matched) "
      f"{scores.argmax(axis=1)[match].tolist()}")
corr = [np.corrcoef(ours_maps[j].ravel(), maps[0][match[j]].ravel())[0, 1] for j in range(5)]
print(f"DFF: correlation of each matched concept map: {np.round(corr, 4).tolist()}")
# The head's softmax on pytorch-grad-cam's own concepts equals its outputs (the labelling rule):
head = torch.softmax(model.fc(torch.from_numpy(ours_concepts.T.copy())), dim=-1).detach().numpy()
print(f"DFF: our concept scores vs softmax(fc(our concepts)) in PyTorch: max abs {np.abs(head - ours_scores).max():.1e}")
