#pragma once
// xai-explain's work on one loaded model: explain_images() and what it needs (models, images,
// targets, settings, the summary). run.hpp parses the command line and picks the model.
//
// For each image (a file, or every image file of a folder) and each method, it writes to --out
//   <stem>_<method>.png          the map over the input (display size, gallery.hpp)
//   <stem>_<method>.npy          the raw map, float32 (npy.hpp; AnyExplanation::raw)
//   <stem>_<method>_<extra>.npy  further maps: RISE's standard_error, LIME's weight_std
//   <stem>_gallery.png           the input and every method, labelled
//   <stem>_influence.npy, .png   --method influence: I_up,loss of every training example (one
//                                float32 each) and the most helpful and harmful ones (influence.hpp)
// and, once per run, summary.json. <method> is the method's name with "++" written "pp".
// Images are converted to the model's channels (stb's grey conversion) and resized to its
// input size (bilinear), with a note on stderr and in the summary. docs/cli.md is the manual.

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstddef>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "arguments.hpp"
#include "gallery.hpp"
#include "images.hpp"
#include "influence.hpp"
#include "json.hpp"
#include "npy.hpp"
#include "progress_bar.hpp"
#include "xai/core/scores.hpp"
#include "xai/data/fashion_mnist.hpp"
#include "xai/image/io.hpp"
#include "xai/image/resize.hpp"
#include "xai/models/builtin.hpp"
#include "xai/models/sequential.hpp"
#include "xai/runtime.hpp"

namespace xai_explain {

/// Where the tool writes: results on `out`, notes, progress and errors on `err`.
struct Console {
    std::ostream& out;
    std::ostream& err;
    bool err_is_terminal = false;  ///< draw progress bars (unless --quiet)
};

/// What the summary and the captions say about the model.
struct ModelInfo {
    std::string source;  ///< --model as given
    std::string kind;    ///< "built-in", "weights file", "TorchScript" or "TorchScript pair"
    std::vector<std::string> class_names;
};

/// Gallery panels per row.
inline constexpr std::size_t gallery_columns = 7;

// ---- models ---------------------------------------------------------------------------------

/// A TorchScript model: a .pt file, or two files separated by a comma (features, head).
inline bool is_torchscript(const std::string& model) {
    const auto ends_with = [&](std::string_view suffix) {
        return model.size() >= suffix.size() && model.compare(model.size() - suffix.size(), suffix.size(), suffix) == 0;
    };
    return model.find(',') != std::string::npos || ends_with(".pt") || ends_with(".pth");
}

/// Class names from --classes (one per line), the built-in models' Fashion-MNIST names, or
/// "class k".
inline std::vector<std::string> class_names_for(const Arguments& a, std::size_t classes, bool fashion) {
    std::vector<std::string> names;
    if (!a.classes.empty()) {
        std::ifstream in(a.classes);
        if (!in) throw Failure(ExitCode::usage, "--classes '" + a.classes.string() + "' cannot be read");
        for (std::string line; std::getline(in, line);) {
            if (!line.empty() && line.back() == '\r') line.pop_back();
            if (!line.empty()) names.push_back(line);
        }
        if (names.size() != classes)
            throw Failure(ExitCode::usage, "--classes '" + a.classes.string() + "' has " + std::to_string(names.size()) +
                                               " names, the model has " + std::to_string(classes) + " classes");
        return names;
    }
    for (std::size_t k = 0; k < classes; ++k)
        names.push_back(fashion && k < xai::fashion_mnist_classes.size() ? std::string(xai::fashion_mnist_classes[k])
                                                                          : "class " + std::to_string(k));
    return names;
}

/// A built-in model by name or a weights file (.xaiw); Failure(model) when it cannot be loaded.
inline xai::models::Sequential load_sequential(const Arguments& a, ModelInfo& info) {
    const std::vector<std::string> builtin = xai::models::builtin_model_names();
    const bool is_builtin = std::find(builtin.begin(), builtin.end(), a.model) != builtin.end();
    xai::models::Sequential model;
    try {
        if (is_builtin) {
            model = xai::models::load_builtin(a.model);
        } else {
            if (!std::filesystem::exists(a.model))
                throw Failure(ExitCode::model, "model '" + a.model + "' is neither a built-in model (" + builtin.front() +
                                                   ", " + builtin.back() + "; see --list-models) nor an existing file");
            model = xai::models::load(a.model);
        }
    } catch (const xai::error& e) {
        throw Failure(ExitCode::model, std::string("cannot load model '") + a.model + "': " + e.what() +
                                           (is_builtin ? " (the trained weights are data/models/*.xaiw; set XAI_DATA_DIR "
                                                         "if the data directory is elsewhere)"
                                                       : ""));
    }
    info.source = a.model;
    info.kind = is_builtin ? "built-in" : "weights file";
    info.class_names = class_names_for(a, model.num_classes(), is_builtin);
    return model;
}

/// --list-models: the built-in models, their input, classes and whether their weights are there.
inline void list_models(std::ostream& out) {
    for (const std::string& name : xai::models::builtin_model_names()) {
        const xai::models::Sequential architecture = xai::models::builtin_architecture(name);
        std::string weights;
        try {
            const std::filesystem::path path = xai::models::builtin_weights_path(name);
            weights = path.string() + (std::filesystem::exists(path) ? "" : " (missing)");
        } catch (const xai::error& e) {
            weights = e.what();
        }
        out << name << std::string(name.size() < 10 ? 10 - name.size() : 1, ' ')
            << xai::to_string(architecture.input_shape()) << ", " << architecture.num_classes()
            << " Fashion-MNIST classes, layers";
        for (const std::string& layer : architecture.layer_names()) out << ' ' << layer;
        out << "\n          weights: " << weights << "\n";
    }
}

/// One line per layer for --list-layers: the name, what the model knows of its output, and
/// which one the CAM family explains by default.
template <xai::Classifier Model>
void list_layers(const Model& model, std::ostream& out) {
    if constexpr (xai::LayerActivationModel<Model>) {
        std::string fallback;
        try {
            fallback = xai::default_layer(model);
        } catch (const xai::error&) {
            fallback.clear();
        }
        for (const std::string& name : model.layer_names()) {
            out << name;
            if constexpr (requires { model.layer(name).output; }) {
                out << std::string(name.size() < 10 ? 10 - name.size() : 1, ' ')
                    << xai::models::to_string(model.layer(name).spec.kind) << " -> "
                    << xai::models::to_string(model.layer(name).output);
            } else if constexpr (requires { model.layer_shape(name); }) {
                out << std::string(name.size() < 10 ? 10 - name.size() : 1, ' ')
                    << xai::shape_string(model.layer_shape(name));
            }
            if (name == fallback) out << "   (default --layer)";
            out << "\n";
        }
    } else {
        out << "(this model names no layers: only lime, rise and occlusion apply)\n";
    }
}

// ---- settings and targets -------------------------------------------------------------------

/// The library's options with the command line's overrides; everything else keeps its default.
inline xai::ExplainerSettings settings_from(const Arguments& a) {
    xai::ExplainerSettings s;
    s.layers = a.layers;
    if (a.seed) s.lime.seed = s.rise.seed = *a.seed;
    if (a.samples) s.lime.num_samples = s.rise.num_masks = *a.samples;
    if (a.threads)
        s.cam.threads = s.score_cam.cam.threads = s.ablation_cam.cam.threads = s.lime.threads = s.rise.threads =
            s.occlusion.threads = *a.threads;
    if (a.window) s.occlusion.window = *a.window;
    if (a.stride) s.occlusion.stride = *a.stride;
    if (a.grid) s.rise.grid_size = *a.grid;
    if (a.tolerance) s.rise.tolerance = *a.tolerance;
    if (a.stability) s.lime_stability.repeats = *a.stability;
    if (a.segmentation) s.lime_segmentation = a.segmentation;
    return s;
}

/// --target: nullopt for "top", else the class index (by number or by name, case-insensitive).
inline std::optional<std::size_t> parse_target(const std::string& target, const std::vector<std::string>& names) {
    if (target == "top") return std::nullopt;
    if (target.find_first_not_of("0123456789") == std::string::npos) {
        const std::size_t k = detail::parse_unsigned("--target", target, true);
        if (k >= names.size())
            throw Failure(ExitCode::usage, "--target " + target + " is out of range, expected a class index below " +
                                               std::to_string(names.size()));
        return k;
    }
    const auto lower = [](std::string s) {
        std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        return s;
    };
    std::string known;
    for (std::size_t k = 0; k < names.size(); ++k) {
        if (lower(names[k]) == lower(target)) return k;
        known += (k ? ", " : "") + names[k];
    }
    throw Failure(ExitCode::usage, "--target '" + target + "' is not top, a class index or a class name (" + known + ")");
}

/// "gradcam++" → "gradcampp": method names in file names.
inline std::string file_slug(std::string_view method) {
    std::string s(method);
    std::replace(s.begin(), s.end(), '+', 'p');
    return s;
}

inline std::string percent(double p) {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%.1f%%", 100.0 * p);
    return buffer;
}

inline Json shape_json(const xai::ImageShape& s) { return Json(Json::Array{s.channels, s.height, s.width}); }

inline Json settings_json(const Arguments& a, const xai::ExplainerSettings& s, const std::vector<std::string>& layers) {
    Json j = Json::object();
    j.set("methods", [&] {
        Json m = Json::array();
        for (const std::string& name : a.methods) m.push(name);
        return m;
    }());
    j.set("target", a.target);
    Json l = Json::array();
    for (const std::string& name : layers) l.push(name);
    j.set("layers", l);
    j.set("threads", s.lime.threads);
    const auto uses = [&](std::string_view m) { return std::find(a.methods.begin(), a.methods.end(), m) != a.methods.end(); };
    if (uses("lime"))
        j.set("lime", Json::object()
                          .set("num_samples", s.lime.num_samples)
                          .set("seed", static_cast<double>(s.lime.seed))
                          .set("kernel_width", s.lime.kernel_width)
                          .set("superpixels", a.superpixels.empty() ? std::string("quickshift (default)") : a.superpixels)
                          .set("stability_repeats", s.lime_stability.repeats));
    if (uses("rise"))
        j.set("rise", Json::object()
                          .set("num_masks", s.rise.num_masks)
                          .set("grid_size", s.rise.grid_size)
                          .set("keep_probability", s.rise.keep_probability)
                          .set("tolerance", s.rise.tolerance)
                          .set("seed", static_cast<double>(s.rise.seed)));
    if (uses("occlusion"))
        j.set("occlusion", Json::object().set("window", s.occlusion.window).set("stride", s.occlusion.stride));
    return j;
}

/// True when a method's summary entry records a failure.
inline bool entry_failed(const Json& entry) { return entry.has("error"); }

/// The influence method on one image: the values as .npy (one float32 per training example),
/// a picture of the most helpful and most harmful training examples, and the summary entry.
template <xai::FeatureModel Model>
Json explain_influence(const Model& model, const InfluenceMethod* influence, const PreparedImage& image, std::size_t target,
                       const xai::Image& shown, const std::string& caption, const std::vector<std::string>& names,
                       const Arguments& a, Console& console) {
    Json entry = Json::object();
    entry.set("method", influence_method);
    entry.set("title", "Influence functions");
    if (influence == nullptr) {
        entry.set("error", "the influence method could not be prepared (see settings.influence.error)");
        return entry;
    }
    xai::InfluenceExplanation e;
    double seconds = 0.0;
    try {
        const auto start = std::chrono::steady_clock::now();
        e = influence->explain(model, image.input, target);
        seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    } catch (const xai::error& error) {
        console.err << "xai-explain: " << image.file.string() << ": influence failed: " << error.what() << "\n";
        entry.set("error", error.what());
        return entry;
    }
    const TrainingSource& source = influence->source();
    const auto value = [](double v) {
        char buffer[32];
        std::snprintf(buffer, sizeof buffer, "%+.3g", v);
        return std::string(buffer);
    };
    const std::size_t columns = 1 + std::max(e.helpful[0].size(), e.harmful[0].size());
    std::vector<Panel> panels;
    Json lists = Json::object();
    for (const auto& [kind, indices] : {std::pair{"helpful", &e.helpful[0]}, std::pair{"harmful", &e.harmful[0]}}) {
        panels.push_back({shown, image.file.filename().string(), caption});
        Json list = Json::array();
        for (std::size_t rank = 0; rank < indices->size(); ++rank) {
            const std::size_t i = (*indices)[rank];
            const double v = e.influence(static_cast<Eigen::Index>(i), 0);
            const std::size_t label = source.labels[i];
            panels.push_back({display_image(xai::image_at(source.images(i, 1), 0)),
                              std::string(kind) + " " + std::to_string(rank + 1) + ": #" + std::to_string(i),
                              names[label] + " " + value(v)});
            list.push(Json::object().set("index", i).set("label", label).set("class", names[label]).set("influence", v));
        }
        while (panels.size() % columns != 0) panels.push_back({xai::Image(xt::ones<float>(shown.shape())), "", ""});
        lists.set(kind, list);
    }
    const std::string base = image.stem + "_" + std::string(influence_method);
    const std::filesystem::path picture_file = a.out / (base + ".png"), values_file = a.out / (base + ".npy");
    try {
        std::vector<float> values(static_cast<std::size_t>(e.influence.rows()));
        for (std::size_t i = 0; i < values.size(); ++i) values[i] = static_cast<float>(e.influence(static_cast<Eigen::Index>(i), 0));
        save_npy(values_file, values.data(), {values.size()});
        xai::save_image(picture_file, compose_gallery(panels, columns));
    } catch (const xai::error& error) {
        throw Failure(ExitCode::failure, error.what());
    }
    entry.set("seconds", seconds);
    entry.set("picture", picture_file.string());
    entry.set("map", values_file.string());
    entry.set("map_shape", Json(Json::Array{static_cast<std::size_t>(e.influence.rows())}));
    entry.set("statistics", Json::object()
                                .set("test_loss", e.test_losses[0])
                                .set("training_examples", static_cast<std::size_t>(e.influence.rows()))
                                .set("parameters", influence->diagnostics().num_parameters));
    entry.set("examples", lists);
    if (!a.quiet && !a.json) {
        char line[64];
        std::snprintf(line, sizeof line, "  %-12s %9.3f s  ", "influence", seconds);
        console.out << line << picture_file.string() << "\n";
    }
    return entry;
}

// ---- the run --------------------------------------------------------------------------------

/// Explains every image with every method on `model` and writes the outputs (see the header).
template <xai::Classifier Model>
int explain_images(const Model& model, const ModelInfo& info, const Arguments& a, Console& console) {
    if (a.list_layers) {
        list_layers(model, console.out);
        return 0;
    }
    if (a.images.empty()) throw Failure(ExitCode::usage, "--image is required (see --help)");
    const std::vector<std::string>& names = info.class_names;
    const std::optional<std::size_t> fixed_target = parse_target(a.target, names);

    // Methods, layers and options are checked before any image is read.
    bool uses_layer = false;
    const bool wants_influence = std::find(a.methods.begin(), a.methods.end(), influence_method) != a.methods.end();
    if (wants_influence) {
        if (!xai::FeatureModel<Model>)
            throw Failure(ExitCode::method, "method 'influence' explains the last layer on its pooled features and needs a "
                                            "FeatureModel; this model is not one");
        if (a.train.empty()) throw Failure(ExitCode::usage, "method 'influence' needs --train (see --help)");
    } else if (!a.train.empty() || a.damping) {
        throw Failure(ExitCode::usage, "--train and --damping apply to --method influence only");
    }
    for (const std::string& name : a.methods) {
        if (name == influence_method) continue;
        const xai::MethodInfo& m = xai::method_info(name);
        if (!xai::model_supports<Model>(m))
            throw Failure(ExitCode::method, "method '" + name + "' needs a " + std::string(m.needs) +
                                                " and this model is not one (only lime, rise and occlusion apply)");
        uses_layer = uses_layer || m.uses_layer || m.name == "cam";
    }
    std::vector<std::string> layers = a.layers;
    if constexpr (xai::LayerActivationModel<Model>) {
        const std::vector<std::string> known = model.layer_names();
        for (const std::string& l : layers)
            if (std::find(known.begin(), known.end(), l) == known.end())
                throw Failure(ExitCode::layer, "unknown layer '" + l + "', expected one of " + xai::detail::join_names(known) +
                                                   " (see --list-layers)");
        if (layers.empty() && uses_layer) {
            try {
                layers = {xai::default_layer(model)};
            } catch (const xai::error& e) {
                throw Failure(ExitCode::layer, std::string(e.what()) + "; choose one with --layer");
            }
        }
    } else if (!layers.empty()) {
        throw Failure(ExitCode::layer, "--layer given, but this model names no layers");
    }
    const xai::ExplainerSettings settings = settings_from(a);
    std::vector<xai::AnyExplainer> explainers;
    for (const std::string& name : a.methods) {
        if (name == influence_method) continue;
        try {
            explainers.push_back(xai::make_explainer(name, model, settings));
        } catch (const xai::invalid_argument& e) {
            throw Failure(ExitCode::usage, "method '" + name + "': " + e.what());
        }
    }

    std::vector<PreparedImage> images;
    for (const std::string& spec : a.images)
        for (const std::filesystem::path& file : collect_images(spec)) {
            try {
                images.push_back(prepare_image(file, model.input_shape()));
            } catch (const Failure& f) {
                throw Failure(f.code(), "'" + file.string() + "': " + f.what());
            }
        }
    assign_stems(images);
    std::error_code ec;
    std::filesystem::create_directories(a.out, ec);
    if (ec || !std::filesystem::is_directory(a.out))
        throw Failure(ExitCode::failure, "cannot create the output folder '" + a.out.string() + "'" +
                                             (ec ? ": " + ec.message() : std::string()));

    const bool talk = !a.quiet && !a.json;
    const bool bars = !a.quiet && console.err_is_terminal;
    bool failed = false;
    std::unique_ptr<InfluenceMethod> influence;
    Json influence_json = Json::object();
    if constexpr (xai::FeatureModel<Model>) {
        if (wants_influence) {
            TrainingSource source = training_source(a.train, names, model.input_shape());
            influence_json.set("train", a.train).set("description", source.description).set("examples", source.labels.size());
            xai::InfluenceOptions options;
            if (a.threads) options.threads = *a.threads;
            try {
                ProgressBar bar(console.err, bars, "influence");
                const auto start = std::chrono::steady_clock::now();
                influence = std::make_unique<InfluenceMethod>(model, std::move(source), options,
                                                              a.damping.value_or(xai::ExactSolver{}.damping), bar.callback());
                const xai::InfluenceDiagnostics& d = influence->diagnostics();
                influence_json.set("setup_seconds", std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count())
                    .set("parameters", d.num_parameters)
                    .set("l2_regularization", influence->l2_regularization())
                    .set("solver", "exact")
                    .set("relative_gradient_norm", d.stationarity.relative_gradient_norm);
                Json warnings = Json::array();
                for (const std::string& w : d.warnings) warnings.push(w);
                influence_json.set("warnings", warnings);
            } catch (const xai::error& e) {
                console.err << "xai-explain: influence failed: " << e.what() << "\n";
                influence_json.set("error", e.what());
                failed = true;
            }
        }
    }
    if (talk)
        console.out << "model " << info.source << " (" << info.kind << ", " << xai::to_string(model.input_shape()) << ", "
                    << model.num_classes() << " classes)\n";
    Json summary = Json::object();
    summary.set("tool", "xai-explain");
    summary.set("model", Json::object()
                             .set("source", info.source)
                             .set("kind", info.kind)
                             .set("input", shape_json(model.input_shape()))
                             .set("classes", [&] {
                                 Json c = Json::array();
                                 for (const std::string& n : names) c.push(n);
                                 return c;
                             }()));
    Json run_settings = settings_json(a, settings, layers);
    if (wants_influence) run_settings.set("influence", influence_json);
    summary.set("settings", run_settings);
    Json image_list = Json::array();

    for (const PreparedImage& image : images) {
        for (const std::string& note : image.notes)
            if (!a.quiet) console.err << "note: " << image.file.string() << ": " << note << "\n";
        Json record = Json::object();
        record.set("image", image.file.string());
        record.set("stored", shape_json(image.stored));
        Json notes = Json::array();
        for (const std::string& note : image.notes) notes.push(note);
        record.set("notes", notes);

        xai::Scores probabilities;
        try {
            probabilities = xai::softmax(xai::detail::checked_forward(model, xai::as_batch(image.input), "xai-explain"));
        } catch (const xai::error& e) {
            console.err << "xai-explain: " << image.file.string() << ": the model failed: " << e.what() << "\n";
            record.set("error", e.what());
            image_list.push(std::move(record));
            failed = true;
            continue;
        }
        const std::size_t predicted = xai::argmax_rows(probabilities).front();
        const std::size_t target = fixed_target.value_or(predicted);
        const auto class_json = [&](std::size_t k) {
            return Json::object().set("index", k).set("name", names[k]).set("probability", static_cast<double>(probabilities(0, k)));
        };
        record.set("prediction", class_json(predicted));
        record.set("target", class_json(target));
        const std::string caption = names[target] + " " + percent(probabilities(0, target));
        if (talk)
            console.out << image.file.string() << ": predicted " << names[predicted] << " ("
                        << percent(probabilities(0, predicted)) << "), explaining " << names[target] << "\n";

        const xai::Image shown = display_image(image.input);
        std::vector<Panel> panels{{shown, image.file.filename().string(), caption}};
        Json methods = Json::array();
        for (const xai::AnyExplainer& explainer : explainers) {
            const xai::MethodInfo& m = explainer.method();
            const std::string base = image.stem + "_" + file_slug(m.name);
            Json entry = Json::object();
            entry.set("method", m.name);
            entry.set("title", m.title);
            xai::AnyExplanation x;
            double seconds = 0.0;
            try {
                ProgressBar bar(console.err, bars && m.reports_progress, std::string(m.name));
                const auto start = std::chrono::steady_clock::now();
                x = explainer.explain(image.input, xai::Target::class_index(target), bar.callback());
                seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
            } catch (const xai::error& e) {
                console.err << "xai-explain: " << image.file.string() << ": " << m.name << " failed: " << e.what() << "\n";
                entry.set("error", e.what());
                methods.push(std::move(entry));
                failed = true;
                continue;
            }
            const std::filesystem::path overlay_file = a.out / (base + ".png"), map_file = a.out / (base + ".npy");
            Json extra = Json::object();
            try {
                const xai::Image picture = display_overlay(shown, x.map(), a.colormap);
                xai::save_image(overlay_file, picture);
                save_npy(map_file, x.raw_map());
                for (const auto& [name, maps] : x.extra_maps) {
                    const std::filesystem::path file = a.out / (base + "_" + name + ".npy");
                    save_npy(file, x.extra_map(name));
                    extra.set(name, file.string());
                }
                panels.push_back({picture, std::string(m.title), caption});
            } catch (const xai::error& e) {
                throw Failure(ExitCode::failure, e.what());
            }
            entry.set("layer", x.layer);
            entry.set("seconds", seconds);
            entry.set("overlay", overlay_file.string());
            entry.set("map", map_file.string());
            entry.set("map_shape", Json(Json::Array{x.raw.shape(1), x.raw.shape(2)}));
            entry.set("extra_maps", extra);
            Json statistics = Json::object();
            for (const auto& [name, values] : x.statistics) statistics.set(name, values.front());
            entry.set("statistics", statistics);
            methods.push(std::move(entry));
            if (talk) {
                char line[64];
                std::snprintf(line, sizeof line, "  %-12s %9.3f s  ", std::string(m.name).c_str(), seconds);
                console.out << line << overlay_file.string() << "\n";
            }
        }
        if constexpr (xai::FeatureModel<Model>) {
            if (wants_influence) {
                Json entry = explain_influence(model, influence.get(), image, target, shown, caption, names, a, console);
                failed = failed || entry_failed(entry);
                methods.push(std::move(entry));
            }
        }
        record.set("methods", methods);
        const std::filesystem::path gallery_file = a.out / (image.stem + "_gallery.png");
        try {
            xai::save_image(gallery_file, compose_gallery(panels, gallery_columns));
        } catch (const xai::error& e) {
            throw Failure(ExitCode::failure, e.what());
        }
        record.set("gallery", gallery_file.string());
        if (talk) console.out << "  gallery      " << gallery_file.string() << "\n";
        image_list.push(std::move(record));
    }
    summary.set("images", image_list);

    const std::string text = summary.dump();
    const std::filesystem::path summary_file = a.out / "summary.json";
    std::ofstream file(summary_file);
    file << text;
    file.close();
    if (!file) throw Failure(ExitCode::failure, "cannot write '" + summary_file.string() + "'");
    if (a.json) console.out << text;
    else if (talk) console.out << "summary      " << summary_file.string() << "\n";
    return static_cast<int>(failed ? ExitCode::failure : ExitCode::ok);
}

}  // namespace xai_explain
