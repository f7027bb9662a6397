// Benchmarks of xai-explain (tools/xai-explain/): what the tool costs per image beyond the
// explanations themselves, on a folder of 64×64 images (the scenes model's input size).
//
// Each iteration runs the whole tool, xai_explain::run() with --overwrite --quiet --threads 1 on
// a folder of 32 grey 64×64 PNGs (reading, batching, the explanations, the overlays drawn back
// on the photos, the gallery, the .npy maps and the JSON records), and then the same
// explanations alone: the prediction pass and make_explainer(method).explain() on the same
// inputs, as the tool calls them (the batch-capable methods on batches of 16, the others image
// by image). Both are measured in process CPU time (all threads: the tool's writing thread
// included), which other processes on a shared machine do not inflate, and in wall-clock time,
// where the writing thread's work hides behind the explanations when a second core is free.
// Counters:
//   tool_ms_per_image, explain_ms_per_image   CPU time, per image
//   overhead                                  tool / explain − 1 in CPU time: the tool's share beyond the passes
//   added_ms_per_image                        tool − explain in CPU time, per image
//   wall_tool_ms_per_image, wall_explain_ms_per_image, wall_overhead   the same in wall-clock time
// The first argument is the method: 0 = gradcam (one forward and backward pass per batch: the
// worst case), 1 = scorecam (128 masked passes per image), 2 = rise with 1000 masks; the second
// the outputs: 0 = all (the default), 1 = --outputs npy,json (the maps and records only).
//
// BM_FixedCostPerImage times the tool's steps for one 64×64 image one by one, in the calling
// thread's CPU time (µs): 0 reading and decoding the PNG (prepare_image), 1 writing an empty file
// over an existing one (the file system's share of every output), 2 the Grad-CAM map's .npy,
// 3 the image's JSON record (dumped and written), 4 drawing the overlay (display_overlay: the
// 192×192 zoomed picture), 5 encoding and writing it as PNG, 6 the gallery (the photo and the
// overlay: composed, encoded, written).
#include <benchmark/benchmark.h>

#include <time.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "../tools/xai-explain/explain.hpp"
#include "../tools/xai-explain/png_writer.hpp"

namespace {

namespace fs = std::filesystem;

double wall_seconds() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

double process_seconds() {
    timespec t{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}

constexpr std::size_t folder_size = 32;

/// The folder of 64×64 grey images, written once.
const fs::path& folder() {
    static const fs::path dir = [] {
        const fs::path d = fs::temp_directory_path() / ("xai_bench_cli_" + std::to_string(::getpid()));
        fs::create_directories(d / "images");
        for (std::size_t i = 0; i < folder_size; ++i) {
            xai::Image image = xai::Image::from_shape({1, 64, 64});
            for (std::size_t y = 0; y < 64; ++y)
                for (std::size_t x = 0; x < 64; ++x)
                    image(0, y, x) = static_cast<float>(0.5 + 0.45 * std::sin(0.2 * static_cast<double>(x + i) +
                                                                               0.15 * static_cast<double>(y * (i % 5 + 1))));
            xai::save_image(d / "images" / ("image_" + std::to_string(100 + i) + ".png"), image);
        }
        return d;
    }();
    static const struct Cleanup {  // the folder goes when the program ends
        ~Cleanup() {
            std::error_code ignored;
            fs::remove_all(dir, ignored);
        }
    } cleanup;
    return dir;
}

void BM_ToolOverheadPerImage(benchmark::State& state) {
    static const char* const methods[] = {"gradcam", "scorecam", "rise"};
    const std::string method = methods[state.range(0)];
    const fs::path& dir = folder();
    std::vector<std::string> args{"--model", "scenes", "--image", (dir / "images").string(), "--out", (dir / "out").string(),
                                  "--method", method, "--overwrite", "--quiet", "--threads", "1", "--rise-masks", "1000"};
    if (state.range(1) == 1) args.insert(args.end(), {"--outputs", "npy,json"});
    const xai::models::Sequential model = xai::models::load_builtin("scenes");
    std::vector<xai::Image> inputs;
    for (std::size_t i = 0; i < folder_size; ++i)
        inputs.push_back(xai::load_image(dir / "images" / ("image_" + std::to_string(100 + i) + ".png"), 1));
    xai::ExplainerSettings settings;
    settings.cam.threads = settings.score_cam.cam.threads = settings.rise.threads = 1;
    settings.rise.num_masks = 1000;
    const xai::AnyExplainer explainer = xai::make_explainer(method, model, settings);
    const bool batched = !explainer.method().reports_progress;
    double tool = 0.0, alone = 0.0, wall_tool = 0.0, wall_alone = 0.0;
    for (auto _ : state) {
        std::ostringstream out, err;
        double start = process_seconds(), wall_start = wall_seconds();
        const int status = xai_explain::run(args, xai_explain::Console{out, err, false});
        tool += process_seconds() - start;
        wall_tool += wall_seconds() - wall_start;
        if (status != 0) state.SkipWithError(err.str().c_str());
        start = process_seconds(), wall_start = wall_seconds();
        for (std::size_t first = 0; first < folder_size; first += 16) {
            const std::vector<xai::Image> group(inputs.begin() + static_cast<std::ptrdiff_t>(first),
                                                inputs.begin() + static_cast<std::ptrdiff_t>(first + 16));
            const xai::Batch batch = xai::stack(group);
            const xai::Scores logits = model.forward(batch);  // the tool's prediction pass
            benchmark::DoNotOptimize(logits.data());
            if (batched) {
                const xai::AnyExplanation x = explainer.explain(batch);
                benchmark::DoNotOptimize(x.maps.data());
            } else {
                for (const xai::Image& image : group) {
                    const xai::AnyExplanation x = explainer.explain(image);
                    benchmark::DoNotOptimize(x.maps.data());
                }
            }
        }
        alone += process_seconds() - start;
        wall_alone += wall_seconds() - wall_start;
    }
    const double n = static_cast<double>(state.iterations() * folder_size);
    state.counters["tool_ms_per_image"] = 1e3 * tool / n;
    state.counters["explain_ms_per_image"] = 1e3 * alone / n;
    state.counters["overhead"] = alone > 0.0 ? tool / alone - 1.0 : 0.0;
    state.counters["added_ms_per_image"] = 1e3 * (tool - alone) / n;
    state.counters["wall_tool_ms_per_image"] = 1e3 * wall_tool / n;
    state.counters["wall_explain_ms_per_image"] = 1e3 * wall_alone / n;
    state.counters["wall_overhead"] = wall_alone > 0.0 ? wall_tool / wall_alone - 1.0 : 0.0;
    state.SetLabel(method + (state.range(1) == 1 ? " --outputs npy,json" : ""));
}
void BM_FixedCostPerImage(benchmark::State& state) {
    const fs::path& dir = folder();
    const fs::path out = dir / "fixed";
    fs::create_directories(out);
    const fs::path file = dir / "images" / "image_100.png";
    const xai::models::Sequential model = xai::models::load_builtin("scenes");
    const xai_explain::PreparedImage image = xai_explain::prepare_image(file, model.input_shape(), xai_explain::ModelInfo{});
    xai::ExplainerSettings settings;
    settings.cam.threads = 1;
    const xai::AnyExplanation x = xai::make_explainer("gradcam", model, settings).explain(image.input);
    const xai::Image picture = xai_explain::display_overlay(image.photo, x.map(0), image.framing, xai::Colormap::jet);
    // A record as the tool writes it for this image.
    std::ostringstream ignored_out, ignored_err;
    if (xai_explain::run({"--model", "scenes", "--image", file.string(), "--out", out.string(), "--method", "gradcam",
                          "--overwrite", "--quiet"},
                         xai_explain::Console{ignored_out, ignored_err, false}) != 0)
        state.SkipWithError(ignored_err.str().c_str());
    std::ifstream in(out / "image_100.json");
    const xai_explain::Json record = xai_explain::Json::parse(in);
    xai_explain::PngEncoder png;
    xai::Image canvas;
    for (auto _ : state) {
        switch (state.range(0)) {
        case 0: benchmark::DoNotOptimize(xai_explain::prepare_image(file, model.input_shape(), xai_explain::ModelInfo{}).input.data()); break;
        case 1: xai_explain::write_file(out / "empty", nullptr, 0); break;
        case 2: xai_explain::save_npy(out / "map.npy", x.raw_map(0)); break;
        case 3: xai_explain::write_text(out / "record.json", record.dump(2) + "\n"); break;
        case 4: benchmark::DoNotOptimize(xai_explain::display_overlay(image.photo, x.map(0), image.framing, xai::Colormap::jet).data()); break;
        case 5: png.save(out / "overlay.png", picture); break;
        default:
            xai_explain::compose_gallery({{xai_explain::display_photo(image.photo, image.framing), "image_100.png", "Sandal 99.8%"},
                                          {picture, "Grad-CAM", "Sandal 99.8%"}},
                                         xai_explain::gallery_columns, canvas);
            png.save(out / "gallery.png", canvas);
        }
    }
    static const char* const steps[] = {"read and decode", "empty file", ".npy", "JSON record", "draw overlay", "overlay PNG", "gallery"};
    state.SetLabel(steps[state.range(0)]);
}
BENCHMARK(BM_FixedCostPerImage)->DenseRange(0, 6)->ArgName("step")->Unit(benchmark::kMicrosecond);

// As many iterations as keep each under a minute: a method's own CPU time varies by several per
// cent between two timings on a shared machine, and the tool's share is a difference of two.
BENCHMARK(BM_ToolOverheadPerImage)
    ->ArgsProduct({{0}, {0, 1}})
    ->ArgNames({"method", "outputs"})
    ->Unit(benchmark::kMillisecond)
    ->Iterations(20);
BENCHMARK(BM_ToolOverheadPerImage)
    ->ArgsProduct({{1}, {0, 1}})
    ->ArgNames({"method", "outputs"})
    ->Unit(benchmark::kMillisecond)
    ->Iterations(8);
BENCHMARK(BM_ToolOverheadPerImage)
    ->ArgsProduct({{2}, {0, 1}})
    ->ArgNames({"method", "outputs"})
    ->Unit(benchmark::kMillisecond)
    ->Iterations(2);

}  // namespace
