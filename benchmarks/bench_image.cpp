// Benchmarks of include/xai/image: upsampling saliency maps, colormaps and overlays.
//
// Goals (issue 2): bilinear upsampling of a 7×7 map to 224×224 under 50 µs on one core, and a
// batch of 64 maps in proportion (at most 64× one map). All of this code is single-threaded.
// The machine is shared, so besides Google Benchmark's absolute times the batch benchmark
// reports a ratio measured in the same run: batch time / (64 × one-map time).
#include <benchmark/benchmark.h>

#include <time.h>

#include <cmath>
#include <string>

#include "xai/image/colormap.hpp"
#include "xai/image/normalize.hpp"
#include "xai/image/overlay.hpp"
#include "xai/image/resize.hpp"

namespace {

xai::Map smooth_map(std::size_t h, std::size_t w, float phase = 0.0f) {
    xai::Map map = xai::Map::from_shape({h, w});
    for (std::size_t y = 0; y < h; ++y)
        for (std::size_t x = 0; x < w; ++x)
            map(y, x) = 0.5f + 0.5f * std::sin(0.9f * static_cast<float>(y) + phase) * std::cos(0.7f * static_cast<float>(x));
    return map;
}

xai::Image photo_like(std::size_t h, std::size_t w) {
    xai::Image image = xai::Image::from_shape({3, h, w});
    for (std::size_t c = 0; c < 3; ++c)
        for (std::size_t y = 0; y < h; ++y)
            for (std::size_t x = 0; x < w; ++x)
                image(c, y, x) = static_cast<float>((c * 71 + y * 3 + x * 5) % 256) / 255.0f;
    return image;
}

/// CPU seconds this thread spent in f: unlike wall time, not inflated by other processes on a
/// shared machine.
template <class F>
double seconds_of(F&& f) {
    auto now = [] {
        timespec t{};
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
        return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
    };
    const double start = now();
    f();
    return now() - start;
}

// One 7×7 map to 224×224; the argument is the Interpolation (1 = bilinear, 2 = bicubic).
void BM_Upsample7To224(benchmark::State& state) {
    const xai::Map coarse = smooth_map(7, 7);
    const auto method = static_cast<xai::Interpolation>(state.range(0));
    for (auto _ : state) {
        xai::Map up = xai::resize(coarse, 224, 224, method);
        benchmark::DoNotOptimize(up.data());
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
    state.SetLabel(std::string(xai::to_string(method)));
}
BENCHMARK(BM_Upsample7To224)
    ->Arg(static_cast<int>(xai::Interpolation::bilinear))
    ->Arg(static_cast<int>(xai::Interpolation::bicubic))
    ->Unit(benchmark::kMicrosecond);

// A batch of 64 maps 7×7 → 64×224×224 in one call. Counter per_map_ratio = (batch time / 64) /
// (one-map time), both measured inside every iteration, so machine noise affects both alike;
// 1.0 is "exactly in proportion".
void BM_BilinearUpsampleBatch64(benchmark::State& state) {
    constexpr std::size_t n = 64;
    xai::Maps coarse = xai::Maps::from_shape({n, 7, 7});
    for (std::size_t i = 0; i < n; ++i) xt::view(coarse, i, xt::all(), xt::all()) = smooth_map(7, 7, 0.1f * i);
    const xai::Map one = smooth_map(7, 7);
    double batch_seconds = 0.0, single_seconds = 0.0;
    for (auto _ : state) {
        batch_seconds += seconds_of([&] {
            xai::Maps up = xai::resize(coarse, 224, 224, xai::Interpolation::bilinear);
            benchmark::DoNotOptimize(up.data());
        });
        state.PauseTiming();
        single_seconds += seconds_of([&] {
            xai::Map up = xai::resize(one, 224, 224, xai::Interpolation::bilinear);
            benchmark::DoNotOptimize(up.data());
        });
        state.ResumeTiming();
    }
    const double iterations = static_cast<double>(state.iterations());
    state.counters["us_per_map_in_batch"] = 1e6 * batch_seconds / iterations / n;
    state.counters["us_one_map"] = 1e6 * single_seconds / iterations;
    state.counters["per_map_ratio"] = (batch_seconds / n) / single_seconds;
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * n));
}
BENCHMARK(BM_BilinearUpsampleBatch64)->Unit(benchmark::kMillisecond);

void BM_Colormap224(benchmark::State& state) {
    const xai::Map map = xai::normalize_min_max(smooth_map(224, 224));
    const auto colormap = static_cast<xai::Colormap>(state.range(0));
    for (auto _ : state) {
        xai::Image rgb = xai::apply_colormap(map, colormap);
        benchmark::DoNotOptimize(rgb.data());
    }
    state.SetLabel(std::string(xai::to_string(colormap)));
}
BENCHMARK(BM_Colormap224)->Arg(0)->Arg(1)->Arg(2)->Unit(benchmark::kMicrosecond);

// The whole picture step of a Grad-CAM: a 7×7 map upsampled, normalized, colormapped and
// blended over a 224×224 photo. Counter overlay_share = share of the time spent in overlay().
void BM_UpsampleNormalizeOverlay224(benchmark::State& state) {
    const xai::Map coarse = smooth_map(7, 7);
    const xai::Image photo = photo_like(224, 224);
    double overlay_seconds = 0.0, total_seconds = 0.0;
    for (auto _ : state) {
        total_seconds += seconds_of([&] {
            const xai::Map saliency = xai::normalize_min_max(xai::resize(coarse, 224, 224));
            overlay_seconds += seconds_of([&] {
                xai::Image picture = xai::overlay(photo, saliency);
                benchmark::DoNotOptimize(picture.data());
            });
        });
    }
    state.counters["overlay_share"] = overlay_seconds / total_seconds;
}
BENCHMARK(BM_UpsampleNormalizeOverlay224)->Unit(benchmark::kMicrosecond);

}  // namespace
