#pragma once
// What to explain, per image: an explicit class index, the model's prediction, or a target
// function of the model's output (core/target_function.hpp; the provided ones are in
// core/targets.hpp). The gradient-weighted CAM methods (explain/cam/grad_cam.hpp) take target
// functions; every other explainer refuses them with invalid_argument, naming itself.
//
// Every explainer takes `const Targets&`: empty means "the predicted class of every image",
// one entry applies to every image of the batch, otherwise there is one entry per image.

#include <cstddef>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "xai/core/error.hpp"
#include "xai/core/scores.hpp"
#include "xai/core/target_function.hpp"
#include "xai/core/tensor.hpp"

namespace xai {

/// Which class to explain for one image: an explicit class index or the model's prediction.
///
/// Every explainer takes `const Targets&`: empty means "the predicted class of every image",
/// one entry applies to every image of the batch, otherwise there is one entry per image.
class Target {
public:
    /// The class the model predicts (the arg-max of its scores).
    static Target predicted() { return Target(); }
    /// An explicit class index.
    static Target class_index(std::size_t index) { return Target(index); }

    /// A target function of the image's output (a TargetFunction, e.g. one of
    /// core/targets.hpp: `Target::function(xai::targets::region(3, mask, model.output_shape()))`).
    template <TargetFunction F>
    static Target function(F f) {
        Target t;
        t.function_ = std::make_shared<const detail::TargetFunctionHolder<F>>(std::move(f));
        return t;
    }

    /// Same as Target::class_index(index); lets callers write `Targets{3, 5}`.
    Target(std::size_t index) : index_(index) {}  // NOLINT(google-explicit-constructor)

    /// True for Target::predicted(), false for a class index or a target function.
    bool is_predicted() const { return !index_.has_value() && !function_; }
    /// True for a target function (Target::function).
    bool is_function() const { return function_ != nullptr; }
    /// The explicit index; throws invalid_argument for Target::predicted() and target functions.
    std::size_t index() const {
        detail::require(index_.has_value(), "xai::Target::index(): the target is ",
                        function_ ? function_->describe() : std::string("'predicted'"), ", it has no fixed index");
        return *index_;
    }
    /// The target function; nullptr unless is_function().
    const detail::AnyTargetFunction* target_function() const { return function_.get(); }

private:
    Target() = default;
    std::optional<std::size_t> index_;
    std::shared_ptr<const detail::AnyTargetFunction> function_;
};

/// The targets of a batch: empty = every image's predicted class, one entry = the same for
/// every image, otherwise one entry per image.
using Targets = std::vector<Target>;

/// The class index each image is explained for, given the model's scores for the batch.
/// `where` names the caller in error messages ("GradCam::explain()"). A target function is
/// refused (invalid_argument) unless `functions` is true; then its image gets the function's
/// class_index(), or the predicted class when it names none (not checked against the output's
/// size: a binary output's category 1 of a one-output model is fine).
inline std::vector<std::size_t> resolve_targets(const Targets& targets, const Scores& scores, const char* where,
                                                bool functions = false) {
    const std::size_t n = scores.shape(0), k = scores.shape(1);
    detail::require<shape_error>(targets.size() <= 1 || targets.size() == n, where, ": targets has ", targets.size(),
                                 " entries, expected 0, 1 or the batch size (", n, ")");
    const std::vector<std::size_t> predicted = argmax_rows(scores);
    std::vector<std::size_t> resolved(n);
    for (std::size_t i = 0; i < n; ++i) {
        if (targets.empty()) {
            resolved[i] = predicted[i];
            continue;
        }
        const Target& t = targets.size() == 1 ? targets.front() : targets[i];
        if (const detail::AnyTargetFunction* f = t.target_function()) {
            detail::require(functions, where, ": targets[", targets.size() == 1 ? 0 : i, "] is the target function ",
                            f->describe(), ", which this explainer does not take; expected a class index or "
                            "Target::predicted() (the gradient-weighted CAM methods take target functions)");
            resolved[i] = f->class_index().value_or(predicted[i]);
            continue;
        }
        resolved[i] = t.is_predicted() ? predicted[i] : t.index();
        detail::require(resolved[i] < k, where, ": target class ", resolved[i], " for image ", i,
                        " is out of range, expected a class index below ", k);
    }
    return resolved;
}

/// Each image's target function (nullptr for a class or predicted target), for n images.
inline std::vector<const detail::AnyTargetFunction*> target_functions(const Targets& targets, std::size_t n) {
    std::vector<const detail::AnyTargetFunction*> out(n, nullptr);
    for (std::size_t i = 0; i < n && !targets.empty(); ++i)
        out[i] = (targets.size() == 1 ? targets.front() : targets[i]).target_function();
    return out;
}

}  // namespace xai
