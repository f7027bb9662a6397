#pragma once
// Orders over the training set from influence scores (Koh & Liang 2017): the most helpful and
// most harmful training examples for a test prediction and the order in which to review training
// labels by self-influence (§5.4). The predicted change of the test loss when an example is
// removed (ε = −1/n in eq. 2) is predicted_loss_change_on_removal in influence.hpp.
//
// Sign convention (influence.hpp): I_up,loss(z, z_test) < 0 means z helped (removing it
// raises the test loss), > 0 means z hurt. Ties are broken by the lower index, so every order
// is deterministic.

#include <algorithm>
#include <cstddef>
#include <numeric>
#include <vector>

#include "xai/core/eigen.hpp"
#include "xai/core/error.hpp"

namespace xai {

/// Indices of the k most negative values (ties by index), most negative first.
inline std::vector<std::size_t> most_helpful(const Eigen::VectorXd& influence, std::size_t k) {
    std::vector<std::size_t> order(static_cast<std::size_t>(influence.size()));
    std::iota(order.begin(), order.end(), std::size_t{0});
    k = std::min(k, order.size());
    std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(k), order.end(), [&](std::size_t a, std::size_t b) {
        const double va = influence(static_cast<Eigen::Index>(a)), vb = influence(static_cast<Eigen::Index>(b));
        return va < vb || (va == vb && a < b);
    });
    order.resize(k);
    return order;
}

/// Indices of the k most positive values (ties by index), most positive first.
inline std::vector<std::size_t> most_harmful(const Eigen::VectorXd& influence, std::size_t k) {
    return most_helpful(-influence, k);
}

/// The order in which to review training labels: by self-influence I_up,loss(z_i, z_i), most
/// negative (largest in magnitude) first (Koh & Liang §5.4; influence-release sorts
/// ∇Lᵀ H⁻¹ ∇L in decreasing order, run_spam_experiment.py).
inline std::vector<std::size_t> review_order(const Eigen::VectorXd& self_influence) {
    return most_helpful(self_influence, static_cast<std::size_t>(self_influence.size()));
}

}  // namespace xai
