#pragma once
// Localization metrics against a ground-truth region: the pointing game and the energy-based
// pointing game.
//
// Pointing game — Zhang, Bargal, Lin, Brandt, Shen and Sclaroff, "Top-down Neural Attention by
// Excitation Backprop", ECCV 2016 (IJCV 2018), §4.1: the map's maximum is a hit when it lies
// inside the object, with a tolerance. Tolerance as TorchRay's PointingGame
// (torchray/benchmark/pointing_game.py, default 15 pixels): the point (py, px) hits when some
// pixel (y, x) of the region satisfies
//     (y − py)² + (x − px)² < τ²      (strictly), or the point itself is in the region,
// where τ is 15 pixels at the 224×224 scale of those benchmarks, scaled with the image:
//     τ = tolerance · √(H·W) / reference_size,   tolerance = 15, reference_size = 224
// (for a square image, τ = 15 · H / 224: 4.29 pixels at 64×64). The second clause only matters
// for τ = 0, where the point must lie in the region.
// Ties: when m > 1 pixels share the maximum value exactly (a flat map: every pixel), the score
// of the image is the fraction of them that hit, i.e. the expected outcome of pointing at one
// of them at random; a unique maximum scores 0 or 1. (TorchRay takes the first maximum in
// raster order, which favours the top-left corner for flat maps.) The accuracy is the mean
// score over images (hits / (hits + misses) over the whole set, not per class).
//
// Energy-based pointing game — Wang, Wang, Du, Yang, Zhang, Ding, Mardziel and Hu,
// "Score-CAM: Score-Weighted Visual Explanations for Convolutional Neural Networks", CVPR
// Workshops 2020, §5.2: the share of the map's energy inside the ground-truth box,
//     Proportion = Σ_{p ∈ region} L⁺(p) / Σ_p L⁺(p),   L⁺ = max(L, 0),
// where the paper's maps are non-negative (normalized to [0, 1]); negative values are
// evidence against the class and carry no "energy" here. A map with no positive mass at all
// scores 0 (it points nowhere). It rewards maps whose mass concentrates on the object, not
// only their peak; a uniform map scores area(region) / area(image).

#include <algorithm>
#include <concepts>
#include <cmath>
#include <cstddef>
#include <numeric>
#include <vector>

#include "xai/core/concepts.hpp"
#include "xai/core/error.hpp"
#include "xai/core/target.hpp"
#include "xai/core/tensor.hpp"
#include "xai/metrics/metric_inputs.hpp"

namespace xai {

/// Options of pointing_game(); defaults are TorchRay's 15 pixels at 224×224.
struct PointingGameOptions {
    double tolerance = 15.0;        ///< pixels at reference_size, ≥ 0
    double reference_size = 224.0;  ///< the image side at which `tolerance` applies, > 0
};

/// The pointing game's outcome for one map.
struct PointingResult {
    double hit = 0.0;          ///< 1 hit, 0 miss; with tied maxima the fraction of them that hit
    std::size_t row = 0;       ///< the first maximum in raster order
    std::size_t column = 0;    ///< the column of that maximum
    std::size_t maxima = 1;    ///< pixels sharing the maximum value
};

/// The pointing game over a set of maps.
struct PointingGameResult {
    std::vector<PointingResult> images;  ///< one outcome per map
    double accuracy = 0.0;   ///< mean of images[i].hit
    double tolerance = 0.0;  ///< τ in pixels at the maps' size
};

/// The energy-based pointing game over a set of maps.
struct EnergyPointingResult {
    std::vector<double> proportions;  ///< share of positive mass inside each region, in [0, 1]
    double mean = 0.0;                ///< mean of proportions
};

/// τ in pixels for maps of height × width (see the header comment).
inline double pointing_tolerance(std::size_t height, std::size_t width, const PointingGameOptions& options = {}) {
    detail::require(std::isfinite(options.tolerance) && options.tolerance >= 0.0, "xai::pointing_game(): tolerance is ",
                    options.tolerance, ", expected a finite value >= 0 (pixels at reference_size)");
    detail::require(std::isfinite(options.reference_size) && options.reference_size > 0.0,
                    "xai::pointing_game(): reference_size is ", options.reference_size, ", expected a finite value > 0");
    return options.tolerance * std::sqrt(static_cast<double>(height) * static_cast<double>(width)) /
           options.reference_size;
}

namespace detail {

/// Whether a region pixel lies strictly within τ of (py, px), or (py, px) is in the region.
inline bool point_hits(const bool* region, std::size_t height, std::size_t width, std::size_t py, std::size_t px,
                       double tau) {
    if (region[py * width + px]) return true;
    const double tau2 = tau * tau;
    const auto reach = static_cast<std::ptrdiff_t>(std::ceil(tau));
    const auto y0 = std::max<std::ptrdiff_t>(0, static_cast<std::ptrdiff_t>(py) - reach);
    const auto y1 = std::min<std::ptrdiff_t>(static_cast<std::ptrdiff_t>(height) - 1, static_cast<std::ptrdiff_t>(py) + reach);
    const auto x0 = std::max<std::ptrdiff_t>(0, static_cast<std::ptrdiff_t>(px) - reach);
    const auto x1 = std::min<std::ptrdiff_t>(static_cast<std::ptrdiff_t>(width) - 1, static_cast<std::ptrdiff_t>(px) + reach);
    for (std::ptrdiff_t y = y0; y <= y1; ++y) {
        const double dy = static_cast<double>(y) - static_cast<double>(py);
        for (std::ptrdiff_t x = x0; x <= x1; ++x) {
            const double dx = static_cast<double>(x) - static_cast<double>(px);
            if (dy * dy + dx * dx < tau2 && region[static_cast<std::size_t>(y) * width + static_cast<std::size_t>(x)])
                return true;
        }
    }
    return false;
}

inline PointingResult point_in_region(const float* map, const bool* region, std::size_t height, std::size_t width,
                                      double tau) {
    const std::size_t pixels = height * width;
    const float top = *std::max_element(map, map + pixels);
    PointingResult out;
    out.maxima = 0;
    std::size_t hits = 0;
    for (std::size_t p = 0; p < pixels; ++p) {
        if (map[p] != top) continue;
        if (out.maxima == 0) {
            out.row = p / width;
            out.column = p % width;
        }
        ++out.maxima;
        if (point_hits(region, height, width, p / width, p % width, tau)) ++hits;
    }
    out.hit = static_cast<double>(hits) / static_cast<double>(out.maxima);
    return out;
}

inline double positive_mass_in_region(const float* map, const bool* region, std::size_t pixels) {
    double inside = 0.0, total = 0.0;
    for (std::size_t p = 0; p < pixels; ++p) {
        const double v = map[p] > 0.0f ? static_cast<double>(map[p]) : 0.0;
        total += v;
        if (region[p]) inside += v;
    }
    return total > 0.0 ? inside / total : 0.0;
}

inline void require_maps_and_regions(const Maps& maps, const RegionMasks& regions, const char* where) {
    require_nonempty(maps, (std::string(where) + ": maps").c_str());
    if (!all_finite(maps)) throw invalid_argument(message(where, ": maps contains NaN or Inf, expected finite saliency values"));
    require_regions_for(maps, regions, where);
}

inline Maps as_maps(const Map& map) {
    Maps maps = Maps::from_shape({1, map.shape(0), map.shape(1)});
    std::copy(map.begin(), map.end(), maps.begin());
    return maps;
}

inline RegionMasks as_regions(const RegionMask& region) {
    RegionMasks regions = RegionMasks::from_shape({1, region.shape(0), region.shape(1)});
    std::copy(region.begin(), region.end(), regions.begin());
    return regions;
}

}  // namespace detail

/// The pointing game over N maps and their ground-truth regions (both N×H×W).
inline PointingGameResult pointing_game(const Maps& maps, const RegionMasks& regions,
                                        const PointingGameOptions& options = {}) {
    constexpr const char* where = "xai::pointing_game()";
    detail::require_maps_and_regions(maps, regions, where);
    const std::size_t n = maps.shape(0), h = maps.shape(1), w = maps.shape(2);
    PointingGameResult out;
    out.tolerance = pointing_tolerance(h, w, options);
    out.images.reserve(n);
    double total = 0.0;
    for (std::size_t i = 0; i < n; ++i) {
        out.images.push_back(
            detail::point_in_region(maps.data() + i * h * w, regions.data() + i * h * w, h, w, out.tolerance));
        total += out.images.back().hit;
    }
    out.accuracy = total / static_cast<double>(n);
    return out;
}

/// The pointing game for one map and its region (both H×W).
inline PointingResult pointing_game(const Map& map, const RegionMask& region, const PointingGameOptions& options = {}) {
    return pointing_game(detail::as_maps(map), detail::as_regions(region), options).images.front();
}

/// The pointing game with the maps of an explainer (or an explanation function,
/// metric_inputs.hpp), for the given (or predicted) classes.
template <Classifier M, MapSource S>
    requires(!std::same_as<S, Maps>)
PointingGameResult pointing_game(const M& model, const Batch& images, const S& explainer, const RegionMasks& regions,
                                 const Targets& targets = {}, const PointingGameOptions& options = {}) {
    constexpr const char* where = "xai::pointing_game()";
    detail::require_metric_images(model, images, where);
    const Maps maps = detail::obtain_maps(explainer, images, detail::resolve_metric_targets(model, images, targets, where), where);
    return pointing_game(maps, regions, options);
}

/// The energy-based pointing game over N maps and their ground-truth regions (both N×H×W).
inline EnergyPointingResult energy_pointing_game(const Maps& maps, const RegionMasks& regions) {
    constexpr const char* where = "xai::energy_pointing_game()";
    detail::require_maps_and_regions(maps, regions, where);
    const std::size_t n = maps.shape(0), plane = maps.shape(1) * maps.shape(2);
    EnergyPointingResult out;
    out.proportions.resize(n);
    for (std::size_t i = 0; i < n; ++i)
        out.proportions[i] = detail::positive_mass_in_region(maps.data() + i * plane, regions.data() + i * plane, plane);
    out.mean = std::accumulate(out.proportions.begin(), out.proportions.end(), 0.0) / static_cast<double>(n);
    return out;
}

/// The share of one map's positive mass inside its region (both H×W).
inline double energy_pointing_game(const Map& map, const RegionMask& region) {
    return energy_pointing_game(detail::as_maps(map), detail::as_regions(region)).mean;
}

/// The energy-based pointing game with the maps of an explainer (or an explanation function).
template <Classifier M, MapSource S>
    requires(!std::same_as<S, Maps>)
EnergyPointingResult energy_pointing_game(const M& model, const Batch& images, const S& explainer,
                                          const RegionMasks& regions, const Targets& targets = {}) {
    constexpr const char* where = "xai::energy_pointing_game()";
    detail::require_metric_images(model, images, where);
    const Maps maps = detail::obtain_maps(explainer, images, detail::resolve_metric_targets(model, images, targets, where), where);
    return energy_pointing_game(maps, regions);
}

}  // namespace xai
