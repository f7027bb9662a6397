#pragma once
// I_pert,loss (Koh & Liang 2017, §2.2, eq. 5): how the test loss responds to perturbing the
// input x of a training example z = (x, y),
//   I_pert,loss(z, z_test) = −∇θL(z_test, θ̂)ᵀ H⁻¹ ∇x∇θL(z, θ̂) = −∇x [ s_testᵀ ∇θL(z, θ) ]|θ̂
// with s_test = H⁻¹∇θL(z_test, θ̂) held fixed. Moving x by a small δ changes the test loss,
// after retraining, by about (1/n) I_pert,loss · δ. The result has the shape of the input.
//
// How the mixed derivative (∇x∇θL) v is computed, in order of preference:
//  1. the model's own closed form, loss_mixed_derivative_product(batch, labels, v)
//     (LogisticRegression has one: with a = V x̃ and r = p − e_y, it is Vᵀr + Wᵀ S a);
//  2. for an InputGradientModel that can be copied and re-parametrized (set_parameters), the
//     central difference of the input gradient of the loss along v in parameter space:
//        (∇x L(z, θ + h v) − ∇x L(z, θ − h v)) / 2h,  h = step · max(1, ‖θ‖∞) / ‖v‖∞,
//     exact up to O(h²) (the third derivative) plus rounding of order ε/h: with the default
//     step 1e-3 that is about 1e-6 relative for a model computing in double and 1e-4 in float.
//     ∇x L is the input gradient seeded with dL/dlogits = softmax(logits) − e_y.

#include <algorithm>
#include <cmath>
#include <concepts>
#include <cstddef>

#include "xai/core/concepts.hpp"
#include "xai/core/error.hpp"
#include "xai/core/scores.hpp"
#include "xai/core/tensor.hpp"

namespace xai {

/// A model that computes (∇x∇θ L(z_i, θ)) v in closed form, one input-shaped map per example.
template <class M>
concept MixedDerivativeModel = TwiceDifferentiableModel<M> &&
    requires(const M& model, const Batch& batch, const Labels& labels, const Eigen::VectorXd& v) {
        { model.loss_mixed_derivative_product(batch, labels, v) } -> std::convertible_to<Batch>;
    };

/// An input-gradient model whose copies can take new parameters (for the central difference).
template <class M>
concept ReparametrizableModel = TwiceDifferentiableModel<M> && InputGradientModel<M> && std::copy_constructible<M> &&
    requires(M& model, const Eigen::VectorXd& theta) { model.set_parameters(theta); };

namespace detail {

/// ∇x L(z_i, θ) for every example of a batch, from the model's input gradients.
template <InputGradientModel M>
Batch input_loss_gradients(const M& model, const Batch& batch, const Labels& labels) {
    const ScoreSeed seed = [&labels](const Scores& logits) {
        Scores s = softmax(logits);
        for (std::size_t i = 0; i < labels.size(); ++i) s(i, labels[i]) -= 1.0f;
        return s;
    };
    return model.input_gradients(batch, seed).gradients;
}

/// (∇x∇θ L(z_i, θ)) v for every example (see the header comment for how).
template <class M>
    requires MixedDerivativeModel<M> || ReparametrizableModel<M>
Batch mixed_derivative_product(const M& model, const Batch& batch, const Labels& labels, const Eigen::VectorXd& v,
                               double step) {
    if constexpr (MixedDerivativeModel<M>) {
        return model.loss_mixed_derivative_product(batch, labels, v);
    } else {
        const Eigen::VectorXd theta = model.parameters();
        const double v_max = v.cwiseAbs().maxCoeff();
        if (v_max == 0.0) return xt::zeros<float>(batch.shape());
        const double h = step * std::max(1.0, theta.cwiseAbs().maxCoeff()) / v_max;
        M plus = model, minus = model;
        plus.set_parameters(theta + h * v);
        minus.set_parameters(theta - h * v);
        const Batch g_plus = input_loss_gradients(plus, batch, labels);
        const Batch g_minus = input_loss_gradients(minus, batch, labels);
        Batch out = Batch::from_shape(batch.shape());
        const double inv = 1.0 / (2.0 * h);
        for (std::size_t k = 0; k < out.size(); ++k)
            out.data()[k] = static_cast<float>((static_cast<double>(g_plus.data()[k]) - g_minus.data()[k]) * inv);
        return out;
    }
}

}  // namespace detail
}  // namespace xai
