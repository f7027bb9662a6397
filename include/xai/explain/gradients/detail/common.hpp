#pragma once
// What every gradient attribution method shares: the checks of its arguments, the batched
// gradient passes (rows of inputs through the model's input_gradients, a round of batches on
// `threads` threads at a time, results handed back in row order), and the filling of the
// Explanation core from per-channel attributions. Internals; the public types are in
// explain/gradients/options.hpp.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "xai/core/ceil_div.hpp"
#include "xai/core/concepts.hpp"
#include "xai/core/error.hpp"
#include "xai/core/explainer.hpp"
#include "xai/core/parallel.hpp"
#include "xai/core/progress.hpp"
#include "xai/core/scores.hpp"
#include "xai/core/target.hpp"
#include "xai/core/tensor.hpp"
#include "xai/explain/gradients/options.hpp"
#include "xai/explain/masking.hpp"
#include "xai/image/attribution_map.hpp"

namespace xai::detail {

/// Checks AttributionDisplay (sign all is refused: maps are in [0, 1]).
inline void require_display(const AttributionDisplay& display, const char* where) {
    require(display.sign != SignMode::all, where,
            ": display.sign is all, expected positive, negative or absolute (maps are in [0, 1]; draw the signed raw map "
            "with normalize_attribution(raw, SignMode::all))");
    require_outlier_percent(display.outlier_percent, where);
}

/// Checks the batch_size option (rows per model call).
inline void require_gradient_batch_size(std::size_t batch_size, const char* where) {
    require(batch_size >= 1, where, ": batch_size is 0, expected at least 1");
}

/// The checks made before any model call: the images (rank, shape, finite values) and the
/// target count and explicit class indices.
template <Classifier M>
void require_gradient_input(const M& model, const Batch& images, const Targets& targets, const char* where) {
    require_explainable(model, images, where);
    require_targets(targets, images.shape(0), model.num_classes(), where);
}

/// The class of image i: targets as resolve_targets reads them (empty or predicted: the
/// arg-max of the row of logits).
inline std::size_t target_of(const Targets& targets, std::size_t i, const float* logits, std::size_t k) {
    const bool predicted = targets.empty() || (targets.size() == 1 ? targets.front() : targets[i]).is_predicted();
    if (predicted) return static_cast<std::size_t>(std::max_element(logits, logits + k) - logits);
    return (targets.size() == 1 ? targets.front() : targets[i]).index();
}

/// Targets that fix each image's class (as resolved), for calls that must explain the same classes.
inline Targets fixed_targets_of(const std::vector<std::size_t>& resolved) { return Targets(resolved.begin(), resolved.end()); }

/// How the rows of a gradient computation are batched and differentiated.
struct GradientBatching {
    std::size_t batch_size = 32;                 ///< rows per model call (lowered to keep every thread busy)
    std::size_t threads = 0;                     ///< model calls in flight at once (0 = all cores)
    ScoreKind score = ScoreKind::logit;          ///< the score differentiated
    ReluBackward relu = ReluBackward::standard;  ///< the backward rule through ReLUs
};

/// One model call: gradients of each row's target score (of `kind`) with respect to `batch`,
/// through the ReLUs by `relu`; `target(row, logits row)` gives the class of each row from the
/// logits of the same forward pass. Returns the gradients and logits, checked.
template <InputGradientModel M, class TargetOf>
InputGradients seeded_input_gradients(const M& model, const Batch& batch, const GradientBatching& how, TargetOf&& target,
                                      std::vector<std::size_t>& classes, const char* where) {
    const std::size_t n = batch.shape(0), k = model.num_classes();
    bool seeded = false;
    const ScoreSeed seed = [&](const Scores& logits) {
        require_model_scores(logits, n, k, where);
        classes.resize(n);
        for (std::size_t r = 0; r < n; ++r) classes[r] = target(r, logits.data() + r * k);
        seeded = true;
        return target_score_gradient(logits, classes, how.score);
    };
    InputGradients out;
    if (how.relu == ReluBackward::standard) {
        out = model.input_gradients(batch, seed);
    } else if constexpr (ReluBackwardModel<M>) {
        try {
            out = model.input_gradients(batch, seed, how.relu);
        } catch (const model_error& e) {
            // The model says why its backward pass cannot follow the rule; the message names the method too.
            throw model_error(message(where, ": ", e.what()));
        }
    } else {
        throw invalid_argument(message(where, ": the ReLU rule is ", to_string(how.relu),
                                       ", which needs a ReluBackwardModel (core/concepts.hpp)"));
    }
    if (!seeded) throw model_error(message(where, ": the model returned without calling the score seed"));
    require_model_scores(out.scores, n, k, where);
    if (out.gradients.shape() != batch.shape())
        throw model_error(message(where, ": the model returned input gradients of shape ", shape_string(out.gradients.shape()),
                                  ", expected the batch's ", shape_string(batch.shape())));
    if (!all_finite(out.gradients.data(), out.gradients.size()))
        throw model_error(message(where, ": the model returned NaN or Inf input gradients"));
    return out;
}

/// Runs `rows` rows through the model's input gradients: fill(row, float* input) writes row's
/// C×H×W input; target(row, const float* logits) gives its class from its logits. Rows go in
/// batches of at most how.batch_size (lowered so that every thread has a batch, and to keep the
/// batches in flight within masking.hpp's memory bound), how.threads batches at a time; after each
/// round consume(row, const float* gradient, const float* logits, std::size_t class) is called
/// for every row of the round, in row order, on the calling thread, and `progress` is told the
/// rows done (plus `done_before`, out of `total`; stage "gradients"). Results do not depend on
/// the batch size or thread count when the model's rows do not (the built-in CNN's never do).
/// `whole`, when given, is the rows' inputs as one batch (fill copies its rows): a model call on
/// all the rows then takes it as it is, without the copy.
template <InputGradientModel M, class Fill, class TargetOf, class Consume>
void for_gradient_rows(const M& model, std::size_t rows, const GradientBatching& how, Fill&& fill, TargetOf&& target,
                       Consume&& consume, const Progress& progress, std::size_t done_before, std::size_t total,
                       const char* where, const Batch* whole = nullptr) {
    if (rows == 0) return;
    const ImageShape shape = model.input_shape();
    const std::size_t values = shape.size(), k = model.num_classes();
    const std::size_t workers = resolve_threads(how.threads);
    const std::size_t busy = std::max<std::size_t>(1, ceil_div(rows, workers));
    const std::size_t batch = batch_within_memory(std::min(how.batch_size, busy), shape, values, workers);
    const std::size_t batches = ceil_div(rows, batch);
    struct Slot {
        InputGradients out;
        std::vector<std::size_t> classes;
    };
    std::vector<Slot> slots(std::min(workers, batches));
    for (std::size_t first = 0; first < batches; first += slots.size()) {
        const std::size_t round = std::min(slots.size(), batches - first);
        parallel_for(round, round, [&](std::size_t r) {
            const std::size_t begin = (first + r) * batch, end = std::min(rows, begin + batch);
            const auto target_of_row = [&](std::size_t local, const float* logits) { return target(begin + local, logits); };
            if (whole != nullptr && end - begin == rows) {
                slots[r].out = seeded_input_gradients(model, *whole, how, target_of_row, slots[r].classes, where);
                return;
            }
            Batch input = Batch::from_shape({end - begin, shape.channels, shape.height, shape.width});
            for (std::size_t row = begin; row < end; ++row) fill(row, input.data() + (row - begin) * values);
            slots[r].out = seeded_input_gradients(model, input, how, target_of_row, slots[r].classes, where);
        });
        for (std::size_t r = 0; r < round; ++r) {
            const std::size_t begin = (first + r) * batch, end = std::min(rows, begin + batch);
            const Slot& s = slots[r];
            for (std::size_t row = begin; row < end; ++row)
                consume(row, s.out.gradients.data() + (row - begin) * values, s.out.scores.data() + (row - begin) * k,
                        s.classes[row - begin]);
            slots[r] = Slot{};
        }
        report(progress, done_before + std::min(rows, (first + round) * batch), total, "gradients");
    }
}

/// The score of `kind` of each row's target, from logits (N×K) and one target per row.
inline std::vector<double> scores_of_targets(const Scores& logits, const std::vector<std::size_t>& targets, ScoreKind kind) {
    const Scores s = scores_of_kind(logits, kind);
    std::vector<double> out(targets.size());
    for (std::size_t i = 0; i < targets.size(); ++i) out[i] = s(i, targets[i]);
    return out;
}

/// The attributions of one gradient pass per image (Saliency, gradient × input, guided
/// backpropagation, the deconvnet): each image's gradient g of its target's score (targets
/// resolved from the same pass's logits), turned into attributions by
/// attribute(const float* x, const float* g, float* a, std::size_t values). Fills targets,
/// logits and attributions; the caller finishes the core (finish_gradient_result).
template <InputGradientModel M, class Attribute>
GradientExplanation one_pass_attributions(const M& model, const Batch& images, const Targets& targets,
                                          const GradientBatching& how, Attribute&& attribute, const Progress& progress,
                                          const char* where) {
    require_gradient_input(model, images, targets, where);
    const std::size_t n = images.shape(0), values = images.size() / n, k = model.num_classes();
    GradientExplanation out;
    out.attributions = Batch::from_shape(images.shape());
    out.logits = Scores::from_shape({n, k});
    out.targets.resize(n);
    for_gradient_rows(
        model, n, how, [&](std::size_t i, float* input) { std::copy_n(images.data() + i * values, values, input); },
        [&](std::size_t i, const float* logits) { return target_of(targets, i, logits, k); },
        [&](std::size_t i, const float* gradient, const float* logits, std::size_t target) {
            attribute(images.data() + i * values, gradient, out.attributions.data() + i * values, values);
            std::copy_n(logits, k, out.logits.data() + i * k);
            out.targets[i] = target;
        },
        progress, 0, n, where, &images);
    return out;
}

/// Fills the core of a gradient result from its per-channel attributions (N×C×H×W, already in
/// result.attributions), its logits and targets (already set): raw, maps, reduction, score_kind
/// and scores (see explain/gradients/options.hpp). Non-finite attributions are a numerical_error.
inline void finish_gradient_result(GradientExplanation& result, ChannelReduction default_reduction,
                                   const AttributionDisplay& display, ScoreKind kind, const char* where) {
    if (!all_finite(result.attributions.data(), result.attributions.size()))
        throw numerical_error(message(where, ": the attributions overflowed to Inf or NaN"));
    result.reduction = display.reduction.value_or(default_reduction);
    result.raw = reduce_channels(result.attributions, result.reduction);
    result.maps = normalize_attribution(result.raw, display.sign, display.outlier_percent);
    result.score_kind = kind;
    const std::vector<double> scores = scores_of_targets(result.logits, result.targets, kind);
    result.scores.assign(scores.begin(), scores.end());
}

}  // namespace xai::detail
