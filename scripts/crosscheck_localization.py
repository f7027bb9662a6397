#!/usr/bin/python3
"""Cross-check, by hand, of xai's WSOL metrics (include/xai/localization/wsol.hpp) against
Choe et al.'s definitions, recomputed here two ways from the maps that
`build/tools/localization_table --export DIR` writes:

  paper   the definitions of the paper, independently in numpy/scipy: s >= tau on the min-max
          normalised float map, the largest 8-connected component by pixel count
          (scipy.ndimage.label), half-open boxes; must equal xai's numbers exactly;
  code    the semantics of clovaai/wsolevaluation's evaluation.py, re-implemented from reading it
          (not copied): the map quantised to uint8, cv2.threshold(> int(tau * max)),
          cv2.findContours(RETR_TREE), the contour of largest cv2.contourArea (all contours for
          V2), cv2.boundingRect with x1 = min(x + w, W - 1), IoU with inclusive corners (+1), the
          ground truth as inclusive corners; PxAP from their histogram of 0.001-wide bins.

Not a test dependency: needs Debian's python3-numpy, python3-scipy and python3-opencv.

  scripts/crosscheck_localization.py DIR "Grad-CAM" [K]       (K thresholds, default 1000)
"""
import sys

import cv2
import numpy as np
from scipy import ndimage


def load(directory, method, split):
    slug = "".join(c if c.isalnum() else "_" for c in method)
    boxes = np.loadtxt(f"{directory}/{split}_boxes.txt", dtype=np.int64).reshape(-1, 4)
    maps = np.fromfile(f"{directory}/{split}_maps_{slug}.f32", dtype="<f4").reshape(len(boxes), 64, 64)
    return maps, boxes


def normalise(m):
    m = m.astype(np.float64)
    lo, hi = m.min(), m.max()
    return np.zeros_like(m, dtype=np.float32) if lo == hi else ((m - lo) / (hi - lo)).astype(np.float32)


def iou_half_open(a, b):
    top, left = max(a[0], b[0]), max(a[1], b[1])
    bottom, right = min(a[2], b[2]), min(a[3], b[3])
    inter = max(0, bottom - top) * max(0, right - left)
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return 0.0 if union == 0 else inter / union


def paper_curves(maps, boxes, K):
    """Per image and threshold: IoU of the largest component's box, best IoU of any component's box."""
    n = len(maps)
    largest, any_ = np.zeros((n, K)), np.zeros((n, K))
    eight = np.ones((3, 3), dtype=int)
    for i in range(n):
        s = normalise(maps[i])
        if not s.max() > 0:
            continue
        for k in range(K):
            labels, count = ndimage.label(s.astype(np.float64) >= k / K, structure=eight)
            if count == 0:
                continue
            sizes = np.bincount(labels.ravel())[1:]
            slices = ndimage.find_objects(labels)
            boxes_k = [(sl[0].start, sl[1].start, sl[0].stop, sl[1].stop) for sl in slices]
            ious = [iou_half_open(b, boxes[i]) for b in boxes_k]
            largest[i, k] = ious[int(np.argmax(sizes))]  # argmax: the first (raster order) among equals
            any_[i, k] = max(ious)
    return largest, any_


def code_curves(maps, boxes, K):
    """The same curves with wsolevaluation's semantics (see the module comment)."""
    n = len(maps)
    largest, any_ = np.zeros((n, K)), np.zeros((n, K))
    for i in range(n):
        s = normalise(maps[i])
        image = np.expand_dims((s * 255).astype(np.uint8), 2)
        h, w = s.shape
        t = boxes[i]  # half-open (top, left, bottom, right) -> inclusive (x0, y0, x1, y1)
        gt = (t[1], t[0], t[3] - 1, t[2] - 1)
        for k in range(K):
            _, binary = cv2.threshold(image, int(k / K * np.max(image)), 255, cv2.THRESH_BINARY)
            contours = cv2.findContours(binary, cv2.RETR_TREE, cv2.CHAIN_APPROX_SIMPLE)[0]
            if len(contours) == 0:
                candidates = [(0, 0, 0, 0)]
                chosen = candidates[0]
            else:
                candidates = []
                for c in contours:
                    x, y, bw, bh = cv2.boundingRect(c)
                    candidates.append((x, y, min(x + bw, w - 1), min(y + bh, h - 1)))
                chosen = candidates[max(range(len(contours)), key=lambda j: cv2.contourArea(contours[j]))]

            def iou(b):
                ix = max(0, min(b[2], gt[2]) - max(b[0], gt[0]) + 1)
                iy = max(0, min(b[3], gt[3]) - max(b[1], gt[1]) + 1)
                inter = ix * iy
                union = (b[2] - b[0] + 1) * (b[3] - b[1] + 1) + (gt[2] - gt[0] + 1) * (gt[3] - gt[1] + 1) - inter
                return inter / union if union > 0 else 0.0

            largest[i, k] = iou(chosen)
            any_[i, k] = max(iou(b) for b in candidates)
    return largest, any_


def paper_pxap(maps, masks, K):
    s = np.stack([normalise(m) for m in maps]).astype(np.float64).ravel()
    t = masks.ravel().astype(bool)
    ap, previous = 0.0, 0.0
    for level in range(K, -1, -1):
        predicted = s >= level / K
        tp, fp = np.sum(predicted & t), np.sum(predicted & ~t)
        recall = tp / t.sum()
        if tp + fp > 0:
            ap += tp / (tp + fp) * (recall - previous)
        previous = recall
    return ap


def code_pxap(maps, masks, K):
    edges = np.append(np.arange(0, 1, 1.0 / K), [1.0, 2.0, 3.0])
    s = np.stack([normalise(m) for m in maps])
    true_hist, _ = np.histogram(s[masks == 1], bins=edges)
    false_hist, _ = np.histogram(s[masks == 0], bins=edges)
    tp = true_hist[::-1].cumsum()
    fp = false_hist[::-1].cumsum()
    nonzero = (tp + fp) != 0
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = tp / (tp + fp)
    recall = tp / true_hist.sum()
    return float((precision[1:] * np.diff(recall))[nonzero[1:]].sum())


def summary(name, val_curves, test_curves, predicted, labels):
    val_largest, _ = val_curves
    largest, any_ = test_curves
    k_star = int(np.argmax((val_largest >= 0.5).mean(0)))
    gt_known = (largest[:, k_star] >= 0.5).mean()
    top1 = ((largest[:, k_star] >= 0.5) & (predicted == labels)).mean()
    max_box = (largest >= 0.5).mean(0).max()
    v2 = np.mean([(any_ >= d).mean(0).max() for d in (0.3, 0.5, 0.7)])
    print(f"  {name:6s} tau* {k_star / val_largest.shape[1]:.3f}  top-1 {100 * top1:.1f}  GT-known {100 * gt_known:.1f}"
          f"  MaxBoxAcc {100 * max_box:.1f}  MaxBoxAccV2 {100 * v2:.1f}")


def main():
    directory, method = sys.argv[1], sys.argv[2]
    K = int(sys.argv[3]) if len(sys.argv) > 3 else 1000
    val_maps, val_boxes = load(directory, method, "validation")
    test_maps, test_boxes = load(directory, method, "test")
    masks = np.fromfile(f"{directory}/test_masks.u8", dtype=np.uint8).reshape(test_maps.shape)
    predicted = np.loadtxt(f"{directory}/test_predicted.txt", dtype=np.int64)
    labels = np.loadtxt(f"{directory}/test_labels.txt", dtype=np.int64)
    print(f"{method}: {len(val_maps)} validation and {len(test_maps)} test maps, K = {K}")
    summary("paper", paper_curves(val_maps, val_boxes, K), paper_curves(test_maps, test_boxes, K), predicted, labels)
    print(f"  paper  PxAP {100 * paper_pxap(test_maps, masks, K):.1f}")
    summary("code", code_curves(val_maps, val_boxes, K), code_curves(test_maps, test_boxes, K), predicted, labels)
    print(f"  code   PxAP {100 * code_pxap(test_maps, masks, K):.1f}")


if __name__ == "__main__":
    main()
