// Superpixels and LIME on the shipped 224×224 photo (data/samples/photos/chelsea_224.png).
//
// Goals (issue 9, one core): SLIC ≤ 5 ms, quick shift with lime's parameters ≤ 50 ms
// (scikit-image on this class of machine: quickshift 234 ms, SLIC with 50–100 segments 23–25 ms).
// Counters: `segments` (how many superpixels), `ms` (milliseconds per call, the same figure as
// the real time, kept as a counter so it reads in the table).
#include <benchmark/benchmark.h>

#include <string>

#include "xai/core/data_dir.hpp"
#include "xai/image/io.hpp"
#include "xai/image/superpixels.hpp"

namespace {

const xai::Image& chelsea() {
    static const xai::Image image = xai::load_image(xai::data_directory() / "samples" / "photos" / "chelsea_224.png", 3);
    return image;
}

template <class Segment>
void run_segmentation(benchmark::State& state, Segment segment) {
    const xai::Image& image = chelsea();
    std::size_t count = 0;
    for (auto _ : state) {
        const xai::Segmentation s = segment(image);
        count = s.count;
        benchmark::DoNotOptimize(s.labels.data());
    }
    state.counters["segments"] = static_cast<double>(count);
    state.counters["ms"] = benchmark::Counter(static_cast<double>(state.iterations()) * 1e-3,
                                              benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

void BM_Slic(benchmark::State& state) {
    xai::SlicOptions options;
    options.n_segments = static_cast<std::size_t>(state.range(0));
    run_segmentation(state, [&](const xai::Image& image) { return xai::slic(image, options); });
}
BENCHMARK(BM_Slic)->Arg(50)->Arg(100)->Unit(benchmark::kMillisecond);

void BM_QuickshiftLimeDefaults(benchmark::State& state) {
    run_segmentation(state, [](const xai::Image& image) { return xai::quickshift(image); });
}
BENCHMARK(BM_QuickshiftLimeDefaults)->Unit(benchmark::kMillisecond);

void BM_Felzenszwalb(benchmark::State& state) {
    run_segmentation(state, [](const xai::Image& image) { return xai::felzenszwalb(image, {100.0, 0.8, 50}); });
}
BENCHMARK(BM_Felzenszwalb)->Unit(benchmark::kMillisecond);

void BM_RgbToLab(benchmark::State& state) {
    const xai::Image& image = chelsea();
    for (auto _ : state) benchmark::DoNotOptimize(xai::rgb_to_lab(image).data());
}
BENCHMARK(BM_RgbToLab)->Unit(benchmark::kMillisecond);

}  // namespace
