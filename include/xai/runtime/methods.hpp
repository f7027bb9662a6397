#pragma once
// The run-time method table: every method make_explainer() can build, by family, and the
// function that builds one by name.
//
//   for (const xai::MethodInfo& m : xai::explanation_methods) …      names, titles, papers
//   xai::AnyExplainer e = xai::make_explainer("rise", model, settings);
//
// Each family keeps its own entries and factory (runtime/cam_methods.hpp,
// runtime/gradient_methods.hpp, runtime/perturbation_methods.hpp, runtime/sobol_methods.hpp,
// runtime/shapley_methods.hpp); a new family adds its table here, once. Influence
// functions explain with training examples, not a map of the image, and are not in the table.

#include <algorithm>
#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "xai/core/concepts.hpp"
#include "xai/core/error.hpp"
#include "xai/runtime/any_explainer.hpp"
#include "xai/runtime/cam_methods.hpp"
#include "xai/runtime/gradient_methods.hpp"
#include "xai/runtime/perturbation_methods.hpp"
#include "xai/runtime/settings.hpp"
#include "xai/runtime/shapley_methods.hpp"
#include "xai/runtime/sobol_methods.hpp"

namespace xai {

namespace detail {
template <std::size_t A, std::size_t B>
constexpr std::array<MethodInfo, A + B> concatenate(const std::array<MethodInfo, A>& a, const std::array<MethodInfo, B>& b) {
    std::array<MethodInfo, A + B> out{};
    std::copy(a.begin(), a.end(), out.begin());
    std::copy(b.begin(), b.end(), out.begin() + A);
    return out;
}
}  // namespace detail

/// Every method make_explainer() accepts, in the order a gallery shows them.
inline constexpr auto explanation_methods =
    detail::concatenate(detail::concatenate(detail::concatenate(detail::concatenate(cam_methods, gradient_methods),
                                                                perturbation_methods),
                                            sobol_methods),
                        shapley_methods);

namespace detail {
[[noreturn]] inline void unknown_method(std::string_view name) {
    std::string known;
    for (const MethodInfo& m : explanation_methods) known += (known.empty() ? "" : ", ") + std::string(m.name);
    throw invalid_argument(message("xai::method_info(): unknown method '", name, "', expected one of ", known));
}
}  // namespace detail

/// The entry of `name` (case-sensitive); invalid_argument listing the known names otherwise.
constexpr const MethodInfo& method_info(std::string_view name) {
    for (const MethodInfo& m : explanation_methods)
        if (m.name == name) return m;
    detail::unknown_method(name);
}

/// Whether make_explainer() can build `method` for the model type, by the concept it needs
/// (a model may still refuse at run time, e.g. CAM on a network without global average pooling).
template <Classifier Model>
constexpr bool model_supports(const MethodInfo& method) {
    if (method.needs == "FeatureModel") return FeatureModel<Model>;
    if (method.needs == "LayerGradientModel") return LayerGradientModel<Model>;
    if (method.needs == "LayerActivationModel") return LayerActivationModel<Model>;
    if (method.needs == "LayerForwardModel") return LayerForwardModel<Model>;
    if (method.needs == "InputGradientModel") return InputGradientModel<Model>;
    if (method.needs == "BiasGradientModel") return BiasGradientModel<Model>;
    if (method.needs == "ReluBackwardModel") return ReluBackwardModel<Model> && (!method.uses_layer || LayerGradientModel<Model>);
    return true;
}

/// The explainer of method `name` (one of explanation_methods) on `model`, which must outlive
/// it. invalid_argument for an unknown name, a method the model type cannot serve (CAM needs a
/// FeatureModel, …), an unknown layer, or options the method's constructor refuses.
template <Classifier Model>
AnyExplainer make_explainer(std::string_view name, const Model& model, const ExplainerSettings& settings = {}) {
    const MethodInfo& info = method_info(name);
    if (std::optional<AnyExplainer> e = make_cam_explainer(info, model, settings)) return std::move(*e);
    if (std::optional<AnyExplainer> e = make_perturbation_explainer(info, model, settings)) return std::move(*e);
    if (std::optional<AnyExplainer> e = make_sobol_explainer(info, model, settings)) return std::move(*e);
    if (std::optional<AnyExplainer> e = make_gradient_explainer(info, model, settings)) return std::move(*e);
    if (std::optional<AnyExplainer> e = make_shapley_explainer(info, model, settings)) return std::move(*e);
    throw invalid_argument(detail::message("xai::make_explainer(): method '", info.name, "' needs a ", info.needs,
                                           " (core/concepts.hpp), and this model type is not one"));
}

/// The explainer keeps a pointer to the model: a temporary would dangle.
template <Classifier Model>
AnyExplainer make_explainer(std::string_view, const Model&&, const ExplainerSettings& = {}) = delete;

}  // namespace xai
