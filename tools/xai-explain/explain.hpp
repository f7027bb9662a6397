#pragma once
// xai-explain's work on one loaded model: explain_images() and what it needs (targets,
// settings, the records, the batches). run.hpp parses the command line and loads the model.
//
// For each image (a file, or every image file under a folder) and each method, it writes to
// --out (and the image's subfolder, for folders)
//   <stem>_<method>.png          the map drawn back on the photo, at the photo's size (gallery.hpp)
//   <stem>_<method>.npy          the raw map, float32 (npy.hpp; AnyExplanation::raw)
//   <stem>_<method>_<extra>.npy  further maps: RISE's standard_error, LIME's weight_std, DFF's concepts
//   <stem>_dff_concepts.png      --method dff: the concepts over the input, with a legend (dff_picture.hpp)
//   <stem>_gallery.png           the photo and every method, labelled
//   <stem>_influence.npy, .png   --method influence (influence.hpp)
//   <stem>.json                  the image's record: its entry of summary.json
// and, once per run, summary.json (and report.html with --report). <method> is the method's name
// with "++" written "pp". --outputs chooses among the pictures (png), the maps (npy), the gallery
// and the record (json); the influence method's two files are always written.
//
// The files are drawn, encoded (png_writer.hpp: zlib at Z_BEST_SPEED) and written on a thread of
// their own (output_writer.hpp) while the next images are explained; the records are made here,
// so the summary and the console are as before, and a file that cannot be written ends the run
// with the image's name and exit status 1.
//
// The images go through in batches of --batch: one forward pass gives every image's prediction,
// the methods that take a batch in one pass (the gradient CAMs, CAM, Eigen-CAM: a forward and a
// backward pass for the whole batch) get the batch, the methods that run many passes per image
// (LIME, RISE, occlusion, Score-CAM, Ablation-CAM: they batch their own perturbed images) get one
// image at a time, with a progress bar. A batch that fails is retried image by image, so one bad
// image does not take the others down.
//
// Failures: an image that cannot be read is reported (stderr and the summary's "failures", with
// the reason) and, with --keep-going (the default when an --image is a folder), the others are
// explained; otherwise the run stops there. A method that fails on an image is reported the same
// way and the other methods still run. The exit status is 4 if an image could not be read, else 1
// if anything else failed, else 0.
//
// Resuming: an image whose record (<stem>.json) exists, was made with the same settings (its
// "fingerprint") and lists the outputs --outputs asks for, all existing, with no failure, is not explained again; its
// record goes into the summary as it is ("resumed": true). --overwrite explains every image.

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "arguments.hpp"
#include "dff_picture.hpp"
#include "gallery.hpp"
#include "images.hpp"
#include "influence.hpp"
#include "metric_scores.hpp"
#include "models.hpp"
#include "npy.hpp"
#include "output_writer.hpp"
#include "progress_bar.hpp"
#include "records.hpp"
#include "report.hpp"
#include "run.hpp"
#include "xai/core/scores.hpp"
#include "xai/core/targets.hpp"
#include "xai/image/io.hpp"
#include "xai/localization/extract.hpp"
#include "xai/runtime.hpp"

namespace xai_explain {

/// Gallery panels per row.
inline constexpr std::size_t gallery_columns = 7;

// ---- settings, targets, methods --------------------------------------------------------------

/// The prefix of --target prob:C, the softmax probability of class C as a target function.
inline constexpr std::string_view probability_prefix = "prob:";

/// True for --target prob:C.
inline bool is_probability_target(const std::string& target) { return target.starts_with(probability_prefix); }

/// --target: nullopt for "top", else the class index (by number, or by name, case-insensitive,
/// when the model has labels; after "prob:" for a probability target).
inline std::optional<std::size_t> parse_target(std::string target, const ModelInfo& info, std::size_t classes) {
    if (is_probability_target(target)) {
        target.erase(0, probability_prefix.size());
        if (target.empty() || target == "top")
            throw Failure(ExitCode::usage, "--target prob: needs a class index or name, as prob:3");
    }
    if (target == "top") return std::nullopt;
    if (target.find_first_not_of("0123456789") == std::string::npos) {
        const std::size_t k = detail::parse_unsigned("--target", target, true);
        if (k >= classes)
            throw Failure(ExitCode::usage, "--target " + target + " is out of range, expected a class index below " +
                                               std::to_string(classes));
        return k;
    }
    if (info.labels.empty())
        throw Failure(ExitCode::usage, "--target '" + target + "' is not top or a class index, and the model has no class "
                                                               "names (give them with --labels FILE)");
    const auto lower = [](std::string s) {
        std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        return s;
    };
    std::string known;
    for (std::size_t k = 0; k < info.labels.size(); ++k) {
        if (lower(info.labels[k]) == lower(target)) return k;
        known += (k ? ", " : "") + info.labels[k];
    }
    throw Failure(ExitCode::usage, "--target '" + target + "' is not top, a class index or a class name (" + known + ")");
}

/// The library's options with the command line's overrides; everything else keeps its default.
/// For a model that takes normalized input, LIME's superpixels are found on the picture (the
/// denormalized image), as lime segments the image its classifier function gets before
/// preprocessing.
inline xai::ExplainerSettings settings_from(const Arguments& a, const ModelInfo& info) {
    xai::ExplainerSettings s = a.settings;
    s.layers = a.layers;
    if (a.seed)
        s.lime.seed = s.rise.seed = s.sobol.seed = s.noise_tunnel.seed = s.gradient_shap.seed = s.kernel_shap.seed =
            s.shapley_sampling.seed = s.dff.seed = *a.seed;
    if (a.lime_samples) s.lime.num_samples = *a.lime_samples;
    if (a.rise_masks) s.rise.num_masks = *a.rise_masks;
    if (a.threads)
        s.cam.threads = s.score_cam.cam.threads = s.ablation_cam.cam.threads = s.lime.threads = s.rise.threads =
            s.occlusion.threads = s.sobol.threads = s.saliency.threads = s.integrated_gradients.threads =
                s.gradient_x_input.threads = s.gradient_shap.threads = s.guided_backprop.threads = s.kernel_shap.threads =
                    s.shapley_sampling.threads = *a.threads;
    if (a.occlusion_window) s.occlusion.window = *a.occlusion_window;
    if (a.occlusion_stride) s.occlusion.stride = *a.occlusion_stride;
    if (a.rise_grid) s.rise.grid_size = *a.rise_grid;
    if (a.rise_tolerance) s.rise.tolerance = *a.rise_tolerance;
    if (a.lime_stability) s.lime_stability.repeats = *a.lime_stability;
    if (a.segmentation) s.lime_segmentation = a.segmentation;
    if (info.normalize)
        s.lime_segmentation = [segment = s.lime_segmentation, prep = info.preprocessing](const xai::Image& image) {
            return segment(prep.denormalize(image));
        };
    return s;
}

/// A method's failure on one image, for stderr and the summary: the library's message (its first
/// line), preceded for --target prob:C by what was asked when the method takes no target function.
inline std::string method_failure(const xai::error& error, const std::string& target, bool probability_target) {
    const std::string what = first_line(error.what());
    if (probability_target && what.find("is the target function") != std::string::npos)
        return "--target " + target + " is a target function, which this method does not take (gradient CAMs, "
               "FullGrad, LIME, RISE and occlusion do): " + what;
    return what;
}

/// --boxes: the regions found on a map, in the model's input pixels (half-open), largest first.
inline Json boxes_json(const xai::ExtractedRegions& found) {
    Json list = Json::array();
    for (std::size_t k = 0; k < found.boxes.size(); ++k) {
        const xai::Box& b = found.boxes[k];
        list.push_back(Json{{"top", b.top}, {"left", b.left}, {"bottom", b.bottom}, {"right", b.right}, {"pixels", found.pixels[k]}});
    }
    return Json{{"threshold", found.threshold}, {"strict", found.strict}, {"boxes", list}};
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

inline Json settings_json(const Arguments& a, const xai::ExplainerSettings& s, const std::vector<std::string>& methods,
                          const std::vector<std::string>& layers, const ModelInfo& info) {
    const xai::Preprocessing& p = info.preprocessing;
    Json j{{"methods", methods}, {"target", a.target}, {"layers", layers}, {"threads", s.lime.threads}};
    j["input"] = Json{{"resize", a.fit == xai::Fit::center_crop ? "crop" : "squash"},
                      {"crop_fraction", a.fit == xai::Fit::center_crop ? Json(p.crop_fraction) : Json()},
                      {"normalize", info.normalize ? "imagenet" : "none"}};
    if (info.normalize) j["input"]["mean"] = p.mean, j["input"]["std"] = p.std;
    j["input"]["formats"] = a.load.formats.to_string();
    j["input"]["decoder"] = Json{{"requested", detail::choice_name(detail::decoders, a.load.decoder)},
                                 {"png_jpeg", xai::detail::use_system_decoder(xai::ImageFormat::png, a.load.decoder)
                                                  ? "libpng and libjpeg-turbo"
                                                  : "stb"},
                                 {"system_decoders_built", xai::has_system_decoders}};
    j["input"]["max_pixels"] = a.load.max_pixels;
    const auto uses = [&](std::string_view m) { return std::find(methods.begin(), methods.end(), m) != methods.end(); };
    if (uses("lime"))
        j["lime"] = Json{{"num_samples", s.lime.num_samples},
                         {"seed", s.lime.seed},
                         {"kernel_width", s.lime.kernel_width},
                         {"superpixels", a.superpixels.empty() ? std::string("quickshift (default)") : a.superpixels},
                         {"stability_repeats", s.lime_stability.repeats},
                         {"adaptive", s.lime.adaptive.enabled ? Json{{"top_k", s.lime.adaptive.top_k}, {"alpha", s.lime.adaptive.alpha}}
                                                              : Json(false)}};
    if (uses("rise"))
        j["rise"] = Json{{"num_masks", s.rise.num_masks},
                         {"grid_size", s.rise.grid_size},
                         {"keep_probability", s.rise.keep_probability},
                         {"tolerance", s.rise.tolerance},
                         {"seed", s.rise.seed},
                         {"sampling", detail::choice_name(detail::rise_samplings, s.rise.sampling)},
                         {"control_variate", detail::choice_name(detail::rise_control_variates, s.rise.control_variate)}};
    if (uses("occlusion"))
        j["occlusion"] = Json{{"window", s.occlusion.window},
                              {"stride", s.occlusion.stride},
                              {"coarse_levels", s.occlusion.coarse_levels},
                              {"refine_threshold", s.occlusion.refine_threshold}};
    if (uses("sobol"))
        j["sobol"] = Json{{"grid_size", s.sobol.grid_size},
                          {"designs", s.sobol.designs},
                          {"perturbation", detail::choice_name(detail::sobol_perturbations, s.sobol.perturbation)}};
    if (uses("ig")) {
        const xai::IntegratedGradientsOptions& ig = s.integrated_gradients;
        j["ig"] = Json{{"steps", ig.steps},
                       {"rule", detail::choice_name(detail::integration_rules, ig.rule)},
                       {"baseline", a.ig_baseline.empty() ? std::string("black") : a.ig_baseline},
                       {"tolerance", ig.tolerance}};
    }
    if (uses("smoothgrad") || uses("smoothgrad_sq") || uses("vargrad"))
        j["noise_tunnel"] = Json{{"samples", s.noise_tunnel.samples}, {"noise_level", s.noise_tunnel.noise_level},
                                 {"seed", s.noise_tunnel.seed}};
    if (uses("gradientshap"))
        j["gradientshap"] = Json{{"samples", s.gradient_shap.samples}, {"noise", s.gradient_shap.noise},
                                 {"seed", s.gradient_shap.seed}};
    if (uses("kernelshap")) j["kernelshap"] = Json{{"num_samples", s.kernel_shap.num_samples}, {"seed", s.kernel_shap.seed}};
    if (uses("shapley_sampling"))
        j["shapley_sampling"] = Json{{"permutations", s.shapley_sampling.permutations}, {"seed", s.shapley_sampling.seed}};
    if (uses("scorecam"))
        j["scorecam"] = Json{{"convention", detail::choice_name(detail::score_cam_conventions, s.score_cam.convention)},
                             {"mass_tolerance", s.score_cam.mass_tolerance}};
    if (uses("dff"))
        j["dff"] = Json{{"components", s.dff.components}, {"max_iterations", s.dff.max_iterations},
                        {"tolerance", s.dff.tolerance}, {"seed", s.dff.seed}};
    j["cam"] = Json{{"eigen_smooth", s.cam.eigen_smooth}, {"aug_smooth", s.cam.aug_smooth}};
    if (a.boxes) {
        const xai::ThresholdOptions& t = a.box_options.threshold;
        j["boxes"] = Json{{"rule", std::string(xai::to_string(t.rule))}, {"fraction", t.fraction}, {"factor", t.factor},
                          {"value", t.value}};
    }
    j["metrics"] = a.metrics;
    j["colormap"] = std::string(xai::to_string(a.colormap));
    return j;
}

/// The methods this run applies, checked against what the model type can serve: `all` keeps
/// those it can (the others are named in a note); a method asked for by name that it cannot
/// serve is Failure(method) saying why and what applies instead.
template <xai::Classifier Model>
std::vector<std::string> resolve_methods(const Arguments& a, const ModelInfo& info, std::vector<std::string>& notes) {
    std::vector<std::string> applicable, skipped, methods;
    for (const xai::MethodInfo& m : xai::explanation_methods)
        (xai::model_supports<Model>(m) ? applicable : skipped).emplace_back(m.name);
    std::string list;
    for (const std::string& m : applicable) list += (list.empty() ? "" : ", ") + m;
    const bool onnx = info.kind == "ONNX";
    for (const std::string& name : a.methods) {
        if (name == influence_method) {
            if (!xai::FeatureModel<Model>)
                throw Failure(ExitCode::method, "method 'influence' explains the last layer on its pooled features and needs a "
                                                "FeatureModel; this model is not one");
            methods.push_back(name);
            continue;
        }
        const xai::MethodInfo& m = xai::method_info(name);
        if (xai::model_supports<Model>(m)) {
            methods.push_back(name);
        } else if (!a.all_methods) {
            const bool gradient = m.needs == "LayerGradientModel" || m.needs == "LayerForwardModel";
            throw Failure(ExitCode::method,
                          "method '" + name + "' needs a " + std::string(m.needs) +
                              (onnx && gradient ? " (gradients, or rerunning the network from a layer), and an ONNX model run by "
                                                  "OpenCV's DNN module has neither"
                                                : " and this model is not one") +
                              "; methods for this model: " + list +
                              (onnx ? " (" + std::string(program_name == "xai-explain-torch" ? "this program" : "xai-explain-torch") +
                                          " explains the same network from TorchScript with every method)"
                                    : ""));
        }
    }
    if (a.all_methods) {
        std::string names;
        for (const std::string& s : skipped) names += (names.empty() ? "" : ", ") + s;
        if (!names.empty()) notes.push_back("all: " + names + " skipped, this model cannot serve them");
    }
    return methods;
}

// ---- influence -------------------------------------------------------------------------------

/// The influence method on one image: the values as .npy (one float32 per training example),
/// a picture of the most helpful and most harmful training examples, and the summary entry.
template <xai::FeatureModel Model>
Json explain_influence(const Model& model, const InfluenceMethod* influence, const Job& job, const PreparedImage& image,
                       std::size_t target, const std::string& caption, const ModelInfo& info) {
    Json entry{{"method", influence_method}, {"title", "Influence functions"}};
    if (influence == nullptr) {
        entry["error"] = "the influence method could not be prepared (see settings.influence.error)";
        return entry;
    }
    xai::InfluenceExplanation e;
    double seconds = 0.0;
    try {
        const auto start = std::chrono::steady_clock::now();
        e = influence->explain(model, image.input, target);
        seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    } catch (const xai::error& error) {
        entry["error"] = first_line(error.what());
        return entry;
    }
    const TrainingSource& source = influence->source();
    const auto value = [](double v) {
        char buffer[32];
        std::snprintf(buffer, sizeof buffer, "%+.3g", v);
        return std::string(buffer);
    };
    const xai::Image shown = shrink_to(display_photo(image.photo, image.framing), gallery_max_side);
    const std::size_t columns = 1 + std::max(e.helpful[0].size(), e.harmful[0].size());
    std::vector<Panel> panels;
    Json lists = Json::object();
    for (const auto& [kind, indices] : {std::pair{"helpful", &e.helpful[0]}, std::pair{"harmful", &e.harmful[0]}}) {
        panels.push_back({shown, job.file.filename().string(), caption});
        Json list = Json::array();
        for (std::size_t rank = 0; rank < indices->size(); ++rank) {
            const std::size_t i = (*indices)[rank];
            const double v = e.influence(static_cast<Eigen::Index>(i), 0);
            const std::size_t label = source.labels[i];
            const xai::Image example = xai::image_at(source.images(i, 1), 0);
            panels.push_back({shrink_to(display_image(info.normalize ? info.preprocessing.denormalize(example) : example),
                                        gallery_max_side),
                              std::string(kind) + " " + std::to_string(rank + 1) + ": #" + std::to_string(i),
                              class_name(info, label) + " " + value(v)});
            Json item{{"index", i}, {"label", label}};
            if (!info.labels.empty()) item["class"] = info.labels[label];
            item["influence"] = v;
            list.push_back(std::move(item));
        }
        while (panels.size() % columns != 0) panels.push_back({xai::Image(xt::ones<float>(shown.shape())), "", ""});
        lists[kind] = list;
    }
    const std::string base = job.stem + "_" + std::string(influence_method);
    const std::filesystem::path picture_file = job.out_dir / (base + ".png"), values_file = job.out_dir / (base + ".npy");
    try {
        std::vector<float> values(static_cast<std::size_t>(e.influence.rows()));
        for (std::size_t i = 0; i < values.size(); ++i) values[i] = static_cast<float>(e.influence(static_cast<Eigen::Index>(i), 0));
        save_npy(values_file, values.data(), {values.size()});
        PngEncoder().save(picture_file, compose_gallery(panels, columns));  // as every picture of the tool
    } catch (const xai::error& error) {
        throw Failure(ExitCode::failure, error.what());
    }
    entry["seconds"] = seconds;
    entry["picture"] = picture_file.string();
    entry["map"] = values_file.string();
    entry["map_shape"] = {static_cast<std::size_t>(e.influence.rows())};
    entry["statistics"] = Json{{"test_loss", e.test_losses[0]},
                               {"training_examples", static_cast<std::size_t>(e.influence.rows())},
                               {"parameters", influence->diagnostics().num_parameters}};
    entry["examples"] = lists;
    return entry;
}

// ---- the run ---------------------------------------------------------------------------------

/// One method's result for one image of a batch: the batch's explanation and the image's index
/// in it, or the error.
struct MethodResult {
    std::shared_ptr<const xai::AnyExplanation> x;
    std::size_t index = 0;
    double seconds = 0.0;  ///< the image's explanation time (its share of the batch's)
    std::string error;
    std::vector<std::pair<std::string, double>> metrics;
};

/// One map method's outputs for one image: decided by the explaining thread, drawn and written
/// by the writing one (output_writer.hpp).
struct Drawn {
    MethodResult result;
    std::string title;
    std::filesystem::path overlay_file, map_file;
    std::vector<std::pair<std::string, std::filesystem::path>> extra_files;  ///< further maps: name, file
    std::vector<xai::Box> boxes;                                             ///< --boxes, in input pixels
    xai::Image concepts_picture{};                                           ///< --method dff: dff_picture()
    std::filesystem::path concepts_file{};                                   ///< where it goes (png)
};

/// The files of one image that `outputs` asks for: each method's map drawn on the photo (.png),
/// its raw maps (.npy) and the gallery. Runs on the writing thread, with its reused `scratch`.
inline void write_outputs(const Job& job, const PreparedImage& image, const std::vector<Drawn>& drawn, const std::string& caption,
                          const Outputs& outputs, xai::Colormap colormap, const std::filesystem::path& gallery_file,
                          Scratch& scratch) {
    std::vector<Panel> panels;
    if (outputs.gallery)
        panels.push_back({shrink_to(display_photo(image.photo, image.framing), gallery_max_side), job.file.filename().string(), caption});
    for (const Drawn& d : drawn) {
        const xai::AnyExplanation& x = *d.result.x;
        const std::size_t i = d.result.index;
        if (outputs.png || outputs.gallery) {
            xai::Image picture = display_overlay(image.photo, x.map(i), image.framing, colormap);
            if (!d.boxes.empty()) draw_boxes_on_photo(picture, d.boxes, display_framing(image.framing));
            if (outputs.png) scratch.png.save(d.overlay_file, picture);
            if (outputs.png && !d.concepts_file.empty()) scratch.png.save(d.concepts_file, d.concepts_picture);
            if (outputs.gallery) panels.push_back({shrink_to(std::move(picture), gallery_max_side), d.title, caption});
        }
        if (outputs.npy) {
            save_npy(d.map_file, x.raw_map(i));
            for (const auto& [name, file] : d.extra_files) save_npy(file, x.extra_map(name, i));
        }
    }
    if (outputs.gallery) {
        compose_gallery(panels, gallery_columns, scratch.canvas);
        scratch.png.save(gallery_file, scratch.canvas);
    }
}

/// Explains every image with every method on `model` and writes the outputs (see the header).
template <xai::Classifier Model>
int explain_images(const Model& model, ModelInfo& info, const Arguments& a, Console& console) {
    if (a.list_layers) {
        list_layers(model, info, console.out);
        return 0;
    }
    if (a.images.empty()) throw Failure(ExitCode::usage, "--image is required (see --help)");
    if (a.report && !a.outputs.png)
        throw Failure(ExitCode::usage, "--report shows each method's picture: --outputs must include png");
    const std::size_t classes = model.num_classes();
    const std::optional<std::size_t> fixed_target = parse_target(a.target, info, classes);
    const bool probability_target = is_probability_target(a.target);
    const std::string program(program_name);

    // Methods, layers and options are checked before any image is read.
    const std::vector<std::string> methods = resolve_methods<Model>(a, info, info.notes);
    const bool wants_influence = std::find(methods.begin(), methods.end(), influence_method) != methods.end();
    if (wants_influence && a.train.empty()) throw Failure(ExitCode::usage, "method 'influence' needs --train (see --help)");
    if (!wants_influence && (!a.train.empty() || a.damping))
        throw Failure(ExitCode::usage, "--train and --damping apply to --method influence only");
    bool uses_layer = false;
    for (const std::string& name : methods)
        if (name != influence_method) {
            const xai::MethodInfo& m = xai::method_info(name);
            uses_layer = uses_layer || m.uses_layer;
        }
    std::vector<std::string> layers = a.layers;
    if constexpr (xai::LayerActivationModel<Model>) {
        const std::vector<std::string> known = model.layer_names();
        for (const std::string& l : layers)
            if (std::find(known.begin(), known.end(), l) == known.end())
                throw Failure(ExitCode::layer, "unknown layer '" + l + "', expected one of " + xai::detail::join_names(known) +
                                                   " (see --list-layers)");
        if (layers.empty() && uses_layer) {
            const std::optional<std::string> fallback = default_layer_of(model, info);
            if (!fallback)
                throw Failure(ExitCode::layer, "the model names no feature layer for the CAM family; choose one with --layer "
                                               "(see --list-layers)");
            layers = {*fallback};
        }
    } else if (!layers.empty()) {
        throw Failure(ExitCode::layer, "--layer given, but this model names no layers");
    }
    xai::ExplainerSettings settings = settings_from(a, info);
    if (a.layers.empty() && !layers.empty()) {
        settings.layers = layers;  // the tool's fallback, for models that name no feature layer
        if (!info.fallback_layer.empty() && layers.front() == info.fallback_layer)
            info.notes.push_back("the CAM family explains '" + layers.front() + "', the last layer with a C×h×w output "
                                 "(the model names no feature layer; --layer chooses another)");
    }
    std::vector<xai::AnyExplainer> explainers;
    for (const std::string& name : methods) {
        if (name == influence_method) continue;
        try {
            explainers.push_back(xai::make_explainer(name, model, settings));
        } catch (const xai::invalid_argument& e) {
            throw Failure(ExitCode::usage, "method '" + name + "': " + e.what());
        }
    }
    const std::vector<Job> jobs = collect_jobs(a.images, a.out);
    const bool keep_going = a.keep_going.value_or(std::any_of(jobs.begin(), jobs.end(), [](const Job& j) { return j.in_folder; }));
    make_folder(a.out);

    const bool talk = !a.quiet && !a.json;
    StatusLine status(console.err, !a.quiet && console.err_is_terminal);
    const auto say = [&](std::ostream& stream, const std::string& line) {
        status.erase();
        stream << line << "\n";
        status.draw();
    };
    for (const std::string& note : info.notes)
        if (!a.quiet) say(console.err, "note: " + note);

    Json model_json{{"source", info.source}, {"kind", info.kind}, {"input", shape_json(model.input_shape())},
                    {"num_classes", classes}};
    if (!info.labels.empty()) model_json["classes"] = info.labels;
    model_json["notes"] = info.notes;
    Json run_settings = settings_json(a, settings, methods, layers, info);
    const std::string print = fingerprint(run_settings, model_json);

    std::unique_ptr<InfluenceMethod> influence;
    bool failed = false, unreadable = false;
    Json failures = Json::array();
    if constexpr (xai::FeatureModel<Model>) {
        if (wants_influence) {
            Json influence_json{{"train", a.train}};
            TrainingSource source = training_source(a.train, info, classes, model.input_shape());
            influence_json["description"] = source.description;
            influence_json["examples"] = source.labels.size();
            xai::InfluenceOptions options;
            if (a.threads) options.threads = *a.threads;
            try {
                const auto start = std::chrono::steady_clock::now();
                influence = std::make_unique<InfluenceMethod>(model, std::move(source), options,
                                                              a.damping.value_or(xai::ExactSolver{}.damping),
                                                              status.task("influence"));
                status.end_task();
                const xai::InfluenceDiagnostics& d = influence->diagnostics();
                influence_json["setup_seconds"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
                influence_json["parameters"] = d.num_parameters;
                influence_json["l2_regularization"] = influence->l2_regularization();
                influence_json["solver"] = "exact";
                influence_json["relative_gradient_norm"] = d.stationarity.relative_gradient_norm;
                influence_json["warnings"] = d.warnings;
            } catch (const xai::error& e) {
                status.end_task();
                say(console.err, program + ": influence failed: " + first_line(e.what()));
                influence_json["error"] = first_line(e.what());
                failures.push_back(Json{{"image", nullptr}, {"method", "influence"}, {"error", first_line(e.what())}});
                failed = true;
            }
            run_settings["influence"] = influence_json;
        }
    }
    if (talk)
        say(console.out, "model " + info.source + " (" + info.kind + ", " + xai::to_string(model.input_shape()) + ", " +
                             std::to_string(classes) + " classes)");

    // The images, in order; resumed ones are taken from their records.
    std::vector<Json> records(jobs.size());
    std::vector<bool> finished(jobs.size(), false);
    std::size_t done = 0, resumed = 0, measured = 0, explained = 0, failed_images = 0;
    for (std::size_t j = 0; j < jobs.size(); ++j) {
        if (a.overwrite) break;
        if (std::optional<Json> r = resumable_record(jobs[j].out_dir / (jobs[j].stem + ".json"), print, a.outputs)) {
            records[j] = std::move(*r);
            records[j]["resumed"] = true;
            finished[j] = true;
            ++resumed, ++done;
        }
    }
    if (talk && resumed > 0)
        say(console.out, "resuming: " + std::to_string(resumed) + " of " + std::to_string(jobs.size()) +
                             " images already have their outputs (--overwrite explains them again)");
    const auto started = std::chrono::steady_clock::now();
    const auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count(); };
    const auto update_status = [&] { status.set_run(run_progress_text(done, jobs.size(), resumed, measured, elapsed())); };
    update_status();

    const auto fail_image = [&](std::size_t j, const std::string& stage, const std::string& reason, bool read) {
        const std::string name = jobs[j].file.string();
        say(console.err, program + ": " + name + ": " + reason);
        records[j] = Json{{"image", name}, {"error", reason}, {"stage", stage}};
        failures.push_back(Json{{"image", name}, {"stage", stage}, {"error", reason}});
        finished[j] = true;
        failed = true;
        unreadable = unreadable || read;
        ++failed_images, ++done;
        update_status();
    };

    std::filesystem::path made_folder = a.out;  // the folder made last: a folder's images share theirs
    OutputWriter writer(a.batch);  // after everything its tasks refer to: its destructor waits for them
    std::size_t next = 0;
    bool stop = false;
    while (!stop) {
        // A batch: the next --batch images that can be read.
        std::vector<std::size_t> group;
        std::vector<PreparedImage> prepared;
        for (; next < jobs.size() && group.size() < a.batch; ++next) {
            if (finished[next]) continue;
            try {
                prepared.push_back(prepare_image(jobs[next].file, model.input_shape(), info, a.load));
                group.push_back(next);
            } catch (const xai::error& e) {
                fail_image(next, "read", read_failure(e), true);
                if (!keep_going) {
                    stop = true;
                    ++next;
                    break;
                }
            }
        }
        if (group.empty()) break;
        for (std::size_t g = 0; g < group.size(); ++g)
            for (const std::string& note : prepared[g].notes)
                if (!a.quiet) say(console.err, "note: " + jobs[group[g]].file.string() + ": " + note);

        // One forward pass for the predictions; image by image if the batch fails.
        std::vector<xai::Image> inputs;
        for (const PreparedImage& p : prepared) inputs.push_back(p.input);
        xai::Scores probabilities;
        try {
            probabilities = xai::softmax(xai::detail::checked_forward(model, xai::stack(inputs), program.c_str()));
        } catch (const xai::error&) {
            std::vector<std::size_t> kept_group;
            std::vector<PreparedImage> kept;
            std::vector<xai::Scores> rows;
            for (std::size_t g = 0; g < group.size(); ++g) {
                try {
                    rows.push_back(xai::softmax(xai::detail::checked_forward(model, xai::as_batch(prepared[g].input), program.c_str())));
                    kept_group.push_back(group[g]);
                    kept.push_back(std::move(prepared[g]));
                } catch (const xai::error& e) {
                    fail_image(group[g], "model", "the model failed: " + first_line(e.what()), false);
                }
            }
            group = std::move(kept_group);
            prepared = std::move(kept);
            if (group.empty()) continue;
            probabilities = xai::Scores::from_shape({group.size(), classes});
            for (std::size_t g = 0; g < group.size(); ++g) std::copy_n(rows[g].data(), classes, probabilities.data() + g * classes);
            inputs.clear();
            for (const PreparedImage& p : prepared) inputs.push_back(p.input);
        }
        const std::size_t n = group.size();
        const xai::Batch batch = xai::stack(inputs);
        std::vector<std::size_t> predicted = xai::argmax_rows(probabilities), targets(n);
        xai::Targets batch_targets;
        for (std::size_t g = 0; g < n; ++g) {
            targets[g] = fixed_target.value_or(predicted[g]);
            batch_targets.push_back(probability_target ? xai::Target::function(xai::targets::class_probability(targets[g]))
                                                       : xai::Target::class_index(targets[g]));
        }

        // The methods that take the batch in one pass first; then image by image the others, each
        // image's outputs going to the writing thread as soon as it is explained, so that its files
        // are written while the next image is (with --metrics, which scores each method's maps
        // over the whole batch, the outputs follow the scores).
        std::vector<std::vector<MethodResult>> results(explainers.size(), std::vector<MethodResult>(n));
        std::vector<bool> done_as_batch(explainers.size(), false);
        for (std::size_t e = 0; e < explainers.size(); ++e) {
            if (explainers[e].method().reports_progress || n == 1) continue;
            try {
                const auto start = std::chrono::steady_clock::now();
                auto x = std::make_shared<const xai::AnyExplanation>(explainers[e].explain(batch, batch_targets));
                const double share =
                    std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() / static_cast<double>(n);
                for (std::size_t g = 0; g < n; ++g) results[e][g] = MethodResult{x, g, share, {}, {}};
                done_as_batch[e] = true;
            } catch (const xai::error&) {
                done_as_batch[e] = false;  // retried image by image, to tell which image fails
            }
        }
        const auto explain_one = [&](std::size_t e, std::size_t g) {
            const xai::MethodInfo& m = explainers[e].method();
            MethodResult& r = results[e][g];
            try {
                const xai::Progress progress = m.reports_progress ? status.task(std::string(m.name)) : xai::Progress{};
                const auto start = std::chrono::steady_clock::now();
                auto x = std::make_shared<const xai::AnyExplanation>(
                    explainers[e].explain(xai::as_batch(inputs[g]), xai::Targets{batch_targets[g]}, progress));
                r = MethodResult{x, 0, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(), {}, {}};
            } catch (const xai::error& error) {
                r.error = method_failure(error, a.target, probability_target);
            }
            status.end_task();
        };
        const auto score = [&](std::size_t e) {
            const xai::MethodInfo& m = explainers[e].method();
            std::vector<MethodResult>& r = results[e];
            std::vector<std::size_t> ok;
            for (std::size_t g = 0; g < n; ++g)
                if (r[g].error.empty()) ok.push_back(g);
            if (ok.empty()) return;
            xai::Batch images = xai::Batch::from_shape({ok.size(), batch.shape(1), batch.shape(2), batch.shape(3)});
            xai::Maps maps = xai::Maps::from_shape({ok.size(), batch.shape(2), batch.shape(3)});
            std::vector<std::size_t> scored_targets;
            const std::size_t image_size = images.size() / ok.size(), plane = batch.shape(2) * batch.shape(3);
            for (std::size_t k = 0; k < ok.size(); ++k) {
                const MethodResult& res = r[ok[k]];
                std::copy_n(batch.data() + ok[k] * image_size, image_size, images.data() + k * image_size);
                std::copy_n(res.x->maps.data() + res.index * plane, plane, maps.data() + k * plane);
                scored_targets.push_back(targets[ok[k]]);
            }
            try {
                const auto scores = score_maps(model, images, maps, scored_targets, a.metrics, a.threads.value_or(0),
                                               [&](const std::string& metric) {
                                                   return status.task(std::string(m.name) + " " + metric);
                                               });
                for (std::size_t k = 0; k < ok.size(); ++k) r[ok[k]].metrics = scores[k];
            } catch (const xai::error& error) {
                for (std::size_t g : ok) r[g].error = "metrics: " + first_line(error.what());
            }
            status.end_task();
        };

        // An image's outputs: the record here, the files on the writing thread.
        const auto emit = [&](std::size_t g) {
            const Job& job = jobs[group[g]];
            auto image = std::make_shared<const PreparedImage>(std::move(prepared[g]));
            if (job.out_dir.native() != made_folder.native()) make_folder(job.out_dir), made_folder = job.out_dir;
            Json record{{"image", job.file.string()}, {"stored", shape_json(image->stored)}, {"framing", framing_json(image->framing)},
                        {"notes", image->notes}};
            const auto class_json = [&](std::size_t k) {
                Json c{{"index", k}};
                if (!info.labels.empty()) c["name"] = info.labels[k];
                c["probability"] = static_cast<double>(probabilities(g, k));
                return c;
            };
            record["prediction"] = class_json(predicted[g]);
            record["target"] = class_json(targets[g]);
            if (probability_target) record["target"]["function"] = batch_targets[g].target_function()->describe();
            const std::string caption = class_name(info, targets[g]) + " " + percent(probabilities(g, targets[g]));
            if (talk)
                say(console.out, job.file.string() + ": predicted " + class_name(info, predicted[g]) + " (" +
                                     percent(probabilities(g, predicted[g])) + "), explaining " + class_name(info, targets[g]));
            std::vector<Drawn> drawn;
            Json entries = Json::array();
            for (std::size_t e = 0; e < explainers.size(); ++e) {
                const xai::MethodInfo& m = explainers[e].method();
                const MethodResult& r = results[e][g];
                Json entry{{"method", m.name}, {"title", m.title}};
                if (!r.x) {
                    say(console.err, program + ": " + job.file.string() + ": " + std::string(m.name) + " failed: " + r.error);
                    entry["error"] = r.error;
                    failures.push_back(Json{{"image", job.file.string()}, {"method", m.name}, {"error", r.error}});
                    failed = true;
                    entries.push_back(std::move(entry));
                    continue;
                }
                const xai::AnyExplanation& x = *r.x;
                const std::string base = job.stem + "_" + file_slug(m.name);
                Drawn d{r, std::string(m.title), job.out_dir / (base + ".png"), job.out_dir / (base + ".npy"), {}, {}};
                if (a.boxes) {
                    const xai::ExtractedRegions found = xai::extract_regions(x.map(r.index), a.box_options);
                    d.boxes = found.boxes;
                    entry["boxes"] = boxes_json(found);
                }
                Json extra = Json::object();
                for (const auto& [name, maps] : x.extra_maps) {
                    d.extra_files.emplace_back(name, job.out_dir / (base + "_" + name + ".npy"));
                    extra[name] = d.extra_files.back().second.string();
                }
                if (m.name == "dff" && a.outputs.png) {
                    d.concepts_picture = dff_picture(x, r.index, image->input, info);
                    d.concepts_file = job.out_dir / (job.stem + "_dff_concepts.png");
                    entry["concepts_picture"] = d.concepts_file.string();
                }
                entry["layer"] = x.layer;
                entry["seconds"] = r.seconds;
                if (a.outputs.png) entry["overlay"] = d.overlay_file.string();
                if (a.outputs.npy) entry["map"] = d.map_file.string();
                entry["map_shape"] = {x.raw.shape(1), x.raw.shape(2)};
                if (a.outputs.npy) entry["extra_maps"] = extra;
                Json statistics = Json::object();
                for (const auto& [name, values] : x.statistics) statistics[name] = values[r.index];
                entry["statistics"] = statistics;
                if (!a.metrics.empty()) {
                    Json scores = Json::object();
                    for (const auto& [name, v] : r.metrics) scores[name] = v;
                    entry["metrics"] = scores;
                    if (!r.error.empty()) {
                        entry["error"] = r.error;
                        say(console.err, program + ": " + job.file.string() + ": " + std::string(m.name) + " " + r.error);
                        failures.push_back(Json{{"image", job.file.string()}, {"method", m.name}, {"error", r.error}});
                        failed = true;
                    }
                }
                entries.push_back(std::move(entry));
                if (talk && (a.outputs.png || a.outputs.npy)) {
                    char line[64];
                    std::snprintf(line, sizeof line, "  %-12s %9.3f s  ", std::string(m.name).c_str(), r.seconds);
                    say(console.out, line + (a.outputs.png ? d.overlay_file : d.map_file).string());
                }
                drawn.push_back(std::move(d));
            }
            if constexpr (xai::FeatureModel<Model>) {
                if (wants_influence) {
                    Json entry = explain_influence(model, influence.get(), job, *image, targets[g], caption, info);
                    if (entry.contains("error")) {
                        say(console.err, program + ": " + job.file.string() + ": influence failed: " + std::string(entry["error"]));
                        failures.push_back(Json{{"image", job.file.string()}, {"method", "influence"}, {"error", entry["error"]}});
                        failed = true;
                    } else if (talk) {
                        char line[64];
                        std::snprintf(line, sizeof line, "  %-12s %9.3f s  ", "influence", entry["seconds"].get<double>());
                        say(console.out, line + entry["picture"].get<std::string>());
                    }
                    entries.push_back(std::move(entry));
                }
            }
            record["methods"] = entries;
            const std::filesystem::path gallery_file = job.out_dir / (job.stem + "_gallery.png");
            if (a.outputs.gallery) record["gallery"] = gallery_file.string();
            record["fingerprint"] = print;
            if (talk && a.outputs.gallery) say(console.out, "  gallery      " + gallery_file.string());
            writer.submit([&job, image, drawn = std::move(drawn), caption, gallery_file, outputs = a.outputs, colormap = a.colormap,
                           kept = a.outputs.json ? record : Json()](Scratch& scratch) {
                try {
                    write_outputs(job, *image, drawn, caption, outputs, colormap, gallery_file, scratch);
                    if (outputs.json) write_text(job.out_dir / (job.stem + ".json"), kept.dump(2) + "\n");
                } catch (const std::exception& e) {  // the image named, as every failure of the run is
                    throw Failure(ExitCode::failure, job.file.string() + ": " + first_line(e.what()));
                }
            });
            records[group[g]] = std::move(record);
            finished[group[g]] = true;
            ++done, ++measured, ++explained;
            update_status();
        };
        if (a.metrics.empty()) {
            for (std::size_t g = 0; g < n; ++g) {
                for (std::size_t e = 0; e < explainers.size(); ++e)
                    if (!done_as_batch[e]) explain_one(e, g);
                emit(g);
            }
        } else {
            for (std::size_t e = 0; e < explainers.size(); ++e) {
                for (std::size_t g = 0; !done_as_batch[e] && g < n; ++g) explain_one(e, g);
                score(e);
            }
            for (std::size_t g = 0; g < n; ++g) emit(g);
        }
    }
    writer.finish();
    status.erase();

    Json summary{{"tool", program}, {"model", model_json}, {"settings", run_settings}};
    summary["counts"] = Json{{"images", jobs.size()}, {"explained", explained}, {"resumed", resumed},
                             {"failed", failed_images}, {"not_reached", jobs.size() - done}};
    summary["seconds"] = elapsed();
    Json image_list = Json::array();
    for (std::size_t j = 0; j < jobs.size(); ++j)
        if (finished[j] && !records[j].contains("error")) image_list.push_back(records[j]);
    summary["images"] = image_list;
    summary["failures"] = failures;
    const int status_code = static_cast<int>(unreadable ? ExitCode::image : failed ? ExitCode::failure : ExitCode::ok);
    summary["exit_status"] = status_code;
    if (a.report) {
        const std::filesystem::path report_file = a.out / "report.html";
        write_report(report_file, summary, info);
        summary["report"] = report_file.string();
    }
    const std::string text = summary.dump(2) + "\n";
    write_text(a.out / "summary.json", text);
    if (a.json) {
        console.out << text;
    } else if (talk) {
        char line[160];
        std::snprintf(line, sizeof line, "%s: %zu images: %zu explained, %zu resumed, %zu failed, in %.1f s", program.c_str(),
                      jobs.size(), explained, resumed, failed_images, elapsed());
        console.out << line << (stop ? " (stopped at the first unreadable image; --keep-going goes on)" : "") << "\n";
        console.out << "summary      " << (a.out / "summary.json").string() << "\n";
        if (a.report) console.out << "report       " << (a.out / "report.html").string() << "\n";
    }
    return status_code;
}

}  // namespace xai_explain
