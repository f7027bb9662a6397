#pragma once
// What LIME returns (explain/lime/lime.hpp): the Explanation core every explainer shares, and
// LIME's own extras — the superpixels of each image and a linear surrogate per explained class.
//
//   raw        N×H×W: each pixel carries the surrogate weight β_s of its superpixel s for the
//              image's target (signed; pixel_weights(target, image) gives it for any fitted class)
//   maps       N×H×W display maps: ReLU(raw) min-max normalized per image (flat → zeros)
//   targets    the class explained for each image (an explicit index or the model's prediction)
//   scores     f_target(x) of LimeOptions::score on each unperturbed image (= model_prediction)
//   logits     N×K logits of the unperturbed images
//   segmentations[i]  image i's superpixels (the policy's, or the one given to explain_segmented)
//   surrogates[i]     image i's surrogates: the target's first, then the other classes among the
//                     top_labels of highest score on the image, best first
//
// A surrogate g(z) = b + Σ_s β_s z_s of class c reports β (one weight per superpixel), the
// superpixels lime's feature selection kept (by decreasing |β|), b, the weighted R² of the fit
// and g(z_0) = b + Σ β_s beside f_c(x): a poor local linear fit is reported, never hidden.

#include <cstddef>
#include <cstdint>
#include <vector>

#include "xai/core/error.hpp"
#include "xai/core/explanation.hpp"
#include "xai/core/tensor.hpp"
#include "xai/image/segments.hpp"

namespace xai {

/// The linear surrogate of one explained class of one image.
struct LimeSurrogate {
    std::size_t target = 0;             ///< the class it explains
    std::vector<double> weights;        ///< β_s per superpixel (0 for superpixels not selected)
    std::vector<std::size_t> features;  ///< the selected superpixels by decreasing |β_s| (lime's local_exp order)
    double intercept = 0.0;             ///< b
    double r2 = 0.0;                    ///< weighted R² of the surrogate on its samples (lime's `score`)
    double local_prediction = 0.0;      ///< g(all on) = b + Σ β_s (lime's `local_pred`)
    double model_prediction = 0.0;      ///< f_c(x), the black box's score for the image itself
};

/// A LIME explanation of a batch (see the header): the Explanation core, each image's
/// superpixels and its surrogates.
struct LimeExplanation : Explanation {
    std::vector<Segmentation> segmentations;  ///< per image: the superpixels the weights refer to
    /// Per image: the target's surrogate first, then the other top labels, best first.
    std::vector<std::vector<LimeSurrogate>> surrogates;
    std::size_t num_samples = 0;  ///< LimeOptions::num_samples: the samples per image, the ceiling when adaptive
    std::vector<std::size_t> samples_used;  ///< per image: the samples scored (forward passes beside the image's own)
    /// Per image, with LimeOptions::adaptive: the smallest z separating the target's top-k from
    /// the other superpixels at the end (0 when adaptive is off).
    std::vector<double> selection_z;
    std::vector<bool> converged;  ///< per image: the adaptive test passed before num_samples (false if off)

    /// The surrogate of class `target` for image `image`; shape_error if there is no such image,
    /// invalid_argument if the class was not fitted for it.
    const LimeSurrogate& surrogate(std::size_t target, std::size_t image = 0) const {
        detail::require<shape_error>(image < surrogates.size(), "xai::LimeExplanation::surrogate(): image ", image,
                                     " is out of range, expected an image index below ", surrogates.size());
        for (const LimeSurrogate& s : surrogates[image])
            if (s.target == target) return s;
        throw invalid_argument(detail::message("xai::LimeExplanation::surrogate(): class ", target,
                                               " was not explained for image ", image,
                                               " (raise LimeOptions::top_labels or make it the target)"));
    }

    /// The H×W map of class `target`'s surrogate weights for image `image`: each pixel carries
    /// β_s of its superpixel s. raw holds this map for each image's target.
    Map pixel_weights(std::size_t target, std::size_t image = 0) const {
        const LimeSurrogate& s = surrogate(target, image);
        const Segmentation& segmentation = segmentations[image];
        Map out = Map::from_shape({segmentation.height(), segmentation.width()});
        const std::int32_t* labels = segmentation.labels.data();
        for (std::size_t p = 0; p < out.size(); ++p)
            out.data()[p] = static_cast<float>(s.weights[static_cast<std::size_t>(labels[p])]);
        return out;
    }
};

/// Spread of one class's surrogate over repeated seeds (Lime::stability).
struct LimeSurrogateStability {
    std::size_t target = 0;            ///< the class
    std::vector<double> mean_weight;   ///< per superpixel, over the repeats
    std::vector<double> weight_std;    ///< per superpixel, sample standard deviation over the repeats
    std::vector<std::vector<std::size_t>> top_sets;  ///< the top-k set of each repeat
    double mean_jaccard = 1.0;         ///< mean over pairs of repeats of |A∩B| / |A∪B|
    double min_jaccard = 1.0;          ///< the worst pair
    double mean_r2 = 0.0;              ///< mean weighted R² over the repeats
};

/// The result of Lime::stability().
struct LimeStability {
    std::vector<LimeExplanation> runs;               ///< one per seed; run 0 uses the options' seed (= explain())
    std::vector<std::uint64_t> seeds;                ///< the seed of each run
    std::vector<LimeSurrogateStability> surrogates;  ///< per fitted class, in the order of run 0's surrogates
};

}  // namespace xai
