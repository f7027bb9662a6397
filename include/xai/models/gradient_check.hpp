#pragma once
// A numerical gradient checker for any model (in the spirit of dlib's test_layer): run it on
// your own model before explaining it, since every gradient method (Grad-CAM and its family,
// input saliency, I_pert) is only as right as the model's backward pass.
//
//   check_input_gradients(model, batch, options)         any InputGradientModel
//   check_layer_gradients(model, batch, layer, options)  any LayerGradientModel that is also a
//                                                        LayerForwardModel (it needs forward_from)
//
// Each returns a GradientCheckReport (largest absolute and relative error, the worst probe and
// coordinate, the probes left out at kinks, passed or not) and never asserts; only bad
// arguments throw.
//
// What is checked. With fixed weights w (N×K, drawn from N(0, 1) by the seed) the scalar
//   f(x) = Σ_i Σ_k w_ik · z_ik(x),     z = the logits, x = the batch (or a layer's activations)
// has the gradient the model returns when its ScoreSeed returns w: input_gradients(batch, seed)
// (layer_gradients(batch, layer, seed)) must equal ∇f. Each probe compares the directional
// derivative along a direction d with the central difference
//   (f(x + h d) − f(x − h d)) / 2h  =  ∇f(x)ᵀd + (h²/6) ∇³f(x)[d, d, d] + O(h⁴),
// computed from forward() (forward_from() for a layer), or from logits() (logits_from()) when
// the model offers them in its own precision, as BasicSequential<double> does. The directions
// are random (every coordinate at once, d_j ~ N(0, 1): a wrong term anywhere shows) or single
// coordinates drawn without replacement (GradientProbe::coordinates: locates the wrong entry,
// reported as worst_coordinate).
//
// Errors of the numeric side, and how to choose the step h:
//  - truncation, O(h²) (the third derivative above);
//  - rounding of the logits, about ε·|f|/h with ε the precision the logits are computed in
//    (2^-24 ≈ 6e-8 for float, 2^-53 ≈ 1e-16 for double). The two balance near h ≈ ε^(1/3):
//    float models need a larger step (the default 3e-3, agreement to about 1e-3, so the default
//    tolerance is 1e-2) than double ones (step 1e-5: agreement to about 1e-6, limited by the
//    gradients themselves, which the concepts return as float tensors);
//  - kinks: ReLU and max pooling are not differentiable where a pre-activation is 0 or a pooling
//    window ties (a ReLU's zeros feeding a max pool tie); a step that crosses one mixes two
//    slopes. Each probe also evaluates f(x), and where the one-sided residuals
//    f(x + h d) − f(x) − ∇fᵀδ₊ and f(x) − f(x − h d) − ∇fᵀδ₋ differ by more than the tolerance
//    allows, a kink lies within the step: the probe is left out and counted in `kinks` (on a
//    smooth stretch they differ by O(h²) and rounding; a wrong gradient errs equally on both
//    sides, so it is not mistaken for a kink). Many kinks: lower the step, or probe single
//    coordinates (a direction moves every coordinate, and in a deep ReLU network almost every
//    direction crosses a kink). A deep float network is best checked in double precision
//    (BasicSequential<double>, or your model's double build).
// Inputs and activations are float tensors, so x ± h d is rounded to float; the analytic side
// uses the steps actually taken, δ₊ = fl(x + h d) − x and δ₋ = x − fl(x − h d), in
// ∇fᵀ(δ₊ + δ₋) / 2h, so that rounding adds no error. A step too small to move any coordinate is
// refused.
//
// The relative error of a probe is |analytic − numeric| / max(|analytic|, |numeric|, floor·s),
// s the root mean square of the probes' analytic derivatives: the floor keeps a probe whose
// derivative happens to be small (or zero) from being judged by its own tiny value, whatever
// the scale of the model's scores. A wrong gradient (a factor of 2, a transposed weight, a
// missing term) gives relative errors of 0.1 to 1; a right one gives the numeric error above.
// A non-finite value fails the probe (error +∞).
//
// Errors are prefixed "xai::models::check_input_gradients(): " or "…check_layer_gradients(): ".

#include <algorithm>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <numeric>
#include <optional>
#include <string>
#include <vector>

#include "xai/core/concepts.hpp"
#include "xai/core/error.hpp"
#include "xai/core/random.hpp"
#include "xai/core/tensor.hpp"

namespace xai::models {

/// How check_input_gradients() and check_layer_gradients() probe the gradient.
enum class GradientProbe {
    directions,   ///< random directions, d_j ~ N(0, 1) on every coordinate at once
    coordinates,  ///< single coordinates drawn at random without replacement
};

/// Options of the gradient checks. The defaults suit a model that computes in float; for one
/// that computes in double (with logits() in its own precision) use e.g. step 1e-5 and
/// tolerance 1e-5 (see the header comment).
struct GradientCheckOptions {
    /// h of the central difference, in the units of the input (or of the layer's activations):
    /// about the cube root of float's precision.
    double step = 3e-3;
    /// How many directions or coordinates to probe (coordinates: at most all of them).
    std::size_t probes = 16;
    /// Random directions (every coordinate at once) or single coordinates.
    GradientProbe probe = GradientProbe::directions;
    /// Seed of the logit weights w, the directions and the coordinates.
    std::uint64_t seed = 0;
    /// The check passes when every usable probe's relative error is at most this; it also
    /// decides which probes straddle a kink.
    double tolerance = 1e-2;
    /// Smallest denominator of a relative error, as a fraction of the root mean square of the
    /// probes' analytic derivatives: max(|analytic|, |numeric|, floor · RMS).
    double floor = 0.1;
};

/// What a gradient check found. Errors are over the usable probes (those without a kink within
/// the step); "worst" is the usable probe of the largest relative error.
struct GradientCheckReport {
    double max_abs_error = 0.0;       ///< largest |analytic − numeric|
    double max_relative_error = 0.0;  ///< largest |analytic − numeric| / max(|analytic|, |numeric|, floor · RMS)
    std::size_t worst_probe = 0;      ///< index of the worst probe (0-based)
    /// The worst probe's coordinate, a flat row-major index into the batch (or the activations),
    /// for GradientProbe::coordinates; empty for random directions.
    std::optional<std::size_t> worst_coordinate;
    double analytic = 0.0;            ///< the worst probe's directional derivative from the model's gradient
    double numeric = 0.0;             ///< the worst probe's central difference
    std::size_t probes = 0;           ///< probes run
    /// Probes left out because a kink (ReLU, max pooling) lay within the step: their one-sided
    /// differences disagreed by more than the tolerance. Many of them: lower the step.
    std::size_t kinks = 0;
    bool passed = false;              ///< at least one probe was usable and max_relative_error ≤ tolerance
};

namespace detail {

/// Options in range: invalid_argument naming `where` otherwise.
inline void require_gradient_check_options(const GradientCheckOptions& o, const char* where) {
    xai::detail::require(std::isfinite(o.step) && o.step > 0.0, where, ": step is ", o.step,
                         ", expected a finite value > 0");
    xai::detail::require(o.probes > 0, where, ": probes is 0, expected at least 1");
    xai::detail::require(std::isfinite(o.tolerance) && o.tolerance >= 0.0, where, ": tolerance is ", o.tolerance,
                         ", expected a finite value >= 0");
    xai::detail::require(std::isfinite(o.floor) && o.floor >= 0.0, where, ": floor is ", o.floor,
                         ", expected a finite value >= 0");
}

/// The fixed logit weights w of f(x) = Σ w_ik z_ik(x): N×K, N(0, 1), rounded to float (the
/// ScoreSeed's type), from stream (seed, 0).
inline Scores gradient_check_weights(std::size_t n, std::size_t k, std::uint64_t seed) {
    Scores w = Scores::from_shape({n, k});
    Rng rng = Rng::stream(seed, 0);
    for (float& v : w) v = static_cast<float>(rng.normal());
    return w;
}

/// The probes' coordinates for GradientProbe::coordinates: `count` distinct indices below
/// `size` (all of them, in order, when count ≥ size), from stream (seed, 1).
inline std::vector<std::size_t> gradient_check_coordinates(std::size_t size, std::size_t count, std::uint64_t seed) {
    std::vector<std::size_t> all(size);
    std::iota(all.begin(), all.end(), std::size_t{0});
    if (count >= size) return all;
    Rng rng = Rng::stream(seed, 1);
    for (std::size_t i = 0; i < count; ++i)  // a partial Fisher–Yates shuffle
        std::swap(all[i], all[i + static_cast<std::size_t>(rng.uniform_index(size - i))]);
    all.resize(count);
    return all;
}

/// The probes of one check (see the header comment). `point` is the batch or the activations
/// (N first), `gradient` the model's ∇f of the same shape, `logits(tensor)` the model's N×K
/// logits (double) at a copy of the point, `w` the weights that seeded the gradient.
template <class Tensor, class Logits>
GradientCheckReport run_gradient_check(const Tensor& point, const Tensor& gradient, const Scores& w, Logits&& logits,
                                       const GradientCheckOptions& options, const char* where) {
    const std::size_t size = point.size();
    const double h = options.step;
    GradientCheckReport report;
    std::vector<std::size_t> coordinates;
    if (options.probe == GradientProbe::coordinates) coordinates = gradient_check_coordinates(size, options.probes, options.seed);
    report.probes = options.probe == GradientProbe::coordinates ? coordinates.size() : options.probes;
    // f = Σ w_ik z_ik at a point, from the logits in double.
    auto f = [&](const Tensor& x) {
        const Eigen::MatrixXd z = logits(x);
        double sum = 0.0;
        for (Eigen::Index i = 0; i < z.rows(); ++i)
            for (Eigen::Index k = 0; k < z.cols(); ++k)
                sum += static_cast<double>(w(static_cast<std::size_t>(i), static_cast<std::size_t>(k))) * z(i, k);
        return sum;
    };
    const double f0 = f(point);
    std::vector<double> analytics, numerics, kink_sizes;
    for (std::size_t p = 0; p < report.probes; ++p) {
        Tensor plus = point, minus = point;
        double up = 0.0, down = 0.0;  // ∇fᵀδ₊ and ∇fᵀδ₋ for the steps actually made
        bool moved = false;
        // x ± h d, rounded to float: δ₊ = fl(x + h d) − x, δ₋ = x − fl(x − h d).
        auto step_along = [&](std::size_t j, double d) {
            const double x = static_cast<double>(point.data()[j]), g = static_cast<double>(gradient.data()[j]);
            plus.data()[j] = static_cast<float>(x + h * d);
            minus.data()[j] = static_cast<float>(x - h * d);
            const double delta_up = static_cast<double>(plus.data()[j]) - x;
            const double delta_down = x - static_cast<double>(minus.data()[j]);
            moved = moved || delta_up != 0.0 || delta_down != 0.0;
            up += g * delta_up;
            down += g * delta_down;
        };
        if (options.probe == GradientProbe::coordinates) {
            step_along(coordinates[p], 1.0);
        } else {
            Rng rng = Rng::stream(options.seed, 2 + p);
            for (std::size_t j = 0; j < size; ++j) step_along(j, rng.normal());
        }
        xai::detail::require(moved, where, ": step ", h, " is too small to change ",
                             options.probe == GradientProbe::coordinates ? "the probed coordinate" : "any coordinate",
                             " in float precision; use a larger step");
        const double f_plus = f(plus), f_minus = f(minus);
        analytics.push_back((up + down) / (2.0 * h));
        numerics.push_back((f_plus - f_minus) / (2.0 * h));
        // The two one-sided residuals agree on a smooth stretch (up to O(h) curvature and
        // rounding) and differ where a kink lies within the step.
        kink_sizes.push_back(std::abs((f_plus - f0 - up) - (f0 - f_minus - down)) / (2.0 * h));
    }
    // The floor is a fraction of the typical size of the probes' derivatives (their RMS), so
    // that a probe whose derivative happens to be small is not judged by its own tiny value.
    double mean_square = 0.0;
    for (double a : analytics) mean_square += a * a;
    const double scale = std::sqrt(mean_square / static_cast<double>(analytics.size()));
    bool first = true;
    for (std::size_t p = 0; p < report.probes; ++p) {
        const double analytic = analytics[p], numeric = numerics[p];
        const double denominator = std::max({std::abs(analytic), std::abs(numeric), options.floor * scale});
        double abs_error = std::abs(analytic - numeric);
        double relative = abs_error == 0.0 ? 0.0 : abs_error / denominator;
        if (!std::isfinite(analytic) || !std::isfinite(numeric) || !std::isfinite(relative)) {
            abs_error = relative = std::numeric_limits<double>::infinity();
        } else if (kink_sizes[p] > options.tolerance * denominator) {
            ++report.kinks;  // the central difference cannot be trusted to the tolerance here
            continue;
        }
        report.max_abs_error = std::max(report.max_abs_error, abs_error);
        if (first || relative > report.max_relative_error) {
            first = false;
            report.max_relative_error = relative;
            report.worst_probe = p;
            report.worst_coordinate = options.probe == GradientProbe::coordinates
                                          ? std::optional<std::size_t>(coordinates[p])
                                          : std::nullopt;
            report.analytic = analytic;
            report.numeric = numeric;
        }
    }
    report.passed = report.kinks < report.probes && report.max_relative_error <= options.tolerance;
    return report;
}

/// The logits as an N×K double matrix, checked against the expected shape and finiteness.
inline Eigen::MatrixXd checked_logits(const Scores& scores, std::size_t n, std::size_t k, const char* where) {
    xai::detail::require_model_scores(scores, n, k, where);
    Eigen::MatrixXd out(static_cast<Eigen::Index>(n), static_cast<Eigen::Index>(k));
    for (std::size_t i = 0; i < n; ++i)
        for (std::size_t j = 0; j < k; ++j) out(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(j)) = scores(i, j);
    return out;
}

/// The model's own-precision logits when it has them, as N×K doubles, checked.
inline Eigen::MatrixXd checked_logits(const Eigen::MatrixXd& logits, std::size_t n, std::size_t k, const char* where) {
    if (logits.rows() != static_cast<Eigen::Index>(n) || logits.cols() != static_cast<Eigen::Index>(k))
        throw model_error(xai::detail::message(where, ": the model returned logits of shape [", logits.rows(), ", ",
                                               logits.cols(), "], expected [", n, ", ", k, "]"));
    if (!logits.allFinite()) throw model_error(xai::detail::message(where, ": the model returned NaN or Inf logits"));
    return logits;
}

/// model_error unless the gradient has the shape of the point it was taken at.
template <class Tensor, class Gradient>
void require_gradient_shape(const Tensor& point, const Gradient& gradient, const char* what, const char* where) {
    const bool same = gradient.dimension() == point.dimension() &&
                      std::equal(point.shape().begin(), point.shape().end(), gradient.shape().begin());
    if (!same)
        throw model_error(xai::detail::message(where, ": the model's gradients have shape ", shape_string(gradient.shape()),
                                               ", expected the shape of the ", what, " ", shape_string(point.shape())));
}

}  // namespace detail

/// Checks model.input_gradients() against central differences of the logits (logits() when the
/// model has them in its own precision, else forward()) at `batch` (see the header comment).
/// invalid_argument or shape_error for a bad batch or bad options; model_error when the model
/// returns shapes other than promised. A wrong gradient is reported, not thrown.
template <InputGradientModel M>
GradientCheckReport check_input_gradients(const M& model, const Batch& batch, const GradientCheckOptions& options = {}) {
    constexpr const char* where = "xai::models::check_input_gradients()";
    detail::require_gradient_check_options(options, where);
    xai::detail::require_model_input(model, batch, where);
    const std::size_t n = batch.shape(0), k = model.num_classes();
    const Scores w = detail::gradient_check_weights(n, k, options.seed);
    const InputGradients g = model.input_gradients(batch, [&w](const Scores&) { return w; });
    detail::require_gradient_shape(batch, g.gradients, "batch", where);
    auto logits = [&](const Batch& x) {
        if constexpr (requires { { model.logits(x) } -> std::convertible_to<Eigen::MatrixXd>; })
            return detail::checked_logits(Eigen::MatrixXd(model.logits(x)), n, k, where);
        else
            return detail::checked_logits(model.forward(x), n, k, where);
    };
    return detail::run_gradient_check(batch, g.gradients, w, logits, options, where);
}

/// Checks model.layer_gradients(batch, layer, ·) against central differences of the logits
/// continued from the layer's activations (logits_from() when the model has it in its own
/// precision, else forward_from()), at the activations `batch` gives (see the header comment).
/// invalid_argument or shape_error for a bad batch or bad options (and whatever the model throws
/// for an unknown layer); model_error when the model returns shapes other than promised. A
/// wrong gradient is reported, not thrown.
template <class M>
    requires LayerGradientModel<M> && LayerForwardModel<M>
GradientCheckReport check_layer_gradients(const M& model, const Batch& batch, const std::string& layer,
                                          const GradientCheckOptions& options = {}) {
    constexpr const char* where = "xai::models::check_layer_gradients()";
    detail::require_gradient_check_options(options, where);
    xai::detail::require_model_input(model, batch, where);
    const std::size_t n = batch.shape(0), k = model.num_classes();
    const Scores w = detail::gradient_check_weights(n, k, options.seed);
    const LayerGradients g = model.layer_gradients(batch, layer, [&w](const Scores&) { return w; });
    xai::detail::require<model_error>(g.activations.dimension() >= 1 && g.activations.size() > 0 &&
                                          g.activations.shape(0) == n,
                                      where, ": the model's activations of layer '", layer, "' have shape ",
                                      shape_string(g.activations.shape()), ", expected ", n, " images first");
    detail::require_gradient_shape(g.activations, g.gradients, "activations", where);
    auto logits = [&](const Activations& a) {
        if constexpr (requires { { model.logits_from(layer, a) } -> std::convertible_to<Eigen::MatrixXd>; })
            return detail::checked_logits(Eigen::MatrixXd(model.logits_from(layer, a)), n, k, where);
        else
            return detail::checked_logits(model.forward_from(layer, a), n, k, where);
    };
    return detail::run_gradient_check(g.activations, g.gradients, w, logits, options, where);
}

}  // namespace xai::models
