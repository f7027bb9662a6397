#!/usr/bin/env python3
"""Cross-checks KPCA-CAM's projection against sklearn's KernelPCA, as pytorch-grad-cam's
get_2d_projection_kernel calls it (n_components=1 on the channel-centred locations), by hand:

    build/tools/kpca_crosscheck > kpca.txt && /usr/bin/python3 scripts/kpca_sklearn.py kpca.txt

Needs Debian's python3-sklearn (never a build or test dependency). The sign is the library's
rule (positive correlation with the channel sum); sklearn's own is svd_flip's."""
import sys

import numpy as np
from sklearn.decomposition import KernelPCA

rows = [list(map(float, line.split())) for line in open(sys.argv[1])]
a = np.array(rows[0]).reshape(5, 16)   # C × pixels
x = a.T - a.T.mean(axis=0)             # locations × channels, each channel centred
s = a.sum(axis=0)
for name, ours in zip(["sigmoid", "rbf", "poly", "linear"], rows[1:]):
    ref = KernelPCA(n_components=1, kernel=name).fit_transform(x)[:, 0]
    if np.dot(ref, s - s.mean()) < 0:
        ref = -ref
    print(f"{name:8s} max abs difference {np.abs(np.array(ours) - ref).max():.2e}  (max |value| {np.abs(ref).max():.3f})")
