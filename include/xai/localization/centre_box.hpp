#pragma once
// The centre-box baseline of weakly supervised localization: a map whose thresholds are the
// boxes centred in the image, so a threshold chosen on a validation split picks the best
// centred box for the data set — what a localizer gets from the centre bias alone, without
// looking at the image (Choe et al. 2020 compare WSOL methods with such image-independent floors).
//
//   raw(y, x) = 1 − max(|y − c_y| / (H/2), |x − c_x| / (W/2)),   c = ((H − 1)/2, (W − 1)/2)
//
// {raw ≥ τ} is the box of the pixels with |y − c_y| ≤ (1 − τ)·H/2 and |x − c_x| ≤ (1 − τ)·W/2:
// one centred box of the image's aspect ratio per threshold, from the whole image (τ → 0) down to
// the centre pixels. Like RandomMap and CentreGaussian (explain/reference_maps.hpp) it is an
// explainer whose core fields come from one forward pass of the model, and its maps do not
// depend on the model's weights.

#include <algorithm>
#include <cmath>
#include <concepts>
#include <cstddef>

#include "xai/core/concepts.hpp"
#include "xai/core/explainer.hpp"
#include "xai/core/explanation.hpp"
#include "xai/core/progress.hpp"
#include "xai/core/scores.hpp"
#include "xai/core/target.hpp"
#include "xai/core/tensor.hpp"
#include "xai/explain/masking.hpp"
#include "xai/explain/reference_maps.hpp"

namespace xai {

/// Options of CentreBox.
struct CentreBoxOptions {
    ScoreKind score = ScoreKind::probability;  ///< the kind of the reported scores
};

/// Centred boxes of every size as the thresholds of one map (see the header). Holds a pointer to
/// the model (for the core's targets and scores), which must outlive it.
template <Classifier Model>
class CentreBox {
public:
    /// The explainer keeps a pointer to the model: a temporary would dangle.
    CentreBox(const Model&&, CentreBoxOptions = {}) = delete;
    /// Centre-box maps for `model`'s inputs.
    explicit CentreBox(const Model& model, CentreBoxOptions options = {}) : model_(&model), options_(options) {}

    /// The options the explainer was built with.
    const CentreBoxOptions& options() const { return options_; }

    /// The same map for every image; progress is called once.
    template <std::same_as<Batch> B>
    Explanation explain(const B& images, const Targets& targets = {}, const Progress& progress = {}) const {
        const double hy = static_cast<double>(images.shape(2)) / 2.0, hx = static_cast<double>(images.shape(3)) / 2.0;
        return detail::centred_reference(*model_, images, targets, options_.score, progress, "xai::CentreBox::explain()",
                                         [hy, hx](double dy, double dx) {
                                             return 1.0 - std::max(std::abs(dy) / hy, std::abs(dx) / hx);
                                         });
    }

    /// One image (C×H×W): explain() on a batch of one.
    template <std::same_as<Image> I>
    Explanation explain(const I& image, Target target = Target::predicted(), const Progress& progress = {}) const {
        return explain(detail::single_image_batch(image, "xai::CentreBox::explain()"), Targets{target}, progress);
    }

private:
    const Model* model_;
    CentreBoxOptions options_;
};

}  // namespace xai
