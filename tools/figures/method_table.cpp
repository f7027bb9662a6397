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
//   CPU milliseconds per explanation (process CPU time of one explain call on the whole set / N)
// and, on the first --robust-scenes scenes (the second table):
//   infidelity, max-sensitivity     (Yeh et al. 2019 as Captum: 10 samples, σ = 0.003, r = 0.02)
//   ROAD combined                   (Rong et al. 2022 as pytorch-grad-cam: percentiles 10…90, noise 0.01)
//   sparseness                      (Gini index of |map|, Chalasani et al. 2020; all-zero maps skipped)
// A random map and a centred Gaussian map are rows too: the floors a method must beat.
//
//   method_table [--scenes 500] [--first-scene 0] [--sanity-scenes 100] [--threads 0]
//                [--rise-masks 4000] [--lime-samples 1000] [--grid-rows 4] [--out-dir .]
//                [--methods name,name,...] [--robust-scenes 20]
// writes <out-dir>/benchmark.md, benchmark.csv, benchmark_sanity.csv and benchmark_grid.png.
// Every method is one explain() call on the whole set with --threads threads (its explainer
// built by make_explainer(), runtime/methods.hpp); the metrics' forward passes run on --threads
// threads (0 = all). Results do not depend on it.
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

#include "xai/data.hpp"
#include "xai/image.hpp"
#include "xai/metrics.hpp"
#include "xai/models/builtin.hpp"
#include "xai/runtime.hpp"

namespace {

using Model = xai::models::Sequential;

/// A method of the table: how to build its explainer on a model (the original or a randomized
/// copy), and which of its maps are scored: the display maps for the CAM family (what
/// pytorch-grad-cam's metrics score), the signed raw maps (at the input's size) for the others.
struct Method {
    std::string name;
    std::string settings;  ///< how it was configured, for the report
    std::function<xai::AnyExplainer(const Model&)> make;
    xai::ComparedMaps maps = xai::ComparedMaps::raw;
};

struct Settings {
    std::size_t scenes = 500;
    std::size_t first_scene = 0;
    std::size_t sanity_scenes = 100;
    std::size_t threads = 0;
    std::size_t rise_masks = 4000;
    std::size_t lime_samples = 1000;
    std::size_t grid_rows = 4;
    std::size_t robust_scenes = 20;
    std::filesystem::path out_dir = ".";
    std::vector<std::string> methods;  ///< empty = all
    std::string command;
};

constexpr const char* cam_layer = "relu4";  // the last convolutional block (128×8×8), as for CAM

// The reference maps are not in the run-time method table (xai-explain does not draw them).
constexpr xai::MethodInfo random_map_info{"random", "Random map", "", "Classifier", false, false};
constexpr xai::MethodInfo centre_gaussian_info{"centre", "Centre Gaussian", "", "Classifier", false, false};

/// A method of the run-time table (runtime/methods.hpp) with `settings`.
Method table_method(std::string name, std::string settings, const char* method, const xai::ExplainerSettings& options,
                    xai::ComparedMaps maps) {
    return {std::move(name), std::move(settings),
            [method, options](const Model& m) { return xai::make_explainer(method, m, options); }, maps};
}

std::vector<Method> all_methods(const Settings& s) {
    using xai::ComparedMaps;
    std::vector<Method> methods;
    methods.push_back({"Random map", "uniform [0, 1) per pixel, Rng::stream(1, scene index)",
                       [](const Model& m) { return xai::AnyExplainer(random_map_info, xai::RandomMap<Model>(m, {.seed = 1})); },
                       ComparedMaps::raw});
    methods.push_back({"Centre Gaussian", "exp(−r² / 2σ²) around the image centre, σ = side / 4",
                       [](const Model& m) { return xai::AnyExplainer(centre_gaussian_info, xai::CentreGaussian<Model>(m)); },
                       ComparedMaps::raw});
    // Every method runs with --threads threads; results do not depend on it.
    xai::ExplainerSettings options;
    options.layers = {cam_layer};
    options.cam.threads = options.score_cam.cam.threads = options.ablation_cam.cam.threads = s.threads;
    xai::ExplainerSettings final_features = options;
    final_features.layers.clear();
    methods.push_back(table_method("CAM", "final features (relu4)", "cam", final_features, ComparedMaps::display));
    const std::string at_layer = std::string("layer ") + cam_layer;
    methods.push_back(table_method("Grad-CAM", at_layer, "gradcam", options, ComparedMaps::display));
    methods.push_back(table_method("Grad-CAM++", at_layer, "gradcam++", options, ComparedMaps::display));
    methods.push_back(table_method("XGrad-CAM", at_layer, "xgradcam", options, ComparedMaps::display));
    methods.push_back(table_method("HiResCAM", at_layer, "hirescam", options, ComparedMaps::display));
    methods.push_back(table_method("LayerCAM", at_layer, "layercam", options, ComparedMaps::display));
    methods.push_back(table_method("Score-CAM", at_layer + ", probabilities", "scorecam", options, ComparedMaps::display));
    methods.push_back(table_method("Ablation-CAM", at_layer, "ablationcam", options, ComparedMaps::display));
    methods.push_back(table_method("Eigen-CAM", at_layer + " (class-agnostic)", "eigencam", options, ComparedMaps::display));
    methods.push_back(table_method("Grad-CAM element-wise", at_layer, "gradcam-elementwise", options, ComparedMaps::display));
    methods.push_back(table_method("Eigen-Grad-CAM", at_layer, "eigengradcam", options, ComparedMaps::display));
    methods.push_back(table_method("KPCA-CAM", at_layer + ", RBF kernel (defaults)", "kpcacam", options, ComparedMaps::display));
    methods.push_back(table_method("FullGrad", "input and every convolution's bias-gradients (the authors' ψ)", "fullgrad",
                                   options, ComparedMaps::display));
    methods.push_back(table_method("Random CAM", at_layer + ", U(−1, 1) channel weights", "randomcam", options,
                                   ComparedMaps::display));
    methods.push_back(table_method("Sobel map", "edges of the input (baseline)", "sobelcam", options, ComparedMaps::display));

    // The gradient family (docs/methods/gradients.md), on the signed raw maps, default options.
    options.saliency.threads = options.gradient_x_input.threads = options.integrated_gradients.threads = s.threads;
    options.gradient_shap.threads = options.guided_backprop.threads = options.guided_gradcam.threads = s.threads;
    options.guided_gradcam.cam.threads = s.threads;
    methods.push_back(table_method("Saliency", "|∂y/∂x| of the logit", "saliency", options, ComparedMaps::raw));
    methods.push_back(table_method("Gradient × input", "x ⊙ ∂y/∂x", "gradient_x_input", options, ComparedMaps::raw));
    methods.push_back(table_method("Integrated Gradients", "50 Gauss–Legendre steps, black baseline", "ig", options,
                                   ComparedMaps::raw));
    methods.push_back(table_method("SmoothGrad", "Saliency, 50 samples, σ = 15 % of the range", "smoothgrad", options,
                                   ComparedMaps::raw));
    methods.push_back(table_method("VarGrad", "signed gradient, 50 samples, σ = 15 % of the range", "vargrad",
                                   [&] {
                                       xai::ExplainerSettings o = options;
                                       o.saliency.absolute = false;
                                       return o;
                                   }(),
                                   ComparedMaps::raw));
    methods.push_back(table_method("GradientSHAP", "5 samples, black baseline (Captum's defaults)", "gradientshap", options,
                                   ComparedMaps::raw));
    methods.push_back(table_method("Guided Backprop", "signed, summed over channels", "guided_backprop", options,
                                   ComparedMaps::raw));
    methods.push_back(table_method("Deconvnet", "signed, summed over channels", "deconvolution", options, ComparedMaps::raw));
    methods.push_back(table_method("Guided Grad-CAM", at_layer, "guided_gradcam", options, ComparedMaps::raw));

    options.occlusion.threads = options.lime.threads = options.rise.threads = s.threads;
    methods.push_back(table_method("Occlusion", "window 15, stride 8, baseline 0 (defaults)", "occlusion", options,
                                   ComparedMaps::raw));
    options.lime.num_samples = s.lime_samples;
    methods.push_back(table_method("LIME", std::to_string(s.lime_samples) +
                                       " samples, quick shift (lime's defaults); map = β of each pixel's superpixel",
                                   "lime", options, ComparedMaps::raw));
    options.rise.num_masks = s.rise_masks;
    methods.push_back(table_method("RISE", std::to_string(s.rise_masks) + " masks, 7×7 grid, p = 0.5", "rise", options,
                                   ComparedMaps::raw));
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

/// The maps of every image (one explain() call on the whole set, its methods' own --threads
/// threads) and, when asked, the CPU milliseconds per image (process CPU time of the call / N).
xai::Maps explain_all(const Method& method, const Model& model, const xai::Batch& images,
                      const std::vector<std::size_t>& targets, double* cpu_ms_per_image) {
    const std::clock_t start = std::clock();
    const xai::AnyExplanation r = method.make(model).explain(images, xai::Targets(targets.begin(), targets.end()));
    if (cpu_ms_per_image)
        *cpu_ms_per_image = 1e3 * static_cast<double>(std::clock() - start) / CLOCKS_PER_SEC /
                            static_cast<double>(images.shape(0));
    return method.maps == xai::ComparedMaps::raw ? r.raw : r.maps;
}

struct Row {
    std::string name, settings;
    double deletion = 0, deletion_se = 0, insertion = 0, insertion_se = 0;
    double pointing = 0, energy = 0, average_drop = 0, increase = 0;
    double sanity = 0, sanity_abs = 0, ms = 0;
    double infidelity = 0, max_sensitivity = 0, road = 0, sparseness = 0;
    std::size_t zero_maps = 0;  ///< all-zero maps left out of the sparseness
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
    const xai::Maps maps = explain_all(method, model, set.images, targets, &row.ms);
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
        const xai::SanityCheckOptions sanity{.keep_maps = false, .maps = method.maps};
        const xai::Targets subset_targets(fixed.begin(), fixed.begin() + static_cast<std::ptrdiff_t>(m));
        const xai::SanityCheckResult check =
            xai::model_randomization_test(model, method.make, subset, subset_targets, sanity);
        row.sanity = check.steps.back().mean_spearman;
        row.sanity_abs = check.steps.back().mean_spearman_abs;
        for (const auto& step : check.steps) row.cascade.emplace_back(step.layer.empty() ? "none" : step.layer, step.mean_spearman);
    }
    const auto t3 = std::chrono::steady_clock::now();
    const std::size_t r = std::min(s.robust_scenes, set.images.shape(0));
    if (r > 0) {
        const xai::Batch subset = first_images(set.images, r);
        const xai::Maps subset_maps = xt::view(maps, xt::range(0, r), xt::all(), xt::all());
        const xai::Targets subset_targets(fixed.begin(), fixed.begin() + static_cast<std::ptrdiff_t>(r));
        row.infidelity = xai::infidelity(model, subset, subset_maps, subset_targets).mean;
        const auto explain = [&](const xai::Batch& images, const std::vector<std::size_t>& t) {
            return explain_all(method, model, images, t, nullptr);
        };
        row.max_sensitivity = xai::max_sensitivity(model, subset, explain, subset_targets).mean;
        row.road = xai::road(model, subset, subset_maps, subset_targets, {.threads = s.threads}).mean_combined;
        std::vector<std::size_t> nonzero;
        const std::size_t plane = maps.shape(1) * maps.shape(2);
        for (std::size_t i = 0; i < r; ++i) {
            const float* m = subset_maps.data() + i * plane;
            if (std::any_of(m, m + plane, [](float v) { return v != 0.0f; })) nonzero.push_back(i);
        }
        row.zero_maps = r - nonzero.size();
        if (!nonzero.empty()) {
            xai::Maps kept = xai::Maps::from_shape({nonzero.size(), maps.shape(1), maps.shape(2)});
            for (std::size_t j = 0; j < nonzero.size(); ++j)
                std::copy_n(subset_maps.data() + nonzero[j] * plane, plane, kept.data() + j * plane);
            const std::vector<double> g = xai::sparseness(kept);
            row.sparseness = std::accumulate(g.begin(), g.end(), 0.0) / static_cast<double>(g.size());
        }
    }
    const auto t4 = std::chrono::steady_clock::now();
    row.grid_maps = xt::view(maps, xt::range(0, std::min(s.grid_rows, maps.shape(0))), xt::all(), xt::all());
    auto seconds = [](auto a, auto b) { return std::chrono::duration<double>(b - a).count(); };
    std::cerr << "  " << method.name << ": explain " << std::fixed << std::setprecision(1) << seconds(t0, t1)
              << " s, metrics " << seconds(t1, t2) << " s, sanity " << seconds(t2, t3) << " s, robustness and ROAD "
              << seconds(t3, t4) << " s\n";
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
           "average_drop_percent,increase_in_confidence_percent,sanity_spearman,sanity_spearman_abs,ms_per_explanation,"
           "infidelity,max_sensitivity,road_combined,sparseness,zero_maps\n";
    for (const Row& r : rows)
        out << r.name << ',' << fixed(r.deletion, 4) << ',' << fixed(r.deletion_se, 4) << ',' << fixed(r.insertion, 4) << ','
            << fixed(r.insertion_se, 4) << ',' << fixed(r.pointing, 4) << ',' << fixed(r.energy, 4) << ','
            << fixed(r.average_drop, 2) << ',' << fixed(r.increase, 2) << ',' << fixed(r.sanity, 4) << ','
            << fixed(r.sanity_abs, 4) << ',' << fixed(r.ms, 3) << ',' << r.infidelity << ',' << fixed(r.max_sensitivity, 4)
            << ',' << fixed(r.road, 4) << ',' << fixed(r.sparseness, 4) << ',' << r.zero_maps << '\n';
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
    const std::size_t robust = std::min(s.robust_scenes, s.scenes);
    out << "\nOn the first " << robust << " scenes: infidelity and max-sensitivity (Yeh et al. 2019, as Captum), ROAD "
           "combined (Rong et al. 2022, as pytorch-grad-cam), sparseness (Gini index; all-zero maps left out, their count "
           "in brackets when any):\n\n";
    out << "| method | infidelity ↓ | max-sensitivity ↓ | ROAD combined ↑ | sparseness |\n";
    out << "| --- | ---: | ---: | ---: | ---: |\n";
    for (const Row& r : rows) {
        std::ostringstream inf;
        inf << std::setprecision(3) << r.infidelity;
        out << "| " << r.name << " | " << inf.str() << " | " << fixed(r.max_sensitivity, 3) << " | " << fixed(r.road, 4)
            << " | " << fixed(r.sparseness, 3) << (r.zero_maps > 0 ? " (" + std::to_string(r.zero_maps) + ")" : "")
            << " |\n";
    }
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
        else if (flag == "--robust-scenes") s.robust_scenes = count();
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
