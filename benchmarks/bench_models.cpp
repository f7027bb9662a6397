// Throughput of the built-in CNN (models/sequential.hpp) on the built-in architectures:
//   forward             Sequential::forward (logits, no activations kept)
//   forward_backward    Sequential::objective_gradient (one training step's gradient: forward,
//                       loss, backward with every parameter gradient)
// in images per second ("images/s" counter), for batches of 64 and 256 on one thread and on all
// threads (second argument 0). Weights are the untrained initialisation: the cost does not
// depend on their values. The ratios benchmark measures, in the same run, what a gradient
// request costs relative to a forward pass of the same batch: layer_gradients stopping at the
// feature layer (Grad-CAM), input_gradients, and a full training step.

#include <benchmark/benchmark.h>

#include <chrono>
#include <string>
#include <vector>

#include "xai/models/builtin.hpp"

namespace {

xai::Batch bench_batch(const xai::models::Sequential& model, std::size_t n) {
    const xai::ImageShape s = model.input_shape();
    xai::Batch batch = xai::Batch::from_shape({n, s.channels, s.height, s.width});
    xai::Rng rng(42);
    for (float& v : batch) v = rng.uniform_float();
    return batch;
}

xai::Labels bench_labels(std::size_t n) {
    xai::Labels labels(n);
    for (std::size_t i = 0; i < n; ++i) labels[i] = i % 10;
    return labels;
}

/// The model, batch and labels of one benchmark: state.range(0) images, state.range(1) threads.
struct Setup {
    xai::models::Sequential model;
    std::size_t n;
    xai::Batch batch;
    xai::Labels labels;

    Setup(const benchmark::State& state, const std::string& name)
        : model(xai::models::builtin_architecture(name, 1)), n(static_cast<std::size_t>(state.range(0))),
          batch(bench_batch(model, n)), labels(bench_labels(n)) {
        model.set_num_threads(static_cast<std::size_t>(state.range(1)));
    }

    void report(benchmark::State& state) const {
        state.counters["images/s"] = benchmark::Counter(static_cast<double>(n * static_cast<std::size_t>(state.iterations())),
                                                        benchmark::Counter::kIsRate);
        state.counters["threads"] = static_cast<double>(xai::resolve_threads(static_cast<std::size_t>(state.range(1))));
    }
};

void forward(benchmark::State& state, const std::string& name) {
    const Setup s(state, name);
    for (auto _ : state) benchmark::DoNotOptimize(s.model.forward(s.batch));
    s.report(state);
}

void forward_backward(benchmark::State& state, const std::string& name) {
    const Setup s(state, name);
    std::vector<float> gradient(s.model.num_parameters());
    for (auto _ : state) benchmark::DoNotOptimize(s.model.objective_gradient(s.batch, s.labels, gradient));
    s.report(state);
}

/// Gradient requests relative to a forward pass, timed alternately in the same loop.
void gradient_ratios(benchmark::State& state, const std::string& name) {
    const Setup s(state, name);
    const xai::models::Sequential& model = s.model;
    const xai::Batch& batch = s.batch;
    const xai::Labels& labels = s.labels;
    const std::string layer = model.feature_layer();
    const xai::ScoreSeed seed = [](const xai::Scores& logits) {
        return xai::target_score_gradient(logits, xai::argmax_rows(logits), xai::ScoreKind::logit);
    };
    std::vector<float> gradient(model.num_parameters());
    double t_forward = 0, t_layer = 0, t_input = 0, t_train = 0;
    using clock = std::chrono::steady_clock;
    auto seconds = [](clock::time_point a, clock::time_point b) { return std::chrono::duration<double>(b - a).count(); };
    for (auto _ : state) {
        const auto t0 = clock::now();
        benchmark::DoNotOptimize(model.forward(batch));
        const auto t1 = clock::now();
        benchmark::DoNotOptimize(model.layer_gradients(batch, layer, seed));
        const auto t2 = clock::now();
        benchmark::DoNotOptimize(model.input_gradients(batch, seed));
        const auto t3 = clock::now();
        benchmark::DoNotOptimize(model.objective_gradient(batch, labels, gradient));
        const auto t4 = clock::now();
        t_forward += seconds(t0, t1);
        t_layer += seconds(t1, t2);
        t_input += seconds(t2, t3);
        t_train += seconds(t3, t4);
    }
    state.counters["layer_gradients/forward"] = t_layer / t_forward;
    state.counters["input_gradients/forward"] = t_input / t_forward;
    state.counters["training_step/forward"] = t_train / t_forward;
}

}  // namespace

// Arguments: {batch size, threads (0 = all)}.
#define XAI_MODEL_ARGS ->Args({64, 1})->Args({64, 0})->Args({256, 1})->Args({256, 0})->UseRealTime()->Unit(benchmark::kMillisecond)
BENCHMARK_CAPTURE(forward, fashion, std::string("fashion")) XAI_MODEL_ARGS;
BENCHMARK_CAPTURE(forward_backward, fashion, std::string("fashion")) XAI_MODEL_ARGS;
BENCHMARK_CAPTURE(forward, scenes, std::string("scenes")) XAI_MODEL_ARGS;
BENCHMARK_CAPTURE(forward_backward, scenes, std::string("scenes")) XAI_MODEL_ARGS;
BENCHMARK_CAPTURE(gradient_ratios, fashion, std::string("fashion"))->Args({64, 1})->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(gradient_ratios, scenes, std::string("scenes"))->Args({64, 1})->UseRealTime()->Unit(benchmark::kMillisecond);
