#pragma once
// The black-box methods' entries in the run-time method table (runtime/methods.hpp): LIME, RISE
// and occlusion, how make_explainer() builds them from ExplainerSettings, and how their results
// are described:
//   LIME       statistics "r2" (weighted R² of the surrogate), "intercept", "local_prediction",
//              "model_prediction", "superpixels", "samples" (the samples used: fewer than
//              num_samples when LimeOptions::adaptive stopped early), "converged" (the adaptive
//              test passed: 0 or 1); with the stability report
//              (ExplainerSettings::lime_stability.repeats ≥ 2) also "stability_repeats",
//              "stability_mean_jaccard", "stability_min_jaccard", "stability_mean_r2" and the
//              extra map "weight_std" (per pixel, the standard deviation of its superpixel's
//              weight over the seeds)
//   RISE       statistics "masks_used", "relative_standard_error", "converged" (0 or 1); extra
//              map "standard_error" (per-pixel SE of the saliency)
//   occlusion  statistics "windows" (window positions) and "windows_evaluated" (forward passes:
//              fewer with OcclusionOptions::coarse_levels)

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include <xtensor/xbuilder.hpp>

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

/// Appends the images of `more` to `into` (both from the same explainer and options): every core
/// field and LIME's extras.
inline void append_images(LimeExplanation& into, LimeExplanation more) {
    if (into.targets.empty()) {
        into = std::move(more);
        return;
    }
    into.maps = xt::concatenate(xt::xtuple(into.maps, more.maps), 0);
    into.raw = xt::concatenate(xt::xtuple(into.raw, more.raw), 0);
    into.logits = xt::concatenate(xt::xtuple(into.logits, more.logits), 0);
    into.targets.insert(into.targets.end(), more.targets.begin(), more.targets.end());
    into.scores.insert(into.scores.end(), more.scores.begin(), more.scores.end());
    for (auto& s : more.segmentations) into.segmentations.push_back(std::move(s));
    for (auto& s : more.surrogates) into.surrogates.push_back(std::move(s));
    into.samples_used.insert(into.samples_used.end(), more.samples_used.begin(), more.samples_used.end());
    into.selection_z.insert(into.selection_z.end(), more.selection_z.begin(), more.selection_z.end());
    into.converged.insert(into.converged.end(), more.converged.begin(), more.converged.end());
}

/// LIME behind the batch entry point, with the stability report (per image) when asked for.
template <Classifier Model>
struct LimeRun {
    using Explainer = Lime<Model, std::function<Segmentation(const Image&)>>;
    Explainer lime;                    ///< the explainer on the settings' segmentation policy
    LimeStabilityOptions stability;    ///< repeats < 2: no report

    /// The explanation (run 0 of each image's stability report when there is one) and the reports.
    std::pair<LimeExplanation, std::vector<LimeStability>> explain(const Batch& images, const Targets& targets,
                                                                   const Progress& progress) const {
        if (stability.repeats < 2) return {lime.explain(images, targets, progress), {}};
        const std::size_t n = images.shape(0);
        require<shape_error>(targets.size() <= 1 || targets.size() == n, "xai::AnyExplainer::explain(): targets has ",
                             targets.size(), " entries, expected 0, 1 or the batch size (", n, ")");
        std::pair<LimeExplanation, std::vector<LimeStability>> out;
        for (std::size_t i = 0; i < n; ++i) {
            const Target target = targets.empty() ? Target::predicted() : targets[targets.size() == 1 ? 0 : i];
            Progress shifted;
            if (progress)
                shifted = [&progress, i, n](const ProgressReport& p) {
                    progress(ProgressReport{i * p.total + p.done, n * p.total, p.stage});
                };
            LimeStability report = lime.stability(image_at(images, i), target, stability, shifted);
            append_images(out.first, report.runs.front());
            out.second.push_back(std::move(report));
        }
        return out;
    }
};

inline AnyExplanation describe_lime(std::string_view method,
                                    const std::pair<LimeExplanation, std::vector<LimeStability>>& result) {
    const auto& [r, reports] = result;
    AnyExplanation out = describe_core(method, r);
    const std::size_t n = r.size();
    std::vector<double> r2(n), intercept(n), local(n), model(n), superpixels(n), samples(n), converged(n);
    for (std::size_t i = 0; i < n; ++i) {
        const LimeSurrogate& s = r.surrogate(r.targets[i], i);
        r2[i] = s.r2;
        intercept[i] = s.intercept;
        local[i] = s.local_prediction;
        model[i] = s.model_prediction;
        superpixels[i] = static_cast<double>(r.segmentations[i].count);
        samples[i] = static_cast<double>(r.samples_used[i]);  // below num_samples when the adaptive test stopped early
        converged[i] = r.converged[i] ? 1.0 : 0.0;
    }
    out.statistics.insert(out.statistics.end(), {{"r2", r2},
                                                 {"intercept", intercept},
                                                 {"local_prediction", local},
                                                 {"model_prediction", model},
                                                 {"superpixels", superpixels},
                                                 {"samples", samples},
                                                 {"converged", converged}});
    if (!reports.empty()) {
        const std::size_t h = r.maps.shape(1), w = r.maps.shape(2);
        Maps weight_std = Maps::from_shape({n, h, w});
        std::vector<double> repeats(n), mean_jaccard(n), min_jaccard(n), mean_r2(n);
        for (std::size_t i = 0; i < n; ++i) {
            const LimeSurrogateStability& spread = reports[i].surrogates.at(0);  // the target's: run 0's first
            const std::int32_t* labels = r.segmentations[i].labels.data();
            for (std::size_t p = 0; p < h * w; ++p)
                weight_std.data()[i * h * w + p] = static_cast<float>(spread.weight_std[static_cast<std::size_t>(labels[p])]);
            repeats[i] = static_cast<double>(reports[i].runs.size());
            mean_jaccard[i] = spread.mean_jaccard;
            min_jaccard[i] = spread.min_jaccard;
            mean_r2[i] = spread.mean_r2;
        }
        out.extra_maps.emplace_back("weight_std", std::move(weight_std));
        out.statistics.insert(out.statistics.end(), {{"stability_repeats", repeats},
                                                     {"stability_mean_jaccard", mean_jaccard},
                                                     {"stability_min_jaccard", min_jaccard},
                                                     {"stability_mean_r2", mean_r2}});
    }
    return out;
}

inline AnyExplanation describe_rise(std::string_view method, const RiseExplanation& r) {
    AnyExplanation out = describe_core(method, r);
    out.extra_maps.emplace_back("standard_error", r.standard_error);
    std::vector<double> masks(r.masks_used.begin(), r.masks_used.end()), converged;
    for (const bool c : r.converged) converged.push_back(c ? 1.0 : 0.0);
    out.statistics.insert(out.statistics.end(), {{"masks_used", masks},
                                                 {"relative_standard_error", r.relative_standard_error},
                                                 {"converged", converged}});
    return out;
}

inline AnyExplanation describe_occlusion(std::string_view method, const OcclusionExplanation& r) {
    AnyExplanation out = describe_core(method, r);
    out.statistics.emplace_back("windows", std::vector<double>(r.size(), static_cast<double>(r.windows)));
    out.statistics.emplace_back("windows_evaluated",
                                std::vector<double>(r.windows_evaluated.begin(), r.windows_evaluated.end()));
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
