#pragma once
// Shapley value sampling — Castro, Gómez & Tejada, "Polynomial calculation of the Shapley value
// based on sampling", Computers & Operations Research 36(5), 2009 (Captum's
// ShapleyValueSampling), over superpixels (the players and their values:
// explain/shapley/explanation.hpp).
//
// For m random orders π of the d superpixels, each superpixel's marginal contribution
// v(Pre_π(i) ∪ {i}) − v(Pre_π(i)) when it joins the players before it, averaged:
//   φ_i ≈ (1/m) Σ_π (v(Pre_π(i) ∪ {i}) − v(Pre_π(i))),
// an unbiased estimate of the Shapley value whose error falls as 1/√m. Every order's
// contributions telescope to v(N) − v(∅), so efficiency holds exactly for any m. Cost: d − 1
// coalitions per order (the empty and the full coalition are shared), plus those two.
// m = 25 orders by default (Captum's n_samples=25); order j is drawn from Rng::stream(seed, j).

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <numeric>
#include <utility>
#include <vector>

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

namespace xai {

/// Options of ShapleySampling; the defaults are Captum's (orders) and LIME's (superpixels, baseline, score).
struct ShapleySamplingOptions {
    std::size_t permutations = 25;                 ///< m, random orders per image (Captum's n_samples)
    Baseline baseline = Baseline::segment_mean();  ///< what "off" superpixels show (LIME's hide_color=None)
    ScoreKind score = ScoreKind::probability;      ///< v: the class probability, as LIME
    std::uint64_t seed = 0;                        ///< order j uses Rng::stream(seed, j)
    std::size_t batch_size = 100;                  ///< coalitions per model call
    std::size_t threads = 0;                       ///< model calls in flight at once (0 = all cores)
};

/// Shapley value sampling over superpixels (see the header comment) on any black-box Classifier,
/// with the interface of KernelShap. Holds a reference to the model, which must outlive it;
/// explain() is const and thread-safe.
template <Classifier Model, SegmentationAlgorithm Segmenter = Quickshift>
class ShapleySampling {
public:
    /// The options type.
    using Options = ShapleySamplingOptions;

    /// The explainer keeps a reference to the model: a temporary would dangle.
    ShapleySampling(const Model&&, Options = {}, Segmenter = {}) = delete;
    /// Explains `model` with superpixels from `segmenter`; invalid_argument for 0 permutations or
    /// batch_size 0.
    explicit ShapleySampling(const Model& model, Options options = {}, Segmenter segmenter = {})
        : model_(model), options_(std::move(options)), segmenter_(std::move(segmenter)) {
        detail::require(options_.permutations >= 1, Where::constructor, ": permutations is 0, expected at least 1");
        detail::require(options_.batch_size >= 1, Where::constructor, ": batch_size is 0, expected at least 1");
    }

    /// The options the explainer was built with.
    const Options& options() const { return options_; }

    /// The estimated Shapley values of each image's superpixels for its target (empty targets:
    /// the predicted class). `progress` counts images.
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

    /// The coalitions: all on, all off, then the d − 1 proper prefixes of every order. Used by
    /// the driver.
    detail::ShapleyPlan plan(std::size_t d) const {
        detail::ShapleyPlan p;
        p.rows = 2 + options_.permutations * (d > 0 ? d - 1 : 0);
        p.on.assign(p.rows * d, 0);
        std::fill(p.on.begin(), p.on.begin() + static_cast<std::ptrdiff_t>(d), std::uint8_t{1});
        std::vector<std::uint8_t> in(d);
        for (std::size_t j = 0; j < options_.permutations && d > 1; ++j) {
            const std::vector<std::size_t> order = order_of(j, d);
            std::fill(in.begin(), in.end(), std::uint8_t{0});
            for (std::size_t t = 0; t + 1 < d; ++t) {
                in[order[t]] = 1;
                std::copy(in.begin(), in.end(), p.on.begin() + static_cast<std::ptrdiff_t>((2 + j * (d - 1) + t) * d));
            }
        }
        return p;
    }

    /// φ: each player's marginal contributions averaged over the orders. Used by the driver.
    std::vector<double> values(std::size_t d, const detail::ShapleyPlan&, const std::vector<double>& v) const {
        std::vector<double> phi(d, 0.0);
        if (d == 1) return {v[0] - v[1]};
        for (std::size_t j = 0; j < options_.permutations; ++j) {
            const std::vector<std::size_t> order = order_of(j, d);
            double before = v[1];  // the empty coalition
            for (std::size_t t = 0; t < d; ++t) {
                const double after = t + 1 == d ? v[0] : v[2 + j * (d - 1) + t];
                phi[order[t]] += after - before;
                before = after;
            }
        }
        for (double& p : phi) p /= static_cast<double>(options_.permutations);
        return phi;
    }

private:
    struct Where {
        static constexpr const char* constructor = "xai::ShapleySampling::ShapleySampling()";
        static constexpr const char* explain = "xai::ShapleySampling::explain()";
    };

    /// Order j of the d players (Fisher–Yates from Rng::stream(seed, j)).
    std::vector<std::size_t> order_of(std::size_t j, std::size_t d) const {
        std::vector<std::size_t> order(d);
        std::iota(order.begin(), order.end(), std::size_t{0});
        Rng rng = Rng::stream(options_.seed, j);
        for (std::size_t t = 0; t + 1 < d; ++t)
            std::swap(order[t], order[t + static_cast<std::size_t>(rng.uniform_index(d - t))]);
        return order;
    }

    const Model& model_;
    Options options_;
    Segmenter segmenter_;
};

}  // namespace xai
