#pragma once
// CAM: class activation mapping.
//
// Zhou, Khosla, Lapedriza, Oliva, Torralba, "Learning Deep Features for Discriminative
// Localization", CVPR 2016, eq. 2–3. For a network whose head is global average pooling
// followed by one linear layer, logit_c = Σ_k W_ck · (1/Z) Σ_ij A_k^ij + b_c, and
//   M_c(i, j) = Σ_k W_ck A_k^ij
// so that logit_c = (1/Z) Σ_ij M_c(i, j) + b_c: the map decomposes the logit over locations.
// A (C×h×w) are the final feature maps (forward_features), W (K×C) the classifier weights.
//
// Needs only a FeatureModel: one forward pass, no gradient. The raw map is M_c (signed); the
// display map is normalize(upsample(ReLU(M_c))) as for the rest of the family (the paper
// upsamples M_c and shows it with its own colour scale).

#include <algorithm>
#include <concepts>
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "xai/core/concepts.hpp"
#include "xai/core/error.hpp"
#include "xai/core/explainer.hpp"
#include "xai/core/parallel.hpp"
#include "xai/core/progress.hpp"
#include "xai/core/target.hpp"
#include "xai/core/tensor.hpp"
#include "xai/explain/cam/detail/common.hpp"
#include "xai/explain/cam/detail/layout.hpp"
#include "xai/explain/cam/options.hpp"

namespace xai {

/// CAM on a FeatureModel. Holds a reference to the model, which must outlive it; explain()
/// is const and safe to call from several threads at once.
template <FeatureModel Model>
class Cam {
public:
    /// The explainer's name in error messages ("xai::Cam::explain(): ...").
    static constexpr std::string_view name = "Cam";

    /// options.layer must be empty: CAM is defined on the final feature maps only.
    /// The explainer keeps a pointer to the model: a temporary would dangle.
    Cam(const Model&&, CamOptions = {}) = delete;
    /// Explains `model`, which must outlive the explainer. Throws invalid_argument when
    /// options.layer is not empty.
    explicit Cam(const Model& model, CamOptions options = {}) : model_(&model), options_(std::move(options)) {
        detail::require(options_.layer.empty(), prefix(name), ": options.layer is '", options_.layer,
                        "', expected it empty: CAM always explains the final feature maps (forward_features); "
                        "use GradCam for a named layer");
        if (!options_.score) options_.score = ScoreKind::logit;
    }

    /// The options the explainer was built with, with the score resolved.
    const CamOptions& options() const { return options_; }

    /// Explains each image of the batch for its target (empty = the predicted class of every
    /// image, one entry = the same for all, else one per image). `progress` is called once,
    /// when done (unit: images).
    template <std::same_as<Batch> B>
    CamResult explain(const B& batch, const Targets& targets = {}, const Progress& progress = {}) const {
        const std::string prefixed = prefix("explain");
        CamResult result = detail::smoothed_explanation(batch, targets, options_, [&](const Batch& b, const Targets& t) {
            return explain_plain(b, t, prefixed.c_str());
        });
        detail::report(progress, batch.shape(0), batch.shape(0), "images");
        return result;
    }

    /// Explains one image (C×H×W) for `target`: explain() on a batch of one.
    template <std::same_as<Image> I>
    CamResult explain(const I& image, Target target = Target::predicted(), const Progress& progress = {}) const {
        return detail::explain_image(*this, image, target, progress, prefix("explain").c_str());
    }

private:
    /// The explanation without augmentation; `where` prefixes the errors.
    CamResult explain_plain(const Batch& batch, const Targets& targets, const char* where) const {
        detail::require_model_input(*model_, batch, where);
        const std::size_t n = batch.shape(0), k = model_->num_classes();
        detail::require_targets(targets, n, k, where);

        FeatureOutput out = model_->forward_features(batch);
        detail::require_model_scores(out.scores, n, k, where);
        const Batch& features = out.features;
        detail::require_layer_values(features, n, "(final features)", where, "features");
        const xt::xtensor<float, 2> w = model_->classifier_weights();
        const std::size_t c = features.shape(1);
        if (w.shape(0) != k || w.shape(1) != c)
            throw model_error(detail::message(where, ": classifier_weights() has shape ", shape_string(w.shape()),
                                              ", expected [", k, ", ", c, "] (classes × feature channels)"));
        if (!all_finite(w)) throw model_error(detail::message(where, ": classifier_weights() contains NaN or Inf"));

        const detail::ChannelMaps a(features.data(), n, c, features.shape(2), features.shape(3));
        CamResult result;
        result.targets = resolve_targets(targets, out.scores, where);
        result.logits = std::move(out.scores);
        result.weights = xt::xtensor<float, 2>::from_shape({n, c});
        for (std::size_t i = 0; i < n; ++i)
            std::copy_n(w.data() + result.targets[i] * c, c, result.weights.data() + i * c);
        result.raw = detail::weighted_maps(a, result.weights, options_.threads, options_.eigen_smooth);
        detail::finish_result(result, batch, options_, *options_.score, where);
        return result;
    }

    /// "xai::Cam::<function>()", the prefix of the error messages of `function`.
    static std::string prefix(std::string_view function) { return detail::qualified_name(name, function); }

    const Model* model_;
    CamOptions options_;
};

}  // namespace xai
