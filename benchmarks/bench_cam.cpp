// CAM and the Grad-CAM family on the built-in "scenes" CNN (1×64×64 input, 3×3 convolutions,
// explained at its feature layer, the input of the global average pooling: 128×8×8;
// models/builtin.hpp), batch 1 and 32.
//
// Each iteration runs the model's own passes and then the explainer, both on this thread
// (explainer threads = 1, model threads = 1), and adds up the thread CPU time of each, so the
// ratios come from the same run and a busy machine slows both alike. Counters:
//   per_fwd_bwd   explainer / the model's forward + backward pass to the layer
//                 (layer_gradients at the feature layer): every method except Score-CAM
//   per_forward   explainer / one forward pass of the batch: Score-CAM (about C = 128), and
//                 Ablation-CAM and Eigen-CAM for reference
//   beyond_model  (explainer − the model passes the method itself needs) / those passes:
//                 CAM (one forward_features) and the gradient methods (one layer_gradients).
//                 The goal is ≤ 0.10.
//   per_six_grad_cams   Grad-CAM with aug_smooth / six plain Grad-CAMs (goal ≤ 1.05)
// The trained weights are used when data/models/scenes.xaiw is present, else the seeded
// architecture (label "untrained"); the cost of a pass does not depend on the weights, but
// Ablation-CAM skips channels that are all zero and Score-CAM channels that are flat, so their
// times do. Inputs are the shipped scene samples when present, else deterministic noise.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <ctime>
#include <filesystem>
#include <string>
#include <vector>

#include "xai/cam.hpp"
#include "xai/core/data_dir.hpp"
#include "xai/core/random.hpp"
#include "xai/image/io.hpp"
#include "xai/models/builtin.hpp"

namespace {

using Model = xai::models::Sequential;

struct Fixture {
    Model model;
    bool trained = false;
    xai::Batch images;  // 32 images
};

const Fixture& fixture() {
    static const Fixture f = [] {
        Fixture out;
        out.model = xai::models::builtin_architecture("scenes", 1);
        try {
            out.model = xai::models::load_builtin("scenes");
            out.trained = true;
        } catch (const xai::io_error&) {
        }
        out.model.set_num_threads(1);
        out.images = xai::Batch::from_shape({32, 1, 64, 64});
        std::vector<std::filesystem::path> files;
        std::error_code ec;
        const std::filesystem::path dir = xai::data_directory() / "samples" / "scenes";
        for (const auto& entry : std::filesystem::directory_iterator(dir, ec))
            if (entry.path().extension() == ".png") files.push_back(entry.path());
        std::sort(files.begin(), files.end());
        xai::Rng rng(3);
        for (std::size_t i = 0; i < 32; ++i) {
            float* dst = out.images.data() + i * 64 * 64;
            if (!files.empty()) {
                const xai::Image image = xai::load_image(files[i % files.size()], 1);
                std::copy(image.begin(), image.end(), dst);
            } else {
                for (std::size_t p = 0; p < 64 * 64; ++p) dst[p] = rng.uniform_float();
            }
        }
        return out;
    }();
    return f;
}

xai::Batch first_images(std::size_t n) {
    const xai::Batch& all = fixture().images;
    xai::Batch batch = xai::Batch::from_shape({n, 1, 64, 64});
    std::copy_n(all.data(), batch.size(), batch.data());
    return batch;
}

double thread_seconds() {
    timespec t{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}

const std::string& feature_layer() {
    static const std::string name = fixture().model.feature_layer();
    return name;
}

const xai::ScoreSeed predicted_logit = [](const xai::Scores& logits) {
    return xai::target_score_gradient(logits, xai::argmax_rows(logits), xai::ScoreKind::logit);
};

/// Each iteration runs `reference` (the denominator named by `reference_name`), `own` (the
/// model passes the method itself needs, when they differ from the reference) and `explain`,
/// alternating their order so that neither always finds the caches warm; reports the ratios
/// described above. own_is_reference: the method's own passes are the reference pass.
enum class Own { none, reference, separate };

template <class OwnPass, class Reference, class Explain>
void measure(benchmark::State& state, const std::string& reference_name, Own own_kind, OwnPass own, Reference reference,
             Explain explain) {
    double own_s = 0.0, reference_s = 0.0, explain_s = 0.0;
    bool explainer_first = false;
    for (auto _ : state) {
        const auto timed = [](auto&& f) {
            const double start = thread_seconds();
            benchmark::DoNotOptimize(f());
            return thread_seconds() - start;
        };
        double e = 0.0;
        if (explainer_first) e = timed(explain);
        reference_s += timed(reference);
        if (own_kind == Own::separate) own_s += timed(own);
        if (!explainer_first) e = timed(explain);
        explain_s += e;
        state.SetIterationTime(e);
        explainer_first = !explainer_first;
    }
    const auto n = static_cast<double>(state.iterations());
    state.counters["explainer_ms"] = 1e3 * explain_s / n;
    state.counters[reference_name + "_ms"] = 1e3 * reference_s / n;
    state.counters["per_" + reference_name] = explain_s / reference_s;
    if (own_kind == Own::reference) own_s = reference_s;
    if (own_kind != Own::none) state.counters["beyond_model"] = (explain_s - own_s) / own_s;
    state.SetLabel(fixture().trained ? "trained" : "untrained");
}

template <template <class> class Explainer>
void BM_Gradient(benchmark::State& state) {
    const Model& model = fixture().model;
    const std::string& layer = feature_layer();
    const xai::Batch batch = first_images(static_cast<std::size_t>(state.range(0)));
    const Explainer<Model> explainer(model, {.layer = layer, .threads = 1});
    // The method's own passes are exactly the reference: one layer_gradients call.
    measure(
        state, "fwd_bwd", Own::reference, [] { return 0; },
        [&] { return model.layer_gradients(batch, layer, predicted_logit).scores.size(); },
        [&] { return explainer.explain(batch).maps.size(); });
}

/// Grad-CAM with eigen_smooth: its own passes are one layer_gradients, like Grad-CAM's.
void BM_GradCamEigenSmooth(benchmark::State& state) {
    const Model& model = fixture().model;
    const std::string& layer = feature_layer();
    const xai::Batch batch = first_images(static_cast<std::size_t>(state.range(0)));
    const xai::GradCam<Model> cam(model, {.layer = layer, .eigen_smooth = true, .threads = 1});
    measure(
        state, "fwd_bwd", Own::reference, [] { return 0; },
        [&] { return model.layer_gradients(batch, layer, predicted_logit).scores.size(); },
        [&] { return cam.explain(batch).maps.size(); });
}

/// Grad-CAM with aug_smooth against six plain Grad-CAMs (the goal: ≤ 1.05).
void BM_GradCamAugSmooth(benchmark::State& state) {
    const Model& model = fixture().model;
    const std::string& layer = feature_layer();
    const xai::Batch batch = first_images(static_cast<std::size_t>(state.range(0)));
    const xai::GradCam<Model> plain(model, {.layer = layer, .threads = 1});
    const xai::GradCam<Model> smooth(model, {.layer = layer, .aug_smooth = true, .threads = 1});
    measure(
        state, "six_grad_cams", Own::none, [] { return 0; },
        [&] {
            std::size_t size = 0;
            for (int k = 0; k < 6; ++k) size += plain.explain(batch).maps.size();
            return size;
        },
        [&] { return smooth.explain(batch).maps.size(); });
}

void BM_KpcaCam(benchmark::State& state) {
    const Model& model = fixture().model;
    const std::string& layer = feature_layer();
    const xai::Batch batch = first_images(static_cast<std::size_t>(state.range(0)));
    const xai::KpcaCam<Model> cam(model, {.cam = {.layer = layer, .threads = 1}});
    measure(
        state, "fwd_bwd", Own::separate, [&] { return model.layer_activations(batch, layer).scores.size(); },
        [&] { return model.layer_gradients(batch, layer, predicted_logit).scores.size(); },
        [&] { return cam.explain(batch).maps.size(); });
}

void BM_Cam(benchmark::State& state) {
    const Model& model = fixture().model;
    const std::string& layer = feature_layer();
    const xai::Batch batch = first_images(static_cast<std::size_t>(state.range(0)));
    const xai::Cam<Model> cam(model, {.threads = 1});
    measure(
        state, "fwd_bwd", Own::separate, [&] { return model.forward_features(batch).scores.size(); },
        [&] { return model.layer_gradients(batch, layer, predicted_logit).scores.size(); },
        [&] { return cam.explain(batch).maps.size(); });
}

void BM_EigenCam(benchmark::State& state) {
    const Model& model = fixture().model;
    const std::string& layer = feature_layer();
    const xai::Batch batch = first_images(static_cast<std::size_t>(state.range(0)));
    const xai::EigenCam<Model> cam(model, {.layer = layer, .threads = 1});
    measure(
        state, "fwd_bwd", Own::separate, [&] { return model.layer_activations(batch, layer).scores.size(); },
        [&] { return model.layer_gradients(batch, layer, predicted_logit).scores.size(); },
        [&] { return cam.explain(batch).maps.size(); });
}

void BM_AblationCam(benchmark::State& state) {
    const Model& model = fixture().model;
    const std::string& layer = feature_layer();
    const xai::Batch batch = first_images(static_cast<std::size_t>(state.range(0)));
    const xai::AblationCam<Model> cam(model, {.cam = {.layer = layer, .threads = 1}});
    measure(
        state, "fwd_bwd", Own::none, [] { return 0; },
        [&] { return model.layer_gradients(batch, layer, predicted_logit).scores.size(); },
        [&] { return cam.explain(batch).maps.size(); });
}

void BM_ScoreCam(benchmark::State& state) {
    const Model& model = fixture().model;
    const xai::Batch batch = first_images(static_cast<std::size_t>(state.range(0)));
    const xai::ScoreCam<Model> cam(model, {.cam = {.layer = feature_layer(), .threads = 1}});
    measure(
        state, "forward", Own::none, [] { return 0; }, [&] { return model.forward(batch).size(); },
        [&] { return cam.explain(batch).maps.size(); });
}

BENCHMARK(BM_Cam)->Arg(1)->Arg(32)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Gradient<xai::GradCam>)->Name("BM_GradCam")->Arg(1)->Arg(32)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Gradient<xai::GradCamPlusPlus>)
    ->Name("BM_GradCamPlusPlus")->Arg(1)->Arg(32)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Gradient<xai::XGradCam>)->Name("BM_XGradCam")->Arg(1)->Arg(32)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Gradient<xai::HiResCam>)->Name("BM_HiResCam")->Arg(1)->Arg(32)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Gradient<xai::LayerCam>)->Name("BM_LayerCam")->Arg(1)->Arg(32)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Gradient<xai::GradCamElementWise>)
    ->Name("BM_GradCamElementWise")
    ->Arg(1)
    ->Arg(32)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Gradient<xai::EigenGradCam>)->Name("BM_EigenGradCam")->Arg(1)->Arg(32)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_GradCamEigenSmooth)->Arg(1)->Arg(32)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_GradCamAugSmooth)->Arg(1)->Arg(32)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_KpcaCam)->Arg(1)->Arg(32)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_EigenCam)->Arg(1)->Arg(32)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_AblationCam)->Arg(1)->Arg(32)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ScoreCam)->Arg(1)->Arg(32)->UseManualTime()->Unit(benchmark::kMillisecond)->Iterations(2);

}  // namespace
