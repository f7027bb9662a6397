#pragma once
// KernelSHAP — Lundberg & Lee, "A Unified Approach to Interpreting Model Predictions", NeurIPS
// 2017, Theorem 2 (the shap package's KernelExplainer), over superpixels (the players and their
// values: explain/shapley/explanation.hpp).
//
// The Shapley values are the solution of a weighted linear regression of the coalition values on
// the coalitions z ∈ {0,1}^d, with the Shapley kernel
//   π(z) = (d − 1) / (C(d, |z|) · |z| · (d − |z|)),
// infinite for the empty and the full coalition, which therefore become constraints:
// φ_0 = v(∅) and Σ_i φ_i = v(N) − v(∅) (efficiency). As shap does, the constraint eliminates the
// last player, φ_d = Δ − Σ_{i<d} φ_i with Δ = v(N) − v(∅), leaving the weighted least squares
//   min Σ_z π(z) (v(z) − v(∅) − z_d Δ − Σ_{i<d} (z_i − z_d) φ_i)²,
// solved here by a complete orthogonal decomposition of the weighted normal equations.
//
// Coalitions: when the budget allows all 2^d − 2 proper coalitions they are enumerated with their
// kernel weights, and the result is the exact Shapley values (up to rounding); otherwise
// num_samples − 2 coalitions are sampled from the kernel — a size k ∈ [1, d − 1] with probability
// ∝ (d − 1)/(k(d − k)), then a uniform subset of that size — each with weight 1, in antithetic
// pairs (z and its complement, as shap's paired sampling). Pair j draws from Rng::stream(seed, j).
// The default budget is shap's nsamples="auto", 2d + 2048.

#include <algorithm>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <numeric>
#include <utility>
#include <vector>

#include "xai/core/eigen.hpp"  // first: silences GCC 12's false AVX-512 warnings inside Eigen
#include "xai/core/concepts.hpp"
#include "xai/core/error.hpp"
#include "xai/core/explainer.hpp"
#include "xai/core/progress.hpp"
#include "xai/core/random.hpp"
#include "xai/core/scores.hpp"
#include "xai/core/target.hpp"
#include "xai/core/tensor.hpp"
#include "xai/explain/shapley/explanation.hpp"
#include "xai/image/baseline.hpp"
#include "xai/image/quickshift.hpp"
#include "xai/image/superpixels.hpp"

#include <Eigen/QR>

namespace xai {

/// Options of KernelShap; the defaults are shap's KernelExplainer and LIME's (superpixels, baseline, score).
struct KernelShapOptions {
    std::size_t num_samples = 0;                ///< coalitions scored per image; 0 = shap's "auto", 2d + 2048
    Baseline baseline = Baseline::segment_mean();  ///< what "off" superpixels show (LIME's hide_color=None)
    ScoreKind score = ScoreKind::probability;   ///< v: the class probability, as LIME
    std::uint64_t seed = 0;                     ///< pair j of sampled coalitions uses Rng::stream(seed, j)
    std::size_t batch_size = 100;               ///< coalitions per model call
    std::size_t threads = 0;                    ///< model calls in flight at once (0 = all cores)
};

/// KernelSHAP over superpixels (see the header comment) on any black-box Classifier; `Segmenter`
/// is the superpixel policy (quick shift by default, as LIME). Holds a reference to the model,
/// which must outlive it; explain() is const and thread-safe.
template <Classifier Model, SegmentationAlgorithm Segmenter = Quickshift>
class KernelShap {
public:
    /// The options type.
    using Options = KernelShapOptions;

    /// The explainer keeps a reference to the model: a temporary would dangle.
    KernelShap(const Model&&, Options = {}, Segmenter = {}) = delete;
    /// Explains `model` with superpixels from `segmenter`; invalid_argument for num_samples 1 or
    /// 2 (0 is automatic) or batch_size 0.
    explicit KernelShap(const Model& model, Options options = {}, Segmenter segmenter = {})
        : model_(model), options_(std::move(options)), segmenter_(std::move(segmenter)) {
        detail::require(options_.num_samples == 0 || options_.num_samples >= 3, Where::constructor, ": num_samples is ",
                        options_.num_samples, ", expected 0 (automatic) or at least 3");
        detail::require(options_.batch_size >= 1, Where::constructor, ": batch_size is 0, expected at least 1");
    }

    /// The options the explainer was built with.
    const Options& options() const { return options_; }

    /// The Shapley values of each image's superpixels for its target (empty targets: the
    /// predicted class). `progress` counts images.
    template <std::same_as<Batch> B>
    ShapleyExplanation explain(const B& images, const Targets& targets = {}, const Progress& progress = {}) const {
        return detail::shapley_explain(model_, images, targets, segmenter_, options_.baseline, options_.score,
                                       options_.batch_size, options_.threads, *this, progress, Where::explain);
    }

    /// Explains one image (C×H×W) for `target`: explain() on a batch of one.
    template <std::same_as<Image> I>
    ShapleyExplanation explain(const I& image, Target target = Target::predicted(), const Progress& progress = {}) const {
        return explain(detail::single_image_batch(image, Where::explain), Targets{target}, progress);
    }

    /// The coalitions for d players: all on, all off, then every proper coalition (when the
    /// budget allows) or sampled antithetic pairs. Used by the driver.
    detail::ShapleyPlan plan(std::size_t d) const {
        const std::size_t budget = options_.num_samples == 0 ? 2 * d + 2048 : options_.num_samples;
        detail::ShapleyPlan p;
        const auto add = [&](auto&& bit) {
            for (std::size_t s = 0; s < d; ++s) p.on.push_back(static_cast<std::uint8_t>(bit(s)));
            ++p.rows;
        };
        add([](std::size_t) { return 1; });
        add([](std::size_t) { return 0; });
        if (d <= 1) return p;
        if (enumerates(d, budget)) {
            for (std::uint64_t mask = 1; mask + 1 < (std::uint64_t{1} << d); ++mask)
                add([mask](std::size_t s) { return (mask >> s) & 1U; });
            return p;
        }
        // Sizes k = 1 … d−1 with probability ∝ 1/(k(d − k)): the kernel's total weight of each size.
        std::vector<double> cumulative(d - 1);
        double total = 0.0;
        for (std::size_t k = 1; k < d; ++k) {
            total += 1.0 / static_cast<double>(k * (d - k));
            cumulative[k - 1] = total;
        }
        std::vector<std::size_t> order(d);
        for (std::size_t pair = 0; p.rows + 2 <= budget; ++pair) {
            Rng rng = Rng::stream(options_.seed, pair);
            const double u = rng.uniform() * total;
            const std::size_t k = static_cast<std::size_t>(std::upper_bound(cumulative.begin(), cumulative.end(), u) -
                                                           cumulative.begin()) + 1;
            std::iota(order.begin(), order.end(), std::size_t{0});
            for (std::size_t j = 0; j < k; ++j)  // partial Fisher–Yates: the first k of a random order
                std::swap(order[j], order[j + static_cast<std::size_t>(rng.uniform_index(d - j))]);
            std::vector<std::uint8_t> in(d, 0);
            for (std::size_t j = 0; j < std::min(k, d - 1); ++j) in[order[j]] = 1;
            add([&](std::size_t s) { return in[s]; });
            add([&](std::size_t s) { return 1 - in[s]; });
        }
        return p;
    }

    /// φ from the values v of the plan's coalitions (see the header comment). Used by the driver.
    std::vector<double> values(std::size_t d, const detail::ShapleyPlan& p, const std::vector<double>& v) const {
        const double empty = v[1], delta = v[0] - v[1];
        if (d == 1) return {delta};
        const bool exact = enumerates(d, options_.num_samples == 0 ? 2 * d + 2048 : options_.num_samples);
        const auto m = static_cast<Eigen::Index>(d - 1);
        Eigen::MatrixXd normal = Eigen::MatrixXd::Zero(m, m);
        Eigen::VectorXd rhs = Eigen::VectorXd::Zero(m);
        Eigen::VectorXd x(m);
        for (std::size_t r = 2; r < p.rows; ++r) {
            const std::uint8_t* z = p.on.data() + r * d;
            std::size_t size = 0;
            for (std::size_t s = 0; s < d; ++s) size += z[s];
            const double weight = exact ? kernel(d, size) : 1.0;
            const double last = z[d - 1];
            for (Eigen::Index s = 0; s < m; ++s) x[s] = static_cast<double>(z[s]) - last;
            const double y = v[r] - empty - last * delta;
            normal.noalias() += weight * x * x.transpose();
            rhs.noalias() += weight * y * x;
        }
        const Eigen::VectorXd phi = normal.completeOrthogonalDecomposition().solve(rhs);
        std::vector<double> out(d);
        double sum = 0.0;
        for (Eigen::Index s = 0; s < m; ++s) {
            out[static_cast<std::size_t>(s)] = phi[s];
            sum += phi[s];
        }
        out[d - 1] = delta - sum;
        return out;
    }

private:
    struct Where {
        static constexpr const char* constructor = "xai::KernelShap::KernelShap()";
        static constexpr const char* explain = "xai::KernelShap::explain()";
    };

    /// Whether every proper coalition of d players fits in the budget (and 2^d is representable).
    static bool enumerates(std::size_t d, std::size_t budget) {
        return d < 31 && (std::size_t{1} << d) <= budget;
    }

    /// The Shapley kernel of a coalition of `size` among d players: (d − 1)/(C(d, size)·size·(d − size)).
    static double kernel(std::size_t d, std::size_t size) {
        double binomial = 1.0;
        for (std::size_t j = 1; j <= size; ++j) binomial = binomial * static_cast<double>(d - size + j) / static_cast<double>(j);
        return static_cast<double>(d - 1) / (binomial * static_cast<double>(size) * static_cast<double>(d - size));
    }

    const Model& model_;
    Options options_;
    Segmenter segmenter_;
};

}  // namespace xai
