#pragma once
// A data-set-level audit of what a model's explanations rest on: for every image, the share of
// a method's positive attribution in each region (audit/region_shares.hpp), then per explained
// class and over all images the mean share of each region with a bootstrap confidence interval.
//
//   xai::RegionLabels regions = xai::label_regions({object_masks, cue_masks});   // 0 background
//   xai::AttributionAudit a = xai::audit_attribution(model, images, grad_cam, regions,
//                                                    {"background", "object", "cue"});
//   a.overall[2].mean, a.overall[2].low, a.overall[2].high     the cue's share and its 95% CI
//   a.most_reliant(2, 8)     the 8 images whose attribution lies most on the cue
//
// Confidence intervals: the percentile bootstrap (Efron & Tibshirani, "An Introduction to the
// Bootstrap", 1993, §13.3): the images of a class are resampled with replacement `resamples`
// times, the mean share recomputed on each resample, and the interval is the (α/2, 1 − α/2)
// quantiles of those means (numpy's default linear interpolation between order statistics),
// α = 1 − confidence. Every region's interval comes from the same resamples. Resample b of class
// c draws from Rng::stream(seed, c) (the overall interval from Rng::stream(seed, 2^32)), so the
// audit is reproducible bit for bit. The percentile interval needs no normality: shares are
// bounded and often skewed (most images put ~0 on a cue, a few put most of their mass there).
//
// Images whose map has no positive mass are left out of every mean (counted in `unattributed`).
// Classes are the explained targets (the predicted class by default): the audit asks what the
// model's evidence *for* a class rests on.

#include <algorithm>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <numeric>
#include <string>
#include <vector>

#include "xai/audit/region_shares.hpp"
#include "xai/core/concepts.hpp"
#include "xai/core/error.hpp"
#include "xai/core/random.hpp"
#include "xai/core/target.hpp"
#include "xai/core/tensor.hpp"
#include "xai/metrics/metric_inputs.hpp"

namespace xai {

/// Options of audit_attribution().
struct AuditOptions {
    std::size_t resamples = 2000;  ///< bootstrap resamples per class (Efron & Tibshirani recommend ≥ 1000 for percentiles)
    double confidence = 0.95;      ///< coverage of the intervals, in (0, 1)
    std::uint64_t seed = 0;        ///< resamples of class c come from Rng::stream(seed, c)
};

/// A region's mean share over a group of images, with its bootstrap interval.
struct ShareEstimate {
    double mean = 0.0;        ///< mean share over the group's attributed images
    double low = 0.0;         ///< lower end of the confidence interval
    double high = 0.0;        ///< upper end of the confidence interval
    std::size_t images = 0;   ///< attributed images in the group
};

/// The audit of one method's maps over a set of images.
struct AttributionAudit {
    std::vector<std::string> regions;   ///< region names, by label
    RegionShares shares;                ///< per image
    std::vector<std::size_t> targets;   ///< the class explained for each image
    std::vector<std::size_t> classes;   ///< the classes explained, ascending
    /// per_class[j][r]: region r's share over the images explaining classes[j].
    std::vector<std::vector<ShareEstimate>> per_class;
    std::vector<ShareEstimate> overall;  ///< region r's share over all attributed images
    std::vector<double> area;           ///< region r's mean fraction of the pixels: a uniform map's share
    std::size_t unattributed = 0;       ///< images whose map has no positive mass (left out)

    /// Index of region `name`; invalid_argument when there is none.
    std::size_t region(const std::string& name) const {
        for (std::size_t r = 0; r < regions.size(); ++r)
            if (regions[r] == name) return r;
        throw invalid_argument(detail::message("xai::AttributionAudit::region(): no region named '", name, "'"));
    }

    /// The `count` attributed images with the largest share in `region`, largest first (ties:
    /// lower index first): where the model relies on that region most.
    std::vector<std::size_t> most_reliant(std::size_t region, std::size_t count) const {
        detail::require(region < regions.size(), "xai::AttributionAudit::most_reliant(): region ", region,
                        " is out of range, expected below ", regions.size());
        std::vector<std::size_t> order;
        for (std::size_t i = 0; i < shares.images(); ++i)
            if (shares.attributed[i]) order.push_back(i);
        std::stable_sort(order.begin(), order.end(),
                         [&](std::size_t a, std::size_t b) { return shares.shares(a, region) > shares.shares(b, region); });
        order.resize(std::min(count, order.size()));
        return order;
    }
};

namespace detail {

/// The q-quantile of sorted values, linear between order statistics (numpy's default).
inline double sorted_quantile(const std::vector<double>& sorted, double q) {
    const double position = q * static_cast<double>(sorted.size() - 1);
    const auto below = static_cast<std::size_t>(std::floor(position));
    const std::size_t above = std::min(below + 1, sorted.size() - 1);
    return sorted[below] + (position - static_cast<double>(below)) * (sorted[above] - sorted[below]);
}

/// The mean share of each region over `images` and its percentile-bootstrap interval.
inline std::vector<ShareEstimate> bootstrap_shares(const RegionShares& s, const std::vector<std::size_t>& images,
                                                   const AuditOptions& o, std::uint64_t unit) {
    const std::size_t R = s.regions(), n = images.size();
    std::vector<ShareEstimate> out(R);
    if (n == 0) return out;
    for (std::size_t r = 0; r < R; ++r) {
        double sum = 0.0;
        for (std::size_t i : images) sum += s.shares(i, r);
        out[r] = {sum / static_cast<double>(n), 0.0, 0.0, n};
    }
    std::vector<std::vector<double>> means(R, std::vector<double>(o.resamples));
    Rng rng = Rng::stream(o.seed, unit);
    std::vector<double> sums(R);
    for (std::size_t b = 0; b < o.resamples; ++b) {
        std::fill(sums.begin(), sums.end(), 0.0);
        for (std::size_t j = 0; j < n; ++j) {
            const std::size_t i = images[rng.uniform_index(n)];
            for (std::size_t r = 0; r < R; ++r) sums[r] += s.shares(i, r);
        }
        for (std::size_t r = 0; r < R; ++r) means[r][b] = sums[r] / static_cast<double>(n);
    }
    const double alpha = 1.0 - o.confidence;
    for (std::size_t r = 0; r < R; ++r) {
        std::sort(means[r].begin(), means[r].end());
        out[r].low = sorted_quantile(means[r], alpha / 2.0);
        out[r].high = sorted_quantile(means[r], 1.0 - alpha / 2.0);
    }
    return out;
}

}  // namespace detail

/// The audit of `maps` (N×H×W) over `regions` (N×H×W labels, one name per label in
/// `region_names`), grouped by `targets` (the class explained for each image).
inline AttributionAudit audit_attribution(const Maps& maps, const RegionLabels& regions,
                                          const std::vector<std::string>& region_names,
                                          const std::vector<std::size_t>& targets, const AuditOptions& options = {}) {
    constexpr const char* where = "xai::audit_attribution()";
    detail::require(options.resamples >= 2, where, ": resamples is ", options.resamples, ", expected at least 2");
    detail::require(std::isfinite(options.confidence) && options.confidence > 0.0 && options.confidence < 1.0, where,
                    ": confidence is ", options.confidence, ", expected a coverage in (0, 1)");
    detail::require(!region_names.empty(), where, ": region_names is empty, expected one name per region label");
    AttributionAudit out;
    out.regions = region_names;
    out.shares = region_shares(maps, regions, region_names.size());
    const std::size_t n = out.shares.images(), R = region_names.size();
    detail::require<shape_error>(targets.size() == n, where, ": targets has ", targets.size(),
                                 " entries, expected one class per map (", n, ")");
    out.targets = targets;
    out.classes = targets;
    std::sort(out.classes.begin(), out.classes.end());
    out.classes.erase(std::unique(out.classes.begin(), out.classes.end()), out.classes.end());
    std::vector<std::size_t> all;
    for (std::size_t i = 0; i < n; ++i) {
        if (out.shares.attributed[i]) all.push_back(i);
        else ++out.unattributed;
    }
    for (std::size_t c : out.classes) {
        std::vector<std::size_t> members;
        for (std::size_t i : all)
            if (targets[i] == c) members.push_back(i);
        out.per_class.push_back(detail::bootstrap_shares(out.shares, members, options, c));
    }
    out.overall = detail::bootstrap_shares(out.shares, all, options, std::uint64_t{1} << 32);
    out.area.assign(R, 0.0);
    for (std::size_t i = 0; i < n; ++i)
        for (std::size_t r = 0; r < R; ++r) out.area[r] += out.shares.area(i, r) / static_cast<double>(n);
    return out;
}

/// audit_attribution() with the maps of an explainer (or an explanation function,
/// metrics/metric_inputs.hpp) for `targets` (empty: the predicted classes).
template <Classifier M, MapSource S>
    requires(!std::same_as<S, Maps>)
AttributionAudit audit_attribution(const M& model, const Batch& images, const S& explainer, const RegionLabels& regions,
                                   const std::vector<std::string>& region_names, const Targets& targets = {},
                                   const AuditOptions& options = {}) {
    constexpr const char* where = "xai::audit_attribution()";
    detail::require_metric_images(model, images, where);
    const std::vector<std::size_t> resolved = detail::resolve_metric_targets(model, images, targets, where);
    const Maps maps = detail::obtain_maps(explainer, images, resolved, where);
    return audit_attribution(maps, regions, region_names, resolved, options);
}

}  // namespace xai
