#pragma once
// What every CAM-style explainer shares: the error-message prefix, argument checks, checks of
// what the model returned, the weighted channel sum, the display map (ReLU, upsampling,
// normalization), eigen_smooth and aug_smooth, and the fusion of several layers. Internals; the public types are in
// explain/cam/options.hpp.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <type_traits>
#include <vector>

#include "xai/core/ceil_div.hpp"
#include "xai/core/concepts.hpp"
#include "xai/core/error.hpp"
#include "xai/core/explainer.hpp"
#include "xai/core/parallel.hpp"
#include "xai/core/progress.hpp"
#include "xai/core/scores.hpp"
#include "xai/core/target.hpp"
#include "xai/core/tensor.hpp"
#include "xai/explain/cam/default_layer.hpp"
#include "xai/explain/cam/detail/layout.hpp"
#include "xai/explain/cam/detail/projection.hpp"
#include "xai/explain/cam/options.hpp"
#include "xai/image/normalize.hpp"
#include "xai/image/resize.hpp"

namespace xai::detail {

/// Checks activations or gradients returned for `layer`: N×C×h×w or N×T×D, non-empty, finite.
/// Another rank means the user picked a layer without a spatial or token axis (e.g. "fc"):
/// shape_error; a wrong batch extent or a NaN is the model's fault: model_error.
template <class Values>
void require_layer_values(const Values& values, std::size_t n, const std::string& layer, const char* where,
                          const char* what) {
    require<shape_error>(values.dimension() == 4 || values.dimension() == 3, where, ": layer '", layer, "' has ", what,
                         " of shape ", shape_string(values.shape()),
                         ", expected N×C×h×w (a convolutional layer) or N×T×D (tokens)");
    if (values.shape(0) != n || values.size() == 0)
        throw model_error(message(where, ": the model returned ", what, " of shape ", shape_string(values.shape()),
                                  " for layer '", layer, "', expected ", n, " non-empty entries along the batch axis"));
    if (!all_finite(values.data(), values.size()))
        throw model_error(message(where, ": the model returned NaN or Inf ", what, " for layer '", layer, "'"));
}

/// A layer's activations and logits from one forward pass, checked, with the targets resolved.
struct ResolvedLayerOutput {
    LayerOutput output;
    std::vector<std::size_t> targets;
};

/// The argument checks and the activation pass shared by the forward-only CAM methods; `layer`
/// is one of the model's layers (checked when the explainer was built, or by explain_fused).
template <LayerActivationModel M>
ResolvedLayerOutput checked_layer_activations(const M& model, const Batch& batch, const Targets& targets,
                                              const std::string& layer, const char* where) {
    require_model_input(model, batch, where);
    const std::size_t n = batch.shape(0), k = model.num_classes();
    require_targets(targets, n, k, where);
    ResolvedLayerOutput r{model.layer_activations(batch, layer), {}};
    require_model_scores(r.output.scores, n, k, where);
    require_layer_values(r.output.activations, n, layer, where, "activations");
    r.targets = resolve_targets(targets, r.output.scores, where);
    return r;
}

/// Replaces row i of the seed with target function f's gradient at row i of the logits;
/// a non-finite gradient is a numerical_error.
inline void seed_target_function(const AnyTargetFunction& f, const Scores& logits, std::size_t i, Scores& seed,
                                 const char* where) {
    const std::size_t k = logits.shape(1);
    float* row = seed.data() + i * k;
    std::fill(row, row + k, 0.0f);
    f.gradient(std::span<const float>(logits.data() + i * k, k), std::span<float>(row, k));
    if (!all_finite(row, k))
        throw numerical_error(message(where, ": the gradient of ", f.describe(), " for image ", i, " is not finite"));
}

/// The ScoreSeed of a gradient pass over n images with K outputs: inside the model's call it
/// resolves the targets from the pass's own logits (into `resolved`, refusing none of the
/// target functions), sets `seeded`, and returns d(score)/d(logits): the score kind's gradient
/// for a class target, the function's own gradient for a target function (`functions`, from
/// target_functions()). The references must outlive the model call.
inline ScoreSeed target_seed(const Targets& targets, const std::vector<const AnyTargetFunction*>& functions,
                             std::size_t n, std::size_t k, ScoreKind kind, std::vector<std::size_t>& resolved,
                             bool& seeded, const char* where) {
    return [&targets, &functions, &resolved, &seeded, n, k, kind, where](const Scores& logits) {
        require_model_scores(logits, n, k, where);
        resolved = resolve_targets(targets, logits, where, true);
        seeded = true;
        std::vector<std::size_t> classes = resolved;
        for (std::size_t i = 0; i < n; ++i)
            if (functions[i]) classes[i] = 0;  // the row is replaced below
        Scores s = target_score_gradient(logits, classes, kind);
        for (std::size_t i = 0; i < n; ++i)
            if (functions[i]) seed_target_function(*functions[i], logits, i, s, where);
        return s;
    };
}

/// scores[i] ← the target function's value at row i of the logits, for the images explained
/// for a target function (the others keep their class score).
inline void replace_function_scores(std::vector<float>& scores, const Scores& logits,
                                    const std::vector<const AnyTargetFunction*>& functions) {
    const std::size_t k = logits.shape(1);
    for (std::size_t i = 0; i < functions.size(); ++i)
        if (functions[i])
            scores[i] = static_cast<float>(functions[i]->score(std::span<const float>(logits.data() + i * k, k)));
}

/// The score of each image's target, of the given kind.
inline std::vector<float> target_scores(const Scores& logits, const std::vector<std::size_t>& targets, ScoreKind kind) {
    const Scores s = scores_of_kind(logits, kind);
    std::vector<float> out(targets.size());
    for (std::size_t i = 0; i < targets.size(); ++i) out[i] = s(i, targets[i]);
    return out;
}

/// Σ values[p] and Σ a[p]·b[p] in double, in four independent lanes so that the additions do not
/// wait on each other (a single running sum serializes them); the result is deterministic.
inline double lane_sum(const float* values, std::size_t n) {
    double lane[4] = {0.0, 0.0, 0.0, 0.0};
    std::size_t p = 0;
    for (; p + 4 <= n; p += 4)
        for (std::size_t j = 0; j < 4; ++j) lane[j] += values[p + j];
    for (; p < n; ++p) lane[0] += values[p];
    return (lane[0] + lane[1]) + (lane[2] + lane[3]);
}
inline double lane_dot(const float* a, const float* b, std::size_t n) {
    double lane[4] = {0.0, 0.0, 0.0, 0.0};
    std::size_t p = 0;
    for (; p + 4 <= n; p += 4)
        for (std::size_t j = 0; j < 4; ++j) lane[j] += static_cast<double>(a[p + j]) * b[p + j];
    for (; p < n; ++p) lane[0] += static_cast<double>(a[p]) * b[p];
    return (lane[0] + lane[1]) + (lane[2] + lane[3]);
}

/// map = Σ_k weights[k] · A_k over the channels of one image (C×pixels block).
inline void weighted_channel_sum(const float* activations, const float* weights, std::size_t channels,
                                 std::size_t pixels, float* map) {
    std::fill(map, map + pixels, 0.0f);
    for (std::size_t k = 0; k < channels; ++k) {
        const float w = weights[k];
        if (w == 0.0f) continue;
        const float* a = activations + k * pixels;
        for (std::size_t p = 0; p < pixels; ++p) map[p] += w * a[p];
    }
}

/// raw = Σ_k w_ik A_ik for every image, from N×C weights; with `eigen_smooth` (CamOptions), the
/// projection of the terms w_ik A_ik on their first principal component instead (in Scalar). A
/// template only so that the eigen-solver is compiled where an explainer is used, not in every
/// file that includes the CAM family (docs/performance.md).
template <class Scalar = double>
Maps weighted_maps(const ChannelMaps& a, const xt::xtensor<float, 2>& weights, std::size_t threads,
                   bool eigen_smooth = false) {
    Maps raw = Maps::from_shape({a.images(), a.height(), a.width()});
    const std::size_t c = a.channels(), pixels = a.pixels();
    parallel_for(a.images(), threads, [&](std::size_t i) {
        const float* w = weights.data() + i * c;
        if (!eigen_smooth) {
            weighted_channel_sum(a.image(i), w, c, pixels, raw.data() + i * pixels);
            return;
        }
        std::vector<float> terms(c * pixels);
        for (std::size_t k = 0; k < c; ++k)
            for (std::size_t p = 0; p < pixels; ++p) terms[k * pixels + p] = w[k] * a.image(i)[k * pixels + p];
        eigen_cam_projection<Scalar>(terms.data(), c, pixels, raw.data() + i * pixels);
    });
    return raw;
}

/// The explanation with CamOptions::aug_smooth applied when it is set (see there):
/// explain_at(batch, targets) -> R (CamResult or a type derived from it) is the method's plain
/// explanation; the result is an R whose extras are those of the unaugmented pass. The unaugmented
/// pass comes first and fixes the targets for the five others; maps and raw are the means of
/// the six passes' maps (flipped back) in the order of pytorch-grad-cam's ttach transforms
/// (no flip ×0.9, ×1, ×1.1, then flipped ×0.9, ×1, ×1.1).
template <class ExplainAt>
auto smoothed_explanation(const Batch& batch, const Targets& targets, const CamOptions& options, ExplainAt&& explain_at)
    -> std::invoke_result_t<ExplainAt&, const Batch&, const Targets&> {
    if (!options.aug_smooth) return explain_at(batch, targets);
    auto plain = explain_at(batch, targets);
    const Targets fixed(plain.targets.begin(), plain.targets.end());
    constexpr float factors[3] = {0.9f, 1.0f, 1.1f};
    Maps maps = xt::zeros<float>(plain.maps.shape()), raw = xt::zeros<float>(plain.raw.shape());
    // Raw pointer loops: this runs on every pixel of six passes (aug_smooth must cost no more
    // than its passes).
    const auto add_flipped = [](Maps& sum, const Maps& m, bool flip) {
        const std::size_t w = m.shape(2), rows = m.size() / w;
        for (std::size_t r = 0; r < rows; ++r) {
            float* out = sum.data() + r * w;
            const float* in = m.data() + r * w;
            if (flip)
                for (std::size_t x = 0; x < w; ++x) out[x] += in[w - 1 - x];
            else
                for (std::size_t x = 0; x < w; ++x) out[x] += in[x];
        }
    };
    for (const bool flip : {false, true})
        for (const float factor : factors) {
            if (!flip && factor == 1.0f) {
                add_flipped(maps, plain.maps, false);
                add_flipped(raw, plain.raw, false);
                continue;
            }
            Batch augmented = Batch::from_shape(batch.shape());
            const std::size_t w = batch.shape(3), rows = batch.size() / w;
            for (std::size_t r = 0; r < rows; ++r)
                for (std::size_t x = 0; x < w; ++x)
                    augmented.data()[r * w + x] = factor * batch.data()[r * w + (flip ? w - 1 - x : x)];
            const auto r = explain_at(augmented, fixed);
            add_flipped(maps, r.maps, flip);
            add_flipped(raw, r.raw, flip);
        }
    for (float& v : maps) v /= 6.0f;
    for (float& v : raw) v /= 6.0f;
    plain.maps = std::move(maps);
    plain.raw = std::move(raw);
    return plain;
}

/// The display maps of a batch: ReLU (unless options.relu is false), upsampling to height×width,
/// min-max normalization (if `normalize`; a flat map becomes zeros, as normalize_min_max does).
/// Non-finite raw maps are a numerical_error. Raw loops: this runs on every explain() call.
inline Maps display_maps(const Maps& raw, std::size_t height, std::size_t width, const CamOptions& options,
                         bool normalize, const char* where) {
    if (!all_finite(raw.data(), raw.size())) throw numerical_error(message(where, ": the map overflowed to Inf or NaN"));
    const std::size_t n = raw.shape(0), plane = height * width;
    std::vector<float> rectified(raw.data(), raw.data() + raw.size());
    if (options.relu)
        for (float& v : rectified) v = std::max(v, 0.0f);
    Maps out = Maps::from_shape({n, height, width});
    resize_planes(rectified.data(), n, raw.shape(1), raw.shape(2), out.data(), height, width, options.upsampling);
    if (normalize)
        for (std::size_t i = 0; i < n; ++i) normalize_plane_min_max(out.data() + i * plane, plane, 1e-7f);
    return out;
}

/// Fills a result's common fields from its raw maps (the layer's resolution), targets and
/// logits: the display maps at the batch's resolution, score_kind = `kind` and the scores.
inline void finish_result(CamResult& result, const Batch& batch, const CamOptions& options, ScoreKind kind,
                          const char* where) {
    result.maps = display_maps(result.raw, batch.shape(2), batch.shape(3), options, options.normalize, where);
    result.score_kind = kind;
    result.scores = target_scores(result.logits, result.targets, kind);
}

/// The batch form of explain() on a batch of one: what every CAM explainer's
/// explain(const Image&, Target, const Progress&) does (core/explainer.hpp).
template <class Explainer>
auto explain_image(const Explainer& explainer, const Image& image, Target target, const Progress& progress,
                   const char* where) {
    return explainer.explain(single_image_batch(image, where), Targets{target}, progress);
}

/// Runs body(image, first_channel, end_channel) over every image's channels in chunks of
/// `batch_size` (one batched model call each). Chunks run `threads` at a time; after each
/// wave the progress callback is called from this thread with the channels done so far.
/// Each chunk writes only its own slots, so results do not depend on `threads`.
template <class Body>
void for_channel_batches(std::size_t images, std::size_t channels, std::size_t batch_size, std::size_t threads,
                         const Progress& progress, Body&& body) {
    const std::size_t chunks_per_image = detail::ceil_div(channels, batch_size);
    const std::size_t units = images * chunks_per_image;
    const std::size_t wave = resolve_threads(threads);
    std::size_t done = 0;
    for (std::size_t first = 0; first < units; first += wave) {
        const std::size_t count = std::min(wave, units - first);
        parallel_for(count, threads, [&](std::size_t u) {
            const std::size_t unit = first + u;
            const std::size_t image = unit / chunks_per_image;
            const std::size_t begin = (unit % chunks_per_image) * batch_size;
            body(image, begin, std::min(begin + batch_size, channels));
        });
        for (std::size_t u = first; u < first + count; ++u) {
            const std::size_t begin = (u % chunks_per_image) * batch_size;
            done += std::min(begin + batch_size, channels) - begin;
        }
        report(progress, done, images * channels, "channels");
    }
}

/// The explicit targets that repeat `resolved` (so later layers explain the same classes).
inline Targets fixed_targets(const std::vector<std::size_t>& resolved) {
    return Targets(resolved.begin(), resolved.end());
}

/// Explains the batch at every layer (explain_at(targets, layer) -> CamResult) and fuses the
/// layers (FusedCamResult): raw = the mean of the per-layer display maps, each ReLU'd (unless
/// options.relu is false), upsampled and min-max normalized; maps = raw normalized again if
/// options.normalize. The layers are checked against the model first, the targets are
/// resolved at the first layer and fixed for the others, and `progress` is called after each
/// layer (stage "layers"; explain_at may report its own stage in between).
template <LayerActivationModel M>
FusedCamResult fuse_layers(const M& model, const Batch& batch, const Targets& targets,
                           const std::vector<std::string>& layers, const CamOptions& options, const Progress& progress,
                           const char* where,
                           const std::function<CamResult(const Targets&, const std::string&)>& explain_at) {
    require(!layers.empty(), where, ": layers is empty, expected at least one layer to fuse");
    require(!options.aug_smooth, where, ": options.aug_smooth is true, expected false (fusing layers does not augment)");
    const std::vector<std::string> names = model.layer_names();
    for (const std::string& layer : layers) require_layer_in(names, layer, where);
    FusedCamResult fused;
    fused.layers.reserve(layers.size());
    const std::size_t n = batch.shape(0), height = batch.shape(2), width = batch.shape(3);
    fused.raw = xt::zeros<float>({n, height, width});
    for (const std::string& layer : layers) {
        const Targets& asked = fused.layers.empty() ? targets : fixed_targets(fused.layers.front().targets);
        fused.layers.push_back(explain_at(asked, layer));
        const Maps normalized = display_maps(fused.layers.back().raw, height, width, options, true, where);
        fused.raw += normalized;
        report(progress, fused.layers.size(), layers.size(), "layers");
    }
    fused.raw /= static_cast<float>(layers.size());
    fused.maps = options.normalize ? Maps(normalize_min_max(fused.raw)) : fused.raw;
    const CamResult& first = fused.layers.front();
    fused.targets = first.targets;
    fused.scores = first.scores;
    fused.score_kind = first.score_kind;
    fused.logits = first.logits;
    return fused;
}

}  // namespace xai::detail
