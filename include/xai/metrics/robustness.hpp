#pragma once
// Infidelity and max-sensitivity of explanations — Yeh, Hsieh, Suggala, Inouye, Ravikumar, "On
// the (In)fidelity and Sensitivity of Explanations", NeurIPS 2019, eq. 2 and 4 — computed as
// Captum does (captum.metrics.infidelity, sensitivity_max), with Captum's defaults.
//
//   infidelity_i = (1/K) Σ_k ( Σ_{c,p} I_kcp φ_p − (f(x) − f(x − I_k)) )²
//       I_k ~ N(0, σ²) per input value (Captum's documented perturbation, σ = 0.003), K = 10
//       samples (n_perturb_samples), f the target's logit, φ the H×W map applied to every
//       channel (Captum multiplies attributions of the input's shape; a map is the same for all
//       channels). Captum's normalize = False: the map is not rescaled. Lower is better; 0 for
//       a map that is exactly the gradient of a linear model.
//   max_sensitivity_i = max_k ‖φ(x + δ_k) − φ(x)‖₂ / ‖φ(x)‖₂
//       δ_k ~ U(−r, r) per input value (Captum's default_perturb_func, r = 0.02), K = 10; the
//       targets are those of x; when ‖φ(x)‖ = 0 the difference is not divided (as Captum).
//       Lower is better; it needs the explainer itself (or an explanation function), which is
//       run K + 1 times.
// Image i draws its noise from Rng::stream(seed, i): the same for any thread count or batch
// order. The perturbed inputs are scored or explained in batches of the K samples of one image.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "xai/core/concepts.hpp"
#include "xai/core/error.hpp"
#include "xai/core/random.hpp"
#include "xai/core/target.hpp"
#include "xai/core/tensor.hpp"
#include "xai/metrics/metric_inputs.hpp"

namespace xai {

/// Options of infidelity().
struct InfidelityOptions {
    std::size_t samples = 10;   ///< K perturbations per image (Captum's n_perturb_samples)
    double noise_std = 0.003;   ///< σ of the Gaussian perturbation (Captum's documented example)
    std::uint64_t seed = 0;     ///< image i draws from Rng::stream(seed, i)
};

/// Options of max_sensitivity().
struct SensitivityOptions {
    std::size_t samples = 10;  ///< K perturbed inputs per image (Captum's n_perturb_samples)
    double radius = 0.02;      ///< r of the uniform L∞ perturbation (Captum's perturb_radius)
    std::uint64_t seed = 0;    ///< image i draws from Rng::stream(seed, i)
};

/// A robustness metric's value per image and their mean.
struct RobustnessResult {
    std::vector<double> values;         ///< per image
    double mean = 0.0;                  ///< (1/N) Σ values
    std::vector<std::size_t> targets;   ///< the class explained for each image
};

namespace detail {

inline void require_samples(std::size_t samples, double scale, const char* scale_name, const char* where) {
    require(samples > 0, where, ": options.samples is 0, expected at least 1 perturbation");
    require(std::isfinite(scale) && scale > 0.0, where, ": options.", scale_name, " is ", scale,
            ", expected a finite value > 0");
}

inline RobustnessResult finish_robustness(std::vector<double> values, std::vector<std::size_t> targets) {
    RobustnessResult r;
    for (double v : values) r.mean += v;
    r.mean /= static_cast<double>(values.size());
    r.values = std::move(values);
    r.targets = std::move(targets);
    return r;
}

}  // namespace detail

/// Infidelity (Yeh et al. 2019; see the header comment) of an explainer's maps, precomputed
/// maps (N×H×W, at the images' size) or an explanation function's. One forward pass of K
/// perturbed copies per image.
template <Classifier M, MapSource S>
RobustnessResult infidelity(const M& model, const Batch& images, const S& maps, const Targets& targets = {},
                            const InfidelityOptions& options = {}) {
    constexpr const char* where = "xai::infidelity()";
    detail::require_samples(options.samples, options.noise_std, "noise_std", where);
    detail::require_metric_images(model, images, where);
    std::vector<std::size_t> resolved = detail::resolve_metric_targets(model, images, targets, where);
    const Maps phi = detail::obtain_maps(maps, images, resolved, where);
    const Scores logits = detail::checked_forward(model, images, where);
    const std::size_t n = images.shape(0), c = images.shape(1), plane = images.shape(2) * images.shape(3);
    const std::size_t size = c * plane, k = options.samples;
    std::vector<double> values(n);
    for (std::size_t i = 0; i < n; ++i) {
        Rng rng = Rng::stream(options.seed, i);
        Batch perturbed = Batch::from_shape({k, c, images.shape(2), images.shape(3)});
        std::vector<double> explained(k, 0.0);  // Σ I φ per sample
        const float* x = images.data() + i * size;
        const float* map = phi.data() + i * plane;
        for (std::size_t s = 0; s < k; ++s)
            for (std::size_t v = 0; v < size; ++v) {
                const double noise = options.noise_std * rng.normal();
                perturbed.data()[s * size + v] = static_cast<float>(x[v] - noise);
                explained[s] += noise * map[v % plane];
            }
        const Scores f = detail::checked_forward(model, perturbed, where);
        const double fx = logits(i, resolved[i]);
        double sum = 0.0;
        for (std::size_t s = 0; s < k; ++s) {
            const double residual = explained[s] - (fx - f(s, resolved[i]));
            sum += residual * residual;
        }
        values[i] = sum / static_cast<double>(k);
    }
    return detail::finish_robustness(std::move(values), std::move(resolved));
}

/// Max-sensitivity (Yeh et al. 2019; see the header comment) of an explainer or an explanation
/// function: it is run on x and on K perturbed copies of each image (the targets of x).
template <Classifier M, MapSource S>
    requires(!std::same_as<S, Maps>)
RobustnessResult max_sensitivity(const M& model, const Batch& images, const S& explain, const Targets& targets = {},
                                 const SensitivityOptions& options = {}) {
    constexpr const char* where = "xai::max_sensitivity()";
    detail::require_samples(options.samples, options.radius, "radius", where);
    detail::require_metric_images(model, images, where);
    std::vector<std::size_t> resolved = detail::resolve_metric_targets(model, images, targets, where);
    const Maps phi = detail::obtain_maps(explain, images, resolved, where);
    const std::size_t n = images.shape(0), c = images.shape(1), plane = images.shape(2) * images.shape(3);
    const std::size_t size = c * plane, k = options.samples;
    std::vector<double> values(n);
    for (std::size_t i = 0; i < n; ++i) {
        Rng rng = Rng::stream(options.seed, i);
        Batch perturbed = Batch::from_shape({k, c, images.shape(2), images.shape(3)});
        const float* x = images.data() + i * size;
        for (std::size_t s = 0; s < k; ++s)
            for (std::size_t v = 0; v < size; ++v)
                perturbed.data()[s * size + v] = static_cast<float>(x[v] + rng.uniform(-options.radius, options.radius));
        const Maps moved = detail::obtain_maps(explain, perturbed, std::vector<std::size_t>(k, resolved[i]), where);
        const float* base = phi.data() + i * plane;
        double base_norm = 0.0;
        for (std::size_t p = 0; p < plane; ++p) base_norm += static_cast<double>(base[p]) * base[p];
        base_norm = std::sqrt(base_norm);
        double worst = 0.0;
        for (std::size_t s = 0; s < k; ++s) {
            double d = 0.0;
            for (std::size_t p = 0; p < plane; ++p) {
                const double diff = static_cast<double>(moved.data()[s * plane + p]) - base[p];
                d += diff * diff;
            }
            worst = std::max(worst, std::sqrt(d));
        }
        values[i] = base_norm > 0.0 ? worst / base_norm : worst;
    }
    return detail::finish_robustness(std::move(values), std::move(resolved));
}

}  // namespace xai
