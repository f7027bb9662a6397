#pragma once
// Quadrature rules for the path integral of Integrated Gradients, ∫₀¹ g(α) dα ≈ Σ_k w_k g(α_k),
// as Captum offers them (captum/attr/_utils/approximation_methods.py), for m steps:
//
//   riemann_left       α_k = k/m,            w_k = 1/m          k = 0 … m−1
//   riemann_right      α_k = (k+1)/m,        w_k = 1/m          (the IG paper's sum, eq. 3)
//   riemann_middle     α_k = (k+½)/m,        w_k = 1/m
//   riemann_trapezoid  α_k = k/(m−1),        w_k = 1/(m−1), halved at both ends      (m ≥ 2)
//   gauss_legendre     α_k = (1 + x_k)/2,    w_k = v_k/2, where x_k, v_k are the m-point
//                      Gauss–Legendre nodes and weights on [−1, 1] (Captum's default, after
//                      numpy.polynomial.legendre.leggauss)
//
// Every rule's weights sum to 1, so a constant integrand is integrated exactly. Captum's
// trapezoid differs: it takes α_k = linspace(0, 1, m) but weights 1/m (halved at the ends), whose
// sum is (m−1)/m, so its trapezoid attributions are short by 1/m of the integral (a completeness
// error of |f(x) − f(x′)|/m even for a linear model); here the textbook rule is used.
//
// Gauss–Legendre nodes are computed by Newton's method on P_m from the estimate
// cos(π(k − ¼)/(m + ½)), with P_m and P'_m by the three-term recurrence, in double; the nodes
// and weights agree with numpy's leggauss to about 1e-15 (docs/methods/gradients.md). The rule
// with m nodes integrates polynomials of degree 2m − 1 exactly, which is why 50 nodes make the
// completeness error of a smooth path small where 50 Riemann steps do not.

#include <cmath>
#include <cstddef>
#include <numbers>
#include <string_view>
#include <vector>

#include "xai/core/error.hpp"

namespace xai {

/// The quadrature rule of Integrated Gradients' path integral (see the header comment).
enum class IntegrationRule { riemann_left, riemann_right, riemann_middle, riemann_trapezoid, gauss_legendre };

/// The rule's name as Captum spells it: "riemann_left", …, "riemann_trapezoid", "gausslegendre".
inline std::string_view to_string(IntegrationRule rule) {
    switch (rule) {
        case IntegrationRule::riemann_left: return "riemann_left";
        case IntegrationRule::riemann_right: return "riemann_right";
        case IntegrationRule::riemann_middle: return "riemann_middle";
        case IntegrationRule::riemann_trapezoid: return "riemann_trapezoid";
        case IntegrationRule::gauss_legendre: return "gausslegendre";
    }
    return "unknown";
}

/// A name of to_string (or "gauss_legendre") → IntegrationRule; invalid_argument otherwise.
inline IntegrationRule integration_rule_from_string(std::string_view name) {
    if (name == "gauss_legendre") return IntegrationRule::gauss_legendre;
    for (IntegrationRule r : {IntegrationRule::riemann_left, IntegrationRule::riemann_right, IntegrationRule::riemann_middle,
                              IntegrationRule::riemann_trapezoid, IntegrationRule::gauss_legendre})
        if (to_string(r) == name) return r;
    throw invalid_argument(detail::message("xai::integration_rule_from_string(): unknown rule '", name,
                                           "', expected riemann_left, riemann_right, riemann_middle, riemann_trapezoid or "
                                           "gausslegendre"));
}

/// The largest step count a rule accepts (2^20: beyond it the float interpolation points repeat).
inline constexpr std::size_t max_integration_steps = std::size_t{1} << 20;

/// Points α_k ∈ [0, 1] and weights w_k of a rule with m steps, in increasing α.
struct Quadrature {
    std::vector<double> alphas;   ///< where the gradient is taken along the path
    std::vector<double> weights;  ///< the weight of each point; they sum to 1
};

/// The m-step rule (see the header comment). invalid_argument for m = 0, m = 1 with the
/// trapezoid rule, or m > max_integration_steps.
inline Quadrature quadrature(IntegrationRule rule, std::size_t steps) {
    constexpr const char* where = "xai::quadrature()";
    detail::require(steps >= 1, where, ": steps is 0, expected at least 1");
    detail::require(steps <= max_integration_steps, where, ": steps is ", steps, ", expected at most ",
                    max_integration_steps);
    detail::require(rule != IntegrationRule::riemann_trapezoid || steps >= 2, where,
                    ": steps is 1, the trapezoid rule needs at least 2 (both ends of the path)");
    Quadrature q;
    q.alphas.resize(steps);
    q.weights.assign(steps, 1.0 / static_cast<double>(steps));
    const auto m = static_cast<double>(steps);
    switch (rule) {
        case IntegrationRule::riemann_left:
            for (std::size_t k = 0; k < steps; ++k) q.alphas[k] = static_cast<double>(k) / m;
            break;
        case IntegrationRule::riemann_right:
            for (std::size_t k = 0; k < steps; ++k) q.alphas[k] = static_cast<double>(k + 1) / m;
            break;
        case IntegrationRule::riemann_middle:
            for (std::size_t k = 0; k < steps; ++k) q.alphas[k] = (static_cast<double>(k) + 0.5) / m;
            break;
        case IntegrationRule::riemann_trapezoid:
            for (std::size_t k = 0; k < steps; ++k) {
                q.alphas[k] = static_cast<double>(k) / (m - 1.0);
                q.weights[k] = (k == 0 || k + 1 == steps ? 0.5 : 1.0) / (m - 1.0);
            }
            break;
        case IntegrationRule::gauss_legendre:
            for (std::size_t k = 0; k < steps; ++k) {
                // The k-th largest root of P_m, refined by Newton's method.
                double x = std::cos(std::numbers::pi * (static_cast<double>(k) + 0.75) / (m + 0.5));
                double derivative = 1.0;
                for (int iteration = 0; iteration < 100; ++iteration) {
                    double p0 = 1.0, p1 = x;  // P_0, P_1
                    for (std::size_t j = 2; j <= steps; ++j) {
                        const double p2 = ((2.0 * static_cast<double>(j) - 1.0) * x * p1 - (static_cast<double>(j) - 1.0) * p0) /
                                          static_cast<double>(j);
                        p0 = p1;
                        p1 = p2;
                    }
                    derivative = m * (x * p1 - p0) / (x * x - 1.0);
                    const double dx = p1 / derivative;
                    x -= dx;
                    if (std::abs(dx) <= 1e-15) break;  // converged quadratically: the next step is below rounding
                }
                // Nodes come largest first; store them in increasing α.
                const std::size_t slot = steps - 1 - k;
                q.alphas[slot] = 0.5 * (1.0 + x);
                q.weights[slot] = 1.0 / ((1.0 - x * x) * derivative * derivative);  // (2/((1−x²)P'²)) / 2
            }
            break;
    }
    return q;
}

}  // namespace xai
