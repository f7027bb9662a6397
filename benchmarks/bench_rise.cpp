// RISE's own cost per mask (generate the mask, apply it, fold the score into the running sums
// and squares) against the model's forward pass, at 224×224 and 64×64, on one thread.
//
// RISE's own work is measured by running Rise::explain with a model whose forward pass costs
// nothing (it returns constant logits without reading its input), so everything timed is RISE's.
// The model time it is compared with is measured in the same run, on the same batch size (32):
//   BM_RiseVsResNet18Flops  a single-precision GEMM with ResNet-18's multiply-accumulate count
//                           (1.82 G at 224×224; ×(64/224)² = 0.149 G at 64×64) per image: a lower
//                           bound on a real ResNet-18 forward pass, whose convolutions run slower
//                           than one large GEMM, so the ratio is an upper bound (goal ≤ 5%).
//   BM_RiseVsBuiltinCnn     the built-in scenes CNN (models/builtin.hpp: five 3×3 convolutions
//                           of 32–128 channels, three poolings, GAP, fc) on its 1×64×64 input, and
//                           its layers on a 3×224×224 input; RISE runs on the same channel count.
// Counters (thread CPU time, one thread everywhere): us_per_mask (RISE's own work per mask),
// us_model_per_image (the model's forward pass per image), ratio = us_per_mask / us_model_per_image.
// BM_RiseVarianceReduction and BM_SobolOwnCost (issue 22) time the variance reductions and the
// Sobol attribution method the same way.
#include <benchmark/benchmark.h>

#include <ctime>
#include <vector>

#include "xai/core/eigen.hpp"
#include "xai/rise.hpp"
#include "xai/models/builtin.hpp"

namespace {

constexpr std::size_t kBatch = 32;
constexpr std::size_t kMasks = 256;

/// Constant logits: a forward pass that costs nothing, so Rise::explain times only RISE itself.
struct FreeModel {
    xai::ImageShape shape;
    xai::Scores forward(const xai::Batch& batch) const {
        xai::Scores s = xai::Scores::from_shape({batch.shape(0), 10});
        for (std::size_t i = 0; i < s.size(); ++i) s.data()[i] = static_cast<float>(i % 10);
        return s;
    }
    std::size_t num_classes() const { return 10; }
    xai::ImageShape input_shape() const { return shape; }
};

/// CPU time of the calling thread spent in f, in seconds. Everything measured here runs on the
/// calling thread (threads = 1 everywhere), and CPU time is robust to the other jobs that share
/// the machine, which inflate wall-clock times unevenly.
template <class F>
double seconds(F&& f) {
    timespec start{}, stop{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &start);
    f();
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &stop);
    return static_cast<double>(stop.tv_sec - start.tv_sec) + 1e-9 * static_cast<double>(stop.tv_nsec - start.tv_nsec);
}

xai::Image test_image(std::size_t size, std::size_t channels) {
    xai::Image image = xai::Image::from_shape({channels, size, size});
    for (std::size_t p = 0; p < image.size(); ++p) image.data()[p] = static_cast<float>((p * 7919) % 251) / 251.0f;
    return image;
}

/// RISE's own time per mask on one thread (mask generation + application + accumulation).
double rise_seconds_per_mask(std::size_t size, std::size_t channels = 3, xai::RiseOptions options = {}) {
    const FreeModel model{{channels, size, size}};
    options.num_masks = kMasks;
    options.batch_size = kBatch;
    options.threads = 1;
    const xai::Rise rise(model, options);
    const xai::Image image = test_image(size, channels);
    return seconds([&] { benchmark::DoNotOptimize(rise.explain(image, 3).raw.data()); }) / kMasks;
}

void report(benchmark::State& state, double rise_total, double model_total) {
    const double iterations = static_cast<double>(state.iterations());
    state.counters["us_per_mask"] = 1e6 * rise_total / iterations;
    state.counters["us_model_per_image"] = 1e6 * model_total / iterations;
    state.counters["ratio"] = rise_total / model_total;
}

void BM_RiseVsResNet18Flops(benchmark::State& state) {
    const auto size = static_cast<std::size_t>(state.range(0));
    // ResNet-18's 1.82 G multiply-accumulates at 224×224 scale with the pixel count; the GEMM
    // 256 × 2304 · 2304 × n (n = 3080 at 224, 252 at 64) performs the same number.
    const Eigen::Index n = size == 224 ? 3080 : 252;
    const Eigen::MatrixXf a = Eigen::MatrixXf::Random(256, 2304), b = Eigen::MatrixXf::Random(2304, n);
    Eigen::MatrixXf c(256, n);
    Eigen::setNbThreads(1);
    double rise_total = 0.0, model_total = 0.0;
    for (auto _ : state) {
        rise_total += rise_seconds_per_mask(size);
        model_total += seconds([&] { c.noalias() = a * b; });
        benchmark::DoNotOptimize(c.data());
    }
    report(state, rise_total, model_total);
    state.counters["model_gmac_per_image"] = 256.0 * 2304.0 * static_cast<double>(n) * 1e-9;
}
BENCHMARK(BM_RiseVsResNet18Flops)->Arg(224)->Arg(64)->Unit(benchmark::kMillisecond);

void BM_RiseVsBuiltinCnn(benchmark::State& state) {
    const auto size = static_cast<std::size_t>(state.range(0));
    // The built-in scenes CNN (1×64×64); at 224 its layers on a 3×224×224 input.
    const xai::models::Sequential scenes = xai::models::builtin_architecture("scenes");
    std::vector<xai::models::LayerSpec> specs;
    for (const auto& layer : scenes.layers()) specs.push_back(layer.spec);
    const xai::ImageShape shape = size == 64 ? scenes.input_shape() : xai::ImageShape{3, size, size};
    xai::models::Sequential cnn(shape, specs);
    cnn.set_num_threads(1);
    xai::Batch batch = xai::Batch::from_shape({kBatch, shape.channels, size, size});
    for (std::size_t p = 0; p < batch.size(); ++p) batch.data()[p] = static_cast<float>((p * 31) % 17) / 17.0f;
    double rise_total = 0.0, model_total = 0.0;
    for (auto _ : state) {
        rise_total += rise_seconds_per_mask(size, shape.channels);
        model_total += seconds([&] { benchmark::DoNotOptimize(cnn.forward(batch).data()); }) / kBatch;
    }
    report(state, rise_total, model_total);
    state.counters["channels"] = static_cast<double>(shape.channels);
}
BENCHMARK(BM_RiseVsBuiltinCnn)->Arg(224)->Arg(64)->Unit(benchmark::kMillisecond);

/// Mask generation alone (draw + render), per mask, one thread.
void BM_RiseMaskGeneration(benchmark::State& state) {
    const auto size = static_cast<std::size_t>(state.range(0));
    const xai::RiseMaskGenerator generator(size, size, 7, 0.5);
    std::vector<float> mask(size * size);
    std::uint64_t index = 0;
    for (auto _ : state) {
        generator.render(generator.draw(0, index++), mask.data());
        benchmark::DoNotOptimize(mask.data());
    }
}
BENCHMARK(BM_RiseMaskGeneration)->Arg(224)->Arg(64);

/// RISE's own time per mask with the variance reductions of issue 22 (docs/methods/efficiency.md),
/// against plain RISE's in the same run: Arg(0) antithetic, (1) quasi-random (a scrambled Sobol'
/// point per mask: s² + 2 coordinates of 32 hashed bits each), (2) the mean-score control
/// variate (two more running sums per pixel), at 224×224 RGB. Counter `vs_plain`: the ratio of
/// the two per-mask times; `us_per_mask` the variant's.
void BM_RiseVarianceReduction(benchmark::State& state) {
    xai::RiseOptions options;
    if (state.range(0) == 0) options.sampling = xai::RiseSampling::antithetic;
    if (state.range(0) == 1) options.sampling = xai::RiseSampling::quasi_random;
    if (state.range(0) == 2) options.control_variate = xai::RiseControlVariate::mean_score;
    double variant = 0.0, plain = 0.0;
    for (auto _ : state) {
        variant += rise_seconds_per_mask(224, 3, options);
        plain += rise_seconds_per_mask(224, 3);
    }
    state.counters["us_per_mask"] = 1e6 * variant / static_cast<double>(state.iterations());
    state.counters["vs_plain"] = variant / plain;
}
BENCHMARK(BM_RiseVarianceReduction)->Arg(0)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond);

/// The Sobol attribution method's own time per forward pass (grid mask, nearest upsampling,
/// inpainting, Jansen's estimator at the end) at 224×224 RGB with g = 8, N = 4 (260 forwards),
/// one thread, a model that costs nothing. Counter `us_per_forward`.
void BM_SobolOwnCost(benchmark::State& state) {
    const FreeModel model{{3, 224, 224}};
    const xai::SobolAttribution sobol(model, {.designs = 4, .batch_size = kBatch, .threads = 1});
    const xai::Image image = test_image(224, 3);
    double total = 0.0;
    for (auto _ : state) total += seconds([&] { benchmark::DoNotOptimize(sobol.explain(image, 3).raw.data()); });
    state.counters["us_per_forward"] = 1e6 * total / static_cast<double>(state.iterations()) / static_cast<double>(sobol.forwards());
}
BENCHMARK(BM_SobolOwnCost)->Unit(benchmark::kMillisecond);

}  // namespace
