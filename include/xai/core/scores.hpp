#pragma once
// Class scores: softmax, log-softmax, arg-max, and the gradient of a chosen score with respect
// to the logits (the "seed" a layer-gradient model backpropagates from).
//
// Models return logits. Which score an explainer explains is its ScoreKind option:
//   logit            y_c                 (Grad-CAM paper: the score before the softmax)
//   probability      p_c = softmax(y)_c  (Score-CAM, RISE, LIME, the metrics)
//   log_probability  log p_c
// A black-box model that only outputs probabilities returns log(p) as its logits: the softmax
// of log(p) is p again, so every kind keeps its meaning.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <span>
#include <string_view>
#include <vector>

#include "xai/core/error.hpp"
#include "xai/core/tensor.hpp"

namespace xai {

/// Which score of the target class an explainer explains (models return logits): `logit`
/// y_c, the score before the softmax (the Grad-CAM paper); `probability` p_c = softmax(y)_c
/// (Score-CAM, RISE, LIME, the metrics); `log_probability` log p_c.
enum class ScoreKind { logit, probability, log_probability };

/// The kind's name: "logit", "probability" or "log_probability".
inline std::string_view to_string(ScoreKind kind) {
    switch (kind) {
        case ScoreKind::logit: return "logit";
        case ScoreKind::probability: return "probability";
        case ScoreKind::log_probability: return "log_probability";
    }
    return "unknown";
}

/// Row-wise softmax, computed stably (the row maximum is subtracted first).
inline Scores softmax(const Scores& logits) {
    Scores out = Scores::from_shape(logits.shape());
    const std::size_t n = logits.shape(0), k = logits.shape(1);
    for (std::size_t i = 0; i < n; ++i) {
        const float* row = logits.data() + i * k;
        float* dst = out.data() + i * k;
        const float top = *std::max_element(row, row + k);
        double sum = 0.0;
        for (std::size_t j = 0; j < k; ++j) sum += dst[j] = std::exp(row[j] - top);
        for (std::size_t j = 0; j < k; ++j) dst[j] = static_cast<float>(dst[j] / sum);
    }
    return out;
}

/// Row-wise log-softmax, computed stably.
inline Scores log_softmax(const Scores& logits) {
    Scores out = Scores::from_shape(logits.shape());
    const std::size_t n = logits.shape(0), k = logits.shape(1);
    for (std::size_t i = 0; i < n; ++i) {
        const float* row = logits.data() + i * k;
        const float top = *std::max_element(row, row + k);
        double sum = 0.0;
        for (std::size_t j = 0; j < k; ++j) sum += std::exp(static_cast<double>(row[j] - top));
        const auto log_sum = static_cast<float>(std::log(sum));
        for (std::size_t j = 0; j < k; ++j) out.data()[i * k + j] = row[j] - top - log_sum;
    }
    return out;
}

/// The scores of the given kind, from logits.
inline Scores scores_of_kind(const Scores& logits, ScoreKind kind) {
    switch (kind) {
        case ScoreKind::logit: return logits;
        case ScoreKind::probability: return softmax(logits);
        case ScoreKind::log_probability: return log_softmax(logits);
    }
    return logits;
}

/// The arg-max of each row (the predicted class); ties go to the lowest index.
inline std::vector<std::size_t> argmax_rows(const Scores& scores) {
    const std::size_t n = scores.shape(0), k = scores.shape(1);
    std::vector<std::size_t> best(n, 0);
    for (std::size_t i = 0; i < n; ++i) {
        const float* row = scores.data() + i * k;
        best[i] = static_cast<std::size_t>(std::max_element(row, row + k) - row);
    }
    return best;
}

/// d s_{c_i} / d logits for each image i, where s is the score of the given kind and c_i its
/// target class: one-hot for logits, p_c (e_c − p) for probabilities, e_c − p for log-probabilities.
inline Scores target_score_gradient(const Scores& logits, std::span<const std::size_t> targets, ScoreKind kind) {
    const std::size_t n = logits.shape(0), k = logits.shape(1);
    detail::require<shape_error>(targets.size() == n, "xai::target_score_gradient(): ", targets.size(),
                                 " targets for ", n, " rows of scores");
    Scores seed = xt::zeros<float>({n, k});
    if (kind == ScoreKind::logit) {
        for (std::size_t i = 0; i < n; ++i) seed(i, targets[i]) = 1.0f;
        return seed;
    }
    const Scores p = softmax(logits);
    for (std::size_t i = 0; i < n; ++i) {
        const std::size_t c = targets[i];
        const float scale = kind == ScoreKind::probability ? p(i, c) : 1.0f;
        for (std::size_t j = 0; j < k; ++j) seed(i, j) = scale * ((j == c ? 1.0f : 0.0f) - p(i, j));
    }
    return seed;
}

}  // namespace xai
