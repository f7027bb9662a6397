#pragma once
// The one calling shape of every explainer, as a concept, and the small helpers every
// explainer uses to keep it.
//
// Every explainer E (CAM family, LIME, RISE, occlusion, influence, and any later one) is a
// class template on the model type, built from (model, options), with two const entry points
// that are safe to call from several threads at once:
//
//   R explain(const Batch& images, const Targets& targets = {}, const Progress& progress = {}) const;
//   R explain(const Image& image, Target target = Target::predicted(), const Progress& progress = {}) const;
//
// where R derives from Explanation (core/explanation.hpp). Targets: empty = each image's
// predicted class, one entry = the same for every image, else one per image. The image form is
// the batch form on a batch of one. The metrics (deletion/insertion, the pointing game,
// confidence, the sanity check) take any Explainer directly.
//
// Error messages of an explainer are prefixed "xai::<Class>::<function>(): " and name the
// argument and what was expected.

#include <concepts>
#include <cstddef>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "xai/core/error.hpp"
#include "xai/core/explanation.hpp"
#include "xai/core/progress.hpp"
#include "xai/core/target.hpp"
#include "xai/core/tensor.hpp"

namespace xai {

/// An explainer: explain(batch, targets, progress) and explain(image, target, progress), const,
/// each returning a type derived from Explanation.
template <class E>
concept Explainer = requires(const E& explainer, const Batch& images, const Image& image, const Targets& targets,
                             Target target, const Progress& progress) {
    { explainer.explain(images, targets, progress) } -> std::derived_from<Explanation>;
    { explainer.explain(image, target, progress) } -> std::derived_from<Explanation>;
};

/// The result type of an Explainer.
template <Explainer E>
using explanation_t = std::remove_cvref_t<decltype(std::declval<const E&>().explain(
    std::declval<const Batch&>(), std::declval<const Targets&>(), std::declval<const Progress&>()))>;

namespace detail {

/// "xai::<explainer>::<function>()": the prefix of an explainer's error messages. Explainers
/// that are templates over a method policy (the CAM family, GradientAttribution) build their
/// prefixes here from the policy's one `name`.
inline std::string qualified_name(std::string_view explainer, std::string_view function) {
    std::string out = "xai::";
    out.append(explainer).append("::").append(function).append("()");
    return out;
}

/// The checks of `targets` that can be made before any model call, for a batch of n images and
/// k classes: 0, 1 or n entries, explicit indices below k.
inline void require_targets(const Targets& targets, std::size_t n, std::size_t k, const char* where) {
    require<shape_error>(targets.size() <= 1 || targets.size() == n, where, ": targets has ", targets.size(),
                         " entries, expected 0, 1 or the batch size (", n, ")");
    for (std::size_t i = 0; i < targets.size(); ++i)
        if (!targets[i].is_predicted() && !targets[i].is_function())
            require(targets[i].index() < k, where, ": targets[", i, "] is class ", targets[i].index(),
                    ", expected a class index below ", k);
}

/// The batch of one image for explain(const Image&, …): shape_error naming `where` unless the
/// image is C×H×W and non-empty.
inline Batch single_image_batch(const Image& image, const char* where) {
    if (image.dimension() != 3 || image.size() == 0)
        throw shape_error(message(where, ": image has shape ", shape_string(image.shape()),
                                  ", expected a non-empty C×H×W image"));
    return as_batch(image);
}

}  // namespace detail
}  // namespace xai
