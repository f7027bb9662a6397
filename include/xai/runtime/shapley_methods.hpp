#pragma once
// The Shapley methods' entries in the run-time method table (runtime/methods.hpp): KernelSHAP and
// Shapley value sampling over the superpixels of ExplainerSettings::lime_segmentation (LIME's
// policy), with statistics "baseline_score" (v(∅)), "value_sum" (Σφ), "efficiency_error",
// "superpixels" and "evaluations" (coalitions scored).

#include <array>
#include <functional>
#include <optional>
#include <string_view>
#include <vector>

#include "xai/core/concepts.hpp"
#include "xai/core/error.hpp"
#include "xai/explain/shapley/kernel_shap.hpp"
#include "xai/explain/shapley/shapley_sampling.hpp"
#include "xai/runtime/any_explainer.hpp"
#include "xai/runtime/settings.hpp"

namespace xai {

/// The Shapley methods, in the order a gallery shows them.
inline constexpr std::array<MethodInfo, 2> shapley_methods = {{
    {"kernelshap", "KernelSHAP", "Lundberg & Lee, NeurIPS 2017", "Classifier", false, true},
    {"shapley_sampling", "Shapley sampling", "Castro et al., 2009", "Classifier", false, true},
}};

namespace detail {

inline AnyExplanation describe_shapley(std::string_view method, const ShapleyExplanation& r) {
    AnyExplanation out = describe_core(method, r);
    std::vector<double> superpixels, evaluations;
    for (const Segmentation& s : r.segmentations) superpixels.push_back(static_cast<double>(s.count));
    for (const std::size_t e : r.evaluations) evaluations.push_back(static_cast<double>(e));
    out.statistics.insert(out.statistics.end(), {{"baseline_score", r.baseline_scores},
                                                 {"value_sum", r.value_sums},
                                                 {"efficiency_error", r.efficiency_error},
                                                 {"superpixels", superpixels},
                                                 {"evaluations", evaluations}});
    return out;
}

}  // namespace detail

/// The Shapley explainer `info` on `model` (which must outlive it), or nullopt when `info` is
/// not one of shapley_methods.
template <Classifier Model>
std::optional<AnyExplainer> make_shapley_explainer(const MethodInfo& info, const Model& model,
                                                   const ExplainerSettings& settings) {
    using Segment = std::function<Segmentation(const Image&)>;
    const std::string_view n = info.name;
    if (n != "kernelshap" && n != "shapley_sampling") return std::nullopt;
    detail::require(static_cast<bool>(settings.lime_segmentation), "xai::make_explainer(): settings.lime_segmentation is "
                                                                   "empty, expected a segmentation policy");
    if (n == "kernelshap")
        return AnyExplainer(info, KernelShap<Model, Segment>(model, settings.kernel_shap, settings.lime_segmentation),
                            detail::describe_shapley);
    return AnyExplainer(info, ShapleySampling<Model, Segment>(model, settings.shapley_sampling, settings.lime_segmentation),
                        detail::describe_shapley);
}

}  // namespace xai
