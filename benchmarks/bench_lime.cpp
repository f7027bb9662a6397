// Superpixels and LIME on the shipped 224×224 photo (data/samples/photos/chelsea_224.png).
//
// Goals (issue 9, one core): SLIC ≤ 5 ms, quick shift with lime's parameters ≤ 50 ms
// (scikit-image on this class of machine: quickshift 234 ms, SLIC with 50–100 segments 23–25 ms).
// Counter: `segments` (how many superpixels). Read the CPU column: the machine is shared.
//
// LIME end to end (goal: time outside the model's forward passes ≤ 10% of the total) runs the
// built-in "scenes" CNN architecture (1×64×64 input, five 3×3 convolutions; models/sequential.hpp)
// with lime's defaults (quick shift, 1000 samples, surrogates of the top 5 labels, the predicted
// class first) on chelsea converted to grey and resized to 64×64. The model is wrapped so that
// the CPU time inside its forward passes is added up during the explanation; counters:
// `forward_ms` (inside the model), `lime_ms` (the whole explanation), `outside_forward` =
// (lime − forward) / lime, all CPU time; `samples` (forward passes). Arg(1) runs the adaptive
// sample size (LimeOptions::adaptive, issue 22), whose rounds each fit the surrogate and its
// covariance: `outside_forward` then shows what the test costs beside the forwards it saves.
// The weights are the architecture's seeded initial values: the cost of a forward pass does not
// depend on them.
#include <benchmark/benchmark.h>

#include <ctime>
#include <string>

#include "xai/core/data_dir.hpp"
#include "xai/image/io.hpp"
#include "xai/image/resize.hpp"
#include "xai/lime.hpp"
#include "xai/models/sequential.hpp"

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
}

void BM_Slic(benchmark::State& state) {
    xai::SlicOptions options;
    options.n_segments = static_cast<std::size_t>(state.range(0));
    run_segmentation(state, [&](const xai::Image& image) { return xai::slic(image, options); });
}
BENCHMARK(BM_Slic)->Arg(50)->Arg(100)->Unit(benchmark::kMillisecond);

// SlicOptions::exact: double precision throughout (docs/superpixels.md).
void BM_SlicExact(benchmark::State& state) {
    xai::SlicOptions options;
    options.n_segments = static_cast<std::size_t>(state.range(0));
    options.exact = true;
    run_segmentation(state, [&](const xai::Image& image) { return xai::slic(image, options); });
}
BENCHMARK(BM_SlicExact)->Arg(100)->Unit(benchmark::kMillisecond);

void BM_QuickshiftLimeDefaults(benchmark::State& state) {
    run_segmentation(state, [](const xai::Image& image) { return xai::quickshift(image); });
}
BENCHMARK(BM_QuickshiftLimeDefaults)->Unit(benchmark::kMillisecond);

// QuickshiftTies::seeded_noise: skimage's tie rule, in double (docs/superpixels.md).
void BM_QuickshiftSeededNoise(benchmark::State& state) {
    xai::QuickshiftOptions options;
    options.ties = xai::QuickshiftTies::seeded_noise;
    run_segmentation(state, [&](const xai::Image& image) { return xai::quickshift(image, options); });
}
BENCHMARK(BM_QuickshiftSeededNoise)->Unit(benchmark::kMillisecond);

void BM_Felzenszwalb(benchmark::State& state) {
    run_segmentation(state, [](const xai::Image& image) { return xai::felzenszwalb(image, {100.0, 0.8, 50}); });
}
BENCHMARK(BM_Felzenszwalb)->Unit(benchmark::kMillisecond);

void BM_RgbToLab(benchmark::State& state) {
    const xai::Image& image = chelsea();
    for (auto _ : state) benchmark::DoNotOptimize(xai::rgb_to_lab(image).data());
}
BENCHMARK(BM_RgbToLab)->Unit(benchmark::kMillisecond);

/// The architecture of xai::models::load_builtin("scenes") (models/builtin.hpp), seeded.
xai::models::Sequential scenes_cnn() {
    using namespace xai::models;
    return Sequential({1, 64, 64},
                      {conv2d(32, 3, 1, 1), relu(), max_pool2d(2), conv2d(32, 3, 1, 1), relu(), max_pool2d(2),
                       conv2d(64, 3, 1, 1), relu(), conv2d(64, 3, 1, 1), relu(), max_pool2d(2), conv2d(128, 3, 1, 1),
                       relu(), global_avg_pool(), linear(10)},
                      1);
}

/// The model, with the CPU time spent inside its forward passes added up (single-threaded use).
class TimedModel {
public:
    explicit TimedModel(const xai::models::Sequential& model) : model_(model) {}
    xai::Scores forward(const xai::Batch& batch) const {
        const std::clock_t start = std::clock();
        xai::Scores scores = model_.forward(batch);
        seconds_ += static_cast<double>(std::clock() - start) / CLOCKS_PER_SEC;
        return scores;
    }
    std::size_t num_classes() const { return model_.num_classes(); }
    xai::ImageShape input_shape() const { return model_.input_shape(); }
    double seconds() const { return seconds_; }

private:
    const xai::models::Sequential& model_;
    mutable double seconds_ = 0.0;
};

void BM_LimeEndToEnd(benchmark::State& state) {
    const xai::models::Sequential model = scenes_cnn();
    const TimedModel timed(model);
    const xai::Image& rgb = chelsea();
    xai::Image grey = xai::Image::from_shape({1, 224, 224});
    for (std::size_t p = 0; p < 224 * 224; ++p)
        grey.data()[p] = 0.299f * rgb.data()[p] + 0.587f * rgb.data()[224 * 224 + p] + 0.114f * rgb.data()[2 * 224 * 224 + p];
    const xai::Image image = xai::resize(grey, 64, 64, xai::Interpolation::bilinear);
    xai::LimeOptions options;  // lime's defaults
    options.threads = 1;       // one thread, so process CPU time is this thread's
    options.adaptive.enabled = state.range(0) == 1;  // Arg(1): adaptive sample size, 1000 the ceiling
    const xai::Lime<TimedModel> lime(timed, options);
    double lime_seconds = 0.0;
    std::size_t segments = 0, samples = 0;
    for (auto _ : state) {
        const std::clock_t start = std::clock();
        const xai::LimeExplanation e = lime.explain(image);
        lime_seconds += static_cast<double>(std::clock() - start) / CLOCKS_PER_SEC;
        segments = e.segmentations[0].count;
        samples = e.samples_used[0];
    }
    const auto n = static_cast<double>(state.iterations());
    state.counters["lime_ms"] = 1e3 * lime_seconds / n;
    state.counters["forward_ms"] = 1e3 * timed.seconds() / n;
    state.counters["outside_forward"] = (lime_seconds - timed.seconds()) / lime_seconds;
    state.counters["segments"] = static_cast<double>(segments);
    state.counters["samples"] = static_cast<double>(samples);
}
BENCHMARK(BM_LimeEndToEnd)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)->Iterations(3);

}  // namespace
