#pragma once
// The surrogate fit of LIME (Ribeiro, Singh, Guestrin, "Why Should I Trust You?": Explaining
// the Predictions of Any Classifier, KDD 2016): a weighted linear model of the black box's score
// on binary superpixel indicators, and the feature-selection methods of the reference lime
// package (lime_base.py: LimeBase.feature_selection and explain_instance_with_data).
//
// Internals of xai::Lime (explain/lime/lime.hpp). Every function here is a template on the
// scalar type (always double in LIME), so the Eigen decompositions it calls (LDLT, the complete
// orthogonal decomposition) are compiled only in a translation unit that instantiates
// Lime<Model>::explain, not in every file that includes xai/lime.hpp.
//
// Weighted ridge with an unpenalised intercept — sklearn's Ridge(alpha, fit_intercept=True)
// .fit(X, y, sample_weight=π) — solved in closed form on weighted-centred data:
//   x̄ = Σ π_i x_i / Σ π_i,  ȳ = Σ π_i y_i / Σ π_i,   X_c = X − 1x̄ᵀ,  y_c = y − ȳ
//   β = (X_cᵀ Π X_c + α I)⁻¹ X_cᵀ Π y_c,   intercept b = ȳ − x̄ᵀβ
// (Eigen LDLT; for α = 0 a complete orthogonal decomposition gives the minimum-norm solution
// when columns are collinear, as sklearn's least-squares fallback does). The fit's R² (lime's
// `score`) is the weighted R² of sklearn's r2_score(sample_weight=π):
//   R² = 1 − Σ π_i (y_i − ŷ_i)² / Σ π_i (y_i − ȳ)²   (1 if both sums are 0, 0 if only the second is).
//
// Feature selection (which superpixels enter the surrogate), as lime:
//   none               every superpixel
//   highest_weights    ridge with α = 0.01 on all superpixels; the num_features with the largest
//                      |β_j · x_0j| (x_0 = the all-on sample, so |β_j|), ties in index order
//   forward_selection  greedy: add, num_features times, the superpixel whose addition gives the
//                      highest weighted R² of an unpenalised (α = 0) fit; the first best wins ties
//   lasso_path         the LARS–lasso path (Efron, Hastie, Johnstone, Tibshirani 2004, as sklearn's
//                      lars_path(method="lasso")) of the weighted-centred data
//                      ((X − x̄)√π, (y − ȳ)√π); walking the path's knots from the least
//                      regularised back, the first support of at most num_features superpixels
//   automatic          lime's 'auto': forward_selection if num_features <= 6, else highest_weights

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <numeric>
#include <type_traits>
#include <vector>

#include "xai/core/eigen.hpp"  // first: silences GCC 12's false AVX-512 warnings inside Eigen

#include <Eigen/Cholesky>
#include <Eigen/QR>

#include "xai/core/error.hpp"
#include "xai/explain/lime/options.hpp"

namespace xai::detail {

/// A weighted linear fit with intercept: y ≈ intercept + X·coef.
template <class Scalar = double>
struct WeightedLinearFit {
    Eigen::VectorX<Scalar> coef;  ///< one coefficient per column of X
    Scalar intercept = 0;         ///< the constant term
    Scalar r2 = 0;                ///< weighted R² on the data it was fitted to
};

/// y and the sample weights of a regression on X: the same scalar as X, deduced from X alone
/// (so an Eigen expression converts to the vector type).
template <class Scalar>
using RegressionVector = std::type_identity_t<Eigen::VectorX<Scalar>>;

template <class Scalar>
void require_regression_data(const Eigen::MatrixX<Scalar>& X, const RegressionVector<Scalar>& y,
                             const RegressionVector<Scalar>& w, const char* where) {
    require<shape_error>(X.rows() > 0, where, ": there are no samples, expected at least one row");
    require<shape_error>(y.size() == X.rows() && w.size() == X.rows(), where, ": X has ", X.rows(), " rows, y ",
                         y.size(), " and the weights ", w.size(), ", expected the same number");
    require((w.array() >= 0.0).all() && w.sum() > 0.0 && w.allFinite(), where,
            ": sample weights must be finite, >= 0 and not all 0");
    require(X.allFinite() && y.allFinite(), where, ": X and y must be finite");
}

/// Weighted means and the weighted-centred data scaled by √π (so plain least squares on it is
/// the weighted problem).
template <class Scalar>
struct CentredData {
    Eigen::RowVectorX<Scalar> x_mean;
    Scalar y_mean = 0;
    Eigen::MatrixX<Scalar> Xs;  ///< (X − x̄)·√π
    Eigen::VectorX<Scalar> ys;  ///< (y − ȳ)·√π
};

template <class Scalar>
CentredData<Scalar> centre_weighted(const Eigen::MatrixX<Scalar>& X, const RegressionVector<Scalar>& y,
                                    const RegressionVector<Scalar>& w) {
    CentredData<Scalar> d;
    const Scalar total = w.sum();
    d.x_mean = (w.transpose() * X) / total;
    d.y_mean = w.dot(y) / total;
    const Eigen::VectorX<Scalar> root = w.cwiseSqrt();
    d.Xs = (X.rowwise() - d.x_mean).array().colwise() * root.array();
    d.ys = (y.array() - d.y_mean) * root.array();
    return d;
}

/// sklearn's r2_score with sample weights, given the residual and total sums of squares.
inline double r2_from_sums(double residual, double total) {
    if (total == 0.0) return residual == 0.0 ? 1.0 : 0.0;
    return 1.0 - residual / total;
}

/// Solves (G + αI) β = b for a symmetric positive semi-definite G.
template <class Scalar>
Eigen::VectorX<Scalar> solve_normal_equations(const Eigen::MatrixX<Scalar>& G, const RegressionVector<Scalar>& b,
                                              std::type_identity_t<Scalar> alpha) {
    if (G.rows() == 0) return Eigen::VectorX<Scalar>(0);
    if (alpha > 0.0) {
        Eigen::MatrixX<Scalar> A = G;
        A.diagonal().array() += alpha;
        return A.ldlt().solve(b);
    }
    return G.completeOrthogonalDecomposition().solve(b);
}

/// min of the strictly positive entries, or +max if there are none (sklearn's min_pos).
template <class Scalar>
Scalar min_positive(const Eigen::VectorX<Scalar>& v) {
    Scalar best = std::numeric_limits<Scalar>::max();
    for (Eigen::Index i = 0; i < v.size(); ++i)
        if (v[i] > 0.0 && v[i] < best) best = v[i];
    return best;
}

/// sklearn's Ridge(alpha, fit_intercept=True).fit(X, y, sample_weight=w) and its weighted R².
template <class Scalar>
WeightedLinearFit<Scalar> weighted_ridge(const Eigen::MatrixX<Scalar>& X, const RegressionVector<Scalar>& y,
                                         const RegressionVector<Scalar>& w, std::type_identity_t<Scalar> alpha) {
    constexpr const char* where = "xai::detail::weighted_ridge()";
    require_regression_data<Scalar>(X, y, w, where);
    require(std::isfinite(alpha) && alpha >= 0.0, where, ": alpha is ", alpha, ", expected a finite value >= 0");
    const CentredData<Scalar> d = centre_weighted<Scalar>(X, y, w);
    WeightedLinearFit<Scalar> fit;
    fit.coef = solve_normal_equations<Scalar>(Eigen::MatrixX<Scalar>(d.Xs.transpose() * d.Xs),
                                      RegressionVector<Scalar>(d.Xs.transpose() * d.ys), alpha);
    fit.intercept = d.y_mean - d.x_mean.dot(fit.coef);
    const Eigen::VectorX<Scalar> residual =
        y - (X * fit.coef).array().matrix() - Eigen::VectorX<Scalar>::Constant(y.size(), fit.intercept);
    fit.r2 = r2_from_sums(w.dot(residual.cwiseAbs2()), w.dot((y.array() - d.y_mean).square().matrix()));
    return fit;
}

/// The sandwich (White's HC0) covariance of the weighted ridge coefficients of `fit` on (X, y, w):
///     Cov(β̂) ≈ G⁻¹ (X_cᵀ Π diag(r²) Π X_c) G⁻¹,   G = X_cᵀ Π X_c + α I,
/// with X_c the weighted-centred design and r the fit's residuals: the sampling variance of β̂
/// when the samples are random and the model is not exactly linear in them (LIME's case: the
/// "noise" is the surrogate's lack of fit). The centring's own variability is ignored.
template <class Scalar>
Eigen::MatrixX<Scalar> weighted_ridge_covariance(const Eigen::MatrixX<Scalar>& X, const RegressionVector<Scalar>& y,
                                                 const RegressionVector<Scalar>& w, std::type_identity_t<Scalar> alpha,
                                                 const WeightedLinearFit<Scalar>& fit) {
    const CentredData<Scalar> d = centre_weighted<Scalar>(X, y, w);
    const auto p = X.cols();
    Eigen::MatrixX<Scalar> G = d.Xs.transpose() * d.Xs;
    G.diagonal().array() += alpha;
    const Eigen::VectorX<Scalar> residual =
        y - X * fit.coef - Eigen::VectorX<Scalar>::Constant(y.size(), fit.intercept);
    // X_cᵀ Π diag(r²) Π X_c = X_sᵀ diag(π r²) X_s, since X_s = √Π X_c
    const Eigen::VectorX<Scalar> scale = (w.array() * residual.array().square()).matrix();
    const Eigen::MatrixX<Scalar> meat = d.Xs.transpose() * scale.asDiagonal() * d.Xs;
    Eigen::MatrixX<Scalar> inverse;
    if (alpha > 0.0)
        inverse = G.ldlt().solve(Eigen::MatrixX<Scalar>::Identity(p, p));
    else
        inverse = G.completeOrthogonalDecomposition().pseudoInverse();
    return inverse * meat * inverse;
}

/// The inverse of the standard normal CDF, Φ⁻¹(q) for q in (0, 1), by bisection on
/// Φ(x) = erfc(−x/√2)/2 to double precision.
inline double normal_quantile(double q) {
    double lo = -40.0, hi = 40.0;
    for (int i = 0; i < 200; ++i) {
        const double mid = 0.5 * (lo + hi);
        (0.5 * std::erfc(-mid / std::sqrt(2.0)) < q ? lo : hi) = mid;
    }
    return 0.5 * (lo + hi);
}

/// The smallest z-statistic separating a top-k set from the other candidates: over members i and
/// non-members j, z_ij = (σ_i β_i − σ_j β_j) / sd(σ_i β_i − σ_j β_j), σ the sign under which a
/// feature ranks (+1 for WeightSign::positive, −1 for negative, sign(β) for both), the variance
/// C_ii + C_jj − 2 σ_i σ_j C_ij from the coefficients' covariance C. +∞ when there is no
/// non-member (or every difference has zero variance and is positive); 0 when there is no member.
template <class Scalar>
double top_k_boundary_z(const std::vector<double>& beta, const Eigen::MatrixX<Scalar>& covariance,
                        const std::vector<std::size_t>& members, WeightSign sign) {
    if (members.empty()) return 0.0;
    std::vector<char> is_member(beta.size(), 0);
    for (std::size_t i : members) is_member[i] = 1;
    auto sigma = [&](std::size_t i) {
        if (sign == WeightSign::positive) return 1.0;
        if (sign == WeightSign::negative) return -1.0;
        return beta[i] < 0.0 ? -1.0 : 1.0;
    };
    double smallest = std::numeric_limits<double>::infinity();
    for (std::size_t i : members)
        for (std::size_t j = 0; j < beta.size(); ++j) {
            if (is_member[j]) continue;
            const auto a = static_cast<Eigen::Index>(i), b = static_cast<Eigen::Index>(j);
            const double gap = sigma(i) * beta[i] - sigma(j) * beta[j];
            const double variance = static_cast<double>(covariance(a, a) + covariance(b, b)) -
                                    2.0 * sigma(i) * sigma(j) * static_cast<double>(covariance(a, b));
            const double z = variance > 0.0 ? gap / std::sqrt(variance)
                             : gap > 0.0    ? std::numeric_limits<double>::infinity()
                                            : -std::numeric_limits<double>::infinity();
            smallest = std::min(smallest, z);
        }
    return smallest;
}

/// The knots of the LARS–lasso path of least squares on (X, y) (no intercept; centre first):
/// column t holds the coefficients at the t-th knot, column 0 is all zeros. Mirrors sklearn's
/// lars_path(X, y, method="lasso", alpha_min=0, max_iter=500): the predictor of largest absolute
/// correlation joins, the coefficients move along the equiangular direction until another
/// predictor's correlation ties (it joins) or an active coefficient crosses zero (it leaves);
/// a predictor that would make the active set singular is left out for good.
template <class Scalar>
Eigen::MatrixX<Scalar> lars_lasso_path(const Eigen::MatrixX<Scalar>& X, const RegressionVector<Scalar>& y,
                                       std::size_t max_iter = 500) {
    const auto p = static_cast<std::size_t>(X.cols());
    const auto n_samples = static_cast<Scalar>(X.rows());
    const Eigen::MatrixX<Scalar> G = X.transpose() * X;
    const Eigen::VectorX<Scalar> Xy = X.transpose() * y;
    constexpr Scalar tolerance = 1.1920928955078125e-07;  // np.finfo(np.float32).eps, sklearn's equality tolerance
    constexpr Scalar tiny = 1.1754943508222875e-38;       // np.finfo(np.float32).tiny
    Eigen::VectorX<Scalar> coef = Eigen::VectorX<Scalar>::Zero(static_cast<Eigen::Index>(p));
    std::vector<std::size_t> active;
    std::vector<Scalar> sign;
    std::vector<char> is_active(p, 0), excluded(p, 0);
    std::vector<Eigen::VectorX<Scalar>> knots{coef};
    bool drop = false;
    std::vector<char> just_dropped(p, 0);
    for (std::size_t iteration = 0; iteration < max_iter;) {
        const Eigen::VectorX<Scalar> c = Xy - G * coef;  // current correlations
        // C: the largest correlation of a candidate to join; right after a drop nobody joins and
        // C is the common correlation of the active set (sklearn: the dropped predictor's own).
        Scalar C = 0.0;
        std::size_t best = p;
        for (std::size_t j = 0; j < p; ++j) {
            const bool candidate = drop ? (is_active[j] != 0 || (active.empty() && !excluded[j])) : (!is_active[j] && !excluded[j]);
            if (candidate && std::abs(c[static_cast<Eigen::Index>(j)]) > C) {
                C = std::abs(c[static_cast<Eigen::Index>(j)]);
                best = j;
            }
        }
        if (C / n_samples <= tolerance || best == p) break;
        if (!drop) {
            if (active.size() >= p) break;
            // Would the new predictor make the active Gram matrix singular?
            std::vector<std::size_t> trial = active;
            trial.push_back(best);
            Eigen::MatrixX<Scalar> Ga(trial.size(), trial.size());
            for (std::size_t a = 0; a < trial.size(); ++a)
                for (std::size_t b = 0; b < trial.size(); ++b)
                    Ga(static_cast<Eigen::Index>(a), static_cast<Eigen::Index>(b)) =
                        G(static_cast<Eigen::Index>(trial[a]), static_cast<Eigen::Index>(trial[b]));
            const Eigen::LDLT<Eigen::MatrixX<Scalar>> ldlt(Ga);
            if (ldlt.vectorD().minCoeff() <= 1e-14 * std::max(1.0, Ga.diagonal().maxCoeff())) {
                excluded[best] = 1;
                continue;
            }
            active.push_back(best);
            is_active[best] = 1;
            sign.push_back(c[static_cast<Eigen::Index>(best)] > 0 ? 1.0 : -1.0);
        }
        const std::size_t k = active.size();
        Eigen::MatrixX<Scalar> Ga(k, k);
        Eigen::VectorX<Scalar> s(k);
        for (std::size_t a = 0; a < k; ++a) {
            s[static_cast<Eigen::Index>(a)] = sign[a];
            for (std::size_t b = 0; b < k; ++b)
                Ga(static_cast<Eigen::Index>(a), static_cast<Eigen::Index>(b)) =
                    G(static_cast<Eigen::Index>(active[a]), static_cast<Eigen::Index>(active[b]));
        }
        Eigen::VectorX<Scalar> direction = Ga.ldlt().solve(s);
        const Scalar AA = 1.0 / std::sqrt(std::max(direction.dot(s), tiny));
        direction *= AA;
        // step until an inactive predictor ties (g1, g2) or the full least-squares step (C/AA)
        Scalar gamma = C / AA;
        for (std::size_t j = 0; j < p; ++j) {
            if (is_active[j] || excluded[j] || just_dropped[j]) continue;  // a dropped one ties at 0
            Scalar a_j = 0.0;
            for (std::size_t a = 0; a < k; ++a)
                a_j += G(static_cast<Eigen::Index>(j), static_cast<Eigen::Index>(active[a])) * direction[static_cast<Eigen::Index>(a)];
            const Scalar cj = c[static_cast<Eigen::Index>(j)];
            const Scalar g1 = (C - cj) / (AA - a_j + tiny), g2 = (C + cj) / (AA + a_j + tiny);
            if (g1 > 0.0) gamma = std::min(gamma, g1);
            if (g2 > 0.0) gamma = std::min(gamma, g2);
        }
        // lasso modification: an active coefficient reaching zero leaves the active set
        Eigen::VectorX<Scalar> z(k);
        for (std::size_t a = 0; a < k; ++a)
            z[static_cast<Eigen::Index>(a)] = -coef[static_cast<Eigen::Index>(active[a])] / (direction[static_cast<Eigen::Index>(a)] + tiny);
        const Scalar z_pos = min_positive(z);
        drop = z_pos < gamma;
        if (drop) gamma = z_pos;
        for (std::size_t a = 0; a < k; ++a) coef[static_cast<Eigen::Index>(active[a])] += gamma * direction[static_cast<Eigen::Index>(a)];
        ++iteration;
        std::fill(just_dropped.begin(), just_dropped.end(), 0);
        if (drop) {
            std::vector<std::size_t> kept;
            std::vector<Scalar> kept_sign;
            for (std::size_t a = 0; a < k; ++a) {
                if (z[static_cast<Eigen::Index>(a)] == z_pos) {
                    coef[static_cast<Eigen::Index>(active[a])] = 0.0;
                    is_active[active[a]] = 0;
                    just_dropped[active[a]] = 1;
                } else {
                    kept.push_back(active[a]);
                    kept_sign.push_back(sign[a]);
                }
            }
            active = std::move(kept);
            sign = std::move(kept_sign);
        }
        knots.push_back(coef);
    }
    Eigen::MatrixX<Scalar> path(static_cast<Eigen::Index>(p), static_cast<Eigen::Index>(knots.size()));
    for (std::size_t t = 0; t < knots.size(); ++t) path.col(static_cast<Eigen::Index>(t)) = knots[t];
    return path;
}

template <class Scalar>
std::vector<std::size_t> highest_weights(const Eigen::MatrixX<Scalar>& X, const RegressionVector<Scalar>& y,
                                         const RegressionVector<Scalar>& w, std::size_t num_features) {
    const WeightedLinearFit<Scalar> fit = weighted_ridge<Scalar>(X, y, w, 0.01);
    const Eigen::VectorX<Scalar> x0 = X.row(0).transpose();  // lime: coef * data[0]
    std::vector<std::size_t> order(static_cast<std::size_t>(X.cols()));
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
        return std::abs(fit.coef[static_cast<Eigen::Index>(a)] * x0[static_cast<Eigen::Index>(a)]) >
               std::abs(fit.coef[static_cast<Eigen::Index>(b)] * x0[static_cast<Eigen::Index>(b)]);
    });
    order.resize(std::min(num_features, order.size()));
    return order;
}

template <class Scalar>
std::vector<std::size_t> forward_selection(const Eigen::MatrixX<Scalar>& X, const RegressionVector<Scalar>& y,
                                           const RegressionVector<Scalar>& w, std::size_t num_features) {
    // Every candidate fit is an unpenalised weighted least-squares fit with intercept on a subset
    // S of columns; on the weighted-centred data it is β_S = G_SS⁺ b_S with G = X_sᵀX_s, b = X_sᵀy_s,
    // and its residual sum of squares is Σπ(y−ȳ)² − b_Sᵀβ_S, so one Gram matrix serves all fits.
    const CentredData<Scalar> d = centre_weighted<Scalar>(X, y, w);
    const Eigen::MatrixX<Scalar> G = d.Xs.transpose() * d.Xs;
    const Eigen::VectorX<Scalar> b = d.Xs.transpose() * d.ys;
    const Scalar total = d.ys.squaredNorm();
    const auto p = static_cast<std::size_t>(X.cols());
    std::vector<std::size_t> used;
    std::vector<char> in_use(p, 0);
    for (std::size_t round = 0; round < std::min(num_features, p); ++round) {
        Scalar best_score = -100000000.0;  // lime's initial max_
        std::size_t best = 0;
        for (std::size_t f = 0; f < p; ++f) {
            if (in_use[f]) continue;
            std::vector<std::size_t> subset = used;
            subset.push_back(f);
            const auto k = static_cast<Eigen::Index>(subset.size());
            Eigen::MatrixX<Scalar> Gs(k, k);
            Eigen::VectorX<Scalar> bs(k);
            for (Eigen::Index i = 0; i < k; ++i) {
                bs[i] = b[static_cast<Eigen::Index>(subset[static_cast<std::size_t>(i)])];
                for (Eigen::Index j = 0; j < k; ++j)
                    Gs(i, j) = G(static_cast<Eigen::Index>(subset[static_cast<std::size_t>(i)]),
                                 static_cast<Eigen::Index>(subset[static_cast<std::size_t>(j)]));
            }
            const Eigen::VectorX<Scalar> beta = solve_normal_equations<Scalar>(Gs, bs, 0.0);
            const Scalar score = r2_from_sums(std::max<Scalar>(total - bs.dot(beta), 0.0), total);
            if (score > best_score) {
                best_score = score;
                best = f;
            }
        }
        used.push_back(best);
        in_use[best] = 1;
    }
    return used;
}

template <class Scalar>
std::vector<std::size_t> lasso_path_selection(const Eigen::MatrixX<Scalar>& X, const RegressionVector<Scalar>& y,
                                              const RegressionVector<Scalar>& w, std::size_t num_features) {
    const CentredData<Scalar> d = centre_weighted<Scalar>(X, y, w);
    const Eigen::MatrixX<Scalar> path = lars_lasso_path<Scalar>(d.Xs, d.ys);
    auto support = [&](Eigen::Index column) {
        std::vector<std::size_t> s;
        for (Eigen::Index j = 0; j < path.rows(); ++j)
            if (path(j, column) != 0.0) s.push_back(static_cast<std::size_t>(j));
        return s;
    };
    std::vector<std::size_t> nonzero(static_cast<std::size_t>(X.cols()));
    std::iota(nonzero.begin(), nonzero.end(), std::size_t{0});  // lime: range(n) if the path has one knot
    for (Eigen::Index t = path.cols() - 1; t > 0; --t) {
        nonzero = support(t);
        if (nonzero.size() <= num_features) break;
    }
    return nonzero;
}

/// The superpixels (columns of X) that enter the surrogate, by lime's method `method`; see the
/// header. `num_features` is the number requested (ignored by `none`).
template <class Scalar>
std::vector<std::size_t> select_features(const Eigen::MatrixX<Scalar>& X, const RegressionVector<Scalar>& y,
                                         const RegressionVector<Scalar>& w, std::size_t num_features,
                                         FeatureSelection method) {
    require_regression_data<Scalar>(X, y, w, "xai::detail::select_features()");
    switch (method) {
        case FeatureSelection::none: {
            std::vector<std::size_t> all(static_cast<std::size_t>(X.cols()));
            std::iota(all.begin(), all.end(), std::size_t{0});
            return all;
        }
        case FeatureSelection::highest_weights: return highest_weights<Scalar>(X, y, w, num_features);
        case FeatureSelection::forward_selection: return forward_selection<Scalar>(X, y, w, num_features);
        case FeatureSelection::lasso_path: return lasso_path_selection<Scalar>(X, y, w, num_features);
        case FeatureSelection::automatic:
            return num_features <= 6 ? forward_selection<Scalar>(X, y, w, num_features)
                                     : highest_weights<Scalar>(X, y, w, num_features);
    }
    return {};
}

}  // namespace xai::detail
