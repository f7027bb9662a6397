#pragma once
// The options of LIME (explain/lime/lime.hpp): LimeOptions for Lime itself, LimeStabilityOptions
// for Lime::stability(), and the two small enums they and the pictures (explain/lime/visualize.hpp)
// share: FeatureSelection (lime_base.py's feature_selection) and WeightSign (which superpixels a
// top-k view keeps: lime's positive_only / negative_only, as one choice).
//
// Defaults and where they come from (LimeOptions); every one is the reference lime package's:
//   num_samples 1000            lime explain_instance(num_samples=1000)
//   kernel_width 0.25           LimeImageExplainer(kernel_width=.25), kernel √(exp(−d²/w²))
//   ridge_alpha 1               lime_base: Ridge(alpha=1, fit_intercept=True)
//   feature_selection automatic LimeImageExplainer(feature_selection='auto')
//   num_features 0 = all        lime: num_features=100000, i.e. every superpixel
//   top_labels 5                lime: top_labels=5
//   baseline segment mean       lime: hide_color=None, which fills each superpixel with its mean colour
//   score probability           lime's classifier_fn returns probabilities: softmax of the logits
//   batch_size 100              lime: 10; larger batches cost nothing in results and save overhead

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "xai/core/scores.hpp"
#include "xai/image/baseline.hpp"

namespace xai {

/// How LIME chooses the superpixels of the surrogate (lime_base.py; details in
/// explain/lime/detail/regression.hpp): `none` keeps every superpixel; `highest_weights` the
/// num_features largest |β| of a ridge fit on all of them; `forward_selection` adds greedily the
/// superpixel that most raises the weighted R²; `lasso_path` follows the LARS–lasso path;
/// `automatic` is lime's 'auto': forward_selection if num_features <= 6, else highest_weights.
enum class FeatureSelection { none, highest_weights, forward_selection, lasso_path, automatic };

/// The method's name as lime spells it ("auto" for automatic).
inline std::string_view to_string(FeatureSelection method) {
    switch (method) {
        case FeatureSelection::none: return "none";
        case FeatureSelection::highest_weights: return "highest_weights";
        case FeatureSelection::forward_selection: return "forward_selection";
        case FeatureSelection::lasso_path: return "lasso_path";
        case FeatureSelection::automatic: return "auto";
    }
    return "unknown";
}

/// Which superpixels a top-k view of a surrogate keeps (lime_image_and_mask, lime_overlay, the
/// top sets of Lime::stability): those with β > 0 (lime's positive_only=True, the default),
/// those with β < 0 (lime's negative_only=True), or both signs, ranked by |β|.
enum class WeightSign { positive, negative, both };

/// The choice's name: "positive", "negative" or "both".
inline std::string_view to_string(WeightSign sign) {
    switch (sign) {
        case WeightSign::positive: return "positive";
        case WeightSign::negative: return "negative";
        case WeightSign::both: return "both";
    }
    return "unknown";
}

/// The largest LimeOptions::num_samples accepted: 2^24, whose design matrix for 100 superpixels
/// is 13 GiB of doubles.
inline constexpr std::size_t max_lime_samples = std::size_t{1} << 24;

/// LIME's adaptive sample size (LimeOptions::adaptive), in the spirit of S-LIME (Zhou, Hooker
/// and Wang, "S-LIME: Stabilized-LIME for Model Explanation", KDD 2021): start with a few samples,
/// fit, and stop as soon as the target's top-k superpixels are separated from the others by a
/// one-sided z-test at level alpha on the surrogate's coefficients; otherwise draw more samples
/// (S-LIME's rule n · (z_α / z)²), up to num_samples. See explain/lime/lime.hpp.
struct LimeAdaptiveOptions {
    bool enabled = false;            ///< off: exactly num_samples samples, as lime
    std::size_t top_k = 5;           ///< the selection tested (lime's get_image_and_mask: num_features = 5)
    WeightSign sign = WeightSign::positive;  ///< which superpixels make the top k (lime's default view)
    double alpha = 0.05;             ///< one-sided level of every comparison (S-LIME's 0.05), in (0, 0.5)
    std::size_t initial_samples = 0; ///< the first round; 0 = max(2(d + 1), 100) for d superpixels
};

/// Options of Lime; every default is the reference lime package's (see the header). An
/// aggregate: `xai::Lime lime(model, {.num_samples = 200, .baseline = xai::Baseline::constant(0)});`
struct LimeOptions {
    /// Perturbed samples per image, the first is the image itself: at least the number of
    /// superpixels + 1 (checked when explaining: a smaller budget cannot fit the surrogate).
    std::size_t num_samples = 1000;
    std::size_t batch_size = 100;     ///< samples per forward pass (lime: 10)
    double kernel_width = 0.25;       ///< w of the kernel √(exp(−d²/w²)) on the cosine distance
    double ridge_alpha = 1.0;         ///< α of the surrogate's ridge penalty
    FeatureSelection feature_selection = FeatureSelection::automatic;  ///< lime's feature_selection='auto'
    std::size_t num_features = 0;     ///< superpixels in the surrogate; 0 = all (lime's 100000)
    /// Classes of highest score whose surrogates are fitted from the same samples, besides the
    /// explained target's (lime: top_labels=5); 0 = the target's surrogate only.
    std::size_t top_labels = 5;
    /// What an "off" superpixel shows: each superpixel's own mean colour by default (lime's
    /// hide_color=None); Baseline::constant(v) or Baseline::color({…}) is lime's hide_color=v.
    Baseline baseline = Baseline::segment_mean();
    ScoreKind score = ScoreKind::probability;  ///< the score regressed: lime's classifier_fn returns probabilities
    std::uint64_t seed = 0;           ///< sample i of every image uses Rng::stream(seed, i)
    std::size_t threads = 0;          ///< threads rendering and scoring batches; 0 = all
    /// Stop early once the top-k selection is stable (off by default: lime's fixed budget);
    /// num_samples is then the ceiling.
    LimeAdaptiveOptions adaptive{};
};

/// Options of Lime::stability().
struct LimeStabilityOptions {
    std::size_t repeats = 5;  ///< explanations with different seeds (>= 2)
    std::size_t top_k = 5;    ///< size of the compared top sets (lime's get_image_and_mask: num_features=5)
    /// Which superpixels make a top set: β > 0 (lime's default view), β < 0, or the largest |β|.
    WeightSign sign = WeightSign::positive;
};

}  // namespace xai
