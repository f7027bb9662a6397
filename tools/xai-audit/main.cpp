// xai-audit: what a model's explanations rest on, over a folder of images with region masks
// (docs/bias.md). For every method, the share of its positive attribution in each region
// (object, cue, … and the background: what no mask covers), per explained class and overall,
// with bootstrap confidence intervals (xai/audit.hpp); with --reference, the same for a second
// model and, per method, the AUC of telling the two models apart by the focus region's share.
//
//   xai-audit --model MODEL --images DIR --regions object,cue [--masks DIR] [--reference MODEL]
//             [--methods gradcam,cam,…|all] [--layer NAME] [--focus REGION] [--labels FILE]
//             [--picture-method NAME] [--picture-count 8] [--resamples 2000] [--seed 0]
//             [--threads 0] [--out DIR]
//   xai-audit --write-scenes DIR [--count 500] [--first 0] [--cue-rate 0] [--cue-probability 1]
//             [--seed 1]
//
// The folder: every image file (png, jpg, jpeg, bmp, tga) of --images, in name order, at the
// model's input size; for each image `<stem>.<ext>` and region R of --regions, a mask
// `<masks>/<stem>_<R>.png` (grey; > 0.5 inside; --masks defaults to --images, whose mask files
// are then not taken for images). Regions must not overlap. MODEL is a built-in model name
// (fashion, scenes, scenes_biased) or an .xaiw weights file. --labels FILE (lines `file,label`)
// adds each model's accuracy on the folder. --write-scenes writes such a folder from the held-out
// scenes (data/scenes.hpp; test items, scene seed --seed, a spurious cue at --cue-rate) with
// labels.csv.
//
// Outputs (--out, default .): audit.md (the tables printed), audit.csv (method, model, class,
// region, mean, low, high, images), audit_per_image.csv and most_reliant.png (the --picture-count
// images whose --picture-method attribution lies most on the focus region: the image with the
// region's box on top, the method's map below, and the --reference model's map on the same image in
// a third row). Exit codes: 0 success, 1 bad arguments, 2 an
// image or mask that cannot be used, 3 a model that cannot be loaded.

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "xai/audit.hpp"
#include "xai/data.hpp"
#include "xai/explain/reference_maps.hpp"
#include "xai/image.hpp"
#include "xai/localization/draw_boxes.hpp"
#include "xai/models/builtin.hpp"
#include "xai/runtime.hpp"

namespace {

namespace fs = std::filesystem;
using Model = xai::models::Sequential;

/// An error with the exit code it maps to.
struct Failure {
    int code;
    std::string message;
};

struct Arguments {
    std::string model, reference;
    fs::path images, masks, out = ".", labels;
    std::vector<std::string> regions, methods = {"gradcam"};
    std::string layer, focus, picture_method;
    std::size_t picture_count = 8, resamples = 2000, threads = 0;
    std::uint64_t seed = 0;
    // --write-scenes
    fs::path write_scenes;
    std::size_t count = 500, first = 0;
    double cue_rate = 0.0, cue_probability = 1.0;
    std::uint64_t scene_seed = 1;
};

void usage(std::ostream& out) {
    out << "usage: xai-audit --model MODEL --images DIR --regions R1,R2,... [--masks DIR] [--reference MODEL]\n"
           "                 [--methods gradcam,cam,...|all] [--layer NAME] [--focus REGION] [--labels FILE]\n"
           "                 [--picture-method NAME] [--picture-count 8] [--resamples 2000] [--seed 0]\n"
           "                 [--threads 0] [--out DIR]\n"
           "       xai-audit --write-scenes DIR [--count 500] [--first 0] [--cue-rate 0] [--cue-probability 1] [--seed 1]\n"
           "Each image <stem>.png needs a mask <stem>_<region>.png per region (white inside); pixels in no mask\n"
           "are the region 'background'. Methods: the names of xai-explain --list-methods, plus random and centre.\n";
}

std::vector<std::string> split(const std::string& text) {
    std::vector<std::string> out;
    std::stringstream in(text);
    for (std::string item; std::getline(in, item, ',');)
        if (!item.empty()) out.push_back(item);
    return out;
}

Arguments parse(int argc, char** argv) {
    Arguments a;
    bool seed_given = false;
    for (int i = 1; i < argc; ++i) {
        const std::string flag = argv[i];
        if (flag == "--help" || flag == "-h") {
            usage(std::cout);
            std::exit(0);
        }
        if (i + 1 >= argc) throw Failure{1, "missing value after " + flag};
        const std::string value = argv[++i];
        auto number = [&] {
            try {
                std::size_t used = 0;
                const unsigned long long v = std::stoull(value, &used);
                if (used != value.size()) throw std::invalid_argument(value);
                return v;
            } catch (const std::exception&) {
                throw Failure{1, flag + " is '" + value + "', expected a non-negative integer"};
            }
        };
        auto real = [&] {
            try {
                return std::stod(value);
            } catch (const std::exception&) {
                throw Failure{1, flag + " is '" + value + "', expected a number"};
            }
        };
        if (flag == "--model") a.model = value;
        else if (flag == "--reference") a.reference = value;
        else if (flag == "--images") a.images = value;
        else if (flag == "--masks") a.masks = value;
        else if (flag == "--regions") a.regions = split(value);
        else if (flag == "--methods") a.methods = split(value);
        else if (flag == "--layer") a.layer = value;
        else if (flag == "--focus") a.focus = value;
        else if (flag == "--labels") a.labels = value;
        else if (flag == "--picture-method") a.picture_method = value;
        else if (flag == "--picture-count") a.picture_count = number();
        else if (flag == "--resamples") a.resamples = number();
        else if (flag == "--threads") a.threads = number();
        else if (flag == "--out") a.out = value;
        else if (flag == "--write-scenes") a.write_scenes = value;
        else if (flag == "--count") a.count = number();
        else if (flag == "--first") a.first = number();
        else if (flag == "--cue-rate") a.cue_rate = real();
        else if (flag == "--cue-probability") a.cue_probability = real();
        else if (flag == "--seed") {
            a.seed = a.scene_seed = number();
            seed_given = true;
        } else throw Failure{1, "unknown option " + flag};
    }
    if (!a.write_scenes.empty()) {
        if (!seed_given) a.scene_seed = 1;
        return a;
    }
    if (a.model.empty()) throw Failure{1, "--model is required"};
    if (a.images.empty()) throw Failure{1, "--images is required"};
    if (a.regions.empty()) throw Failure{1, "--regions is required (the names of the mask files' suffixes)"};
    for (const std::string& r : a.regions)
        if (r == "background") throw Failure{1, "--regions must not name 'background': it is what no mask covers"};
    if (a.masks.empty()) a.masks = a.images;
    if (a.focus.empty()) a.focus = a.regions.back();
    if (std::find(a.regions.begin(), a.regions.end(), a.focus) == a.regions.end() && a.focus != "background")
        throw Failure{1, "--focus '" + a.focus + "' is not one of --regions"};
    if (a.methods == std::vector<std::string>{"all"}) {
        a.methods = {"random", "centre"};
        for (const xai::MethodInfo& m : xai::explanation_methods) a.methods.emplace_back(m.name);
    }
    if (a.picture_method.empty()) a.picture_method = a.methods.front();
    if (std::find(a.methods.begin(), a.methods.end(), a.picture_method) == a.methods.end())
        throw Failure{1, "--picture-method '" + a.picture_method + "' is not one of --methods"};
    if (a.resamples < 2) throw Failure{1, "--resamples must be at least 2"};
    return a;
}

// ---- the folder ------------------------------------------------------------------------

/// --write-scenes: held-out scenes with a cue, their object and cue masks and labels.csv.
int write_scenes(const Arguments& a) {
    if (a.cue_rate < 0.0 || a.cue_rate > 1.0 || a.cue_probability < 0.0 || a.cue_probability > 1.0)
        throw Failure{1, "--cue-rate and --cue-probability must be in [0, 1]"};
    const xai::LabelledImages test = xai::load_fashion_mnist(xai::FashionMnistSplit::test);
    xai::SceneOptions options;
    options.seed = a.scene_seed;
    options.cue = {.probability = a.cue_probability, .rate = a.cue_rate};
    const xai::SceneSet set = xai::make_scenes(test.images, test.labels, a.first, a.count, options, 0);
    fs::create_directories(a.write_scenes);
    std::ofstream labels(a.write_scenes / "labels.csv");
    const std::size_t S = options.canvas_size;
    auto save_mask = [&](const xt::xtensor<bool, 3>& masks, std::size_t i, const fs::path& path) {
        xai::Image m = xai::Image::from_shape({1, S, S});
        for (std::size_t p = 0; p < S * S; ++p) m.data()[p] = masks.data()[i * S * S + p] ? 1.0f : 0.0f;
        xai::save_image(path, m);
    };
    for (std::size_t i = 0; i < a.count; ++i) {
        char stem[32];
        std::snprintf(stem, sizeof stem, "scene_%05zu", a.first + i);
        xai::save_image(a.write_scenes / (std::string(stem) + ".png"), xai::image_at(set.images, i));
        save_mask(set.masks, i, a.write_scenes / (std::string(stem) + "_object.png"));
        save_mask(set.cue_masks, i, a.write_scenes / (std::string(stem) + "_cue.png"));
        labels << stem << ".png," << set.labels[i] << '\n';
    }
    std::cout << "wrote " << a.count << " scenes (cue rate " << a.cue_rate << ", probability " << a.cue_probability
              << ", scene seed " << a.scene_seed << ") with object and cue masks and labels.csv to " << a.write_scenes.string()
              << "\n";
    return 0;
}

Model load_model(const std::string& name) {
    try {
        const std::vector<std::string> builtin = xai::models::builtin_model_names();
        if (std::find(builtin.begin(), builtin.end(), name) != builtin.end()) return xai::models::load_builtin(name);
        if (!fs::exists(name)) throw Failure{3, "model '" + name + "' is neither a built-in model nor an existing file"};
        return xai::models::load(name);
    } catch (const xai::error& e) {
        throw Failure{3, "cannot load model '" + name + "': " + e.what()};
    }
}

bool is_image_file(const fs::path& p) {
    std::string ext = p.extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return ext == ".png" || ext == ".jpg" || ext == ".jpeg" || ext == ".bmp" || ext == ".tga";
}

struct Folder {
    std::vector<fs::path> files;
    xai::Batch images;
    xai::RegionLabels regions;
    std::vector<std::string> names;  ///< "background", then --regions
};

Folder read_folder(const Arguments& a, xai::ImageShape shape) {
    if (!fs::is_directory(a.images)) throw Failure{2, "--images '" + a.images.string() + "' is not a directory"};
    Folder f;
    for (const auto& entry : fs::directory_iterator(a.images)) {
        if (!entry.is_regular_file() || !is_image_file(entry.path())) continue;
        const std::string stem = entry.path().stem().string();
        const bool is_mask = std::any_of(a.regions.begin(), a.regions.end(), [&](const std::string& r) {
            return stem.size() > r.size() + 1 && stem.compare(stem.size() - r.size() - 1, r.size() + 1, "_" + r) == 0;
        });
        if (!(is_mask && a.masks == a.images)) f.files.push_back(entry.path());
    }
    std::sort(f.files.begin(), f.files.end());
    if (f.files.empty()) throw Failure{2, "no images in '" + a.images.string() + "'"};
    const std::size_t n = f.files.size(), h = shape.height, w = shape.width;
    f.images = xai::Batch::from_shape({n, shape.channels, h, w});
    std::vector<xai::RegionMasks> masks(a.regions.size(), xai::RegionMasks::from_shape({n, h, w}));
    for (std::size_t i = 0; i < n; ++i) {
        try {
            const xai::Image image = xai::load_image(f.files[i], shape.channels);
            if (image.shape(1) != h || image.shape(2) != w)
                throw Failure{2, f.files[i].string() + " is " + std::to_string(image.shape(2)) + "×" +
                                     std::to_string(image.shape(1)) + ", expected the model's input size " +
                                     std::to_string(w) + "×" + std::to_string(h)};
            std::copy(image.begin(), image.end(), f.images.begin() + static_cast<std::ptrdiff_t>(i * image.size()));
            for (std::size_t r = 0; r < a.regions.size(); ++r) {
                const fs::path path = a.masks / (f.files[i].stem().string() + "_" + a.regions[r] + ".png");
                if (!fs::exists(path)) throw Failure{2, "missing mask " + path.string()};
                const xai::Image mask = xai::load_image(path, 1);
                if (mask.shape(1) != h || mask.shape(2) != w) throw Failure{2, path.string() + " does not have the image's size"};
                for (std::size_t p = 0; p < h * w; ++p) masks[r].data()[i * h * w + p] = mask.data()[p] > 0.5f;
            }
        } catch (const xai::error& e) {
            throw Failure{2, e.what()};
        }
    }
    try {
        f.regions = xai::label_regions(masks);
    } catch (const xai::error& e) {
        throw Failure{2, std::string(e.what()) + " (in the order of the files: " + f.files.front().filename().string() + ", …)"};
    }
    f.names = {"background"};
    f.names.insert(f.names.end(), a.regions.begin(), a.regions.end());
    return f;
}

std::map<std::string, std::size_t> read_labels(const fs::path& path) {
    std::ifstream in(path);
    if (!in) throw Failure{2, "cannot read --labels " + path.string()};
    std::map<std::string, std::size_t> out;
    for (std::string line; std::getline(in, line);) {
        const auto comma = line.find(',');
        if (comma == std::string::npos) continue;
        try {
            out[line.substr(0, comma)] = std::stoul(line.substr(comma + 1));
        } catch (const std::exception&) {
            throw Failure{2, "--labels line '" + line + "' is not file,label"};
        }
    }
    return out;
}

// ---- the audit -------------------------------------------------------------------------

constexpr xai::MethodInfo random_info{"random", "Random map", "", "Classifier", false, false};
constexpr xai::MethodInfo centre_info{"centre", "Centre Gaussian", "", "Classifier", false, false};

xai::AnyExplainer make(const std::string& method, const Model& model, const Arguments& a) {
    if (method == "random") return xai::AnyExplainer(random_info, xai::RandomMap<Model>(model, {.seed = 1}));
    if (method == "centre") return xai::AnyExplainer(centre_info, xai::CentreGaussian<Model>(model));
    xai::ExplainerSettings s;
    if (!a.layer.empty() && method != "cam") s.layers = {a.layer};
    s.cam.threads = s.score_cam.cam.threads = s.ablation_cam.cam.threads = a.threads;
    s.occlusion.threads = s.lime.threads = s.rise.threads = a.threads;
    return xai::make_explainer(method, model, s);
}

struct Audited {
    std::string method, title;
    xai::AttributionAudit audit;
    xai::Maps maps;
};

std::vector<Audited> audit_model(const Model& model, const Folder& f, const Arguments& a, const std::string& label) {
    std::vector<Audited> out;
    for (const std::string& method : a.methods) {
        std::cerr << "  " << label << ": " << method << "...\n";
        try {
            const xai::AnyExplainer explainer = make(method, model, a);
            xai::AnyExplanation e = explainer.explain(f.images);
            xai::AttributionAudit audit = xai::audit_attribution(e.maps, f.regions, f.names, e.targets,
                                                                 {.resamples = a.resamples, .seed = a.seed});
            out.push_back({method, std::string(explainer.method().title), std::move(audit), std::move(e.maps)});
        } catch (const xai::error& e) {
            throw Failure{1, "method '" + method + "': " + e.what()};
        }
    }
    return out;
}

std::string fixed(double v, int digits = 3) {
    std::ostringstream out;
    out << std::fixed << std::setprecision(digits) << v;
    return out.str();
}

std::string estimate(const xai::ShareEstimate& e) {
    return fixed(e.mean) + " [" + fixed(e.low) + ", " + fixed(e.high) + "]";
}

/// The focus region's shares of the attributed images.
std::vector<double> focus_shares(const xai::AttributionAudit& audit, std::size_t focus) {
    std::vector<double> out;
    for (std::size_t i = 0; i < audit.shares.images(); ++i)
        if (audit.shares.attributed[i]) out.push_back(audit.shares.shares(i, focus));
    return out;
}

void write_report(std::ostream& md, const Arguments& a, const Folder& f, const std::vector<Audited>& main,
                  const std::vector<Audited>& reference, const std::vector<std::string>& accuracy) {
    const std::size_t focus = main.front().audit.region(a.focus);
    md << "Images: " << f.files.size() << " from " << a.images.string() << "; regions: ";
    for (std::size_t r = 0; r < f.names.size(); ++r) md << (r ? ", " : "") << f.names[r];
    md << "; maps of the predicted class (display maps); " << a.resamples << " bootstrap resamples, 95% intervals.\n";
    for (const std::string& line : accuracy) md << line << "\n";
    md << "\nShare of the positive attribution in each region, all images (mean [95% CI]), model " << a.model << ":\n\n"
       << "| method |";
    for (const std::string& n : f.names) md << ' ' << n << " |";
    md << "\n| --- |";
    for (std::size_t r = 0; r < f.names.size(); ++r) md << " ---: |";
    md << "\n| (area: a uniform map) |";
    for (double area : main.front().audit.area) md << ' ' << fixed(area) << " |";
    md << '\n';
    for (const Audited& m : main) {
        md << "| " << m.title << " |";
        for (const xai::ShareEstimate& e : m.audit.overall) md << ' ' << estimate(e) << " |";
        md << '\n';
    }
    if (!reference.empty()) {
        md << "\nShare of the " << a.focus << " region: " << a.model << " against " << a.reference
           << ", and the AUC of telling them apart by it per image (1: every " << a.model << " map puts more on the "
           << a.focus << " than every " << a.reference << " map; 0.5: no better than chance), methods ranked by AUC:\n\n"
           << "| rank | method | " << a.focus << " share, " << a.model << " | " << a.focus << " share, " << a.reference
           << " | AUC |\n| ---: | --- | ---: | ---: | ---: |\n";
        std::vector<std::pair<double, std::size_t>> ranked;
        for (std::size_t k = 0; k < main.size(); ++k)
            ranked.emplace_back(xai::separation_auc(focus_shares(main[k].audit, focus), focus_shares(reference[k].audit, focus)), k);
        std::stable_sort(ranked.begin(), ranked.end(), [](const auto& x, const auto& y) { return x.first > y.first; });
        for (std::size_t r = 0; r < ranked.size(); ++r) {
            const std::size_t k = ranked[r].second;
            md << "| " << r + 1 << " | " << main[k].title << " | " << estimate(main[k].audit.overall[focus]) << " | "
               << estimate(reference[k].audit.overall[focus]) << " | " << fixed(ranked[r].first) << " |\n";
        }
    }
    for (const auto* set : {&main, &reference}) {
        if (set->empty()) continue;
        const std::string& name = set == &main ? a.model : a.reference;
        for (const Audited& m : *set) {
            md << "\nPer explained class, " << m.title << ", model " << name << " (mean [95% CI], images):\n\n| class |";
            for (const std::string& n : f.names) md << ' ' << n << " |";
            md << " images |\n| --- |";
            for (std::size_t r = 0; r <= f.names.size(); ++r) md << " ---: |";
            md << '\n';
            for (std::size_t j = 0; j < m.audit.classes.size(); ++j) {
                md << "| " << m.audit.classes[j] << " |";
                for (const xai::ShareEstimate& e : m.audit.per_class[j]) md << ' ' << estimate(e) << " |";
                md << ' ' << m.audit.per_class[j].front().images << " |\n";
            }
            if (m.audit.unattributed > 0) md << "\n" << m.audit.unattributed << " images without positive attribution left out.\n";
        }
    }
}

void write_csv(const fs::path& dir, const Arguments& a, const Folder& f, const std::vector<Audited>& main,
               const std::vector<Audited>& reference) {
    std::ofstream csv(dir / "audit.csv"), per_image(dir / "audit_per_image.csv");
    csv << "method,model,class,region,mean,low,high,images\n";
    per_image << "file,model,method,target";
    for (const std::string& n : f.names) per_image << ",share_" << n;
    per_image << '\n';
    for (const auto* set : {&main, &reference})
        for (const Audited& m : *set) {
            const std::string& model = set == &main ? a.model : a.reference;
            auto row = [&](const std::string& cls, const std::vector<xai::ShareEstimate>& e) {
                for (std::size_t r = 0; r < e.size(); ++r)
                    csv << m.method << ',' << model << ',' << cls << ',' << f.names[r] << ',' << e[r].mean << ',' << e[r].low
                        << ',' << e[r].high << ',' << e[r].images << '\n';
            };
            row("all", m.audit.overall);
            for (std::size_t j = 0; j < m.audit.classes.size(); ++j) row(std::to_string(m.audit.classes[j]), m.audit.per_class[j]);
            for (std::size_t i = 0; i < f.files.size(); ++i) {
                per_image << f.files[i].filename().string() << ',' << model << ',' << m.method << ',' << m.audit.targets[i];
                for (std::size_t r = 0; r < f.names.size(); ++r) per_image << ',' << m.audit.shares.shares(i, r);
                per_image << '\n';
            }
        }
}

/// The images whose attribution lies most on the focus region: the image with the focus
/// region's box (magenta) on top, the map's overlay below it, and with a reference model the
/// same method's map for that model on the same image in a third row (side by side).
void write_picture(const fs::path& path, const Arguments& a, const Folder& f, const Audited& m,
                   const Audited* reference) {
    const std::size_t focus = m.audit.region(a.focus);
    const std::vector<std::size_t> top = m.audit.most_reliant(focus, a.picture_count);
    if (top.empty()) return;
    const std::size_t h = f.images.shape(2), w = f.images.shape(3);
    const std::size_t scale = std::max<std::size_t>(1, 192 / std::max(h, w)), th = h * scale, tw = w * scale, gap = 3;
    const std::size_t rows = reference ? 3 : 2;
    xai::Image grid = xt::ones<float>({std::size_t{3}, rows * th + (rows - 1) * gap, top.size() * tw + (top.size() - 1) * gap});
    for (std::size_t k = 0; k < top.size(); ++k) {
        const std::size_t i = top[k];
        const xai::Image image = xai::image_at(f.images, i);
        xai::Image rgb = image.shape(0) == 1 ? xai::grey_to_rgb(image) : image;
        xai::Box box{h, w, 0, 0};
        for (std::size_t p = 0; p < h * w; ++p)
            if (f.regions.data()[i * h * w + p] == focus) {
                box = {std::min(box.top, p / w), std::min(box.left, p % w), std::max(box.bottom, p / w + 1),
                       std::max(box.right, p % w + 1)};
            }
        xai::Image upper = xai::resize(rgb, th, tw, xai::Interpolation::nearest);
        if (box.bottom > 0) xai::draw_boxes(upper, {xai::scale_box(box, scale)}, {1.0f, 0.0f, 1.0f}, scale > 1 ? 2 : 1);
        const xai::Image lower =
            xai::resize(xai::overlay(image, xai::Map(xt::view(m.maps, i))), th, tw, xai::Interpolation::nearest);
        const std::size_t x0 = k * (tw + gap);
        xt::view(grid, xt::all(), xt::range(0, th), xt::range(x0, x0 + tw)) = upper;
        xt::view(grid, xt::all(), xt::range(th + gap, 2 * th + gap), xt::range(x0, x0 + tw)) = lower;
        if (reference)
            xt::view(grid, xt::all(), xt::range(2 * (th + gap), 3 * th + 2 * gap), xt::range(x0, x0 + tw)) =
                xai::resize(xai::overlay(image, xai::Map(xt::view(reference->maps, i))), th, tw, xai::Interpolation::nearest);
    }
    xai::save_image(path, grid);
}

int run(const Arguments& a) {
    if (!a.write_scenes.empty()) return write_scenes(a);
    Model model = load_model(a.model);
    model.set_num_threads(a.threads);
    std::optional<Model> reference;
    if (!a.reference.empty()) {
        reference = load_model(a.reference);
        reference->set_num_threads(a.threads);
        if (!(reference->input_shape() == model.input_shape()))
            throw Failure{1, "--reference takes another input shape than --model"};
    }
    const Folder f = read_folder(a, model.input_shape());
    std::vector<std::string> accuracy;
    if (!a.labels.empty()) {
        const std::map<std::string, std::size_t> labels = read_labels(a.labels);
        for (const Model* m : {&model, reference ? &*reference : nullptr}) {
            if (!m) continue;
            const std::vector<std::size_t> predicted = xai::argmax_rows(m->forward(f.images));
            std::size_t correct = 0, known = 0;
            for (std::size_t i = 0; i < f.files.size(); ++i) {
                const auto it = labels.find(f.files[i].filename().string());
                if (it == labels.end()) continue;
                ++known;
                correct += predicted[i] == it->second ? 1 : 0;
            }
            accuracy.push_back("Accuracy of " + (m == &model ? a.model : a.reference) + ": " +
                               fixed(100.0 * static_cast<double>(correct) / static_cast<double>(std::max<std::size_t>(known, 1)), 1) +
                               "% of the " + std::to_string(known) + " labelled images.");
        }
    }
    const std::vector<Audited> main = audit_model(model, f, a, a.model);
    const std::vector<Audited> ref = reference ? audit_model(*reference, f, a, a.reference) : std::vector<Audited>{};
    fs::create_directories(a.out);
    {
        std::ofstream md(a.out / "audit.md");
        write_report(md, a, f, main, ref, accuracy);
    }
    write_csv(a.out, a, f, main, ref);
    const auto picture = std::find_if(main.begin(), main.end(), [&](const Audited& m) { return m.method == a.picture_method; });
    const Audited* reference_picture = ref.empty() ? nullptr : &ref[static_cast<std::size_t>(picture - main.begin())];
    write_picture(a.out / "most_reliant.png", a, f, *picture, reference_picture);
    std::cout << std::ifstream(a.out / "audit.md").rdbuf();
    std::cout << "\nwrote audit.md, audit.csv, audit_per_image.csv and most_reliant.png to " << a.out.string() << "\n";
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        return run(parse(argc, argv));
    } catch (const Failure& f) {
        std::cerr << "xai-audit: " << f.message << "\n";
        if (f.code == 1) usage(std::cerr);
        return f.code;
    } catch (const std::exception& e) {
        std::cerr << "xai-audit: " << e.what() << "\n";
        return 1;
    }
}
