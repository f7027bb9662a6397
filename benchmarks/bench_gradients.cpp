// The gradient methods' time over the model passes they cannot avoid, on the built-in scenes CNN
// (models/builtin.hpp, 1×64×64, trained weights not needed: the architecture's cost), one thread:
//   BM_IntegratedGradients  IG with m = 50 Gauss–Legendre steps on one image, against 50 forward
//                           + backward-to-input passes of the model in the same batches (50 path
//                           points in one input_gradients call)
//   BM_Saliency             Saliency of 32 images, against one input_gradients call on them
//   BM_SmoothGrad           the noise tunnel around Saliency (n = 50) on one image, against one
//                           input_gradients call on 50 images
//   BM_GradientShap         GradientSHAP with 50 samples on one image, against the same call
//   BM_GuidedBackprop       guided backprop of 32 images, against input_gradients on them with
//                           the guided rule
// Counters (thread CPU time; the model and every explainer on one thread): us_method and
// us_model per iteration, ratio = us_method / us_model (goal ≤ 1.05: the method adds at most
// 5 % to the passes it needs; no parameter gradients are computed).
#include <benchmark/benchmark.h>

#include <ctime>
#include <vector>

#include "xai/gradients.hpp"
#include "xai/models/builtin.hpp"

namespace {

using Net = xai::models::Sequential;

/// CPU time of the calling thread spent in f, in seconds (robust to the other jobs on the machine).
template <class F>
double seconds(F&& f) {
    timespec start{}, stop{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &start);
    f();
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &stop);
    return static_cast<double>(stop.tv_sec - start.tv_sec) + 1e-9 * static_cast<double>(stop.tv_nsec - start.tv_nsec);
}

Net scenes_cnn() {
    Net net = xai::models::builtin_architecture("scenes", 1);
    net.set_num_threads(1);
    return net;
}

xai::Batch test_batch(std::size_t n) {
    xai::Batch batch = xai::Batch::from_shape({n, 1, 64, 64});
    for (std::size_t p = 0; p < batch.size(); ++p) batch.data()[p] = static_cast<float>((p * 31) % 17) / 17.0f;
    return batch;
}

/// One input_gradients call on `batch` seeded with class 0's logit, through the ReLUs by `rule`.
double model_pass(const Net& net, const xai::Batch& batch, xai::ReluBackward rule = xai::ReluBackward::standard) {
    const std::vector<std::size_t> targets(batch.shape(0), 0);
    return seconds([&] {
        benchmark::DoNotOptimize(
            net.input_gradients(
                   batch, [&](const xai::Scores& s) { return xai::target_score_gradient(s, targets, xai::ScoreKind::logit); },
                   rule)
                .gradients.data());
    });
}

void report(benchmark::State& state, double method, double model) {
    const double iterations = static_cast<double>(state.iterations());
    state.counters["us_method"] = 1e6 * method / iterations;
    state.counters["us_model"] = 1e6 * model / iterations;
    state.counters["ratio"] = method / model;
}

void BM_IntegratedGradients(benchmark::State& state) {
    const Net net = scenes_cnn();
    const xai::Batch one = test_batch(1), path = test_batch(50);
    const xai::IntegratedGradients<Net> ig(net, {.steps = 50, .batch_size = 50, .threads = 1});
    double method = 0.0, model = 0.0;
    for (auto _ : state) {
        method += seconds([&] { benchmark::DoNotOptimize(ig.explain(one, {0}).attributions.data()); });
        model += model_pass(net, path);
    }
    report(state, method, model);
}
BENCHMARK(BM_IntegratedGradients)->Unit(benchmark::kMillisecond);

void BM_Saliency(benchmark::State& state) {
    const Net net = scenes_cnn();
    const xai::Batch images = test_batch(32);
    const xai::Saliency<Net> saliency(net, {.threads = 1});
    double method = 0.0, model = 0.0;
    for (auto _ : state) {
        method += seconds([&] { benchmark::DoNotOptimize(saliency.explain(images, {0}).attributions.data()); });
        model += model_pass(net, images);
    }
    report(state, method, model);
}
BENCHMARK(BM_Saliency)->Unit(benchmark::kMillisecond);

void BM_SmoothGrad(benchmark::State& state) {
    const Net net = scenes_cnn();
    const xai::Batch one = test_batch(1), samples = test_batch(50);
    const xai::NoiseTunnel<xai::Saliency<Net>> sg(net, {.method = {.batch_size = 50, .threads = 1}});
    double method = 0.0, model = 0.0;
    for (auto _ : state) {
        method += seconds([&] { benchmark::DoNotOptimize(sg.explain(one, {0}).attributions.data()); });
        model += model_pass(net, samples);
    }
    report(state, method, model);
}
BENCHMARK(BM_SmoothGrad)->Unit(benchmark::kMillisecond);

void BM_GradientShap(benchmark::State& state) {
    const Net net = scenes_cnn();
    const xai::Batch one = test_batch(1), samples = test_batch(50);
    const xai::GradientShap<Net> shap(net, {.samples = 50, .batch_size = 50, .threads = 1});
    double method = 0.0, model = 0.0;
    for (auto _ : state) {
        method += seconds([&] { benchmark::DoNotOptimize(shap.explain(one, {0}).attributions.data()); });
        model += model_pass(net, samples);
    }
    report(state, method, model);
}
BENCHMARK(BM_GradientShap)->Unit(benchmark::kMillisecond);

void BM_GuidedBackprop(benchmark::State& state) {
    const Net net = scenes_cnn();
    const xai::Batch images = test_batch(32);
    const xai::GuidedBackprop<Net> guided(net, {.threads = 1});
    double method = 0.0, model = 0.0;
    for (auto _ : state) {
        method += seconds([&] { benchmark::DoNotOptimize(guided.explain(images, {0}).attributions.data()); });
        model += model_pass(net, images, xai::ReluBackward::guided);
    }
    report(state, method, model);
}
BENCHMARK(BM_GuidedBackprop)->Unit(benchmark::kMillisecond);

}  // namespace
