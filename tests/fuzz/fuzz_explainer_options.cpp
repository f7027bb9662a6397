// Fuzz target: every explainer's option validation and its explain() on a tiny model.
//
// The bytes choose an explainer (CAM, the Grad-CAM family, Score-CAM, Eigen-CAM, Ablation-CAM,
// LIME with each segmentation policy, RISE, occlusion, influence with each solver), every
// option (layer names, score kinds, sizes including 0 and SIZE_MAX, reals including NaN, ±Inf
// and 1e±300), the batch (its count, shape and pixels, NaN included) and the targets. The
// amounts of work a caller buys (masks, samples, solver iterations) are bounded.
//
// Invariants: only xai::error escapes; every map, weight and score returned is finite; display
// maps lie in [0, 1] when normalized (always for LIME, RISE and occlusion); progress reports
// never exceed their total nor go back (progress is the last argument of explain());
// and the result equals, bit for bit, the one computed with the default batch size on one
// thread (the determinism promise, and a guard against size arithmetic that wraps around);
// for influence, whose sums over the training set are grouped by batch, the same batch size.
#include <algorithm>
#include <array>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "fuzz_input.hpp"
#include "xai/cam.hpp"
#include "xai/image/superpixels.hpp"
#include "xai/influence.hpp"
#include "xai/lime.hpp"
#include "xai/models/sequential.hpp"
#include "xai/occlusion.hpp"
#include "xai/rise.hpp"

namespace {

using Net = xai::models::Sequential;
constexpr xai::ImageShape input_shape{1, 8, 8};

/// conv1 → relu1 → pool1 → conv2 → relu2 → gap → fc, 3 classes: every concept, every layer kind.
const Net& tiny_net() {
    static const Net net = [] {
        using namespace xai::models;
        Net n(input_shape, {conv2d(3, 3, 1, 1), relu(), max_pool2d(2), conv2d(4, 3, 1, 1), relu(), global_avg_pool(),
                            linear(3)},
              7);
        return n;
    }();
    return net;
}

/// A small training set for influence (labels from the untrained net's own predictions, so the
/// losses are moderate).
struct TrainingSet {
    xai::Batch images;
    xai::Labels labels;
};
const TrainingSet& training_set() {
    static const TrainingSet set = [] {
        TrainingSet s;
        s.images = xai::Batch::from_shape({6, input_shape.channels, input_shape.height, input_shape.width});
        xai::Rng rng(3);
        for (float& v : s.images) v = rng.uniform_float();
        for (std::size_t i = 0; i < 6; ++i) s.labels.push_back(i % 3);
        return s;
    }();
    return set;
}

std::string layer_name(fuzz::Input& in) {
    static const std::array<const char*, 9> names = {"", "conv1", "relu1", "pool1", "conv2", "relu2", "gap", "fc", "nope"};
    return names[in.byte() % names.size()];
}

xai::ScoreKind score_kind(fuzz::Input& in) { return static_cast<xai::ScoreKind>(in.byte() % 3); }

xai::Batch random_batch(fuzz::Input& in) {
    const std::uint8_t kind = in.byte();
    const std::size_t n = kind % 8 == 0 ? 0 : 1 + kind % 3;
    xai::ImageShape shape = input_shape;
    if (kind >= 240) shape.channels = 3;  // the wrong shape
    if (kind >= 248) shape.height = 7;
    xai::Batch batch = xai::Batch::from_shape({n, shape.channels, shape.height, shape.width});
    const std::uint8_t fill = in.byte();
    for (float& v : batch) v = fill < 200 ? static_cast<float>(in.byte()) / 255.0f : in.pixel();
    return batch;
}

xai::Targets random_targets(fuzz::Input& in) {
    xai::Targets targets;
    const std::size_t count = in.byte() % 5;
    for (std::size_t i = 0; i < count; ++i) {
        if (in.flag())
            targets.push_back(xai::Target::predicted());
        else
            targets.push_back(xai::Target::class_index(in.byte() < 240 ? in.byte() % 4 : in.size()));
    }
    return targets;
}

/// A progress callback that checks its reports: done ≤ total and never going back within a
/// stage (influence reports the solver's iterations, then the training examples).
struct ProgressCheck {
    std::size_t last = 0;
    std::string stage;
    xai::Progress callback() {
        return [this](const xai::ProgressReport& p) {
            fuzz::check(p.done <= p.total, "progress: done <= total");
            if (p.stage != stage) {
                stage = p.stage;
                last = 0;
            }
            fuzz::check(p.done >= last, "progress never goes back");
            last = p.done;
        };
    }
};

template <class Container>
void require_finite(const Container& values, const char* what) {
    fuzz::check(xai::all_finite(values), what);
}

template <class A, class B>
void require_equal(const A& a, const B& b, const char* what) {
    fuzz::check(a.shape() == b.shape() && std::equal(a.begin(), a.end(), b.begin()), what);
}

/// The display maps of LIME, RISE and occlusion: finite, in [0, 1], at the batch's size.
void check_display_maps(const xai::Explanation& r, const xai::Batch& batch, const char* what) {
    fuzz::check(r.maps.shape(0) == batch.shape(0) && r.maps.shape(1) == batch.shape(2) &&
                    r.maps.shape(2) == batch.shape(3),
                what);
    for (float v : r.maps) fuzz::check(std::isfinite(v) && v >= 0.0f && v <= 1.0f, what);
}

/// The CamOptions of a CAM method's options (ScoreCamOptions and AblationCamOptions hold one, `cam`).
template <class Options>
auto& cam_part(Options& options) {
    if constexpr (requires { options.cam; })
        return options.cam;
    else
        return options;
}

void check_cam(const xai::CamResult& r, const xai::CamOptions& o) {
    require_finite(r.raw, "CAM raw maps are finite");
    require_finite(r.maps, "CAM display maps are finite");
    require_finite(r.weights, "CAM weights are finite");
    for (float s : r.scores) fuzz::check(std::isfinite(s), "CAM scores are finite");
    if (o.normalize)
        for (float v : r.maps) fuzz::check(v >= 0.0f && v <= 1.0f, "normalized maps lie in [0, 1]");
}

void same_cam(const xai::CamResult& a, const xai::CamResult& b) {
    require_equal(a.raw, b.raw, "CAM raw maps do not depend on batch size or threads");
    require_equal(a.maps, b.maps, "CAM maps do not depend on batch size or threads");
    require_equal(a.weights, b.weights, "CAM weights do not depend on batch size or threads");
    fuzz::check(a.targets == b.targets, "CAM targets do not depend on batch size or threads");
}

xai::CamOptions cam_options(fuzz::Input& in) {
    xai::CamOptions o;
    o.layer = layer_name(in);
    o.score = score_kind(in);
    o.relu = in.flag();
    o.normalize = in.flag();
    o.upsampling = static_cast<xai::Interpolation>(in.byte() % 3);
    o.tokens.prefix_tokens = in.size();
    o.tokens.height = in.size();
    o.tokens.width = in.size();
    o.threads = in.size();
    return o;
}

template <class Explainer, class Options>
void run_cam(fuzz::Input& in, Options options, const xai::Batch& batch, const xai::Targets& targets) {
    const Net& net = tiny_net();
    const bool fused = in.flag();
    std::vector<std::string> layers;
    if (fused)
        for (std::size_t i = in.byte() % 4; i > 0; --i) layers.push_back(layer_name(in));
    auto explain = [&](const Explainer& e) {
        if constexpr (requires { e.explain_fused(batch, layers, targets); }) {
            if (fused) {
                const xai::FusedCamResult f = e.explain_fused(batch, layers, targets);
                require_finite(f.raw, "fused raw maps are finite");
                require_finite(f.maps, "fused maps are finite");
                xai::CamResult r;  // carries the fused maps through the same checks
                r.raw = f.raw;
                r.maps = f.maps;
                r.weights = xt::zeros<float>({std::size_t{0}, std::size_t{0}});
                r.targets = f.targets;
                return r;
            }
        }
        ProgressCheck progress;
        const xai::CamResult r = e.explain(batch, targets, progress.callback());
        check_cam(r, cam_part(options));
        return r;
    };
    // The constructor validates the options: a refusal there is an answer too.
    xai::CamResult result;
    if (!fuzz::accepts([&] { result = explain(Explainer(net, options)); })) return;
    Options reference = options;
    if constexpr (requires { reference.batch_size; }) reference.batch_size = Options{}.batch_size;
    cam_part(reference).threads = 1;
    same_cam(result, explain(Explainer(net, reference)));
}

template <class Segmenter>
void run_lime(fuzz::Input& in, Segmenter segmenter, const xai::Batch& batch, const xai::Targets& targets) {
    xai::LimeOptions o;
    o.num_samples = in.in_range(0, 40);
    o.batch_size = in.size();
    o.kernel_width = in.real();
    o.ridge_alpha = in.real();
    o.feature_selection = static_cast<xai::FeatureSelection>(in.byte() % 5);
    o.num_features = in.size();
    o.top_labels = in.size();
    // A fixed colour for the "off" superpixels (lime's hide_color = v); else each superpixel's
    // mean colour, the default. Read here, made in accepts(): Baseline::color refuses bad values.
    const bool fixed_colour = in.flag();
    std::vector<float> colour;
    if (fixed_colour)
        for (std::size_t i = in.byte() % 4; i > 0; --i) colour.push_back(in.pixel());
    o.score = score_kind(in);
    o.seed = in.raw<std::uint64_t>();
    o.threads = in.size();
    // One image, one target: the first of the targets (empty: the predicted class). The other
    // classes LIME fits come from top_labels.
    const xai::Image image = batch.shape(0) > 0 ? xai::image_at(batch, 0) : xai::Image::from_shape({1, 8, 8});
    const xai::Target target = targets.empty() ? xai::Target::predicted() : targets.front();
    xai::LimeExplanation result;
    auto explain = [&](const xai::LimeOptions& options, const xai::Progress& progress) {
        const xai::Lime<Net, Segmenter> lime(tiny_net(), options, segmenter);
        return lime.explain(image, target, progress);
    };
    ProgressCheck progress;
    if (!fuzz::accepts([&] {
            if (fixed_colour) o.baseline = xai::Baseline::color(colour);
            result = explain(o, progress.callback());
        }))
        return;
    fuzz::check(result.surrogates.size() == 1 && !result.surrogates[0].empty(), "LIME fits the target's surrogate");
    fuzz::check(result.surrogates[0][0].target == result.targets[0], "LIME's first surrogate is the target's");
    for (const auto& surrogate : result.surrogates[0]) {
        for (double w : surrogate.weights) fuzz::check(std::isfinite(w), "LIME weights are finite");
        fuzz::check(std::isfinite(surrogate.intercept) && std::isfinite(surrogate.r2) &&
                        std::isfinite(surrogate.local_prediction),
                    "LIME intercept, R² and local prediction are finite");
    }
    require_finite(result.raw, "LIME raw maps are finite");
    check_display_maps(result, xai::as_batch(image), "LIME display maps are finite, in [0, 1], at the image's size");
    xai::LimeOptions reference = o;
    reference.batch_size = xai::LimeOptions{}.batch_size;
    reference.threads = 1;
    const xai::LimeExplanation again = explain(reference, {});
    fuzz::check(again.surrogates[0].size() == result.surrogates[0].size(), "LIME explains the same classes");
    for (std::size_t i = 0; i < again.surrogates[0].size(); ++i)
        fuzz::check(again.surrogates[0][i].target == result.surrogates[0][i].target &&
                        again.surrogates[0][i].weights == result.surrogates[0][i].weights,
                    "LIME weights do not depend on batch size or threads");
    require_equal(result.raw, again.raw, "LIME raw maps do not depend on batch size or threads");
}

xai::Baseline baseline(fuzz::Input& in) {
    switch (in.byte() % 5) {
        case 0: return xai::Baseline::constant(in.pixel());
        case 1: {
            xai::Image b = xai::Image::from_shape({1, in.flag() ? 8u : 7u, 8});
            for (float& v : b) v = in.pixel();
            return xai::Baseline::image(b);
        }
        case 2: {
            xai::GaussianBlurOptions o;
            o.sigma = in.real();
            o.kernel_size = in.size();
            o.border = in.flag() ? xai::BlurBorder::zero : xai::BlurBorder::reflect;
            return xai::Baseline::blurred(o);
        }
        default: return {};
    }
}

void run_rise(fuzz::Input& in, const xai::Batch& batch, const xai::Targets& targets) {
    xai::RiseOptions o;
    o.num_masks = in.in_range(0, 40);
    o.grid_size = in.size();
    o.keep_probability = in.real();
    o.score = score_kind(in);
    o.tolerance = in.real();
    o.check_every = in.size();
    o.batch_size = in.size();
    o.seed = in.raw<std::uint64_t>();
    o.threads = in.size();
    ProgressCheck progress;
    xai::RiseExplanation result;
    if (!fuzz::accepts([&] {
            o.baseline = baseline(in);
            result = xai::Rise<Net>(tiny_net(), o).explain(batch, targets, progress.callback());
        }))
        return;
    require_finite(result.raw, "RISE saliency is finite");
    require_finite(result.standard_error, "RISE standard error is finite");
    check_display_maps(result, batch, "RISE display maps are finite, in [0, 1], at the images' size");
    xai::RiseOptions reference = o;
    reference.batch_size = xai::RiseOptions{}.batch_size;
    reference.threads = 1;
    const xai::RiseExplanation again = xai::Rise<Net>(tiny_net(), reference).explain(batch, targets);
    require_equal(result.raw, again.raw, "RISE does not depend on batch size or threads");
    fuzz::check(result.masks_used == again.masks_used, "RISE uses the same masks whatever the batch size");
}

void run_occlusion(fuzz::Input& in, const xai::Batch& batch, const xai::Targets& targets) {
    xai::OcclusionOptions o;
    o.window = in.size();
    o.stride = in.size();
    o.score = score_kind(in);
    o.batch_size = in.size();
    o.threads = in.size();
    ProgressCheck progress;
    xai::OcclusionExplanation result;
    if (!fuzz::accepts([&] {
            o.baseline = baseline(in);
            result = xai::Occlusion<Net>(tiny_net(), o).explain(batch, targets, progress.callback());
        }))
        return;
    require_finite(result.raw, "occlusion saliency is finite");
    check_display_maps(result, batch, "occlusion display maps are finite, in [0, 1], at the images' size");
    xai::OcclusionOptions reference = o;
    reference.batch_size = xai::OcclusionOptions{}.batch_size;
    reference.threads = 1;
    require_equal(result.raw, xai::Occlusion<Net>(tiny_net(), reference).explain(batch, targets).raw,
                  "occlusion does not depend on batch size or threads");
}

template <class Solver>
void run_influence(fuzz::Input& in, Solver solver, const xai::Batch& batch) {
    xai::InfluenceOptions o;
    o.batch_size = in.size();
    o.threads = in.size();
    static const std::array<const char*, 6> blocks = {"conv1.weight", "conv2.bias", "fc.weight", "fc.bias", "nope", ""};
    for (std::size_t i = in.byte() % 3; i > 0; --i) o.parameter_blocks.push_back(blocks[in.byte() % blocks.size()]);
    o.stationarity = xai::StationarityPolicy::warn;  // the tiny net is untrained
    o.stationarity_tolerance = in.real();
    o.top_k = in.size();
    o.perturbation_step = in.real();
    const xai::Target target = in.flag() ? xai::Target::predicted() : xai::Target::class_index(in.byte() % 4);
    const xai::Image test = batch.shape(0) > 0 ? xai::image_at(batch, 0) : xai::Image::from_shape({1, 8, 8});
    const TrainingSet& train = training_set();
    xai::InfluenceExplanation result;
    ProgressCheck progress;
    if (!fuzz::accepts([&] {
            const xai::Influence<Net, Solver> influence(tiny_net(), train.images, train.labels, o, solver);
            result = influence.explain(test, target, progress.callback());
        }))
        return;
    fuzz::check(result.influence.allFinite(), "influence scores are finite");
    fuzz::check(result.influence.rows() == 6 && result.influence.cols() == 1, "influence is n_train × 1");
    fuzz::check(result.test_losses.size() == 1 && std::isfinite(result.test_losses[0]), "the test loss is finite");
    // Influence promises bit-identical results for any thread count (influence.hpp); a batch
    // size changes how the sums over the training set are grouped, hence their last bits
    // (a difference of rounding only: the fuzzer found it, and the reference keeps the size).
    xai::InfluenceOptions reference = o;
    reference.threads = 1;
    const xai::Influence<Net, Solver> influence(tiny_net(), train.images, train.labels, reference, solver);
    fuzz::check(influence.explain(test, target).influence == result.influence,
                "influence does not depend on the thread count");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz::Input in(data, size);
    const std::uint8_t method = in.byte();
    const xai::Batch batch = random_batch(in);
    const xai::Targets targets = random_targets(in);
    switch (method % 17) {
        case 0: {
            xai::CamOptions o = cam_options(in);
            if (in.byte() < 200) o.layer.clear();  // CAM refuses a layer name; mostly give none
            run_cam<xai::Cam<Net>>(in, o, batch, targets);
            break;
        }
        case 1: run_cam<xai::GradCam<Net>>(in, cam_options(in), batch, targets); break;
        case 2: run_cam<xai::GradCamPlusPlus<Net>>(in, cam_options(in), batch, targets); break;
        case 3: run_cam<xai::XGradCam<Net>>(in, cam_options(in), batch, targets); break;
        case 4: run_cam<xai::HiResCam<Net>>(in, cam_options(in), batch, targets); break;
        case 5: run_cam<xai::LayerCam<Net>>(in, cam_options(in), batch, targets); break;
        case 6: {
            xai::ScoreCamOptions o;
            o.cam = cam_options(in);
            o.batch_size = in.size();
            run_cam<xai::ScoreCam<Net>>(in, o, batch, targets);
            break;
        }
        case 7: run_cam<xai::EigenCam<Net>>(in, cam_options(in), batch, targets); break;
        case 8: {
            xai::AblationCamOptions o;
            o.cam = cam_options(in);
            o.batch_size = in.size();
            run_cam<xai::AblationCam<Net>>(in, o, batch, targets);
            break;
        }
        case 9: {
            xai::GridOptions g;
            g.n_segments = in.size();
            g.rows = in.size();
            g.cols = in.size();
            run_lime(in, xai::GridSegmenter{g}, batch, targets);
            break;
        }
        case 10: {
            xai::SlicOptions s;
            s.n_segments = in.size();
            s.compactness = in.real();
            s.max_iter = in.in_range(0, 5);
            run_lime(in, xai::Slic{s}, batch, targets);
            break;
        }
        case 11: {
            xai::QuickshiftOptions q;
            q.kernel_size = in.real();
            q.max_dist = in.real();
            q.ratio = in.real();
            run_lime(in, xai::Quickshift{q}, batch, targets);
            break;
        }
        case 12: {
            xai::FelzenszwalbOptions f;
            f.scale = in.real();
            f.sigma = in.real();
            f.min_size = in.size();
            run_lime(in, xai::Felzenszwalb{f}, batch, targets);
            break;
        }
        case 13: run_rise(in, batch, targets); break;
        case 14: run_occlusion(in, batch, targets); break;
        case 15: {
            xai::ConjugateGradientSolver cg;
            cg.tolerance = in.real();
            cg.max_iterations = in.in_range(0, 30);
            cg.damping = in.real();
            if (in.flag()) {
                run_influence(in, cg, batch);
            } else {
                xai::ExactSolver exact;
                exact.damping = in.real();
                run_influence(in, exact, batch);
            }
            break;
        }
        default: {
            xai::LissaSolver lissa;
            lissa.recursion_depth = in.in_range(0, 30);
            lissa.scale = in.real();
            lissa.damping = in.real();
            lissa.repeats = in.in_range(0, 3);
            lissa.batch_size = in.size();
            lissa.seed = in.raw<std::uint64_t>();
            run_influence(in, lissa, batch);
            break;
        }
    }
    return 0;
}
