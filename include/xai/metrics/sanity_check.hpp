#pragma once
// The model parameter randomization test — Adebayo, Gilmer, Muelly, Goodfellow, Hardt and Kim,
// "Sanity Checks for Saliency Maps", NeurIPS 2018, §3.
//
// A map that explains the model must change when the model's learned weights are destroyed.
// Cascading randomization re-initialises the layers one after the other from the top (the
// logits) down, keeping the earlier ones randomized, and explains the same images for the same
// classes after each step; independent randomization re-initialises one layer at a time in an
// otherwise intact model. After each step the maps are compared with the original ones by
// Spearman's rank correlation (rank_correlation.hpp: ties averaged), on the signed maps and on
// their absolute values — the paper shows both, because a method whose sign flips under
// randomization can look decorrelated while its |map| (what a heat map shows) does not.
// A method passes when the correlation falls towards 0 as layers are randomized; a map that
// stays correlated (an edge detector, the image itself) does not depend on the model.
//
// Conventions. The targets are resolved once, on the original model (the predicted class
// unless given), and kept for every step. Step 0 explains an unmodified copy of the model:
// its correlation is 1 for any deterministic explainer that depends only on the model and the
// images; a value below 1 shows that the explainer is not reproducible (or that the model's
// copy differs). The layers randomized are, by default, the model's layers that own parameters
// (those with a "<layer>.…" block in parameter_blocks(), when the model has it; all of
// layer_names() otherwise), from the last to the first; SanityCheckOptions::layers overrides
// the list (in the order to randomize). Each layer is re-initialised with
// model.reinitialize_layer(layer, seed); xai::models::Sequential redraws it from
// Rng::stream(seed, layer index) with its own initialiser (He-uniform weights, PyTorch's
// default biases), where the paper re-initialises from a truncated normal: either way the
// learned weights are replaced by random ones of the same scale.
//
// Models: anything that satisfies RandomizableModel — a Classifier that can be copied cheaply
// and whose layers, named by layer_names(), can be re-initialised:
//   struct MyModel {  // + forward(), num_classes(), input_shape()
//       std::vector<std::string> layer_names() const;
//       void reinitialize_layer(const std::string& layer, std::uint64_t seed);
//   };
// Explanations: the explainer must be rebuilt on each randomized copy (an explainer holds a
// reference to its model), so the test takes an explainer factory, a callable
// (const Model&) → Explainer. The maps compared are the explainers' signed raw maps by default
// (SanityCheckOptions::maps: the paper compares signed maps and their absolute values; a CAM's
// raw map is at its layer's resolution), or their display maps (ReLU'd and normalized, what a
// heat map shows: negative evidence then ties at 0). The usual
// factory names the explainer type and its options, and the overload taking an explainer
// template does exactly that:
//   xai::model_randomization_test<xai::GradCam>(model, xai::CamOptions{.layer = "relu3"}, images);
//   xai::model_randomization_test(model, [](const Model& m) { return xai::Rise<Model>(m, options); }, images);

#include <algorithm>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <numeric>
#include <optional>
#include <span>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "xai/core/concepts.hpp"
#include "xai/core/error.hpp"
#include "xai/core/progress.hpp"
#include "xai/core/target.hpp"
#include "xai/core/tensor.hpp"
#include "xai/metrics/metric_inputs.hpp"
#include "xai/metrics/rank_correlation.hpp"

namespace xai {

/// A classifier that can be copied and whose named layers can be re-initialised.
template <class M>
concept RandomizableModel = Classifier<M> && std::copy_constructible<M> &&
    requires(M& model, const M& const_model, const std::string& layer, std::uint64_t seed) {
        { const_model.layer_names() } -> std::convertible_to<std::vector<std::string>>;
        model.reinitialize_layer(layer, seed);
    };

/// Builds an explainer on a model: (const M&) → an Explainer of that model.
template <class F, class M>
concept ExplainerFactory = std::invocable<const F&, const M&> && Explainer<std::invoke_result_t<const F&, const M&>>;

/// How model_randomization_test() randomizes the layers (Adebayo et al., NeurIPS 2018).
enum class RandomizationMode {
    cascading,    ///< layers randomized one after the other from the top, cumulatively (the paper's main test)
    independent,  ///< one layer randomized at a time in the original model
};

/// Which maps of an explanation the sanity check compares.
enum class ComparedMaps {
    raw,      ///< the signed maps at the method's own resolution (Explanation::raw), as the paper
    display,  ///< the display maps at the input's size (Explanation::maps)
};

/// Options of model_randomization_test().
struct SanityCheckOptions {
    /// The layers to randomize, in order (top first); unset = every layer with parameters, last
    /// to first (see the header comment).
    std::optional<std::vector<std::string>> layers{};
    RandomizationMode mode = RandomizationMode::cascading;  ///< cascading (the paper's main test) or independent
    std::uint64_t seed = 2018;   ///< passed to reinitialize_layer()
    bool keep_maps = true;       ///< keep every step's maps in the result (N×h×w floats per step)
    ComparedMaps maps = ComparedMaps::raw;  ///< signed raw maps (the paper) or display maps
};

/// The comparison after one randomization step.
struct RandomizationStep {
    std::string layer;                    ///< the layer randomized at this step; "" for step 0
    std::vector<std::string> randomized;  ///< every layer randomized in the model explained
    std::vector<double> spearman;         ///< ρ(original map, this map) per image
    std::vector<double> spearman_abs;     ///< ρ(|original map|, |this map|) per image
    double mean_spearman = 0.0;           ///< mean of spearman over the images
    double mean_spearman_abs = 0.0;       ///< mean of spearman_abs over the images
    Maps maps;                            ///< this step's maps (empty unless keep_maps)
};

/// The maps of the original model and every step.
struct SanityCheckResult {
    Maps original;                     ///< maps of the model as given (raw or display, SanityCheckOptions::maps)
    std::vector<std::size_t> targets;  ///< the class explained for each image
    /// steps[0]: an unmodified copy (ρ = 1 for a deterministic explainer); then one per layer.
    std::vector<RandomizationStep> steps;
};

namespace detail {

/// The default randomization order: layers owning parameters (when the model lists its
/// parameter blocks), from the last to the first.
template <RandomizableModel M>
std::vector<std::string> randomizable_layers(const M& model) {
    const std::vector<std::string> names = model.layer_names();
    std::vector<std::string> chosen;
    for (auto it = names.rbegin(); it != names.rend(); ++it) {
        bool owns = true;
        if constexpr (requires { { model.parameter_blocks() } -> std::convertible_to<std::vector<ParameterBlock>>; }) {
            const std::vector<ParameterBlock> blocks = model.parameter_blocks();
            const std::string prefix = *it + ".";
            owns = std::any_of(blocks.begin(), blocks.end(),
                               [&](const ParameterBlock& b) { return b.size > 0 && b.name.rfind(prefix, 0) == 0; });
        }
        if (owns) chosen.push_back(*it);
    }
    return chosen;
}

inline RandomizationStep compare_maps(const Maps& original, Maps maps, std::string layer,
                                      std::vector<std::string> randomized, bool keep, const char* where) {
    require<shape_error>(maps.shape() == original.shape(), where, ": the explainer returned maps of shape ",
                         shape_string(maps.shape()), " after randomizing '", layer, "', expected ",
                         shape_string(original.shape()), " as for the original model");
    if (!all_finite(maps))
        throw invalid_argument(message(where, ": the explainer returned NaN or Inf after randomizing '",
                                       layer, "', expected finite maps"));
    const std::size_t n = original.shape(0), plane = original.shape(1) * original.shape(2);
    RandomizationStep step;
    step.layer = std::move(layer);
    step.randomized = std::move(randomized);
    step.spearman.resize(n);
    step.spearman_abs.resize(n);
    std::vector<float> abs_a(plane), abs_b(plane);
    for (std::size_t i = 0; i < n; ++i) {
        const float* a = original.data() + i * plane;
        const float* b = maps.data() + i * plane;
        step.spearman[i] = spearman_correlation(std::span<const float>(a, plane), std::span<const float>(b, plane));
        std::transform(a, a + plane, abs_a.begin(), [](float v) { return std::abs(v); });
        std::transform(b, b + plane, abs_b.begin(), [](float v) { return std::abs(v); });
        step.spearman_abs[i] = spearman_correlation(abs_a, abs_b);
    }
    step.mean_spearman = std::accumulate(step.spearman.begin(), step.spearman.end(), 0.0) / static_cast<double>(n);
    step.mean_spearman_abs =
        std::accumulate(step.spearman_abs.begin(), step.spearman_abs.end(), 0.0) / static_cast<double>(n);
    if (keep) step.maps = std::move(maps);
    return step;
}

}  // namespace detail

/// The model parameter randomization test of Adebayo et al. (see the header comment): the
/// explainers `make_explainer` builds on the model and on each randomized copy. `progress` is
/// called after every step with the steps done out of layers + 1.
template <RandomizableModel M, ExplainerFactory<M> F>
SanityCheckResult model_randomization_test(const M& model, const F& make_explainer, const Batch& images,
                                           const Targets& targets = {}, const SanityCheckOptions& options = {},
                                           const Progress& progress = {}) {
    constexpr const char* where = "xai::model_randomization_test()";
    detail::require_metric_images(model, images, where);
    const std::vector<std::string> names = model.layer_names();
    const std::vector<std::string> layers = options.layers.value_or(detail::randomizable_layers(model));
    for (const std::string& layer : layers)
        detail::require(std::find(names.begin(), names.end(), layer) != names.end(), where, ": layers names '", layer,
                        "', which is not one of the model's layer_names()");

    SanityCheckResult out;
    out.targets = detail::resolve_metric_targets(model, images, targets, where);
    // The maps of the explainer built on `m`, checked; `step` names the layer just randomized ("" for
    // the original model and its unmodified copy) in the messages.
    const auto explain = [&](const M& m, const std::string& step) {
        const auto r = make_explainer(m).explain(images, Targets(out.targets.begin(), out.targets.end()), Progress{});
        Maps maps = options.maps == ComparedMaps::raw ? r.raw : r.maps;
        const std::string after = step.empty() ? std::string() : " after randomizing '" + step + "'";
        if (options.maps == ComparedMaps::display)
            detail::require_maps_for(images, maps, (std::string(where) + after).c_str());
        detail::require<shape_error>(maps.dimension() == 3 && maps.shape(0) == images.shape(0) && maps.size() > 0, where,
                                     ": the explainer returned maps of shape ", shape_string(maps.shape()), after,
                                     ", expected one non-empty map per image");
        if (!all_finite(maps.data(), maps.size()))
            throw invalid_argument(detail::message(where, ": the explainer returned NaN or Inf", after,
                                                   ", expected finite maps"));
        return maps;
    };
    out.original = explain(model, "");

    const std::size_t total = layers.size() + 1;
    M copy = model;
    out.steps.push_back(detail::compare_maps(out.original, explain(copy, ""), "", {},
                                             options.keep_maps, where));
    detail::report(progress, 1, total, "randomization steps");
    std::vector<std::string> randomized;
    for (std::size_t s = 0; s < layers.size(); ++s) {
        if (options.mode == RandomizationMode::independent) {
            copy = model;
            randomized.clear();
        }
        copy.reinitialize_layer(layers[s], options.seed);
        randomized.push_back(layers[s]);
        out.steps.push_back(detail::compare_maps(out.original, explain(copy, layers[s]), layers[s], randomized,
                                                 options.keep_maps, where));
        detail::report(progress, s + 2, total, "randomization steps");
    }
    return out;
}

/// The same test with explainers of type E<M> built from `explainer_options`, e.g.
/// `model_randomization_test<xai::GradCam>(model, xai::CamOptions{.layer = "relu3"}, images)`.
template <template <class> class E, RandomizableModel M, class Options>
    requires Explainer<E<M>> && std::constructible_from<E<M>, const M&, const Options&>
SanityCheckResult model_randomization_test(const M& model, const Options& explainer_options, const Batch& images,
                                           const Targets& targets = {}, const SanityCheckOptions& options = {},
                                           const Progress& progress = {}) {
    return model_randomization_test(
        model, [&](const M& m) { return E<M>(m, explainer_options); }, images, targets, options, progress);
}

}  // namespace xai
