#pragma once
// SLIC superpixels: Achanta, Shaji, Smith, Lucchi, Fua, Süsstrunk, "SLIC Superpixels Compared
// to State-of-the-art Superpixel Methods", IEEE TPAMI 34(11), 2012.
//
// k-means in (colour, y, x) space, restricted to a window around each centre. The semantics are
// those of scikit-image's segmentation.slic (which lime's SegmentationAlgorithm("slic") calls),
// read from skimage/segmentation/slic_superpixels.py and _slic.pyx:
//   1. the image is min-max rescaled to [0,1] over all channels (unless it is constant), then
//      converted to CIELAB when it has 3 channels (image/color.hpp), then smoothed with a
//      Gaussian of `sigma` if sigma > 0 (image/gaussian_filter.hpp);
//   2. centres start on skimage's regular_grid: step s = √(H·W / n_segments) rounded half to
//      even, first centre at ⌊s/2⌋ in each axis; their colours start at 0;
//   3. each iteration assigns every pixel within ±2·step (y and x) of a centre to the centre
//      minimising  D = ((y − y_k)² + (x − x_k)²) / S²  +  ‖c − c_k‖² / m²,  S = max grid step,
//      m = compactness (the paper's D' = √(d_c² + (d_s/S)² m²), divided by m²); ties go to the
//      lower centre index; then moves every centre to the mean (colour, y, x) of its pixels.
//      skimage's loop never detects convergence (its change flag is set by every first visit),
//      so exactly max_iter iterations run, as here;
//   4. enforce_connectivity: scanning in raster order, each 4-connected component of a label
//      becomes a new label, unless it has fewer than ⌊min_size_factor · H·W / n_centres⌋ pixels,
//      in which case it joins the last neighbouring component already relabelled (the paper's
//      "relabel disjoint segments with the labels of the largest neighbouring cluster" as
//      skimage implements it). As in skimage a breadth-first search stops growing a component at
//      ⌊max_size_factor · H·W / n_centres⌋ pixels and the rest is labelled on its own.
// Labels are numbered 0..n−1 in raster order of their first pixel (skimage's start_label=0).
// Distances are computed in float (skimage: double), so exact ties may break differently.
//
// Cost: max_iter · n_centres · (4·step+1)² distance evaluations, vectorised over x.

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

#include "xai/core/error.hpp"
#include "xai/core/tensor.hpp"
#include "xai/image/color.hpp"
#include "xai/image/gaussian_filter.hpp"
#include "xai/image/segments.hpp"

namespace xai {

/// Parameters of slic(); the defaults are scikit-image's.
struct SlicOptions {
    std::size_t n_segments = 100;     ///< approximate number of superpixels (skimage: 100)
    double compactness = 10.0;        ///< m: higher gives squarer superpixels (skimage: 10)
    std::size_t max_iter = 10;        ///< k-means iterations (skimage's max_num_iter: 10)
    double sigma = 0.0;               ///< Gaussian pre-smoothing in pixels (skimage: 0)
    bool convert_to_lab = true;       ///< segment 3-channel images in CIELAB (skimage: yes for RGB)
    bool enforce_connectivity = true; ///< merge small fragments, make every label connected (skimage: True)
    double min_size_factor = 0.5;     ///< fragments below this fraction of H·W/n are merged (skimage: 0.5)
    double max_size_factor = 3.0;     ///< BFS size cap as a fraction of H·W/n (skimage: 3)
};

namespace detail {

/// skimage.util.regular_grid for a (1, H, W) volume: the start and step of the grid along y and
/// x (a step of 1 and start 0 when n_points >= H·W).
struct GridAxes {
    std::size_t start_y = 0, step_y = 1, start_x = 0, step_x = 1;
};

inline GridAxes regular_grid_2d(std::size_t height, std::size_t width, std::size_t n_points) {
    const std::array<double, 3> shape{1.0, static_cast<double>(height), static_cast<double>(width)};
    const double space = shape[0] * shape[1] * shape[2];
    const double n = static_cast<double>(n_points);
    if (space <= n) return {};
    // Sort the axes by extent (stable, so equal extents keep their order).
    std::array<std::size_t, 3> order{0, 1, 2};
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return shape[a] < shape[b]; });
    std::array<double, 3> sorted{shape[order[0]], shape[order[1]], shape[order[2]]};
    std::array<double, 3> step;
    step.fill(std::pow(space / n, 1.0 / 3.0));
    auto fits = [&] {
        for (std::size_t d = 0; d < 3; ++d)
            if (sorted[d] < step[d]) return false;
        return true;
    };
    if (!fits()) {
        for (std::size_t d = 0; d + 1 < 3; ++d) {
            step[d] = sorted[d];
            double rest = 1.0;
            for (std::size_t e = d + 1; e < 3; ++e) rest *= sorted[e];
            const double s = std::pow(rest / n, 1.0 / static_cast<double>(3 - d - 1));
            for (std::size_t e = d + 1; e < 3; ++e) step[e] = s;
            if (fits()) break;
        }
    }
    std::array<std::size_t, 3> start_of{}, step_of{};
    for (std::size_t d = 0; d < 3; ++d) {
        start_of[order[d]] = static_cast<std::size_t>(std::floor(step[d] / 2.0));
        step_of[order[d]] = static_cast<std::size_t>(std::nearbyint(step[d]));  // half to even, as numpy's round
    }
    return {start_of[1], std::max<std::size_t>(step_of[1], 1), start_of[2], std::max<std::size_t>(step_of[2], 1)};
}

/// skimage's _enforce_label_connectivity_cython in 2-D with start_label = 0 (see the header).
inline Segmentation enforce_label_connectivity(const std::vector<std::int32_t>& labels, std::size_t height,
                                               std::size_t width, std::size_t min_size, std::size_t max_size) {
    const std::size_t n = height * width;
    max_size = std::max<std::size_t>(max_size, 1);
    std::vector<std::int32_t> out(n, -1);
    std::vector<std::size_t> queue(std::min(max_size, n));
    std::int32_t next_label = 0;
    for (std::size_t start = 0; start < n; ++start) {
        if (out[start] >= 0) continue;
        const std::int32_t label = labels[start];
        std::int32_t adjacent = next_label;
        out[start] = next_label;
        std::size_t size = 1, visited = 0;
        queue[0] = start;
        while (visited < size && size < max_size) {
            const std::size_t p = queue[visited];
            const std::size_t y = p / width, x = p % width;
            // skimage's neighbour order: x+1, x−1, y+1, y−1
            const std::array<bool, 4> inside{x + 1 < width, x > 0, y + 1 < height, y > 0};
            const std::array<std::size_t, 4> q{p + 1, p - 1, p + width, p - width};
            for (std::size_t i = 0; i < 4; ++i) {
                if (!inside[i]) continue;
                if (labels[q[i]] == label && out[q[i]] < 0) {
                    out[q[i]] = next_label;
                    queue[size++] = q[i];
                    if (size >= max_size) break;
                } else if (out[q[i]] >= 0 && out[q[i]] != next_label) {
                    adjacent = out[q[i]];
                }
            }
            ++visited;
        }
        if (size < min_size) {
            for (std::size_t i = 0; i < size; ++i) out[queue[i]] = adjacent;
        } else {
            ++next_label;
        }
    }
    Segmentation result;
    result.labels = SegmentLabels::from_shape({height, width});
    std::copy(out.begin(), out.end(), result.labels.begin());
    result.count = static_cast<std::size_t>(*std::max_element(out.begin(), out.end())) + 1;
    return result;
}

}  // namespace detail

/// SLIC superpixels of a C×H×W image (C = 1 or 3); see the header for the exact semantics.
inline Segmentation slic(const Image& image, const SlicOptions& options = {}) {
    constexpr const char* where = "xai::slic()";
    detail::require_segmentable_image(image, where);
    detail::require(options.n_segments > 0, where, ": n_segments is 0, expected at least 1");
    detail::require(std::isfinite(options.compactness) && options.compactness > 0.0, where, ": compactness is ",
                    options.compactness, ", expected a finite value > 0");
    detail::require(options.max_iter > 0, where, ": max_iter is 0, expected at least 1");
    detail::require(std::isfinite(options.sigma) && options.sigma >= 0.0, where, ": sigma is ", options.sigma,
                    ", expected a finite value >= 0");
    detail::require(options.min_size_factor >= 0.0 && options.max_size_factor > 0.0, where,
                    ": min_size_factor and max_size_factor are ", options.min_size_factor, " and ",
                    options.max_size_factor, ", expected >= 0 and > 0");

    const std::size_t h = image.shape(1), w = image.shape(2), n = h * w;
    // 1. rescale to [0,1], CIELAB, smoothing, scaling by 1/m
    Image work = image;
    // min and max through 16 lanes (a vectorisable element-wise min/max; the input is finite)
    std::array<float, 16> lanes_min, lanes_max;
    lanes_min.fill(work.data()[0]);
    lanes_max.fill(work.data()[0]);
    const std::size_t total = work.size(), whole = total / 16 * 16;
    for (std::size_t i = 0; i < whole; i += 16)
        for (std::size_t j = 0; j < 16; ++j) {
            lanes_min[j] = std::min(lanes_min[j], work.data()[i + j]);
            lanes_max[j] = std::max(lanes_max[j], work.data()[i + j]);
        }
    for (std::size_t i = whole; i < total; ++i) {
        lanes_min[0] = std::min(lanes_min[0], work.data()[i]);
        lanes_max[0] = std::max(lanes_max[0], work.data()[i]);
    }
    const float min_value = *std::min_element(lanes_min.begin(), lanes_min.end());
    const float range = *std::max_element(lanes_max.begin(), lanes_max.end()) - min_value;
    for (float& v : work) v = range > 0.0f ? (v - min_value) / range : v - min_value;
    if (image.shape(0) == 3 && options.convert_to_lab) work = detail::rgb_to_lab_fast(work);
    if (options.sigma > 0.0) work = gaussian_filter(work, options.sigma);
    const std::size_t channels = work.shape(0);
    const auto inv_m = static_cast<float>(1.0 / options.compactness);
    for (float& v : work) v *= inv_m;

    // 2. centres on the regular grid
    const detail::GridAxes grid = detail::regular_grid_2d(h, w, options.n_segments);
    std::vector<std::array<double, 5>> centres;  // y, x, colour (up to 3)
    for (std::size_t y = grid.start_y; y < h; y += grid.step_y)
        for (std::size_t x = grid.start_x; x < w; x += grid.step_x)
            centres.push_back({static_cast<double>(y), static_cast<double>(x), 0.0, 0.0, 0.0});
    const std::size_t k_count = centres.size();
    const double step = static_cast<double>(std::max<std::size_t>({1, grid.step_y, grid.step_x}));
    const auto spatial_weight = static_cast<float>(1.0 / (step * step));
    const detail::GridAxes window = detail::regular_grid_2d(h, w, k_count);
    const auto wy = static_cast<double>(window.step_y), wx = static_cast<double>(window.step_x);

    // 3. k-means iterations
    std::vector<std::int32_t> nearest(n, 0);
    std::vector<float> distance(n);
    std::vector<float> xs(w);
    for (std::size_t x = 0; x < w; ++x) xs[x] = static_cast<float>(x);
    std::vector<std::size_t> members(k_count);
    std::vector<std::array<double, 5>> sums(k_count);
    std::vector<char> alive(k_count, 1);
    const float* plane0 = work.data();
    const float* plane1 = channels == 3 ? plane0 + n : plane0;
    const float* plane2 = channels == 3 ? plane0 + 2 * n : plane0;
    struct Window {
        std::size_t y0, y1, x0, x1;
    };
    std::vector<Window> windows(k_count);
    for (std::size_t iteration = 0; iteration < options.max_iter; ++iteration) {
        std::fill(distance.begin(), distance.end(), std::numeric_limits<float>::max());
        for (std::size_t k = 0; k < k_count; ++k) {
            const auto& c = centres[k];
            windows[k] = {static_cast<std::size_t>(std::max(c[0] - 2.0 * wy, 0.0)),
                          static_cast<std::size_t>(std::min(c[0] + 2.0 * wy + 1.0, static_cast<double>(h))),
                          static_cast<std::size_t>(std::max(c[1] - 2.0 * wx, 0.0)),
                          static_cast<std::size_t>(std::min(c[1] + 2.0 * wx + 1.0, static_cast<double>(w)))};
        }
        // Bands of a few rows keep their pixels in L1 while every centre whose window covers them
        // is visited (in increasing k, so ties still go to the lower index as in skimage).
        constexpr std::size_t band = 4;
        for (std::size_t band_y0 = 0; band_y0 < h; band_y0 += band) {
            const std::size_t band_y1 = std::min(band_y0 + band, h);
            for (std::size_t k = 0; k < k_count; ++k) {
                if (alive[k] == 0) continue;  // skimage's NaN centre of an empty cluster never wins
                const Window& win = windows[k];
                const std::size_t y0 = std::max(win.y0, band_y0), y1 = std::min(win.y1, band_y1);
                if (y0 >= y1) continue;
                const auto& c = centres[k];
                const auto cy = static_cast<float>(c[0]), cx = static_cast<float>(c[1]);
                const auto c0 = static_cast<float>(c[2]), c1 = static_cast<float>(c[3]), c2 = static_cast<float>(c[4]);
                const auto label = static_cast<std::int32_t>(k);
                const std::size_t x0 = win.x0, x1 = win.x1;
                for (std::size_t y = y0; y < y1; ++y) {
                    const float dy = cy - static_cast<float>(y);
                    const float dy2 = dy * dy;
                    const std::size_t row = y * w;
                    float* __restrict dist = distance.data() + row;
                    std::int32_t* __restrict near = nearest.data() + row;
                    const float* p0 = plane0 + row;
                    const float* p1 = plane1 + row;
                    const float* p2 = plane2 + row;
                    if (channels == 3) {
                        for (std::size_t x = x0; x < x1; ++x) {
                            const float dx = cx - xs[x];
                            const float t0 = p0[x] - c0, t1 = p1[x] - c1, t2 = p2[x] - c2;
                            const float d = (dy2 + dx * dx) * spatial_weight + (t0 * t0 + t1 * t1 + t2 * t2);
                            const bool closer = d < dist[x];
                            dist[x] = closer ? d : dist[x];
                            near[x] = closer ? label : near[x];
                        }
                    } else {
                        for (std::size_t x = x0; x < x1; ++x) {
                            const float dx = cx - xs[x];
                            const float t0 = p0[x] - c0;
                            const float d = (dy2 + dx * dx) * spatial_weight + t0 * t0;
                            const bool closer = d < dist[x];
                            dist[x] = closer ? d : dist[x];
                            near[x] = closer ? label : near[x];
                        }
                    }
                }
            }
        }
        // move each centre to the mean of its pixels
        std::fill(members.begin(), members.end(), 0);
        for (auto& s : sums) s.fill(0.0);
        // Runs of equal labels along a row are summed in registers first: consecutive pixels
        // mostly share a centre, and adding each pixel to memory would chain every addition.
        for (std::size_t y = 0; y < h; ++y) {
            const std::size_t row = y * w;
            std::size_t x = 0;
            while (x < w) {
                const std::int32_t label = nearest[row + x];
                const std::size_t run_start = x;
                double s0 = 0.0, s1 = 0.0, s2 = 0.0;
                for (; x < w && nearest[row + x] == label; ++x) {
                    s0 += plane0[row + x];
                    s1 += plane1[row + x];
                    s2 += plane2[row + x];
                }
                const auto length = static_cast<double>(x - run_start);
                auto& sum = sums[static_cast<std::size_t>(label)];
                members[static_cast<std::size_t>(label)] += x - run_start;
                sum[0] += static_cast<double>(y) * length;
                sum[1] += length * (static_cast<double>(run_start) + static_cast<double>(x - 1)) / 2.0;
                sum[2] += s0;
                sum[3] += s1;
                sum[4] += s2;
            }
        }
        for (std::size_t k = 0; k < k_count; ++k) {
            if (members[k] == 0) {
                alive[k] = 0;
                continue;
            }
            for (std::size_t f = 0; f < 5; ++f) centres[k][f] = sums[k][f] / static_cast<double>(members[k]);
        }
    }

    // 4. connectivity
    const double segment_size = static_cast<double>(n) / static_cast<double>(k_count);
    // Sizes beyond the image's n pixels act like n; clamping first keeps the conversion defined
    // for factors as large as 1e300 or Inf.
    const auto pixels_at_most_n = [&](double size) { return static_cast<std::size_t>(std::min(size, static_cast<double>(n))); };
    if (options.enforce_connectivity)
        return detail::enforce_label_connectivity(nearest, h, w, pixels_at_most_n(options.min_size_factor * segment_size),
                                                  pixels_at_most_n(options.max_size_factor * segment_size));
    // Without it, labels are the centre indices of the centres that kept pixels, renumbered.
    std::vector<std::size_t> ids(nearest.begin(), nearest.end());
    return detail::labels_from_ids(ids, h, w, k_count);
}

/// SLIC as a segmentation policy (for Lime<Model, Slic>).
struct Slic {
    SlicOptions options;  ///< passed to slic()
    /// slic(image, options).
    Segmentation operator()(const Image& image) const { return slic(image, options); }
};

}  // namespace xai
