#pragma once
// ROAD, RemOve And Debias — Rong, Leemann, Borisov, Kasneci & Kasneci, "A Consistent and
// Efficient Evaluation Strategy for Attribution Methods", ICML 2022; conventions of
// pytorch-grad-cam's metrics/road.py and metrics/perturbation_confidence.py (which take the
// authors' imputations.py, github.com/tleemann/road_evaluation).
//
// Removing pixels leaks information through the shape of the hole; ROAD fills the removed pixels
// by noisy linear imputation so that the hole's shape says little. Each removed pixel's value
// is the weighted mean of its in-image 8-neighbours (weight 1/6 for the 4 direct ones, 1/12 for
// the 4 diagonal ones, renormalised over the neighbours inside the image), removed neighbours
// being unknowns too: one sparse linear system per image, the same matrix for every channel,
//   s_i v_i − Σ_{j removed} w_ij v_j = Σ_{j kept} w_ij x_j,   s_i = Σ_{j in image} w_ij,
// solved exactly (Eigen's SparseLU, as the reference's scipy spsolve), then Gaussian noise of
// standard deviation `noise` (the reference's 0.01, absolute) is added to every imputed value.
// The matrix is symmetric and weakly diagonally dominant, and irreducibly so as soon as one
// pixel is kept, hence non-singular.
//
// For each percentile p of `percentiles` (the reference's 10, 20, …, 90):
//   MoRF removes the pixels whose map value is ≥ the p-th percentile (most relevant first),
//   LeRF those whose value is ≤ the (100 − p)-th (least relevant first),
// both n − ⌈p·(n − 1)/100⌉ pixels of the n: what the reference's threshold
// `mask < np.percentile(mask, p)` keeps for a map without ties (ties are taken in raster order
// here). The score of each is the target's score on the imputed image minus on the image (the
// reference's return_diff), averaged over the percentiles (AveragerAcrossThresholds), and
//   combined = (LeRF − MoRF) / 2                                  (ROADCombined)
// higher is better: removing the least relevant pixels should hurt less than the most relevant.
//
// The score is the target's softmax probability by default (the paper evaluates the class's
// probability and accuracy; pytorch-grad-cam scores whatever target it is given, its
// ClassifierOutputTarget being ScoreKind::logit), or a target function's value
// (Target::function). Randomness: image i's imputation for order o (0 MoRF, 1 LeRF) and
// percentile f draws from Rng::stream(seed, (i·2 + o)·F + f): results do not depend on threads.
// Cost: 2F sparse solves and one forward pass of 2F images per image.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <numeric>
#include <span>
#include <vector>

#include "xai/core/concepts.hpp"
#include "xai/core/eigen.hpp"
#include "xai/core/error.hpp"
#include "xai/core/parallel.hpp"
#include "xai/core/progress.hpp"
#include "xai/core/random.hpp"
#include "xai/core/scores.hpp"
#include "xai/core/target.hpp"
#include "xai/core/tensor.hpp"
#include "xai/metrics/metric_inputs.hpp"

#include <Eigen/SparseCore>
#include <Eigen/SparseLU>

namespace xai {

/// Options of road(); the defaults are pytorch-grad-cam's ROADCombined.
struct RoadOptions {
    /// Percentiles p of the map; each removes n − ⌈p·(n − 1)/100⌉ pixels (the reference's
    /// 10, 20, …, 90), each in (0, 100).
    std::vector<double> percentiles = {10, 20, 30, 40, 50, 60, 70, 80, 90};
    double noise = 0.01;                      ///< standard deviation of the imputation noise (the reference's)
    ScoreKind score = ScoreKind::probability; ///< the score of a class target (a target function scores itself)
    std::uint64_t seed = 0;                   ///< the noise's stream
    std::size_t threads = 0;                  ///< threads over the images; 0 = all
};

/// ROAD's curves and scores of a batch of maps.
struct RoadResult {
    std::vector<double> removed;       ///< per percentile, the fraction of pixels removed (same for MoRF and LeRF)
    xt::xtensor<float, 2> morf;        ///< N×F: score after removing the most relevant pixels − score of the image
    xt::xtensor<float, 2> lerf;        ///< N×F: the same, least relevant first
    std::vector<double> morf_mean;     ///< N: the mean of morf over the percentiles (lower is better)
    std::vector<double> lerf_mean;     ///< N: the mean of lerf over the percentiles (higher is better)
    std::vector<double> combined;      ///< N: (lerf_mean − morf_mean) / 2 (ROADCombined; higher is better)
    double mean_combined = 0.0;        ///< the mean of combined
    std::vector<float> original;       ///< N: the target's score on the image
    std::vector<std::size_t> targets;  ///< the class scored for each image (a target function's class_index, else the prediction)
};

namespace detail {

/// The 8 neighbour offsets (dy, dx) and weights of the reference's noisy linear imputer.
struct RoadNeighbour {
    int dy, dx;
    double weight;
};
inline constexpr RoadNeighbour road_neighbours[8] = {{1, 1, 1.0 / 12}, {0, 1, 1.0 / 6},  {-1, 1, 1.0 / 12},
                                                     {1, -1, 1.0 / 12}, {0, -1, 1.0 / 6}, {-1, -1, 1.0 / 12},
                                                     {1, 0, 1.0 / 6},  {-1, 0, 1.0 / 6}};

/// Imputes the removed pixels (removed[p] != 0) of one C×H×W image in place by the noisy linear
/// imputation of the header comment; `rng` draws the noise (none when noise = 0). A template so
/// that SparseLU is compiled only where ROAD is used.
template <class Scalar = double>
void impute_road(float* image, std::size_t channels, std::size_t height, std::size_t width,
                 const std::vector<std::uint8_t>& removed, double noise, Rng& rng) {
    const std::size_t pixels = height * width;
    std::vector<std::ptrdiff_t> unknown(pixels, -1);
    std::vector<std::size_t> where_of;
    for (std::size_t p = 0; p < pixels; ++p)
        if (removed[p]) {
            unknown[p] = static_cast<std::ptrdiff_t>(where_of.size());
            where_of.push_back(p);
        }
    const auto m = static_cast<Eigen::Index>(where_of.size());
    if (m == 0) return;
    using Matrix = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>;
    std::vector<Eigen::Triplet<Scalar>> entries;
    entries.reserve(where_of.size() * 9);
    Matrix rhs = Matrix::Zero(m, static_cast<Eigen::Index>(channels));
    for (Eigen::Index r = 0; r < m; ++r) {
        const std::size_t p = where_of[static_cast<std::size_t>(r)];
        const auto y = static_cast<std::ptrdiff_t>(p / width), x = static_cast<std::ptrdiff_t>(p % width);
        double total = 0.0;
        for (const RoadNeighbour& n : road_neighbours) {
            const std::ptrdiff_t ny = y + n.dy, nx = x + n.dx;
            if (ny < 0 || nx < 0 || ny >= static_cast<std::ptrdiff_t>(height) || nx >= static_cast<std::ptrdiff_t>(width))
                continue;
            total += n.weight;
            const auto q = static_cast<std::size_t>(ny) * width + static_cast<std::size_t>(nx);
            if (unknown[q] >= 0) {
                entries.emplace_back(r, static_cast<Eigen::Index>(unknown[q]), static_cast<Scalar>(-n.weight));
            } else {
                for (std::size_t c = 0; c < channels; ++c)
                    rhs(r, static_cast<Eigen::Index>(c)) += static_cast<Scalar>(n.weight * image[c * pixels + q]);
            }
        }
        entries.emplace_back(r, r, static_cast<Scalar>(total));
    }
    Eigen::SparseMatrix<Scalar> a(m, m);
    a.setFromTriplets(entries.begin(), entries.end());
    Eigen::SparseLU<Eigen::SparseMatrix<Scalar>> solver;
    solver.compute(a);
    if (solver.info() != Eigen::Success)
        throw numerical_error("xai::road(): the imputation system is singular (every pixel removed?)");
    const Matrix v = solver.solve(rhs);
    for (Eigen::Index r = 0; r < m; ++r)
        for (std::size_t c = 0; c < channels; ++c) {
            const double noisy = static_cast<double>(v(r, static_cast<Eigen::Index>(c))) + (noise > 0.0 ? noise * rng.normal() : 0.0);
            image[c * pixels + where_of[static_cast<std::size_t>(r)]] = static_cast<float>(noisy);
        }
}

/// The number of pixels of n that percentile p removes: n − ⌈p·(n − 1)/100⌉ (header comment).
inline std::size_t road_removed_count(double percentile, std::size_t n) {
    const double kept = std::ceil(percentile * static_cast<double>(n - 1) / 100.0 - 1e-9);
    return n - std::min(n, static_cast<std::size_t>(std::max(0.0, kept)));
}

}  // namespace detail

/// Noisy linear imputation of ROAD (header comment) of a C×H×W image: the pixels where `removed`
/// is true are replaced by the weighted mean of their 8 neighbours (a sparse linear system),
/// plus Gaussian noise of standard deviation `noise` from Rng::stream(seed, 0). invalid_argument
/// when the mask's size differs from the image's, every pixel is removed, or noise is negative.
template <class Scalar = double>
Image noisy_linear_imputation(const Image& image, const RegionMask& removed, double noise = 0.01,
                              std::uint64_t seed = 0) {
    constexpr const char* where = "xai::noisy_linear_imputation()";
    detail::require<shape_error>(image.dimension() == 3 && removed.shape(0) == image.shape(1) &&
                                     removed.shape(1) == image.shape(2) && image.size() > 0,
                                 where, ": removed has shape ", shape_string(removed.shape()), " for an image of shape ",
                                 shape_string(image.shape()), ", expected the image's H×W");
    detail::require(std::isfinite(noise) && noise >= 0.0, where, ": noise is ", noise, ", expected a finite value >= 0");
    detail::require_finite(image, "xai::noisy_linear_imputation(): image");
    std::vector<std::uint8_t> mask(removed.begin(), removed.end());
    detail::require(std::find(mask.begin(), mask.end(), std::uint8_t{0}) != mask.end(), where,
                    ": every pixel is removed, expected at least one kept pixel to impute from");
    Image out = image;
    Rng rng = Rng::stream(seed, 0);
    detail::impute_road<Scalar>(out.data(), image.shape(0), image.shape(1), image.shape(2), mask, noise, rng);
    return out;
}

/// ROAD (Rong et al., ICML 2022) of an explainer's maps, precomputed maps (N×H×W at the images'
/// size) or an explanation function's (metric_inputs.hpp), for `targets` (empty: the predicted
/// classes; a class index, or a target function scored by its value). `progress` is called
/// after each image (unit: images).
template <Classifier M, MapSource S>
RoadResult road(const M& model, const Batch& images, const S& source, const Targets& targets = {},
                const RoadOptions& options = {}, const Progress& progress = {}) {
    constexpr const char* where = "xai::road()";
    detail::require(!options.percentiles.empty(), where, ": percentiles is empty, expected at least one");
    for (double p : options.percentiles)
        detail::require(std::isfinite(p) && p > 0.0 && p < 100.0, where, ": a percentile is ", p,
                        ", expected a value in (0, 100)");
    detail::require(std::isfinite(options.noise) && options.noise >= 0.0, where, ": noise is ", options.noise,
                    ", expected a finite value >= 0");
    detail::require_metric_images(model, images, where);
    if constexpr (std::same_as<S, Maps>) detail::require_maps_for(images, source, where);
    const Scores logits = detail::checked_forward(model, images, where);
    const std::size_t n = images.shape(0), channels = images.shape(1), height = images.shape(2),
                      width = images.shape(3), pixels = height * width, f = options.percentiles.size();
    RoadResult out;
    out.targets = resolve_targets(targets, logits, where, true);
    const std::vector<const detail::AnyTargetFunction*> functions = target_functions(targets, n);
    const Maps maps = detail::obtain_maps(source, images, out.targets, where, &targets);
    const Scores kind_scores = scores_of_kind(logits, options.score);
    out.original.resize(n);
    for (std::size_t i = 0; i < n; ++i)
        out.original[i] = detail::metric_score(kind_scores, logits, i, functions[i], out.targets[i]);
    for (double p : options.percentiles)
        out.removed.push_back(static_cast<double>(detail::road_removed_count(p, pixels)) / static_cast<double>(pixels));
    for (std::size_t c = 0; c < f; ++c)
        detail::require(out.removed[c] < 1.0, where, ": percentile ", options.percentiles[c], " removes every one of the ",
                        pixels, " pixels, expected at least one kept");
    out.morf = xt::xtensor<float, 2>::from_shape({n, f});
    out.lerf = xt::xtensor<float, 2>::from_shape({n, f});
    parallel_for(n, options.threads, [&](std::size_t i) {
        const float* map = maps.data() + i * pixels;
        std::vector<std::size_t> order(pixels);  // most relevant first, ties in raster order
        std::iota(order.begin(), order.end(), std::size_t{0});
        std::stable_sort(order.begin(), order.end(), [map](std::size_t a, std::size_t b) { return map[a] > map[b]; });
        std::vector<std::size_t> ascending(pixels);  // least relevant first, ties in raster order
        std::iota(ascending.begin(), ascending.end(), std::size_t{0});
        std::stable_sort(ascending.begin(), ascending.end(), [map](std::size_t a, std::size_t b) { return map[a] < map[b]; });
        Batch perturbed = Batch::from_shape({2 * f, channels, height, width});
        const std::size_t size = channels * pixels;
        for (std::size_t o = 0; o < 2; ++o)
            for (std::size_t c = 0; c < f; ++c) {
                const std::size_t count = detail::road_removed_count(options.percentiles[c], pixels);
                std::vector<std::uint8_t> removed(pixels, 0);
                const std::vector<std::size_t>& ranked = o == 0 ? order : ascending;
                for (std::size_t r = 0; r < count; ++r) removed[ranked[r]] = 1;
                float* dst = perturbed.data() + (o * f + c) * size;
                std::copy_n(images.data() + i * size, size, dst);
                Rng rng = Rng::stream(options.seed, (i * 2 + o) * f + c);
                detail::impute_road(dst, channels, height, width, removed, options.noise, rng);
            }
        const Scores z = detail::checked_forward(model, perturbed, where);
        const Scores zs = scores_of_kind(z, options.score);
        for (std::size_t o = 0; o < 2; ++o)
            for (std::size_t c = 0; c < f; ++c) {
                const float s = detail::metric_score(zs, z, o * f + c, functions[i], out.targets[i]) - out.original[i];
                (o == 0 ? out.morf : out.lerf)(i, c) = s;
            }
    });
    out.morf_mean.resize(n);
    out.lerf_mean.resize(n);
    out.combined.resize(n);
    for (std::size_t i = 0; i < n; ++i) {
        double morf = 0.0, lerf = 0.0;
        for (std::size_t c = 0; c < f; ++c) {
            morf += out.morf(i, c);
            lerf += out.lerf(i, c);
        }
        out.morf_mean[i] = morf / static_cast<double>(f);
        out.lerf_mean[i] = lerf / static_cast<double>(f);
        out.combined[i] = (out.lerf_mean[i] - out.morf_mean[i]) / 2.0;
    }
    out.mean_combined = std::accumulate(out.combined.begin(), out.combined.end(), 0.0) / static_cast<double>(n);
    detail::report(progress, n, n, "images");
    return out;
}

}  // namespace xai
