#pragma once
// The explainer of every method that takes one gradient per image (Saliency, gradient × input,
// guided backpropagation, the deconvnet): GradientAttribution<Model, Method>, where the Method
// policy names the method, gives its options type, the rule its backward pass follows through
// the ReLUs, its default channel reduction, and how a gradient becomes attributions. The
// aliases Saliency, GradientTimesInput (explain/gradients/saliency.hpp), GuidedBackprop and
// Deconvolution (explain/gradients/guided_backprop.hpp) are what users name.
//
// Cost: one forward and one backward pass to the input per image, in batches of batch_size,
// `threads` batches at a time; no parameter gradients.

#include <concepts>
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>

#include "xai/core/concepts.hpp"
#include "xai/core/error.hpp"
#include "xai/core/explainer.hpp"
#include "xai/core/progress.hpp"
#include "xai/core/scores.hpp"
#include "xai/core/target.hpp"
#include "xai/core/tensor.hpp"
#include "xai/explain/gradients/detail/common.hpp"
#include "xai/explain/gradients/options.hpp"

namespace xai {

/// What GradientAttribution needs from a method policy: its name (for messages), options type
/// (with score, display, batch_size and threads), ReLU rule, default channel reduction, and
/// attribute(options, x, g, a, n), which writes the n attributions a from the input x and the
/// gradient g.
template <class M>
concept GradientAttributionMethod = requires(const typename M::Options& options, const float* x, const float* g, float* a,
                                             std::size_t n) {
    { M::name } -> std::convertible_to<std::string_view>;
    { M::relu } -> std::convertible_to<ReluBackward>;
    { M::default_reduction } -> std::convertible_to<ChannelReduction>;
    { options.score } -> std::convertible_to<ScoreKind>;
    { options.display } -> std::convertible_to<AttributionDisplay>;
    { options.batch_size } -> std::convertible_to<std::size_t>;
    { options.threads } -> std::convertible_to<std::size_t>;
    M::attribute(options, x, g, a, n);
};

/// A one-gradient-per-image attribution method on a model (see the header comment); use the
/// aliases Saliency, GradientTimesInput, GuidedBackprop and Deconvolution. Holds a pointer to
/// the model, which must outlive it; explain() is const and thread-safe.
template <InputGradientModel Model, GradientAttributionMethod Method>
    requires(Method::relu == ReluBackward::standard || ReluBackwardModel<Model>)
class GradientAttribution {
public:
    /// The method's options type.
    using Options = typename Method::Options;
    /// The channel reduction of raw when AttributionDisplay::reduction is empty.
    static constexpr ChannelReduction default_reduction = Method::default_reduction;

    /// The explainer keeps a pointer to the model: a temporary would dangle.
    GradientAttribution(const Model&&, Options = {}) = delete;
    /// Explains `model`; invalid_argument for batch_size 0 or an invalid display.
    explicit GradientAttribution(const Model& model, Options options = {}) : model_(&model), options_(std::move(options)) {
        const std::string where = prefix(Method::name);
        detail::require_gradient_batch_size(options_.batch_size, where.c_str());
        detail::require_display(options_.display, where.c_str());
    }

    /// The options the explainer was built with.
    const Options& options() const { return options_; }
    /// The model explained.
    const Model& model() const { return *model_; }

    /// The attributions of each image for its target (empty targets: the predicted class; one:
    /// the same for all). `progress` counts images (stage "gradients").
    template <std::same_as<Batch> B>
    GradientExplanation explain(const B& images, const Targets& targets = {}, const Progress& progress = {}) const {
        const std::string where = prefix("explain");
        GradientExplanation out = unfinished(images, targets, progress, where.c_str());
        detail::finish_gradient_result(out, default_reduction, options_.display, options_.score, where.c_str());
        return out;
    }

    /// The per-channel attributions of explain(images, targets) alone, without the maps: what
    /// NoiseTunnel averages over its noisy copies (the maps of each copy would be thrown away).
    template <std::same_as<Batch> B>
    Batch attributions(const B& images, const Targets& targets = {}) const {
        return unfinished(images, targets, {}, prefix("explain").c_str()).attributions;
    }

    /// Explains one image (C×H×W) for `target`: explain() on a batch of one.
    template <std::same_as<Image> I>
    GradientExplanation explain(const I& image, Target target = Target::predicted(), const Progress& progress = {}) const {
        return explain(detail::single_image_batch(image, prefix("explain").c_str()), Targets{target}, progress);
    }

private:
    /// Attributions, logits and targets of every image; the core is not finished.
    GradientExplanation unfinished(const Batch& images, const Targets& targets, const Progress& progress,
                                   const char* where) const {
        const Options& o = options_;
        return detail::one_pass_attributions(
            *model_, images, targets, {o.batch_size, o.threads, o.score, Method::relu},
            [&o](const float* x, const float* g, float* a, std::size_t n) { Method::attribute(o, x, g, a, n); }, progress,
            where);
    }

    /// "xai::<Method::name>::<function>()", the prefix of every error message.
    static std::string prefix(std::string_view function) { return detail::qualified_name(Method::name, function); }

    const Model* model_;
    Options options_;
};

}  // namespace xai
