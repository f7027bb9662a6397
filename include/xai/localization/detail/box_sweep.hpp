#pragma once
// The boxes of a map at every threshold of a grid, in one pass: pixels are added in decreasing
// order of value and joined to their neighbours with a union–find structure (Tarjan 1975), so the
// components at τ_k are those at τ_{k+1} plus the pixels with τ_k ≤ s < τ_{k+1}. This gives, for
// each threshold, exactly what thresholding and labelling from scratch gives
// (localization/extract.hpp; the tests compare the two at every threshold), in O(HW log HW)
// instead of O(K·HW) for K thresholds.

#include <algorithm>
#include <cstddef>
#include <numeric>
#include <vector>

#include "xai/localization/box_iou.hpp"
#include "xai/localization/components.hpp"
#include "xai/metrics/metric_inputs.hpp"

namespace xai::detail {

/// For one normalised map s (h×w, values in [0, 1]) and its ground-truth boxes: at each
/// threshold τ_k = k / K (k = 0 … K−1), the best IoU of the largest component's box with any
/// ground-truth box (largest[k]) and the best IoU of any component's box with any ground-truth
/// box (any[k]). A map without a positive value has no foreground: both are 0.
inline void box_iou_sweep(const float* s, std::size_t h, std::size_t w, const std::vector<Box>& truth, std::size_t K,
                          Connectivity connectivity, double* largest, double* any) {
    const std::size_t n = h * w;
    std::fill(largest, largest + K, 0.0);
    std::fill(any, any + K, 0.0);
    if (!(*std::max_element(s, s + n) > 0.0f)) return;

    std::vector<std::size_t> order(n);
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return s[a] > s[b]; });

    constexpr std::size_t none = static_cast<std::size_t>(-1);
    std::vector<std::size_t> parent(n, none), size(n, 0), first(n, 0);
    std::vector<Box> box(n);
    std::vector<std::size_t> roots;
    auto find = [&](std::size_t p) {
        std::size_t r = p;
        while (parent[r] != r) r = parent[r];
        while (parent[p] != r) {  // path compression
            const std::size_t next = parent[p];
            parent[p] = r;
            p = next;
        }
        return r;
    };
    // "Larger" as connected_components() orders them: more pixels, then the earlier first pixel.
    auto better = [&](std::size_t a, std::size_t b) {
        return size[a] > size[b] || (size[a] == size[b] && first[a] < first[b]);
    };
    auto unite = [&](std::size_t a, std::size_t b) {
        a = find(a);
        b = find(b);
        if (a == b) return a;
        if (size[a] < size[b]) std::swap(a, b);
        parent[b] = a;
        size[a] += size[b];
        first[a] = std::min(first[a], first[b]);
        box[a] = {std::min(box[a].top, box[b].top), std::min(box[a].left, box[b].left),
                  std::max(box[a].bottom, box[b].bottom), std::max(box[a].right, box[b].right)};
        return a;
    };
    auto best_truth_iou = [&](const Box& b) {
        double best = 0.0;
        for (const Box& t : truth) best = std::max(best, box_iou(b, t));
        return best;
    };

    const bool corners = connectivity == Connectivity::eight;
    std::size_t next = 0, best = none;
    for (std::size_t k = K; k-- > 0;) {
        const double tau = static_cast<double>(k) / static_cast<double>(K);
        bool changed = false;
        while (next < n && static_cast<double>(s[order[next]]) >= tau) {
            const std::size_t p = order[next++], y = p / w, x = p % w;
            parent[p] = p;
            size[p] = 1;
            first[p] = p;
            box[p] = {y, x, y + 1, x + 1};
            roots.push_back(p);
            std::size_t root = p;
            for (int dy = -1; dy <= 1; ++dy)
                for (int dx = -1; dx <= 1; ++dx) {
                    if ((dy == 0 && dx == 0) || (!corners && dy != 0 && dx != 0)) continue;
                    if ((dy < 0 && y == 0) || (dy > 0 && y + 1 == h) || (dx < 0 && x == 0) || (dx > 0 && x + 1 == w)) continue;
                    const std::size_t q = static_cast<std::size_t>(static_cast<std::ptrdiff_t>(y) + dy) * w +
                                          static_cast<std::size_t>(static_cast<std::ptrdiff_t>(x) + dx);
                    if (parent[q] != none) root = unite(root, q);
                }
            // Sizes only grow, so the largest component changes only to the one just modified.
            if (best == none) best = root;
            best = find(best);
            if (better(root, best)) best = root;
            changed = true;
        }
        if (!changed) {
            if (k + 1 < K) {
                largest[k] = largest[k + 1];
                any[k] = any[k + 1];
            }
            continue;
        }
        largest[k] = best_truth_iou(box[best]);
        std::size_t kept = 0;
        double top = 0.0;
        for (std::size_t r : roots)
            if (parent[r] == r) {
                roots[kept++] = r;
                top = std::max(top, best_truth_iou(box[r]));
            }
        roots.resize(kept);
        any[k] = top;
    }
}

}  // namespace xai::detail
