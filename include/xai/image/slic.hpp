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
// Features and distances are float by default (skimage: double for 8-bit and float64 images);
// SlicOptions::exact computes the rescaling, CIELAB, features and distances in double. Either
// way the labels equal a transcription of skimage's loops in that precision (tests), and
// skimage's own labels given the same input values; on an 8-bit photo a few pixels can differ
// from skimage's because xai holds the image as float (k/255 rounded), which skimage does not
// (docs/superpixels.md: 0–63 of 50,176 pixels at 224×224, with either conversion).
//
// Cost: max_iter · n_centres · (4·step+1)² distance evaluations (about 16 per pixel and
// iteration), vectorised over the pixels of a row with the centres in registers
// (image/slic_assignment.hpp); the centre updates take each run of equal labels along a row
// from row prefix sums. Memory: about 48 bytes per pixel of an RGB image (docs/superpixels.md).

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <type_traits>
#include <vector>

#include "xai/core/error.hpp"
#include "xai/core/tensor.hpp"
#include "xai/image/color.hpp"
#include "xai/image/gaussian_filter.hpp"
#include "xai/image/segments.hpp"
#include "xai/image/slic_assignment.hpp"

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
    /// Compute as skimage does for 8-bit and float64 images: rescaling, CIELAB (rgb_to_lab's
    /// formulas), features and distances in double, instead of float with the fast CIELAB
    /// conversion, for labels that must follow skimage's arithmetic exactly. On the sample photos
    /// it changes no label: their 0–63 pixels (of 50,176) that differ from skimage's come from
    /// xai's float image, not from the arithmetic (docs/superpixels.md). About 2.5× the time.
    bool exact = false;
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

/// The smallest and largest value of an image, through 16 lanes: an element-wise min/max
/// vectorises, a single running one does not. The image is finite.
struct ValueRange {
    float min, max;
};

inline ValueRange value_range(const Image& image) {
    std::array<float, 16> lanes_min, lanes_max;
    const float* data = image.data();
    lanes_min.fill(data[0]);
    lanes_max.fill(data[0]);
    const std::size_t total = image.size(), whole = total / 16 * 16;
    for (std::size_t i = 0; i < whole; i += 16)
        for (std::size_t j = 0; j < 16; ++j) {
            lanes_min[j] = std::min(lanes_min[j], data[i + j]);
            lanes_max[j] = std::max(lanes_max[j], data[i + j]);
        }
    for (std::size_t i = whole; i < total; ++i) {
        lanes_min[0] = std::min(lanes_min[0], data[i]);
        lanes_max[0] = std::max(lanes_max[0], data[i]);
    }
    return {*std::min_element(lanes_min.begin(), lanes_min.end()), *std::max_element(lanes_max.begin(), lanes_max.end())};
}

/// Prefix sums along each row of each plane of a C×H×W image, in double: the sum of any run of
/// a row is then two loads and a subtraction. SLIC's update step sums every run of equal labels
/// in every iteration; summing them pixel by pixel cost more than the assignment itself (short
/// runs, a mispredicted loop exit each). Memory: 8·C·H·(W+1) bytes.
class RowPrefixSums {
public:
    /// From `channels` planes of height × width values (float or double).
    template <class Scalar>
    RowPrefixSums(const Scalar* values, std::size_t channels, std::size_t height, std::size_t width)
        : height_(height), width_(width), sums_(channels * height_ * (width_ + 1)) {
        for (std::size_t row = 0; row < channels * height_; ++row) {
            double* out = sums_.data() + row * (width_ + 1);
            const Scalar* in = values + row * width_;
            double total = 0.0;
            out[0] = 0.0;
            for (std::size_t x = 0; x < width_; ++x) out[x + 1] = total += in[x];
        }
    }

    /// Σ image(channel, y, x) over x in [x0, x1).
    double sum(std::size_t channel, std::size_t y, std::size_t x0, std::size_t x1) const {
        const double* row = sums_.data() + (channel * height_ + y) * (width_ + 1);
        return row[x1] - row[x0];
    }

private:
    std::size_t height_, width_;
    std::vector<double> sums_;
};

/// skimage's _enforce_label_connectivity_cython in 2-D with start_label = 0 (see the header).
inline Segmentation enforce_label_connectivity(const std::vector<std::int32_t>& labels, std::size_t height,
                                               std::size_t width, std::size_t min_size, std::size_t max_size) {
    const std::size_t n = height * width;
    max_size = std::max<std::size_t>(max_size, 1);
    Segmentation result;
    result.labels = SegmentLabels::from_shape({height, width});
    std::int32_t* out = result.labels.data();
    std::fill(out, out + n, -1);
    // The queue keeps each pixel's column next to its index: recovering it as p % width would
    // cost an integer division per visited pixel.
    struct Pixel {
        std::size_t index, x;
    };
    std::vector<Pixel> queue(std::min(max_size, n));
    std::int32_t next_label = 0;
    for (std::size_t start = 0; start < n; ++start) {
        if (out[start] >= 0) continue;
        const std::int32_t label = labels[start];
        std::int32_t adjacent = next_label;
        out[start] = next_label;
        std::size_t size = 1, visited = 0;
        queue[0] = {start, start % width};
        while (visited < size && size < max_size) {
            const auto [p, x] = queue[visited];
            // skimage's neighbour order: x+1, x−1, y+1, y−1
            const std::array<bool, 4> inside{x + 1 < width, x > 0, p + width < n, p >= width};
            const std::array<Pixel, 4> q{{{p + 1, x + 1}, {p - 1, x - 1}, {p + width, x}, {p - width, x}}};
            for (std::size_t i = 0; i < 4; ++i) {
                if (!inside[i]) continue;
                const std::size_t at = q[i].index;
                if (labels[at] == label && out[at] < 0) {
                    out[at] = next_label;
                    queue[size++] = q[i];
                    if (size >= max_size) break;
                } else if (out[at] >= 0 && out[at] != next_label) {
                    adjacent = out[at];
                }
            }
            ++visited;
        }
        if (size < min_size) {
            for (std::size_t i = 0; i < size; ++i) out[queue[i].index] = adjacent;
        } else {
            ++next_label;
        }
    }
    // A small component with no relabelled neighbour keeps next_label itself, so the count is
    // the largest label + 1, not next_label.
    result.count = static_cast<std::size_t>(*std::max_element(out, out + n)) + 1;
    return result;
}

/// SLIC's colour features before the 1/m scaling (step 1 of the header), as C planes of
/// H·W values: the image min-max rescaled to [0,1] over all channels, converted to CIELAB when
/// it has 3 channels and options.convert_to_lab, then smoothed with options.sigma. In float
/// with the fast CIELAB conversion by default; with options.exact, Scalar = double and every
/// step in double (rgb_to_lab's formulas), as skimage computes for 8-bit and float64 images —
/// except the Gaussian smoothing, which runs in float.
template <class Scalar>
std::vector<Scalar> slic_features(const Image& image, const SlicOptions& options) {
    const std::size_t c_in = image.shape(0), n = image.shape(1) * image.shape(2);
    const auto [min_value, max_value] = value_range(image);
    const bool to_lab = c_in == 3 && options.convert_to_lab;
    std::vector<Scalar> work(c_in * n);
    // Rescaled and converted in blocks of pixels small enough to stay in L1, so the one output
    // is the only full-size buffer.
    constexpr std::size_t block = 256;
    std::array<std::array<Scalar, block>, 3> rescaled;
    // skimage: image −= min; image /= max (of the shifted image), in the features' precision
    const auto low = static_cast<Scalar>(min_value), span = static_cast<Scalar>(max_value) - low;
    for (std::size_t first = 0; first < n; first += block) {
        const std::size_t count = std::min(block, n - first);
        for (std::size_t c = 0; c < c_in; ++c) {
            const float* in = image.data() + c * n + first;
            Scalar* out = to_lab ? rescaled[c].data() : work.data() + c * n + first;
            for (std::size_t i = 0; i < count; ++i) {
                const Scalar shifted = static_cast<Scalar>(in[i]) - low;
                out[i] = span > Scalar(0) ? shifted / span : shifted;
            }
        }
        if (!to_lab) continue;
        Scalar* L = work.data() + first;
        Scalar* A = work.data() + n + first;
        Scalar* B = work.data() + 2 * n + first;
        if constexpr (std::is_same_v<Scalar, float>)
            rgb_planes_to_lab_fast(rescaled[0].data(), rescaled[1].data(), rescaled[2].data(), count, L, A, B);
        else
            rgb_planes_to_lab(rescaled[0].data(), rescaled[1].data(), rescaled[2].data(), count, L, A, B);
    }
    if (options.sigma > 0.0) {
        Image planes = Image::from_shape(image.shape());
        std::copy(work.begin(), work.end(), planes.begin());
        planes = gaussian_filter(planes, options.sigma);
        std::copy(planes.begin(), planes.end(), work.begin());
    }
    return work;
}

/// SLIC's steps 2–4 on features already scaled by 1/m (`channels` planes of h × w, Scalar).
template <class Scalar>
Segmentation slic_on_features(const std::vector<Scalar>& work, std::size_t channels, std::size_t h, std::size_t w,
                              const SlicOptions& options) {
    const std::size_t n = h * w;
    // 2. centres on the regular grid
    const GridAxes grid = regular_grid_2d(h, w, options.n_segments);
    std::vector<SlicCentre> centres;  // y, x, colour (up to 3)
    for (std::size_t y = grid.start_y; y < h; y += grid.step_y)
        for (std::size_t x = grid.start_x; x < w; x += grid.step_x)
            centres.push_back({static_cast<double>(y), static_cast<double>(x), 0.0, 0.0, 0.0});
    const std::size_t k_count = centres.size();
    const double step = static_cast<double>(std::max<std::size_t>({1, grid.step_y, grid.step_x}));
    const GridAxes window = regular_grid_2d(h, w, k_count);
    const auto wy = static_cast<double>(window.step_y), wx = static_cast<double>(window.step_x);

    // 3. k-means iterations
    std::vector<std::size_t> members(k_count);
    std::vector<SlicCentre> sums(k_count);
    std::vector<char> alive(k_count, 1);
    const RowPrefixSums colour_sums(work.data(), channels, h, w);
    std::vector<std::size_t> run_ends(w);
    std::vector<SlicWindow> windows(k_count);
    SlicAssignment<Scalar> assignment(work.data(), channels, h, w, static_cast<Scalar>(1.0 / (step * step)));
    const std::vector<std::int32_t>& nearest = assignment.labels();
    for (std::size_t iteration = 0; iteration < options.max_iter; ++iteration) {
        for (std::size_t k = 0; k < k_count; ++k) {
            const auto& c = centres[k];
            windows[k] = {static_cast<std::size_t>(std::max(c[0] - 2.0 * wy, 0.0)),
                          static_cast<std::size_t>(std::min(c[0] + 2.0 * wy + 1.0, static_cast<double>(h))),
                          static_cast<std::size_t>(std::max(c[1] - 2.0 * wx, 0.0)),
                          static_cast<std::size_t>(std::min(c[1] + 2.0 * wx + 1.0, static_cast<double>(w)))};
        }
        assignment.assign(centres, windows, alive);
        // move each centre to the mean of its pixels
        std::fill(members.begin(), members.end(), 0);
        for (auto& s : sums) s.fill(0.0);
        // Runs of equal labels along a row go to their centre at once (consecutive pixels mostly
        // share a centre), their colour sums from the prefix sums. The runs' ends are listed
        // first without a branch per pixel: a loop that stops at each run's end mispredicts once
        // per run, which cost more than the sums.
        for (std::size_t y = 0; y < h; ++y) {
            const std::int32_t* row = nearest.data() + y * w;
            std::size_t runs = 0;
            for (std::size_t x = 0; x + 1 < w; ++x) {
                run_ends[runs] = x + 1;
                runs += row[x] != row[x + 1] ? 1 : 0;
            }
            run_ends[runs++] = w;
            std::size_t start = 0;
            for (std::size_t r = 0; r < runs; ++r) {
                const std::size_t end = run_ends[r], length = end - start;
                const auto label = static_cast<std::size_t>(row[start]);
                auto& sum = sums[label];
                members[label] += length;
                sum[0] += static_cast<double>(y) * static_cast<double>(length);
                sum[1] += static_cast<double>(length) * (static_cast<double>(start) + static_cast<double>(end - 1)) / 2.0;
                for (std::size_t c = 0; c < channels; ++c) sum[2 + c] += colour_sums.sum(c, y, start, end);
                start = end;
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
        return enforce_label_connectivity(nearest, h, w, pixels_at_most_n(options.min_size_factor * segment_size),
                                                  pixels_at_most_n(options.max_size_factor * segment_size));
    // Without it, labels are the centre indices of the centres that kept pixels, renumbered.
    std::vector<std::size_t> ids(nearest.begin(), nearest.end());
    return labels_from_ids(ids, h, w, k_count);
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

    const std::size_t h = image.shape(1), w = image.shape(2), channels = image.shape(0);
    // 1. rescale to [0,1], CIELAB, smoothing (detail::slic_features), scaling by 1/m
    if (options.exact) {
        std::vector<double> work = detail::slic_features<double>(image, options);
        for (double& v : work) v *= 1.0 / options.compactness;
        return detail::slic_on_features(work, channels, h, w, options);
    }
    std::vector<float> work = detail::slic_features<float>(image, options);
    const auto inv_m = static_cast<float>(1.0 / options.compactness);
    for (float& v : work) v *= inv_m;
    return detail::slic_on_features(work, channels, h, w, options);
}

/// SLIC as a segmentation policy (for Lime<Model, Slic>).
struct Slic {
    SlicOptions options;  ///< passed to slic()
    /// slic(image, options).
    Segmentation operator()(const Image& image) const { return slic(image, options); }
};

}  // namespace xai
