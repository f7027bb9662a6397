#pragma once
// The Sobol attribution method's entry in the run-time method table (runtime/methods.hpp): its
// name, paper and concept, how make_explainer() builds it from ExplainerSettings::sobol, and how
// its result is described: statistics "variance" (the score's variance over the design; 0 gives
// an all-zero map) and "forwards" (forward passes per image, N(g² + 1)). The g×g indices
// themselves are raw's source (raw is them upsampled, as the reference returns them).

#include <array>
#include <optional>
#include <string_view>
#include <vector>

#include "xai/explain/sobol.hpp"
#include "xai/runtime/any_explainer.hpp"
#include "xai/runtime/settings.hpp"

namespace xai {

/// The Sobol attribution method (one entry).
inline constexpr std::array<MethodInfo, 1> sobol_methods = {{
    {"sobol", "Sobol", "Fel et al., NeurIPS 2021", "Classifier", false, true},
}};

namespace detail {

inline AnyExplanation describe_sobol(std::string_view method, const SobolExplanation& r) {
    AnyExplanation out = describe_core(method, r);
    out.statistics.emplace_back("variance", r.variance);
    out.statistics.emplace_back("forwards", std::vector<double>(r.size(), static_cast<double>(r.forwards)));
    return out;
}

}  // namespace detail

/// The Sobol attribution explainer on `model` (which must outlive it), or nullopt when `info` is
/// not one of sobol_methods. The explainer's constructor checks the options here.
template <Classifier Model>
std::optional<AnyExplainer> make_sobol_explainer(const MethodInfo& info, const Model& model,
                                                 const ExplainerSettings& settings) {
    if (info.name == "sobol") return AnyExplainer(info, SobolAttribution<Model>(model, settings.sobol), detail::describe_sobol);
    return std::nullopt;
}

}  // namespace xai
