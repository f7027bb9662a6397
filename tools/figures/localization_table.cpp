// localization_table: weakly supervised object localization by every explainer of xai, measured
// as Choe et al. (CVPR 2020) define it, on held-out scenes with exact boxes and masks; written as
// Markdown and CSV, plus a picture of predicted and true boxes.
//
// The scenes (data/scenes.hpp) show one Fashion-MNIST test item over clutter; the model is the
// built-in "scenes" CNN, which never saw the test items. Every method explains the ground-truth
// class (GT-known protocol) and its display maps (the heat map a user sees: ReLU, input size,
// min-max) are scored by xai/localization/wsol.hpp:
//   the operating threshold τ* maximises BoxAcc(τ, 0.5) on the validation split (scenes
//   0 … V−1), and every number is reported on the test split (scenes V … V+T−1, other items):
//   top-1 and GT-known localization at τ*, MaxBoxAcc (δ = 0.5), MaxBoxAccV2 (δ = 0.3, 0.5, 0.7)
//   and PxAP against the items' masks; a second table gives GT-known localization on the test
//   split with the per-image rules of xai::threshold_map (20% of max, Otsu, mean), which need no
//   validation split. Baselines: a random map, a centred Gaussian and the centre box (its
//   threshold picks the best centred box).
//
//   localization_table [--validation 1000] [--test 1000] [--threads 0] [--rise-masks 1000]
//                      [--lime-samples 1000] [--thresholds 1000] [--grid-rows 4] [--out-dir .]
//                      [--methods name,name,...] [--export DIR]
// writes <out-dir>/localization.md, localization.csv and localization_boxes.png, rewritten after
// every method (cheapest first, RISE last). Results do not depend on --threads.
// --export DIR also writes the maps and ground truth for the cross-check by hand against
// wsolevaluation's definitions (scripts/crosscheck_localization.py, docs/localization.md):
// <split>_maps_<method>.f32 (N×H×W float32, little-endian), <split>_boxes.txt (top left bottom
// right per line), test_masks.u8 (N×H×W bytes), test_predicted.txt and test_labels.txt.

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iomanip>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "xai/data.hpp"
#include "xai/image.hpp"
#include "xai/localization.hpp"
#include "xai/metrics.hpp"
#include "xai/models/builtin.hpp"
#include "xai/runtime.hpp"

namespace {

using Model = xai::models::Sequential;

struct Method {
    std::string name;
    std::string settings;
    std::function<xai::AnyExplainer(const Model&)> make;
};

struct Settings {
    std::size_t validation = 1000;
    std::size_t test = 1000;
    std::size_t threads = 0;
    std::size_t rise_masks = 1000;
    std::size_t lime_samples = 1000;
    std::size_t thresholds = 1000;
    std::size_t grid_rows = 4;
    std::filesystem::path out_dir = ".";
    std::vector<std::string> methods;
    std::filesystem::path export_dir;
    std::string command;
};

constexpr xai::MethodInfo random_info{"random", "Random map", "", "Classifier", false, false};
constexpr xai::MethodInfo gaussian_info{"centre", "Centre Gaussian", "", "Classifier", false, false};
constexpr xai::MethodInfo centre_box_info{"centre-box", "Centre box", "", "Classifier", false, false};

std::vector<Method> all_methods(const Settings& s) {
    std::vector<Method> methods;
    methods.push_back({"Random map", "uniform [0, 1) per pixel",
                       [](const Model& m) { return xai::AnyExplainer(random_info, xai::RandomMap<Model>(m, {.seed = 1})); }});
    methods.push_back({"Centre Gaussian", "σ = side / 4",
                       [](const Model& m) { return xai::AnyExplainer(gaussian_info, xai::CentreGaussian<Model>(m)); }});
    methods.push_back({"Centre box", "centred boxes of every size (one per threshold)",
                       [](const Model& m) { return xai::AnyExplainer(centre_box_info, xai::CentreBox<Model>(m)); }});
    xai::ExplainerSettings options;
    options.layers = {"relu4"};
    options.cam.threads = options.score_cam.cam.threads = options.ablation_cam.cam.threads = s.threads;
    options.occlusion.threads = options.lime.threads = options.rise.threads = s.threads;
    options.lime.num_samples = s.lime_samples;
    options.rise.num_masks = s.rise_masks;
    const std::vector<std::pair<std::string, std::string>> table = {
        {"cam", "final features (relu4)"}, {"gradcam", "layer relu4"},     {"gradcam++", "layer relu4"},
        {"xgradcam", "layer relu4"},       {"hirescam", "layer relu4"},    {"layercam", "layer relu4"},
        {"scorecam", "layer relu4"},       {"ablationcam", "layer relu4"}, {"eigencam", "layer relu4 (class-agnostic)"},
        {"occlusion", "window 15, stride 8"},
        {"lime", std::to_string(s.lime_samples) + " samples, quick shift"},
        {"rise", std::to_string(s.rise_masks) + " masks, 7×7 grid, p = 0.5"}};
    for (const auto& [name, settings] : table) {
        xai::ExplainerSettings o = options;
        if (name == "cam") o.layers.clear();
        methods.push_back({std::string(xai::method_info(name).title), settings,
                           [name, o](const Model& m) { return xai::make_explainer(name, m, o); }});
    }
    if (s.methods.empty()) return methods;
    std::vector<Method> chosen;
    for (const std::string& name : s.methods) {
        auto it = std::find_if(methods.begin(), methods.end(), [&](const Method& m) { return m.name == name; });
        if (it == methods.end()) throw xai::invalid_argument("localization_table: unknown method '" + name + "'");
        chosen.push_back(*it);
    }
    return chosen;
}

struct Split {
    xai::SceneSet scenes;
    xai::GroundTruthBoxes boxes;
    std::vector<std::size_t> predicted;
};

Split make_split(const Model& model, const xai::LabelledImages& items, std::size_t first, std::size_t count,
                 std::size_t threads) {
    Split s{xai::make_scenes(items.images, items.labels, first, count, {}, threads), {}, {}};
    for (const xai::SceneBox& b : s.scenes.boxes) s.boxes.push_back({{{b.top, b.left, b.bottom, b.right}}});
    s.predicted = xai::argmax_rows(model.forward(s.scenes.images));
    return s;
}

/// A method's name as a file name: letters and digits, the rest '_'.
std::string slug(const std::string& name) {
    std::string out;
    for (char c : name) out += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
    return out;
}

void write_floats(const std::filesystem::path& path, const xai::Maps& maps) {
    std::ofstream out(path, std::ios::binary);
    out.write(reinterpret_cast<const char*>(maps.data()), static_cast<std::streamsize>(maps.size() * sizeof(float)));
}

/// The ground truth of both splits, once (see --export).
void export_ground_truth(const std::filesystem::path& dir, const Split& validation, const Split& test) {
    std::filesystem::create_directories(dir);
    for (const auto& [name, split] : {std::pair{"validation", &validation}, std::pair{"test", &test}}) {
        std::ofstream boxes(dir / (std::string(name) + "_boxes.txt"));
        for (const auto& b : split->boxes) boxes << b[0].top << ' ' << b[0].left << ' ' << b[0].bottom << ' ' << b[0].right << '\n';
    }
    std::ofstream masks(dir / "test_masks.u8", std::ios::binary);
    for (bool v : test.scenes.masks) masks.put(v ? 1 : 0);
    std::ofstream predicted(dir / "test_predicted.txt"), labels(dir / "test_labels.txt");
    for (std::size_t i = 0; i < test.predicted.size(); ++i) {
        predicted << test.predicted[i] << '\n';
        labels << test.scenes.labels[i] << '\n';
    }
}

struct Row {
    std::string name, settings;
    xai::WsolReport report;
    double rule_gt_known[3] = {0, 0, 0};  // 20% of max, Otsu, mean
    double seconds = 0;
    xai::Maps grid_maps;
    std::vector<xai::Box> grid_boxes;
};

Row evaluate(const Method& method, const Model& model, const Split& validation, const Split& test, const Settings& s) {
    Row row{method.name, method.settings, {}, {}, 0, {}, {}};
    const auto t0 = std::chrono::steady_clock::now();
    const xai::AnyExplainer explainer = method.make(model);
    const xai::Maps val_maps = explainer.explain(validation.scenes.images, xai::Targets(validation.scenes.labels.begin(),
                                                                                           validation.scenes.labels.end())).maps;
    const xai::Maps test_maps = explainer.explain(test.scenes.images, xai::Targets(test.scenes.labels.begin(),
                                                                                     test.scenes.labels.end())).maps;
    const auto t1 = std::chrono::steady_clock::now();
    if (!s.export_dir.empty()) {
        write_floats(s.export_dir / ("validation_maps_" + slug(method.name) + ".f32"), val_maps);
        write_floats(s.export_dir / ("test_maps_" + slug(method.name) + ".f32"), test_maps);
    }
    const xai::WsolOptions options{.thresholds = s.thresholds, .threads = s.threads};
    row.report = xai::evaluate_wsol({val_maps, validation.boxes},
                                    {test_maps, test.boxes, test.scenes.masks, test.predicted, test.scenes.labels}, options);
    const xai::ThresholdRule rules[3] = {xai::ThresholdRule::fraction_of_max, xai::ThresholdRule::otsu,
                                         xai::ThresholdRule::mean};
    for (int r = 0; r < 3; ++r) {
        const std::vector<xai::ExtractedRegions> regions = xai::extract_regions(test_maps, {.threshold = {.rule = rules[r]}});
        std::size_t hits = 0;
        for (std::size_t i = 0; i < regions.size(); ++i) hits += xai::box_iou(regions[i].largest_box(), test.boxes[i][0]) >= 0.5;
        row.rule_gt_known[r] = static_cast<double>(hits) / static_cast<double>(regions.size());
    }
    const std::size_t g = std::min(s.grid_rows, test_maps.shape(0));
    row.grid_maps = xt::view(test_maps, xt::range(0, g), xt::all(), xt::all());
    for (std::size_t i = 0; i < g; ++i)
        row.grid_boxes.push_back(
            xai::extract_regions(xai::Map(xt::view(test_maps, i)),
                                 {.threshold = {.rule = xai::ThresholdRule::fixed, .value = row.report.threshold}})
                .largest_box());
    row.seconds = std::chrono::duration<double>(t1 - t0).count();
    std::cerr << "  " << method.name << ": explain " << std::fixed << std::setprecision(1) << row.seconds << " s, metrics "
              << std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count() << " s\n";
    return row;
}

std::string pct(double v) {
    std::ostringstream out;
    out << std::fixed << std::setprecision(1) << 100.0 * v;
    return out.str();
}

void write_tables(const std::vector<Row>& rows, const Settings& s, double val_accuracy, double test_accuracy) {
    std::ofstream md(s.out_dir / "localization.md");
    md << "Command: `" << s.command << "`\n\n"
       << "Model: the built-in scenes CNN (accuracy " << pct(val_accuracy) << "% on the validation scenes, "
       << pct(test_accuracy) << "% on the test scenes). Validation: scenes 0–" << s.validation - 1
       << "; test: scenes " << s.validation << "–" << s.validation + s.test - 1
       << " (xai::make_scenes of the Fashion-MNIST test items, default SceneOptions, seed 0). Maps of the ground-truth "
          "class, K = "
       << s.thresholds << " thresholds. All numbers in %, on the test split; τ* chosen on the validation split.\n\n";
    md << "| method | top-1 loc | GT-known loc | τ* | MaxBoxAcc | MaxBoxAccV2 | V2 @ IoU 0.3 | V2 @ 0.5 | V2 @ 0.7 | PxAP |\n"
       << "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n";
    for (const Row& r : rows) {
        const xai::WsolReport& w = r.report;
        md << "| " << r.name << " | " << pct(w.top1) << " | " << pct(w.gt_known) << " | " << std::setprecision(3)
           << w.threshold << " | " << pct(w.max_box_accuracy.value) << " | " << pct(w.max_box_accuracy_v2.value);
        for (const xai::MaxBoxAccuracy& m : w.max_box_accuracy_v2.per_iou) md << " | " << pct(m.value);
        md << " | " << pct(w.pxap) << " |\n";
    }
    md << "\nGT-known localization (IoU ≥ 0.5, %) on the test split with per-image rules (no validation split):\n\n"
       << "| method | τ* from validation | 20% of max (CAM paper) | Otsu | mean |\n| --- | ---: | ---: | ---: | ---: |\n";
    for (const Row& r : rows)
        md << "| " << r.name << " | " << pct(r.report.gt_known) << " | " << pct(r.rule_gt_known[0]) << " | "
           << pct(r.rule_gt_known[1]) << " | " << pct(r.rule_gt_known[2]) << " |\n";
    md << "\nSettings:\n\n";
    for (const Row& r : rows) md << "- " << r.name << ": " << r.settings << " (explained in " << std::fixed << std::setprecision(0) << r.seconds << " s)\n";

    std::ofstream csv(s.out_dir / "localization.csv");
    csv << "method,top1_loc,gt_known_loc,threshold,validation_box_acc,max_box_acc,max_box_acc_v2,v2_iou30,v2_iou50,"
           "v2_iou70,pxap,gt_known_fraction_of_max,gt_known_otsu,gt_known_mean\n";
    for (const Row& r : rows) {
        const xai::WsolReport& w = r.report;
        csv << r.name << ',' << w.top1 << ',' << w.gt_known << ',' << w.threshold << ',' << w.validation_box_accuracy << ','
            << w.max_box_accuracy.value << ',' << w.max_box_accuracy_v2.value;
        for (const xai::MaxBoxAccuracy& m : w.max_box_accuracy_v2.per_iou) csv << ',' << m.value;
        csv << ',' << w.pxap << ',' << r.rule_gt_known[0] << ',' << r.rule_gt_known[1] << ',' << r.rule_gt_known[2] << '\n';
    }
}

/// rows × (1 + methods) tiles at 3× scale: the scene with its true box (white), then each
/// method's overlay with the true box and its predicted box at τ* (magenta).
void write_grid(const std::vector<Row>& rows, const Split& test, std::size_t grid_rows, const std::filesystem::path& path) {
    const std::size_t n = std::min(grid_rows, test.scenes.images.shape(0));
    if (n == 0 || rows.empty()) return;
    const std::size_t side = test.scenes.images.shape(2), scale = 3, tile = side * scale, gap = 3;
    const std::size_t columns = rows.size() + 1;
    xai::Image grid = xt::ones<float>({std::size_t{3}, n * tile + (n - 1) * gap, columns * tile + (columns - 1) * gap});
    const xai::Rgb truth{1.0f, 1.0f, 1.0f}, predicted{1.0f, 0.0f, 1.0f};
    auto paste = [&](const xai::Image& rgb, std::size_t r, std::size_t c) {
        xai::Image big = xai::resize(rgb, tile, tile, xai::Interpolation::nearest);
        xai::draw_boxes(big, {xai::scale_box(test.boxes[r][0], scale)}, truth, 2);
        if (c > 0) xai::draw_boxes(big, {xai::scale_box(rows[c - 1].grid_boxes[r], scale)}, predicted, 2);
        xt::view(grid, xt::all(), xt::range(r * (tile + gap), r * (tile + gap) + tile),
                 xt::range(c * (tile + gap), c * (tile + gap) + tile)) = big;
    };
    for (std::size_t i = 0; i < n; ++i) {
        const xai::Image grey = xai::image_at(test.scenes.images, i);
        paste(xai::grey_to_rgb(grey), i, 0);
        for (std::size_t c = 0; c < rows.size(); ++c) paste(xai::overlay(grey, xai::Map(xt::view(rows[c].grid_maps, i))), i, c + 1);
    }
    xai::save_image(path, grid);
}

Settings parse(int argc, char** argv) {
    Settings s;
    s.command = "build/tools/localization_table";
    for (int i = 1; i < argc; ++i) s.command += std::string(" ") + argv[i];
    for (int i = 1; i < argc; ++i) {
        const std::string flag = argv[i];
        if (i + 1 >= argc) throw xai::invalid_argument("localization_table: missing value after " + flag);
        const std::string value = argv[++i];
        auto count = [&] { return static_cast<std::size_t>(std::stoul(value)); };
        if (flag == "--validation") s.validation = count();
        else if (flag == "--test") s.test = count();
        else if (flag == "--threads") s.threads = count();
        else if (flag == "--rise-masks") s.rise_masks = count();
        else if (flag == "--lime-samples") s.lime_samples = count();
        else if (flag == "--thresholds") s.thresholds = count();
        else if (flag == "--grid-rows") s.grid_rows = count();
        else if (flag == "--out-dir") s.out_dir = value;
        else if (flag == "--export") s.export_dir = value;
        else if (flag == "--methods") {
            std::stringstream list(value);
            for (std::string name; std::getline(list, name, ',');) s.methods.push_back(name);
        } else throw xai::invalid_argument("localization_table: unknown option " + flag);
    }
    if (s.validation == 0 || s.test == 0 || s.validation + s.test > 10000)
        throw xai::invalid_argument("localization_table: --validation and --test must be >= 1 and sum to at most 10000");
    return s;
}

}  // namespace

int main(int argc, char** argv) try {
    const Settings s = parse(argc, argv);
    Model model = xai::models::load_builtin("scenes");
    model.set_num_threads(s.threads);
    const xai::LabelledImages items = xai::load_fashion_mnist(xai::FashionMnistSplit::test);
    const Split validation = make_split(model, items, 0, s.validation, s.threads);
    const Split test = make_split(model, items, s.validation, s.test, s.threads);
    auto accuracy = [](const Split& split) {
        std::size_t correct = 0;
        for (std::size_t i = 0; i < split.predicted.size(); ++i) correct += split.predicted[i] == split.scenes.labels[i];
        return static_cast<double>(correct) / static_cast<double>(split.predicted.size());
    };
    std::filesystem::create_directories(s.out_dir);
    if (!s.export_dir.empty()) export_ground_truth(s.export_dir, validation, test);
    std::vector<Row> rows;
    for (const Method& method : all_methods(s)) {
        rows.push_back(evaluate(method, model, validation, test, s));
        write_tables(rows, s, accuracy(validation), accuracy(test));
        write_grid(rows, test, s.grid_rows, s.out_dir / "localization_boxes.png");
    }
    std::cout << std::ifstream(s.out_dir / "localization.md").rdbuf();
    return 0;
} catch (const std::exception& e) {
    std::cerr << "localization_table: " << e.what() << '\n';
    return 1;
}
