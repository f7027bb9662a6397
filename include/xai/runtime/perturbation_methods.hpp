#pragma once
// The black-box methods' entries in the run-time method table (runtime/methods.hpp): LIME, RISE
// and occlusion, how make_explainer() builds them from ExplainerSettings, and how their results
// are described:
//   LIME       statistics "r2" (weighted R² of the surrogate), "intercept", "local_prediction",
//              "model_prediction", "superpixels", "samples"; with the stability report
//              (ExplainerSettings::lime_stability.repeats ≥ 2) also "stability_repeats",
//              "stability_mean_jaccard", "stability_min_jaccard", "stability_mean_r2" and the
//              extra map "weight_std" (per pixel, the standard deviation of its superpixel's
//              weight over the seeds)
//   RISE       statistics "masks_used", "relative_standard_error", "converged" (0 or 1); extra
//              map "standard_error" (per-pixel SE of the saliency)
//   occlusion  statistic "windows"

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include "xai/lime.hpp"
#include "xai/occlusion.hpp"
#include "xai/rise.hpp"
#include "xai/runtime/any_explainer.hpp"
#include "xai/runtime/settings.hpp"

namespace xai {

/// The black-box methods, in the order a gallery shows them.
inline constexpr std::array<MethodInfo, 3> perturbation_methods = {{
    {"lime", "LIME", "Ribeiro et al., KDD 2016", "Classifier", false, true},
    {"rise", "RISE", "Petsiuk et al., BMVC 2018", "Classifier", false, true},
    {"occlusion", "Occlusion", "Zeiler & Fergus, ECCV 2014", "Classifier", false, true},
}};

namespace detail {

/// LIME behind the image entry point, with the stability report when asked for.
template <Classifier Model>
struct LimeRun {
    using Explainer = Lime<Model, std::function<Segmentation(const Image&)>>;
    Explainer lime;                    ///< the explainer on the settings' segmentation policy
    LimeStabilityOptions stability;    ///< repeats < 2: no report

    /// The explanation (run 0 of the stability report when there is one) and the report.
    std::pair<LimeExplanation, std::optional<LimeStability>> explain(const Image& image, Target target,
                                                                     const Progress& progress) const {
        if (stability.repeats < 2) return {lime.explain(image, target, progress), std::nullopt};
        LimeStability report = lime.stability(image, target, stability, progress);
        LimeExplanation first = report.runs.front();
        return {std::move(first), std::move(report)};
    }
};

inline AnyExplanation describe_lime(std::string_view method,
                                    const std::pair<LimeExplanation, std::optional<LimeStability>>& result) {
    const auto& [r, stability] = result;
    AnyExplanation out = describe_core(method, r);
    const LimeSurrogate& s = r.surrogate(r.targets.at(0));
    out.statistics.insert(out.statistics.end(), {{"r2", s.r2},
                                                 {"intercept", s.intercept},
                                                 {"local_prediction", s.local_prediction},
                                                 {"model_prediction", s.model_prediction},
                                                 {"superpixels", static_cast<double>(r.segmentations.at(0).count)},
                                                 {"samples", static_cast<double>(r.num_samples)}});
    if (stability) {
        const LimeSurrogateStability& spread = stability->surrogates.at(0);  // the target's: run 0's first
        const Segmentation& segmentation = r.segmentations.at(0);
        Map weight_std = Map::from_shape({segmentation.height(), segmentation.width()});
        const std::int32_t* labels = segmentation.labels.data();
        for (std::size_t p = 0; p < weight_std.size(); ++p)
            weight_std.data()[p] = static_cast<float>(spread.weight_std[static_cast<std::size_t>(labels[p])]);
        out.extra_maps.emplace_back("weight_std", std::move(weight_std));
        out.statistics.insert(out.statistics.end(),
                              {{"stability_repeats", static_cast<double>(stability->runs.size())},
                               {"stability_mean_jaccard", spread.mean_jaccard},
                               {"stability_min_jaccard", spread.min_jaccard},
                               {"stability_mean_r2", spread.mean_r2}});
    }
    return out;
}

inline AnyExplanation describe_rise(std::string_view method, const RiseExplanation& r) {
    AnyExplanation out = describe_core(method, r);
    const std::size_t h = r.standard_error.shape(1), w = r.standard_error.shape(2);
    Map se = Map::from_shape({h, w});
    std::copy_n(r.standard_error.data(), h * w, se.data());
    out.extra_maps.emplace_back("standard_error", std::move(se));
    out.statistics.insert(out.statistics.end(), {{"masks_used", static_cast<double>(r.masks_used.at(0))},
                                                 {"relative_standard_error", r.relative_standard_error.at(0)},
                                                 {"converged", r.converged.at(0) ? 1.0 : 0.0}});
    return out;
}

inline AnyExplanation describe_occlusion(std::string_view method, const OcclusionExplanation& r) {
    AnyExplanation out = describe_core(method, r);
    out.statistics.emplace_back("windows", static_cast<double>(r.windows));
    return out;
}

}  // namespace detail

/// The black-box explainer `info` on `model` (which must outlive it), or nullopt when `info` is
/// not one of perturbation_methods. The explainer's constructor checks the options here.
template <Classifier Model>
std::optional<AnyExplainer> make_perturbation_explainer(const MethodInfo& info, const Model& model,
                                                        const ExplainerSettings& settings) {
    const std::string_view n = info.name;
    if (n == "lime") {
        detail::require(static_cast<bool>(settings.lime_segmentation),
                        "xai::make_explainer(): settings.lime_segmentation is empty, expected a segmentation policy");
        using Run = detail::LimeRun<Model>;
        Run run{typename Run::Explainer(model, settings.lime, settings.lime_segmentation), settings.lime_stability};
        return AnyExplainer(info, std::move(run), detail::describe_lime);
    }
    if (n == "rise") return AnyExplainer(info, Rise<Model>(model, settings.rise), detail::describe_rise);
    if (n == "occlusion") return AnyExplainer(info, Occlusion<Model>(model, settings.occlusion), detail::describe_occlusion);
    return std::nullopt;
}

}  // namespace xai
