#pragma once
// Which class to explain, per image: an explicit class index or the model's prediction.
//
// Every explainer takes `const Targets&`: empty means "the predicted class of every image",
// one entry applies to every image of the batch, otherwise there is one entry per image.

#include <cstddef>
#include <optional>
#include <vector>

#include "xai/core/error.hpp"
#include "xai/core/scores.hpp"
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

    /// Same as Target::class_index(index); lets callers write `Targets{3, 5}`.
    Target(std::size_t index) : index_(index) {}  // NOLINT(google-explicit-constructor)

    /// True for Target::predicted(), false for an explicit class index.
    bool is_predicted() const { return !index_.has_value(); }
    /// The explicit index; throws invalid_argument for Target::predicted().
    std::size_t index() const {
        detail::require(index_.has_value(), "xai::Target::index(): the target is 'predicted', it has no fixed index");
        return *index_;
    }

private:
    Target() = default;
    std::optional<std::size_t> index_;
};

/// The targets of a batch: empty = every image's predicted class, one entry = the same for
/// every image, otherwise one entry per image.
using Targets = std::vector<Target>;

/// The class index each image is explained for, given the model's scores for the batch.
/// `where` names the caller in error messages ("GradCam::explain()").
inline std::vector<std::size_t> resolve_targets(const Targets& targets, const Scores& scores, const char* where) {
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
        resolved[i] = t.is_predicted() ? predicted[i] : t.index();
        detail::require(resolved[i] < k, where, ": target class ", resolved[i], " for image ", i,
                        " is out of range, expected a class index below ", k);
    }
    return resolved;
}

}  // namespace xai
