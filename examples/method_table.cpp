// method_table: every explainer of xai on a fixed held-out set of synthetic scenes, scored by
// every metric of xai/metrics, written as Markdown and CSV, plus a picture grid.
//
// The scenes (data/scenes.hpp) show one Fashion-MNIST test item over clutter, with its exact
// bounding box; the model is the built-in "scenes" CNN (models/builtin.hpp), which never saw
// the test items. Every method explains the class the model predicts, and its maps are scored by
//   deletion / insertion AUC        (Petsiuk et al. 2018; k = 64 pixels per step, 65 points)
//   pointing game, energy in box    (Zhang et al. 2016, τ = 15·64/224 px; Wang et al. 2020)
//   average drop, increase in conf. (Chattopadhay et al. 2018; maps min-max normalized)
//   Spearman ρ after cascading randomization of every layer with parameters (Adebayo et al.
//   2018), on the first --sanity-scenes scenes
//   CPU milliseconds per explanation (thread CPU time of one explain call on one image, one thread)
// A random map and a centred Gaussian map are rows too: the floors a method must beat.
//
//   method_table [--scenes 500] [--first-scene 0] [--sanity-scenes 100] [--threads 0]
//                [--rise-masks 4000] [--lime-samples 1000] [--grid-rows 4] [--out-dir .]
//                [--methods name,name,...]
// writes <out-dir>/benchmark.md, benchmark.csv, benchmark_sanity.csv and benchmark_grid.png.
// Explanations run one image per call on one thread each, --threads calls at a time; the
// metrics' forward passes run on --threads threads (0 = all). Results do not depend on it.
// Methods run cheapest first (RISE last) and the outputs are rewritten after every method, so
// the partial table of a long run is readable at any time.

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iomanip>
#include <iostream>
#include <numeric>
#include <sstream>
#include <tuple>
#include <string>
#include <vector>

#include "xai/data/fashion_mnist.hpp"
#include "xai/data/scenes.hpp"
#include "xai/explain/ablation_cam.hpp"
#include "xai/explain/cam.hpp"
#include "xai/explain/eigen_cam.hpp"
#include "xai/explain/grad_cam.hpp"
#include "xai/explain/lime.hpp"
#include "xai/explain/occlusion.hpp"
#include "xai/explain/rise.hpp"
#include "xai/explain/score_cam.hpp"
#include "xai/image/io.hpp"
#include "xai/image/normalize.hpp"
#include "xai/image/overlay.hpp"
#include "xai/metrics/confidence.hpp"
#include "xai/metrics/deletion_insertion.hpp"
#include "xai/metrics/pointing_game.hpp"
#include "xai/metrics/sanity_check.hpp"
#include "xai/models/builtin.hpp"

namespace {

using Model = xai::models::Sequential;

/// One explanation: the map of `image` (the scene `index` of the set) for class `target`.
using ExplainOne = std::function<xai::Map(const Model&, const xai::Image&, std::size_t target, std::size_t index)>;

struct Method {
    std::string name;
    std::string settings;  ///< how it was configured, for the report
    ExplainOne explain;
};

struct Settings {
    std::size_t scenes = 500;
    std::size_t first_scene = 0;
    std::size_t sanity_scenes = 100;
    std::size_t threads = 0;
    std::size_t rise_masks = 4000;
    std::size_t lime_samples = 1000;
    std::size_t grid_rows = 4;
    std::filesystem::path out_dir = ".";
    std::vector<std::string> methods;  ///< empty = all
    std::string command;
};

constexpr const char* cam_layer = "relu4";  // the last convolutional block (128×8×8), as for CAM

xai::Map first_map(const xai::Maps& maps) { return xt::view(maps, 0, xt::all(), xt::all()); }

xai::Targets one_target(std::size_t target) { return {xai::Target::class_index(target)}; }

template <template <class> class Explainer, class Options>
ExplainOne cam_method(Options options) {
    return [options](const Model& m, const xai::Image& image, std::size_t target, std::size_t) {
        const Explainer<Model> explainer(m, options);
        return first_map(explainer.explain(xai::as_batch(image), one_target(target)).maps);
    };
}

/// RISE and Occlusion: black boxes whose explanation holds the N×H×W `saliency`.
template <template <class> class Explainer, class Options>
ExplainOne saliency_method(Options options) {
    return [options](const Model& m, const xai::Image& image, std::size_t target, std::size_t) {
        const Explainer<Model> explainer(m, options);
        return first_map(explainer.explain(image, one_target(target)).saliency);
    };
}

template <class Options>
Options single_threaded_cam(Options options, bool with_layer = true) {
    if (with_layer) options.layer = cam_layer;
    options.threads = 1;
    return options;
}

std::vector<Method> all_methods(const Settings& s) {
    std::vector<Method> methods;
    methods.push_back({"Random map", "uniform [0, 1) per pixel, Rng::stream(1, scene index)",
                       [](const Model&, const xai::Image& image, std::size_t, std::size_t index) {
                           xai::Rng rng = xai::Rng::stream(1, index);
                           xai::Map map = xai::Map::from_shape({image.shape(1), image.shape(2)});
                           for (float& v : map) v = rng.uniform_float();
                           return map;
                       }});
    methods.push_back({"Centre Gaussian", "exp(−r² / 2σ²) around the image centre, σ = side / 4",
                       [](const Model&, const xai::Image& image, std::size_t, std::size_t) {
                           const std::size_t h = image.shape(1), w = image.shape(2);
                           const double cy = (static_cast<double>(h) - 1.0) / 2.0, cx = (static_cast<double>(w) - 1.0) / 2.0;
                           const double sigma = static_cast<double>(std::min(h, w)) / 4.0;
                           xai::Map map = xai::Map::from_shape({h, w});
                           for (std::size_t y = 0; y < h; ++y)
                               for (std::size_t x = 0; x < w; ++x) {
                                   const double dy = static_cast<double>(y) - cy, dx = static_cast<double>(x) - cx;
                                   map(y, x) = static_cast<float>(std::exp(-(dy * dy + dx * dx) / (2.0 * sigma * sigma)));
                               }
                           return map;
                       }});
    methods.push_back({"CAM", "final features (relu4)", cam_method<xai::Cam>(single_threaded_cam(xai::CamOptions{}, false))});
    const std::string at_layer = std::string("layer ") + cam_layer;
    methods.push_back({"Grad-CAM", at_layer, cam_method<xai::GradCam>(single_threaded_cam(xai::CamOptions{}))});
    methods.push_back({"Grad-CAM++", at_layer, cam_method<xai::GradCamPlusPlus>(single_threaded_cam(xai::CamOptions{}))});
    methods.push_back({"XGrad-CAM", at_layer, cam_method<xai::XGradCam>(single_threaded_cam(xai::CamOptions{}))});
    methods.push_back({"HiResCAM", at_layer, cam_method<xai::HiResCam>(single_threaded_cam(xai::CamOptions{}))});
    methods.push_back({"LayerCAM", at_layer, cam_method<xai::LayerCam>(single_threaded_cam(xai::CamOptions{}))});
    methods.push_back({"Score-CAM", at_layer + ", probabilities", cam_method<xai::ScoreCam>(single_threaded_cam(xai::ScoreCamOptions{}))});
    methods.push_back({"Ablation-CAM", at_layer, cam_method<xai::AblationCam>(single_threaded_cam(xai::AblationCamOptions{}))});
    methods.push_back({"Eigen-CAM", at_layer + " (class-agnostic)", cam_method<xai::EigenCam>(single_threaded_cam(xai::CamOptions{}))});

    xai::OcclusionOptions occlusion;
    occlusion.threads = 1;
    methods.push_back({"Occlusion", "window 15, stride 8, baseline 0 (defaults)", saliency_method<xai::Occlusion>(occlusion)});
    xai::LimeOptions lime;
    lime.num_samples = s.lime_samples;
    lime.threads = 1;
    methods.push_back({"LIME", std::to_string(s.lime_samples) + " samples, quick shift (lime's defaults); map = β of each pixel's superpixel",
                       [lime](const Model& m, const xai::Image& image, std::size_t target, std::size_t) {
                           const xai::Lime<Model> explainer(m, lime);
                           const xai::LimeExplanation e = explainer.explain(image, one_target(target));
                           const std::vector<double>& beta = e.labels.front().weights;
                           xai::Map map = xai::Map::from_shape({image.shape(1), image.shape(2)});
                           for (std::size_t p = 0; p < map.size(); ++p)
                               map.data()[p] = static_cast<float>(beta[static_cast<std::size_t>(e.segmentation.labels.data()[p])]);
                           return map;
                       }});
    xai::RiseOptions rise;
    rise.num_masks = s.rise_masks;
    rise.threads = 1;
    methods.push_back({"RISE", std::to_string(s.rise_masks) + " masks, 7×7 grid, p = 0.5", saliency_method<xai::Rise>(rise)});
    if (s.methods.empty()) return methods;
    std::vector<Method> chosen;
    for (const std::string& name : s.methods) {
        auto it = std::find_if(methods.begin(), methods.end(), [&](const Method& m) { return m.name == name; });
        if (it == methods.end()) {
            std::string known;
            for (const Method& m : methods) known += (known.empty() ? "" : ", ") + m.name;
            throw xai::invalid_argument("method_table: unknown method '" + name + "', expected one of: " + known);
        }
        chosen.push_back(*it);
    }
    return chosen;
}

double thread_cpu_ms() {
    timespec t{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return static_cast<double>(t.tv_sec) * 1e3 + static_cast<double>(t.tv_nsec) * 1e-6;
}

/// The maps of the first n images; one image per call, `threads` calls at a time. cpu_ms
/// receives each call's thread CPU time when given.
xai::Maps explain_all(const Method& method, const Model& model, const xai::Batch& images,
                      const std::vector<std::size_t>& targets, std::size_t threads, std::vector<double>* cpu_ms) {
    const std::size_t n = images.shape(0), h = images.shape(2), w = images.shape(3);
    xai::Maps maps = xai::Maps::from_shape({n, h, w});
    if (cpu_ms) cpu_ms->assign(n, 0.0);
    xai::parallel_for(n, threads, [&](std::size_t i) {
        const double start = thread_cpu_ms();
        const xai::Map map = method.explain(model, xai::image_at(images, i), targets[i], i);
        if (cpu_ms) (*cpu_ms)[i] = thread_cpu_ms() - start;
        std::copy(map.begin(), map.end(), maps.begin() + static_cast<std::ptrdiff_t>(i * h * w));
    });
    return maps;
}

struct Row {
    std::string name, settings;
    double deletion = 0, deletion_se = 0, insertion = 0, insertion_se = 0;
    double pointing = 0, energy = 0, average_drop = 0, increase = 0;
    double sanity = 0, sanity_abs = 0, ms = 0;
    std::vector<std::pair<std::string, double>> cascade;  ///< layer randomized, mean ρ
    xai::Maps grid_maps;
};

std::pair<double, double> mean_and_se(const std::vector<double>& v) {
    const double n = static_cast<double>(v.size());
    const double mean = std::accumulate(v.begin(), v.end(), 0.0) / n;
    double ss = 0.0;
    for (double x : v) ss += (x - mean) * (x - mean);
    return {mean, v.size() > 1 ? std::sqrt(ss / (n - 1.0) / n) : 0.0};
}

xai::Batch first_images(const xai::Batch& images, std::size_t n) {
    return xt::view(images, xt::range(0, n), xt::all(), xt::all(), xt::all());
}

Row evaluate(const Method& method, const Model& model, const xai::SceneSet& set, const xai::RegionMasks& regions,
             const std::vector<std::size_t>& targets, const Settings& s) {
    Row row;
    row.name = method.name;
    row.settings = method.settings;
    const auto t0 = std::chrono::steady_clock::now();
    std::vector<double> cpu;
    const xai::Maps maps = explain_all(method, model, set.images, targets, s.threads, &cpu);
    row.ms = std::accumulate(cpu.begin(), cpu.end(), 0.0) / static_cast<double>(cpu.size());
    const auto t1 = std::chrono::steady_clock::now();

    xai::Targets fixed;
    for (std::size_t t : targets) fixed.push_back(xai::Target::class_index(t));
    xai::CausalMetricOptions causal;
    causal.threads = s.threads;
    std::tie(row.deletion, row.deletion_se) = mean_and_se(xai::deletion(model, set.images, maps, fixed, causal).auc);
    std::tie(row.insertion, row.insertion_se) = mean_and_se(xai::insertion(model, set.images, maps, fixed, causal).auc);
    row.pointing = xai::pointing_game(maps, regions).accuracy;
    row.energy = xai::energy_pointing_game(maps, regions).mean;
    xai::ConfidenceOptions confidence;
    confidence.threads = s.threads;
    const xai::ConfidenceResult drop = xai::confidence_change(model, set.images, maps, fixed, confidence);
    row.average_drop = drop.average_drop;
    row.increase = drop.increase_in_confidence;
    const auto t2 = std::chrono::steady_clock::now();

    const std::size_t m = std::min(s.sanity_scenes, set.images.shape(0));
    if (m > 0) {
        const xai::Batch subset = first_images(set.images, m);
        auto explain = [&](const Model& randomized, const xai::Batch& images, const std::vector<std::size_t>& t) {
            return explain_all(method, randomized, images, t, s.threads, nullptr);
        };
        xai::SanityCheckOptions sanity;
        sanity.keep_maps = false;
        const xai::Targets subset_targets(fixed.begin(), fixed.begin() + static_cast<std::ptrdiff_t>(m));
        const xai::SanityCheckResult check = xai::model_randomization_test(model, explain, subset, subset_targets, sanity);
        row.sanity = check.steps.back().mean_spearman;
        row.sanity_abs = check.steps.back().mean_spearman_abs;
        for (const auto& step : check.steps) row.cascade.emplace_back(step.layer.empty() ? "none" : step.layer, step.mean_spearman);
    }
    const auto t3 = std::chrono::steady_clock::now();
    row.grid_maps = xt::view(maps, xt::range(0, std::min(s.grid_rows, maps.shape(0))), xt::all(), xt::all());
    auto seconds = [](auto a, auto b) { return std::chrono::duration<double>(b - a).count(); };
    std::cerr << "  " << method.name << ": explain " << std::fixed << std::setprecision(1) << seconds(t0, t1)
              << " s, metrics " << seconds(t1, t2) << " s, sanity " << seconds(t2, t3) << " s\n";
    return row;
}

// ---- output ----------------------------------------------------------------------------

std::string fixed(double v, int digits) {
    std::ostringstream out;
    out << std::fixed << std::setprecision(digits) << v;
    return out.str();
}

void write_csv(const std::vector<Row>& rows, const std::filesystem::path& path) {
    std::ofstream out(path);
    out << "method,deletion_auc,deletion_auc_se,insertion_auc,insertion_auc_se,pointing_game,energy_in_box,"
           "average_drop_percent,increase_in_confidence_percent,sanity_spearman,sanity_spearman_abs,ms_per_explanation\n";
    for (const Row& r : rows)
        out << r.name << ',' << fixed(r.deletion, 4) << ',' << fixed(r.deletion_se, 4) << ',' << fixed(r.insertion, 4) << ','
            << fixed(r.insertion_se, 4) << ',' << fixed(r.pointing, 4) << ',' << fixed(r.energy, 4) << ','
            << fixed(r.average_drop, 2) << ',' << fixed(r.increase, 2) << ',' << fixed(r.sanity, 4) << ','
            << fixed(r.sanity_abs, 4) << ',' << fixed(r.ms, 3) << '\n';
}

void write_sanity_csv(const std::vector<Row>& rows, const std::filesystem::path& path) {
    std::ofstream out(path);
    out << "method,layers_randomized_from_top,last_layer_randomized,mean_spearman\n";
    for (const Row& r : rows)
        for (std::size_t k = 0; k < r.cascade.size(); ++k)
            out << r.name << ',' << k << ',' << r.cascade[k].first << ',' << fixed(r.cascade[k].second, 4) << '\n';
}

void write_markdown(const std::vector<Row>& rows, const Settings& s, double accuracy, std::size_t sanity_scenes,
                    const std::filesystem::path& path) {
    std::ofstream out(path);
    out << "Command: `" << s.command << "`\n\n";
    out << "Held-out set: scenes " << s.first_scene << "–" << s.first_scene + s.scenes - 1
        << " of the Fashion-MNIST test items (xai::make_scenes, default SceneOptions, seed 0), " << s.scenes
        << " scenes of 64×64; model: xai::models::load_builtin(\"scenes\"), accuracy on this set "
        << fixed(100.0 * accuracy, 1) << " %. Every method explains the predicted class. Sanity check on the first "
        << sanity_scenes << " scenes.\n\n";
    out << "| method | deletion AUC ↓ | insertion AUC ↑ | pointing game ↑ | energy in box ↑ | average drop % ↓ "
           "| increase in confidence % ↑ | sanity ρ ↓ (abs) | ms / explanation |\n";
    out << "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n";
    for (const Row& r : rows)
        out << "| " << r.name << " | " << fixed(r.deletion, 3) << " ± " << fixed(r.deletion_se, 3) << " | "
            << fixed(r.insertion, 3) << " ± " << fixed(r.insertion_se, 3) << " | " << fixed(r.pointing, 3) << " | "
            << fixed(r.energy, 3) << " | " << fixed(r.average_drop, 1) << " | " << fixed(r.increase, 1) << " | "
            << fixed(r.sanity, 2) << " (" << fixed(r.sanity_abs, 2) << ") | " << fixed(r.ms, r.ms < 10 ? 2 : 0) << " |\n";
    out << "\nCascading randomization, mean Spearman ρ after randomizing the layers down to (and including) each one:\n\n";
    if (!rows.empty() && !rows.front().cascade.empty()) {
        out << "| method |";
        for (const auto& step : rows.front().cascade) out << ' ' << step.first << " |";
        out << "\n| --- |";
        for (std::size_t k = 0; k < rows.front().cascade.size(); ++k) out << " ---: |";
        out << '\n';
        for (const Row& r : rows) {
            out << "| " << r.name << " |";
            for (const auto& step : r.cascade) out << ' ' << fixed(step.second, 2) << " |";
            out << '\n';
        }
    }
    out << "\nSettings:\n\n";
    for (const Row& r : rows) out << "- " << r.name << ": " << r.settings << '\n';
}

/// rows × (1 + methods) tiles: the scene with its box in red, then each method's overlay.
void write_grid(const std::vector<Row>& rows, const xai::SceneSet& set, std::size_t grid_rows,
                const std::filesystem::path& path) {
    const std::size_t n = std::min(grid_rows, set.images.shape(0));
    if (n == 0 || rows.empty()) return;
    const std::size_t side = set.images.shape(2), scale = 2, tile = side * scale, gap = 2;
    const std::size_t columns = rows.size() + 1;
    const std::size_t height = n * tile + (n - 1) * gap, width = columns * tile + (columns - 1) * gap;
    xai::Image grid = xt::ones<float>({std::size_t{3}, height, width});
    auto paste = [&](const xai::Image& rgb, std::size_t r, std::size_t c) {
        for (std::size_t ch = 0; ch < 3; ++ch)
            for (std::size_t y = 0; y < tile; ++y)
                for (std::size_t x = 0; x < tile; ++x)
                    grid(ch, r * (tile + gap) + y, c * (tile + gap) + x) = rgb(ch, y / scale, x / scale);
    };
    for (std::size_t i = 0; i < n; ++i) {
        const xai::Image grey = xai::image_at(set.images, i);
        xai::Image rgb = xai::Image::from_shape({3, side, side});
        for (std::size_t ch = 0; ch < 3; ++ch) xt::view(rgb, ch) = xt::view(grey, 0);
        const xai::SceneBox& b = set.boxes[i];
        for (std::size_t y = b.top; y < b.bottom; ++y)
            for (std::size_t x = b.left; x < b.right; ++x)
                if (y == b.top || y + 1 == b.bottom || x == b.left || x + 1 == b.right) {
                    rgb(0, y, x) = 1.0f;
                    rgb(1, y, x) = 0.0f;
                    rgb(2, y, x) = 0.0f;
                }
        paste(rgb, i, 0);
        for (std::size_t m = 0; m < rows.size(); ++m) {
            const xai::Map map = xai::normalize_min_max(xai::Map(xt::view(rows[m].grid_maps, i, xt::all(), xt::all())));
            paste(xai::overlay(grey, map), i, m + 1);
        }
    }
    xai::save_image(path, grid);
}

std::vector<std::string> split(const std::string& list) {
    std::vector<std::string> parts;
    std::stringstream in(list);
    for (std::string part; std::getline(in, part, ',');)
        if (!part.empty()) parts.push_back(part);
    return parts;
}

Settings parse(int argc, char** argv) {
    Settings s;
    s.command = "method_table";
    for (int i = 1; i < argc; ++i) s.command += std::string(" ") + argv[i];
    for (int i = 1; i < argc; ++i) {
        const std::string flag = argv[i];
        if (i + 1 >= argc) throw xai::invalid_argument("method_table: " + flag + " needs a value");
        const std::string value = argv[++i];
        auto count = [&] {
            std::size_t used = 0;
            const unsigned long long v = std::stoull(value, &used);
            if (used != value.size()) throw xai::invalid_argument("method_table: " + flag + " expects a number, got '" + value + "'");
            return static_cast<std::size_t>(v);
        };
        if (flag == "--scenes") s.scenes = count();
        else if (flag == "--first-scene") s.first_scene = count();
        else if (flag == "--sanity-scenes") s.sanity_scenes = count();
        else if (flag == "--threads") s.threads = count();
        else if (flag == "--rise-masks") s.rise_masks = count();
        else if (flag == "--lime-samples") s.lime_samples = count();
        else if (flag == "--grid-rows") s.grid_rows = count();
        else if (flag == "--out-dir") s.out_dir = value;
        else if (flag == "--methods") s.methods = split(value);
        else throw xai::invalid_argument("method_table: unknown option " + flag);
    }
    if (s.scenes == 0) throw xai::invalid_argument("method_table: --scenes is 0, expected at least 1");
    return s;
}

}  // namespace

int main(int argc, char** argv) try {
    const Settings s = parse(argc, argv);
    Model model = xai::models::load_builtin("scenes");
    const xai::LabelledImages test = xai::load_fashion_mnist(xai::FashionMnistSplit::test);
    const xai::SceneSet set = xai::make_scenes(test.images, test.labels, s.first_scene, s.scenes, {}, s.threads);
    xai::RegionMasks regions = xai::RegionMasks::from_shape(set.masks.shape());
    const std::size_t side = set.images.shape(2);
    for (std::size_t i = 0; i < s.scenes; ++i) {
        const xai::SceneBox& b = set.boxes[i];
        xt::view(regions, i) = xai::box_mask(side, side, {b.top, b.left, b.bottom, b.right});
    }
    const std::vector<std::size_t> predicted = xai::argmax_rows(model.forward(set.images));
    std::size_t correct = 0;
    for (std::size_t i = 0; i < s.scenes; ++i) correct += predicted[i] == set.labels[i];
    const double accuracy = static_cast<double>(correct) / static_cast<double>(s.scenes);
    std::cerr << "model accuracy on " << s.scenes << " held-out scenes: " << 100.0 * accuracy << " %\n";

    std::vector<Row> rows;
    for (const Method& method : all_methods(s)) {
        rows.push_back(evaluate(method, model, set, regions, predicted, s));
        // Written after every method, so a long run can be inspected (and survives an interruption).
        std::filesystem::create_directories(s.out_dir);
        write_csv(rows, s.out_dir / "benchmark.csv");
        write_sanity_csv(rows, s.out_dir / "benchmark_sanity.csv");
        write_markdown(rows, s, accuracy, std::min(s.sanity_scenes, s.scenes), s.out_dir / "benchmark.md");
    }
    write_grid(rows, set, s.grid_rows, s.out_dir / "benchmark_grid.png");
    std::cout << std::ifstream(s.out_dir / "benchmark.md").rdbuf();
    return 0;
} catch (const std::exception& e) {
    std::cerr << "method_table: " << e.what() << '\n';
    return 1;
}
