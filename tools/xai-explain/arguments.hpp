#pragma once
// xai-explain's command line: the options (declared with CLI11, Debian's libcli11-dev), their
// checking, the help text, the exit codes and the program's name (docs/cli.md). Every default
// shown or used is read from the library's options structs (LimeOptions, RiseOptions,
// OcclusionOptions, LimeStabilityOptions, OverlayOptions, Preprocessing), never restated.
//
// CLI11 parses the structure (which options exist, which take a value, the help text); numbers
// are taken as text and converted here, decimal only and with the tool's own messages (CLI11
// converts with strtoull, which reads "-1" as 2^64 − 1 and "010" as octal 8).

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <CLI/App.hpp>
#include <CLI/Config.hpp>
#include <CLI/Formatter.hpp>

#include "xai/explain/influence/exact.hpp"
#include "xai/image/colormap.hpp"
#include "xai/image/format.hpp"
#include "xai/image/io.hpp"
#include "xai/image/overlay.hpp"
#include "xai/image/preprocess.hpp"
#include "xai/image/superpixels.hpp"
#include "xai/localization/extract.hpp"
#include "xai/runtime.hpp"

namespace xai_explain {

/// The name this build of the tool runs under, in its usage line, its error messages and its
/// summary: "xai-explain", or "xai-explain-torch" for the LibTorch build. Defined by the file
/// that gives the build its TorchScript support (torch_backend.cpp) or its refusal
/// (without_torch.cpp; tools/CMakeLists.txt links one of them).
extern const std::string_view program_name;

/// The process exit status, one per kind of failure (docs/cli.md lists them).
enum class ExitCode : int {
    ok = 0,
    failure = 1,  ///< an explanation failed (a model error) or an output could not be written
    usage = 2,    ///< an unknown option, a missing or bad option value
    model = 3,    ///< the model is missing, unreadable, of the wrong input, or needs another build
    image = 4,    ///< an image is missing or unreadable, or a folder holds none
    method = 5,   ///< an unknown method, or one the model type cannot serve
    layer = 6,    ///< an unknown layer
};

/// A failure that ends the run with `code`; what() is the message for stderr.
class Failure : public std::runtime_error {
public:
    Failure(ExitCode code, const std::string& message) : std::runtime_error(message), code_(code) {}
    ExitCode code() const { return code_; }

private:
    ExitCode code_;
};

/// The most LIME samples and RISE masks a run may ask for: each is one forward pass per image,
/// and these are 100 × lime's default and 25 × the RISE paper's.
inline constexpr std::size_t max_lime_samples = 100'000;
inline constexpr std::size_t max_rise_masks = 100'000;
/// The most path points, noisy copies, coalitions or permutations a gradient or Shapley method
/// may ask for per image: each is one model pass (and a backward pass for the gradient methods).
inline constexpr std::size_t max_method_samples = 100'000;
/// The most concepts --dff-components takes: each needs its own colour and legend line.
inline constexpr std::size_t max_dff_components = 64;

/// The metrics --metrics accepts (docs/metrics.md), in the order they are reported.
inline constexpr std::string_view metric_names[] = {"deletion", "insertion", "drop", "increase"};

/// The files --outputs asks for per image and method (docs/cli.md, "Outputs"); all by default.
struct Outputs {
    bool png = true;      ///< <stem>_<method>.png, the map drawn on the photo
    bool npy = true;      ///< <stem>_<method>.npy and the methods' further maps
    bool gallery = true;  ///< <stem>_gallery.png
    bool json = true;     ///< <stem>.json, the image's record (what resuming reads)
};

struct Arguments {
    std::string model;
    std::vector<std::string> images;  ///< --image, once or more
    std::vector<std::string> methods{"gradcam"};
    bool all_methods = false;  ///< --method all: every map method the model can serve
    std::string target = "top";
    std::vector<std::string> layers;
    std::filesystem::path out = "out";
    std::filesystem::path labels;
    std::optional<std::uint64_t> seed;
    std::optional<std::size_t> threads, lime_samples, rise_masks, rise_grid, occlusion_window, occlusion_stride,
        lime_stability;
    /// --lime-superpixels as given, and the policy it describes (unset: the library's default).
    std::string superpixels;
    std::function<xai::Segmentation(const xai::Image&)> segmentation;
    std::string ig_baseline;  ///< --ig-baseline as given, for the record (empty: black)
    std::optional<double> rise_tolerance, damping;
    std::string train;  ///< --train, for the influence method
    xai::Colormap colormap = xai::OverlayOptions{}.colormap;
    // How photos become the model's input (image/preprocess.hpp).
    xai::Fit fit = xai::Fit::center_crop;
    double crop_fraction = xai::Preprocessing{}.crop_fraction;
    // The input of models that do not record it (TorchScript; ONNX with symbolic sizes).
    std::optional<std::size_t> height, width, channels;
    std::optional<bool> imagenet_normalization;  ///< --normalize; unset: the model kind's default
    // How image files are decoded (--allow-format, --decoder, --max-pixels; image/io.hpp).
    xai::LoadOptions load{};
    // --boxes: each map's regions (localization/extract.hpp), drawn and listed.
    bool boxes = false;
    xai::ExtractionOptions box_options{};
    /// The library's options that flags set directly (RISE's sampling, Sobol, adaptive LIME,
    /// coarse-to-fine occlusion, Score-CAM's pruning and convention, eigen/aug smoothing);
    /// settings_from() starts from these.
    xai::ExplainerSettings settings{};
    // The run.
    std::vector<std::string> metrics;
    Outputs outputs;
    std::size_t batch = 16;           ///< images per batch for the methods that take batches
    std::optional<bool> keep_going;   ///< unset: on when an --image is a folder
    bool overwrite = false;           ///< redo images whose outputs exist
    bool report = false;              ///< write <out>/report.html
    bool json = false, quiet = false, help = false, list_models = false, list_layers = false, list_methods = false;
};

/// The training-example method (influence.hpp), which is not a map method of AnyExplainer.
inline constexpr std::string_view influence_method = "influence";

namespace detail {

inline std::vector<std::string> split(const std::string& text, char separator) {
    std::vector<std::string> parts;
    std::size_t begin = 0;
    while (true) {
        const std::size_t end = text.find(separator, begin);
        parts.push_back(text.substr(begin, end == std::string::npos ? std::string::npos : end - begin));
        if (end == std::string::npos) return parts;
        begin = end + 1;
    }
}

inline std::uint64_t parse_unsigned(const std::string& flag, const std::string& value, bool allow_zero) {
    std::size_t used = 0;
    unsigned long long n = 0;
    bool ok = !value.empty() && value.find_first_not_of("0123456789") == std::string::npos;
    if (ok) {
        try {
            n = std::stoull(value, &used);
        } catch (const std::out_of_range&) {
            ok = false;
        }
    }
    if (!ok || used != value.size() || (!allow_zero && n == 0))
        throw Failure(ExitCode::usage, flag + " '" + value + "' is not " +
                                           (allow_zero ? "a non-negative integer" : "a positive integer"));
    return n;
}

/// A positive integer at most `most`; the error says why there is a bound.
inline std::size_t parse_bounded(const std::string& flag, const std::string& value, std::size_t most,
                                 const std::string& why) {
    const bool digits = !value.empty() && value.find_first_not_of("0123456789") == std::string::npos;
    if (digits && (value.size() > 18 || parse_unsigned(flag, value, false) > most))
        throw Failure(ExitCode::usage, flag + " " + value + " is above " + std::to_string(most) + ", the most this tool runs (" +
                                           why + ")");
    return parse_unsigned(flag, value, false);
}

/// The whole of `value` as a finite decimal number, or nothing.
inline std::optional<double> finite_number(const std::string& value) {
    std::size_t used = 0;
    double x = 0.0;
    try {
        x = std::stod(value, &used);
    } catch (const std::exception&) {
        return std::nullopt;
    }
    if (used == 0 || used != value.size() || !std::isfinite(x)) return std::nullopt;
    return x;
}

inline double parse_number(const std::string& flag, const std::string& value) {
    const std::optional<double> x = finite_number(value);
    if (!x || *x < 0.0) throw Failure(ExitCode::usage, flag + " '" + value + "' is not a finite number >= 0");
    return *x;
}

/// The names a flag takes and the library value each one stands for.
template <class T, std::size_t N>
using Choices = std::array<std::pair<std::string_view, T>, N>;

inline constexpr Choices<xai::ImageDecoder, 3> decoders{
    {{"auto", xai::ImageDecoder::automatic}, {"stb", xai::ImageDecoder::stb}, {"system", xai::ImageDecoder::system}}};
inline constexpr Choices<xai::ThresholdRule, 4> box_rules{{{"fraction", xai::ThresholdRule::fraction_of_max},
                                                           {"otsu", xai::ThresholdRule::otsu},
                                                           {"mean", xai::ThresholdRule::mean},
                                                           {"fixed", xai::ThresholdRule::fixed}}};
inline constexpr Choices<xai::RiseSampling, 3> rise_samplings{{{"independent", xai::RiseSampling::independent},
                                                              {"antithetic", xai::RiseSampling::antithetic},
                                                              {"quasi_random", xai::RiseSampling::quasi_random}}};
inline constexpr Choices<xai::RiseControlVariate, 4> rise_control_variates{
    {{"none", xai::RiseControlVariate::none},
     {"unmasked_score", xai::RiseControlVariate::unmasked_score},
     {"masked_score", xai::RiseControlVariate::masked_score},
     {"mean_score", xai::RiseControlVariate::mean_score}}};
inline constexpr Choices<xai::SobolPerturbation, 3> sobol_perturbations{{{"inpainting", xai::SobolPerturbation::inpainting},
                                                                        {"blurring", xai::SobolPerturbation::blurring},
                                                                        {"amplitude", xai::SobolPerturbation::amplitude}}};
inline constexpr Choices<xai::IntegrationRule, 5> integration_rules{
    {{"riemann_left", xai::IntegrationRule::riemann_left},
     {"riemann_right", xai::IntegrationRule::riemann_right},
     {"riemann_middle", xai::IntegrationRule::riemann_middle},
     {"riemann_trapezoid", xai::IntegrationRule::riemann_trapezoid},
     {"gausslegendre", xai::IntegrationRule::gauss_legendre}}};
inline constexpr Choices<xai::ScoreCamConvention, 2> score_cam_conventions{
    {{"authors", xai::ScoreCamConvention::authors}, {"pytorch-grad-cam", xai::ScoreCamConvention::pytorch_grad_cam}}};

/// "a, b or c"; the choice equal to `default_value`, when given, marked "(default)".
template <class T, std::size_t N>
std::string choice_names(const Choices<T, N>& choices, std::optional<T> default_value = std::nullopt) {
    std::string names;
    for (std::size_t k = 0; k < N; ++k) {
        if (k > 0) names += k + 1 == N ? " or " : ", ";
        names += choices[k].first;
        if (default_value == choices[k].second) names += " (default)";
    }
    return names;
}

/// The name of `value` among `choices`.
template <class T, std::size_t N>
std::string choice_name(const Choices<T, N>& choices, T value) {
    for (const auto& [name, v] : choices)
        if (v == value) return std::string(name);
    return "?";
}

/// `value` among `choices`; Failure(usage) naming the flag and the names otherwise.
template <class T, std::size_t N>
T parse_choice(const std::string& flag, const std::string& value, const Choices<T, N>& choices) {
    for (const auto& [name, v] : choices)
        if (name == value) return v;
    throw Failure(ExitCode::usage, flag + " '" + value + "', expected " + choice_names(choices));
}

/// A number in [low, high) (or [low, high] when `closed`).
inline double parse_in_range(const std::string& flag, const std::string& value, double low, double high, bool closed) {
    const double x = parse_number(flag, value);
    if (x < low || x > high || (!closed && x == high))
        throw Failure(ExitCode::usage, flag + " '" + value + "' is not in [" + xai::detail::message(low) + ", " +
                                           xai::detail::message(high) + (closed ? "]" : ")"));
    return x;
}

/// --ig-baseline: black (0 in the model's input space, the normalized zero for normalized
/// models, as Captum's default on a normalized tensor), mean (the image's per-channel mean), blur
/// (Gaussian, σ = 5 px) or a number (that constant in the model's input space).
inline xai::Baseline parse_ig_baseline(const std::string& flag, const std::string& value) {
    if (value == "black") return xai::Baseline::constant(0.0f);
    if (value == "mean") return xai::Baseline::image_mean();
    if (value == "blur") return xai::Baseline::blurred();
    const std::optional<double> x = finite_number(value);
    if (!x) throw Failure(ExitCode::usage, flag + " '" + value + "', expected black, mean, blur or a finite number");
    return xai::Baseline::constant(static_cast<float>(*x));
}

/// --allow-format NAME[,NAME...] or all: the formats decoded, the defaults and these.
inline xai::ImageFormats parse_formats(const std::string& value) {
    xai::ImageFormats formats = xai::ImageFormats::defaults();
    for (const std::string& name : split(value, ',')) {
        if (name == "all") {
            formats |= xai::ImageFormats::all();
            continue;
        }
        const std::optional<xai::ImageFormat> f = xai::image_format_from_string(name);
        if (!f)
            throw Failure(ExitCode::usage, "--allow-format '" + name + "' is not a format, expected all or some of " +
                                               xai::ImageFormats::all().to_string());
        formats |= *f;
    }
    return formats;
}

/// --lime-superpixels NAME[:KEY=VALUE,...]: the algorithm's options struct with the given fields
/// changed (the others keep the library's defaults).
inline std::function<xai::Segmentation(const xai::Image&)> parse_superpixels(const std::string& spec) {
    const std::string flag = "--lime-superpixels";
    const std::size_t colon = spec.find(':');
    const std::string name = spec.substr(0, colon);
    std::vector<std::pair<std::string, std::string>> settings;
    if (colon != std::string::npos)
        for (const std::string& item : split(spec.substr(colon + 1), ',')) {
            const std::size_t eq = item.find('=');
            if (eq == std::string::npos || eq == 0 || eq + 1 == item.size())
                throw Failure(ExitCode::usage, flag + " '" + spec + "': '" + item + "' is not KEY=VALUE");
            settings.emplace_back(item.substr(0, eq), item.substr(eq + 1));
        }
    // Sets the field called `key` among `fields` (name, pointer to a double or a size_t).
    const auto apply = [&](auto& options, const auto&... fields) {
        for (const auto& setting : settings) {
            // Named references, not a structured binding: clang 14 cannot capture those in the
            // lambda below (C++20 allows it; clang implements it from version 16).
            const std::string& key = setting.first;
            const std::string& value = setting.second;
            bool found = false;
            const auto assign = [&](const auto& field) {
                if (field.first != key) return;
                found = true;
                using Type = std::remove_reference_t<decltype(options.*(field.second))>;
                const std::string what = flag + " " + name + ":" + key;
                if constexpr (std::is_same_v<Type, double>) options.*(field.second) = parse_number(what, value);
                else options.*(field.second) = static_cast<Type>(parse_unsigned(what, value, true));
            };
            (assign(fields), ...);
            if (!found) throw Failure(ExitCode::usage, flag + " '" + spec + "': " + name + " has no parameter '" + key + "'");
        }
        return options;
    };
    using std::pair;
    if (name == "quickshift") {
        xai::QuickshiftOptions o;
        return xai::Quickshift{apply(o, pair{"ratio", &xai::QuickshiftOptions::ratio},
                                     pair{"kernel_size", &xai::QuickshiftOptions::kernel_size},
                                     pair{"max_dist", &xai::QuickshiftOptions::max_dist},
                                     pair{"sigma", &xai::QuickshiftOptions::sigma})};
    }
    if (name == "slic") {
        xai::SlicOptions o;
        return xai::Slic{apply(o, pair{"n_segments", &xai::SlicOptions::n_segments},
                               pair{"compactness", &xai::SlicOptions::compactness}, pair{"sigma", &xai::SlicOptions::sigma},
                               pair{"max_iter", &xai::SlicOptions::max_iter})};
    }
    if (name == "felzenszwalb") {
        xai::FelzenszwalbOptions o;
        return xai::Felzenszwalb{apply(o, pair{"scale", &xai::FelzenszwalbOptions::scale},
                                       pair{"sigma", &xai::FelzenszwalbOptions::sigma},
                                       pair{"min_size", &xai::FelzenszwalbOptions::min_size})};
    }
    if (name == "grid") {
        xai::GridOptions o;
        return xai::GridSegmenter{apply(o, pair{"n_segments", &xai::GridOptions::n_segments},
                                        pair{"rows", &xai::GridOptions::rows}, pair{"cols", &xai::GridOptions::cols})};
    }
    throw Failure(ExitCode::usage, flag + " '" + spec + "', expected quickshift, slic, felzenszwalb or grid");
}

/// "gradcam,lime" or "all" → the method names, in the order given, without repeats; `all`
/// is remembered, since it means the methods the model can serve (known only once it is loaded).
inline std::vector<std::string> parse_methods(const std::string& value, bool& all) {
    std::vector<std::string> methods;
    const auto add = [&](std::string_view name) {
        if (std::find(methods.begin(), methods.end(), name) == methods.end()) methods.emplace_back(name);
    };
    for (const std::string& part : split(value, ',')) {
        if (part == "all") {
            all = true;
            for (const xai::MethodInfo& m : xai::explanation_methods) add(m.name);
            continue;
        }
        if (part == influence_method) {
            add(influence_method);
            continue;
        }
        try {
            add(xai::method_info(part).name);
        } catch (const xai::invalid_argument&) {
            std::string known;
            for (const xai::MethodInfo& m : xai::explanation_methods) known += std::string(known.empty() ? "" : ", ") + std::string(m.name);
            throw Failure(ExitCode::method, "unknown method '" + part + "' in --method, expected all or some of " + known +
                                                ", " + std::string(influence_method));
        }
    }
    return methods;
}

inline Outputs parse_outputs(const std::string& value) {
    Outputs o{false, false, false, false};
    for (const std::string& part : split(value, ',')) {
        bool* flag = part == "png" ? &o.png : part == "npy" ? &o.npy : part == "gallery" ? &o.gallery : part == "json" ? &o.json : nullptr;
        if (part == "all") o = Outputs{};
        else if (flag != nullptr) *flag = true;
        else throw Failure(ExitCode::usage, "unknown output '" + part + "' in --outputs, expected all or some of png, npy, gallery, json");
    }
    return o;
}

inline std::vector<std::string> parse_metrics(const std::string& value) {
    std::vector<std::string> metrics;
    for (const std::string& part : split(value, ',')) {
        const bool all = part == "all";
        bool known = all;
        for (std::string_view m : metric_names)
            if (all || part == m) {
                known = true;
                if (std::find(metrics.begin(), metrics.end(), m) == metrics.end()) metrics.emplace_back(m);
            }
        if (!known) throw Failure(ExitCode::usage, "unknown metric '" + part + "' in --metrics, expected all or some of deletion, insertion, drop, increase");
    }
    return metrics;
}

/// Options that were renamed, and what to use instead.
inline const std::map<std::string, std::string>& renamed_options() {
    static const std::map<std::string, std::string> renamed = {
        {"--samples", "--lime-samples N and --rise-masks N (one number no longer sets both)"},
        {"--window", "--occlusion-window"},
        {"--stride", "--occlusion-stride"},
        {"--grid", "--rise-grid"},
        {"--tolerance", "--rise-tolerance"},
        {"--stability", "--lime-stability"},
        {"--superpixels", "--lime-superpixels"},
        {"--classes", "--labels"},
    };
    return renamed;
}

/// `text` broken into lines of at most `width` characters at spaces (CLI11 indents each line of
/// an option's description under the first).
inline std::string wrap(const std::string& text, std::size_t width = 66) {
    std::string out, line;
    for (const std::string& paragraph : split(text, '\n')) {
        line.clear();
        for (const std::string& word : split(paragraph, ' ')) {
            if (!line.empty() && line.size() + 1 + word.size() > width) {
                out += line + "\n";
                line.clear();
            }
            if (!line.empty()) line += ' ';
            line += word;
        }
        out += line + "\n";
    }
    out.pop_back();
    return out;
}

/// CLI11's help with the tool's own usage lines and descriptions wrapped.
class HelpFormatter : public CLI::Formatter {
public:
    std::string make_usage(const CLI::App*, std::string) const override {
        const std::string p(program_name), pad(p.size(), ' ');
        return "usage: " + p + " --model MODEL --image FILE|DIR [--image ...] [--method LIST|all] [--out DIR]\n"
               "       " + pad + " [--target top|INDEX|NAME|prob:C] [--layer NAME[,NAME...]] [--metrics LIST] [--report]\n"
               "       " + pad + " [--labels FILE] [--resize crop|squash] [more options below]\n"
               "       " + p + " --list-models | --list-methods | --model MODEL --list-layers | --help\n";
    }
    std::string make_option_desc(const CLI::Option* option) const override { return wrap(option->get_description()); }
};

}  // namespace detail

/// The command line's declarations: one CLI11 App whose options write the strings `text` holds,
/// converted by parse_arguments().
struct CommandLine {
    CLI::App app;
    std::map<std::string, std::string> text;  ///< option name → the value as given
    std::string methods, layers, metrics, outputs, resize, normalize, size, colormap, superpixels;

    CommandLine() : app("", std::string(program_name)) {
        const xai::LimeOptions lime;
        const xai::RiseOptions rise;
        const xai::OcclusionOptions occlusion;
        const xai::LimeStabilityOptions stability = xai::ExplainerSettings{}.lime_stability;
        const xai::Preprocessing prep;
        const xai::SobolOptions sobol;
        const xai::IntegratedGradientsOptions ig;
        const xai::NoiseSampling noise;
        const xai::GradientShapOptions gradient_shap;
        const xai::ShapleySamplingOptions shapley;
        const auto n = [](auto v) { return std::to_string(v); };
        std::string method_list;
        for (const xai::MethodInfo& m : xai::explanation_methods)
            method_list += (method_list.empty() ? "" : ", ") + std::string(m.name);
        app.formatter(std::make_shared<detail::HelpFormatter>());
        app.set_help_flag();  // --help is answered by run(), with the exit status 0
        app.description(
            "Explains what an image classifier sees: for every image and method an overlay PNG of the map on the\n"
            "photo and the raw map as .npy (float32), one gallery PNG per image, a JSON record per image and\n"
            "summary.json per run, all in --out; --report adds a self-contained HTML page.");
        app.footer(
            "Exit status: 0 done, 1 an explanation or an output failed, 2 bad usage or option value, 3 model\n"
            "missing, unreadable or of another input, 4 an image missing or unreadable (folders: the others are\n"
            "still explained), 5 unknown or unsupported method, 6 unknown layer. See docs/cli.md.");
        const auto value = [&](const std::string& name, const std::string& help, const std::string& type,
                               const std::string& group) {
            return app.add_option(name, text[name], help)->type_name(type)->group(group);
        };
        const std::string input = "Model and images", run = "Run and outputs", meth = "Methods";
        app.add_flag("--help,-h", help, "this text")->group(input);
        value("--model", "a built-in model (fashion, scenes; see --list-models), a weights file (.xaiw), an ONNX "
                         "file (.onnx), or TorchScript: model.pt or features.pt,head.pt (xai-explain-torch)",
              "MODEL", input);
        app.add_option("--image", text_list, "an image file, or a folder: every image file in it and its subfolders, "
                                             "in name order; may be given more than once")
            ->type_name("PATH")
            ->group(input);
        value("--labels", "class names, one per line (pictures, summary, --target NAME); the built-in models have "
                          "Fashion-MNIST's", "FILE", input);
        app.add_option("--resize", resize, "how a photo becomes the model's input: crop (default: the short side "
                                           "resized, the centre cropped, as torchvision's evaluation transform) or "
                                           "squash (the whole photo resized, its aspect lost)")
            ->type_name("crop|squash")
            ->group(input);
        value("--crop-fraction", "crop: the crop's share of the resized short side (default: " +
                                     xai::detail::message(prep.crop_fraction) + ", torchvision's 224/256)",
              "X", input);
        app.add_option("--size", size, "TorchScript (and ONNX without sizes): the input size (default: " + n(prep.height) +
                                            "x" + n(prep.width) + ")")
            ->type_name("N|HxW")
            ->group(input);
        value("--channels", "TorchScript: 1 (grey) or 3 (RGB) input (default: 3, or 1 when the model takes only that)",
              "1|3", input);
        app.add_option("--normalize", normalize, "TorchScript and ONNX: imagenet (torchvision's mean and std; the "
                                                 "default for RGB input) or none")
            ->type_name("imagenet|none")
            ->group(input);
        value("--allow-format", "decode these formats too, besides PNG, JPEG, BMP and PNM: gif, tga, psd, hdr, pic or all "
                                "(off by default: their stb decoders have public memory-safety reports)",
              "F[,F...]", input);
        value("--decoder", "PNG and JPEG decoder: " + detail::choice_names(detail::decoders, std::optional(xai::LoadOptions{}.decoder)) +
                               "; auto is " + (xai::has_system_decoders ? "libpng and libjpeg-turbo" : "stb") +
                               " in this build, system libpng and libjpeg-turbo (builds with them)",
              "auto|stb|system", input);
        value("--max-pixels", "refuse images of more than N pixels, from their header (default: " +
                                  n(xai::LoadOptions{}.max_pixels) + ")",
              "N", input);
        app.add_flag("--list-models", list_models, "the built-in models and where their weights are")->group(input);
        app.add_flag("--list-methods", list_methods, "the methods, their papers and what they need")->group(input);
        app.add_flag("--list-layers", list_layers, "the model's layers, their output shapes and the default --layer")
            ->group(input);

        app.add_option("--method", methods, "comma-separated methods, or all (default: gradcam):\n" + method_list +
                                                ", influence (training examples, needs --train; not part of all)")
            ->type_name("LIST")
            ->group(meth);
        value("--target", "top (the predicted class, default), a class index, a class name, or prob:C (the softmax "
                          "probability of class C as a target function: gradient CAMs, FullGrad, LIME, RISE and occlusion)", "T", meth);
        app.add_option("--layer", layers, "the layer the CAM family explains; several are fused (default: the input "
                                          "of global average pooling; see --list-layers)")
            ->type_name("L[,L...]")
            ->group(meth);
        value("--seed", "seed of the random methods: LIME's samples, RISE's masks, Sobol's scrambling, the noise of "
                         "smoothgrad and gradientshap, the coalitions of kernelshap and shapley_sampling, the NMF start of dff (default: " +
                             n(lime.seed) + ")", "N", meth);
        value("--threads", "threads per explainer, 0 = all cores (default: " + n(lime.threads) + ")", "N", meth);
        value("--lime-samples", "LIME: perturbed samples per image (default: " + n(lime.num_samples) + ", lime's; at most " +
                                    n(max_lime_samples) + ")", "N", meth);
        app.add_option("--lime-superpixels", superpixels,
                       "LIME: NAME[:KEY=VALUE,...] (default: quickshift, lime's): quickshift:ratio,kernel_size,"
                       "max_dist,sigma  slic:n_segments,compactness,sigma,max_iter  felzenszwalb:scale,sigma,min_size  "
                       "grid:n_segments,rows,cols")
            ->type_name("S")
            ->group(meth);
        value("--lime-stability", "LIME: explanations with different seeds for the stability report; 0 or 1: none "
                                  "(default: " + n(stability.repeats) + ")", "N", meth);
        value("--rise-masks", "RISE: masks per image (default: " + n(rise.num_masks) + ", the paper's; at most " +
                                  n(max_rise_masks) + ")", "N", meth);
        value("--rise-grid", "RISE: mask grid size s (default: " + n(rise.grid_size) + ")", "N", meth);
        value("--rise-tolerance", "RISE: stop when the mean relative standard error is at most X (default: " +
                                      (rise.tolerance == 0.0 ? std::string("off") : xai::detail::message(rise.tolerance)) + ")",
              "X", meth);
        value("--occlusion-window", "occlusion: window side in pixels (default: " + n(occlusion.window) + ")", "N", meth);
        value("--occlusion-stride", "occlusion: step between windows (default: " + n(occlusion.stride) + ")", "N", meth);
        value("--rise-sampling", "RISE: the masks, " + detail::choice_names(detail::rise_samplings, std::optional(rise.sampling)),
              "S", meth);
        value("--rise-control-variate", "RISE: " + detail::choice_names(detail::rise_control_variates,
                                                                         std::optional(rise.control_variate)), "C", meth);
        value("--sobol-grid", "Sobol: mask grid size g (default: " + n(sobol.grid_size) + ")", "N", meth);
        value("--sobol-designs", "Sobol: design points N, a power of two (default: " + n(sobol.designs) + ")", "N", meth);
        value("--sobol-perturbation", "Sobol: " + detail::choice_names(detail::sobol_perturbations, std::optional(sobol.perturbation)),
              "P", meth);
        app.add_flag("--lime-adaptive", lime_adaptive, "LIME: draw samples until the top-k superpixels are separated "
                                                       "(S-LIME's test), at most --lime-samples")
            ->group(meth);
        value("--lime-adaptive-top-k", "LIME --lime-adaptive: superpixels tested (default: " + n(lime.adaptive.top_k) + ")",
              "N", meth);
        value("--lime-adaptive-alpha", "LIME --lime-adaptive: the test's level, in (0, 0.5) (default: " +
                                           xai::detail::message(lime.adaptive.alpha) + ")", "X", meth);
        value("--occlusion-coarse-levels", "occlusion: coarse-to-fine levels, 0 = off (default: " +
                                               n(occlusion.coarse_levels) + ")", "N", meth);
        value("--occlusion-refine-threshold", "occlusion: refine windows whose coarse drop is above X times the largest "
                                              "(default: " + xai::detail::message(occlusion.refine_threshold) + ")", "X", meth);
        value("--score-cam-mass-tolerance", "Score-CAM: skip the channels outside the first (1 - X) of the activation "
                                           "mass, in [0, 1) (default: 0, every channel)", "X", meth);
        value("--score-cam-convention", "Score-CAM: the weights of " +
                                            detail::choice_names(detail::score_cam_conventions,
                                                                 std::optional(xai::ScoreCamOptions{}.convention)), "C", meth);
        value("--dff-components", "dff: concepts k, each a colour of <stem>_dff_concepts.png (default: " +
                                      n(xai::DffOptions{}.components) + ", pytorch-grad-cam's run_dff_on_image)", "K", meth);
        value("--dff-iterations", "dff: NMF iterations at most (default: " + n(xai::DffOptions{}.max_iterations) +
                                      ", scikit-learn's)", "N", meth);
        value("--dff-tolerance", "dff: stop the NMF when its objective falls by less than this fraction, in [0, 1) "
                                 "(default: " + xai::detail::message(xai::DffOptions{}.tolerance) + ", scikit-learn's)", "X", meth);
        value("--ig-steps", "ig: path points m (default: " + n(ig.steps) + ", Captum's)", "N", meth);
        value("--ig-rule", "ig: the integration rule, " + detail::choice_names(detail::integration_rules, std::optional(ig.rule)),
              "R", meth);
        value("--ig-baseline", "ig: the baseline x', black (default; 0 in the model's input space), mean, blur or a number",
              "B", meth);
        value("--ig-tolerance", "ig: double the steps until the completeness error is at most X of |F(x) - F(x')| "
                                "(default: off)", "X", meth);
        value("--noise-samples", "smoothgrad, smoothgrad_sq, vargrad: noisy copies per image (default: " + n(noise.samples) +
                                     ", the paper's)", "N", meth);
        value("--noise-level", "smoothgrad, smoothgrad_sq, vargrad: sigma as a fraction of the input's range (default: " +
                                   xai::detail::message(noise.noise_level) + ")", "X", meth);
        value("--gradientshap-samples", "gradientshap: samples per image (default: " + n(gradient_shap.samples) + ", Captum's)",
              "N", meth);
        value("--gradientshap-noise", "gradientshap: sigma of the noise added to the input (default: " +
                                          xai::detail::message(gradient_shap.noise) + ")", "X", meth);
        value("--kernelshap-samples", "kernelshap: coalitions per image (default: 2 x superpixels + 2048, shap's auto)", "N",
              meth);
        value("--shapley-permutations", "shapley_sampling: random orders per image (default: " + n(shapley.permutations) +
                                            ", Captum's)", "N", meth);
        app.add_flag("--eigen-smooth", eigen_smooth, "CAM methods: the first principal component of the weighted "
                                                     "activations (pytorch-grad-cam's eigen_smooth)")
            ->group(meth);
        app.add_flag("--aug-smooth", aug_smooth, "CAM methods: the mean map over flips and rescalings "
                                                 "(pytorch-grad-cam's aug_smooth)")
            ->group(meth);
        value("--train", "influence: the training set, fashion-mnist[:N], scenes[:N] or a folder with one subfolder of "
                         "images per class (named by class name or index)", "SPEC", meth);
        value("--damping", "influence: mu in (H + mu I)^-1 (default: " + xai::detail::message(xai::ExactSolver{}.damping) + ")",
              "X", meth);

        value("--out", "where the files go (default: out)", "DIR", run);
        app.add_option("--metrics", metrics, "score every map: deletion, insertion (AUC, Petsiuk et al.), drop, "
                                             "increase (Average Drop %, Increase in Confidence, Chattopadhay et al.) or all")
            ->type_name("LIST")
            ->group(run);
        app.add_option("--outputs", outputs, "the files written per image: png (the maps on the photo), npy (the raw maps), "
                                             "gallery, json (the record, what resuming reads), or all (the default)")
            ->type_name("LIST")
            ->group(run);
        app.add_flag("--report", report, "write <out>/report.html: one self-contained page with the gallery, the classes, "
                                         "the metrics and timings")
            ->group(run);
        value("--batch", "images per batch for the methods that take a batch in one pass (default: " + n(Arguments{}.batch) + ")",
              "N", run);
        app.add_flag("--keep-going", keep_going, "report an unreadable image and go on (the default when an --image "
                                                 "is a folder)")
            ->group(run);
        app.add_flag("--fail-fast", fail_fast, "stop at the first unreadable image (the default for files)")->group(run);
        app.add_flag("--overwrite", overwrite, "redo images whose outputs exist (default: a rerun skips them)")->group(run);
        app.add_flag("--boxes", boxes, "find each map's regions (threshold, connected components) and draw their boxes "
                                       "on the overlay; listed in the JSON, largest first")
            ->group(run);
        value("--box-rule", "--boxes: the threshold, " + detail::choice_names(detail::box_rules, std::optional(xai::ThresholdOptions{}.rule)) +
                                ": a fraction of the maximum, Otsu's, a factor of the mean, or a fixed value", "R", run);
        value("--box-threshold", "--boxes: fraction " + xai::detail::message(xai::ThresholdOptions{}.fraction) +
                                     ", mean's factor " + xai::detail::message(xai::ThresholdOptions{}.factor) +
                                     " or fixed value " + xai::detail::message(xai::ThresholdOptions{}.value) +
                                     " (the defaults) on the map scaled to [0, 1]", "X", run);
        app.add_option("--colormap", colormap, "jet, viridis or turbo (default: " +
                                                   std::string(xai::to_string(xai::OverlayOptions{}.colormap)) + ")")
            ->type_name("C")
            ->group(run);
        app.add_flag("--json", json, "print summary.json on stdout instead of the result lines")->group(run);
        app.add_flag("--quiet,-q", quiet, "no progress, no notes, no result lines (errors are still reported)")->group(run);
    }

    /// The value of option `name` as given, or nullptr when it was not.
    const std::string* given(const std::string& name) const {
        const auto it = text.find(name);
        return app.count(name) > 0 && it != text.end() ? &it->second : nullptr;
    }

    std::vector<std::string> text_list;
    bool keep_going = false, fail_fast = false, help = false, lime_adaptive = false, eigen_smooth = false,
         aug_smooth = false, boxes = false;
    bool list_models = false, list_methods = false, list_layers = false, report = false, overwrite = false, json = false,
         quiet = false;
};

/// The flags that set library options directly: image decoding, --boxes, and the options of
/// RISE, Sobol, LIME, occlusion, Score-CAM and the CAM family (Arguments::settings).
inline void parse_library_flags(const CommandLine& c, Arguments& a) {
    const auto given = [&](const std::string& name) { return c.given(name); };
    // Sets `field` to the choice named by `flag`, when given, and remembers the name.
    const auto choose = [&]<class T, std::size_t N>(const std::string& flag, T& field, const detail::Choices<T, N>& names) {
        if (const std::string* v = given(flag)) field = detail::parse_choice(flag, *v, names);
    };
    if (const std::string* v = given("--allow-format")) a.load.formats = detail::parse_formats(*v);
    choose("--decoder", a.load.decoder, detail::decoders);
    if (given("--decoder")) {
        try {
            xai::detail::require_valid_decoder(a.load.decoder, "--decoder system");
        } catch (const xai::invalid_argument& e) {
            throw Failure(ExitCode::usage, std::string(e.what()) + " (use --decoder auto or stb)");
        }
    }
    if (const std::string* v = given("--max-pixels")) a.load.max_pixels = detail::parse_unsigned("--max-pixels", *v, false);

    a.boxes = c.boxes;
    xai::ThresholdOptions& t = a.box_options.threshold;
    choose("--box-rule", t.rule, detail::box_rules);
    if (const std::string* v = given("--box-threshold")) {
        if (t.rule == xai::ThresholdRule::otsu) throw Failure(ExitCode::usage, "--box-threshold does not apply to --box-rule otsu");
        if (t.rule == xai::ThresholdRule::mean) t.factor = detail::parse_number("--box-threshold", *v);
        else (t.rule == xai::ThresholdRule::fixed ? t.value : t.fraction) = detail::parse_in_range("--box-threshold", *v, 0.0, 1.0, true);
    }
    if (!a.boxes && (given("--box-rule") || given("--box-threshold")))
        throw Failure(ExitCode::usage, "--box-rule and --box-threshold apply to --boxes only");

    xai::ExplainerSettings& s = a.settings;
    choose("--rise-sampling", s.rise.sampling, detail::rise_samplings);
    choose("--rise-control-variate", s.rise.control_variate, detail::rise_control_variates);
    if (const std::string* v = given("--sobol-grid")) s.sobol.grid_size = detail::parse_unsigned("--sobol-grid", *v, false);
    if (const std::string* v = given("--sobol-designs")) {
        s.sobol.designs = detail::parse_unsigned("--sobol-designs", *v, false);
        if ((s.sobol.designs & (s.sobol.designs - 1)) != 0)
            throw Failure(ExitCode::usage, "--sobol-designs '" + *v + "' is not a power of two");
    }
    choose("--sobol-perturbation", s.sobol.perturbation, detail::sobol_perturbations);
    s.lime.adaptive.enabled = c.lime_adaptive;
    if (const std::string* v = given("--lime-adaptive-top-k"))
        s.lime.adaptive.top_k = detail::parse_unsigned("--lime-adaptive-top-k", *v, false);
    if (const std::string* v = given("--lime-adaptive-alpha")) {
        s.lime.adaptive.alpha = detail::parse_in_range("--lime-adaptive-alpha", *v, 0.0, 0.5, false);
        if (s.lime.adaptive.alpha == 0.0) throw Failure(ExitCode::usage, "--lime-adaptive-alpha '" + *v + "' is not in (0, 0.5)");
    }
    if (!c.lime_adaptive && (given("--lime-adaptive-top-k") || given("--lime-adaptive-alpha")))
        throw Failure(ExitCode::usage, "--lime-adaptive-top-k and --lime-adaptive-alpha apply to --lime-adaptive only");
    if (const std::string* v = given("--occlusion-coarse-levels"))
        s.occlusion.coarse_levels = detail::parse_unsigned("--occlusion-coarse-levels", *v, true);
    if (const std::string* v = given("--occlusion-refine-threshold"))
        s.occlusion.refine_threshold = detail::parse_number("--occlusion-refine-threshold", *v);
    if (const std::string* v = given("--score-cam-mass-tolerance"))
        s.score_cam.mass_tolerance = detail::parse_in_range("--score-cam-mass-tolerance", *v, 0.0, 1.0, false);
    choose("--score-cam-convention", s.score_cam.convention, detail::score_cam_conventions);
    if (const std::string* v = given("--dff-components"))
        s.dff.components = detail::parse_bounded("--dff-components", *v, max_dff_components, "each is a concept of the picture");
    if (const std::string* v = given("--dff-iterations"))
        s.dff.max_iterations = detail::parse_bounded("--dff-iterations", *v, max_method_samples, "each is an NMF update");
    if (const std::string* v = given("--dff-tolerance"))
        s.dff.tolerance = detail::parse_in_range("--dff-tolerance", *v, 0.0, 1.0, false);
    const auto samples = [&](const std::string& flag, std::size_t& field) {
        if (const std::string* v = given(flag))
            field = detail::parse_bounded(flag, *v, max_method_samples, "each is a model pass per image");
    };
    samples("--ig-steps", s.integrated_gradients.steps);
    choose("--ig-rule", s.integrated_gradients.rule, detail::integration_rules);
    if (const std::string* v = given("--ig-baseline")) {
        s.integrated_gradients.baseline = detail::parse_ig_baseline("--ig-baseline", *v);
        a.ig_baseline = *v;
    }
    if (const std::string* v = given("--ig-tolerance"))
        s.integrated_gradients.tolerance = detail::parse_in_range("--ig-tolerance", *v, 0.0, 1.0, false);
    samples("--noise-samples", s.noise_tunnel.samples);
    if (const std::string* v = given("--noise-level")) s.noise_tunnel.noise_level = detail::parse_number("--noise-level", *v);
    samples("--gradientshap-samples", s.gradient_shap.samples);
    if (const std::string* v = given("--gradientshap-noise"))
        s.gradient_shap.noise = detail::parse_number("--gradientshap-noise", *v);
    samples("--kernelshap-samples", s.kernel_shap.num_samples);
    samples("--shapley-permutations", s.shapley_sampling.permutations);
    for (xai::CamOptions* cam : {&s.cam, &s.score_cam.cam, &s.ablation_cam.cam, &s.kpca_cam.cam, &s.random_cam.cam}) {
        cam->eigen_smooth = c.eigen_smooth;
        cam->aug_smooth = c.aug_smooth;
    }
}

inline std::string usage_text() {
    CommandLine c;
    return c.app.help();
}

/// Parses the arguments after the program name; Failure(usage or method) when they are wrong.
inline Arguments parse_arguments(const std::vector<std::string>& args) {
    for (const std::string& arg : args) {
        const std::string name = arg.substr(0, arg.find('='));
        const auto renamed = detail::renamed_options().find(name);
        if (renamed != detail::renamed_options().end())
            throw Failure(ExitCode::usage, name + " is now " + renamed->second + " (see --help)");
    }
    CommandLine c;
    std::vector<std::string> reversed(args.rbegin(), args.rend());  // CLI11 takes the arguments in reverse
    try {
        c.app.parse(reversed);
    } catch (const CLI::ParseError& e) {
        throw Failure(ExitCode::usage, std::string(e.what()) + " (see --help)");
    }
    Arguments a;
    a.help = c.help;
    a.list_models = c.list_models;
    a.list_methods = c.list_methods;
    a.list_layers = c.list_layers;
    a.json = c.json;
    a.quiet = c.quiet;
    a.report = c.report;
    a.overwrite = c.overwrite;
    if (c.keep_going && c.fail_fast) throw Failure(ExitCode::usage, "--keep-going and --fail-fast contradict each other");
    if (c.keep_going || c.fail_fast) a.keep_going = c.keep_going;
    a.images = c.text_list;
    const auto given = [&](const std::string& name) { return c.given(name); };
    for (const std::string name : {"--model", "--labels", "--out", "--train", "--target"})
        if (const std::string* v = given(name); v != nullptr && v->empty())
            throw Failure(ExitCode::usage, name + " needs a non-empty value");
    for (const std::string& image : a.images)
        if (image.empty()) throw Failure(ExitCode::usage, "--image needs a non-empty value");
    if (const std::string* v = given("--model")) a.model = *v;
    if (const std::string* v = given("--labels")) a.labels = *v;
    if (const std::string* v = given("--out")) a.out = *v;
    if (const std::string* v = given("--train")) a.train = *v;
    if (const std::string* v = given("--target")) a.target = *v;
    const auto unsigned_of = [&](const std::string& name, bool allow_zero) -> std::optional<std::size_t> {
        if (const std::string* v = given(name)) return detail::parse_unsigned(name, *v, allow_zero);
        return std::nullopt;
    };
    if (const std::string* v = given("--seed")) a.seed = detail::parse_unsigned("--seed", *v, true);
    a.threads = unsigned_of("--threads", true);
    if (const std::string* v = given("--lime-samples"))
        a.lime_samples = detail::parse_bounded("--lime-samples", *v, max_lime_samples,
                                               "each sample is one forward pass per image; lime's default is 1000");
    if (const std::string* v = given("--rise-masks"))
        a.rise_masks = detail::parse_bounded("--rise-masks", *v, max_rise_masks,
                                             "each mask is one forward pass per image; the RISE paper uses 4000");
    a.rise_grid = unsigned_of("--rise-grid", false);
    a.occlusion_window = unsigned_of("--occlusion-window", false);
    a.occlusion_stride = unsigned_of("--occlusion-stride", false);
    a.lime_stability = unsigned_of("--lime-stability", true);
    if (const std::string* v = given("--rise-tolerance")) a.rise_tolerance = detail::parse_number("--rise-tolerance", *v);
    if (const std::string* v = given("--damping")) a.damping = detail::parse_number("--damping", *v);
    if (const std::string* v = given("--crop-fraction")) {
        a.crop_fraction = detail::parse_number("--crop-fraction", *v);
        if (a.crop_fraction <= 0.0 || a.crop_fraction > 1.0)
            throw Failure(ExitCode::usage, "--crop-fraction '" + *v + "' is not in (0, 1]");
    }
    if (const std::optional<std::size_t> b = unsigned_of("--batch", false)) a.batch = *b;
    if (c.app.count("--method") > 0) {
        if (c.methods.empty()) throw Failure(ExitCode::usage, "--method needs a non-empty value");
        a.methods = detail::parse_methods(c.methods, a.all_methods);
    }
    if (c.app.count("--metrics") > 0) a.metrics = detail::parse_metrics(c.metrics);
    if (c.app.count("--outputs") > 0) a.outputs = detail::parse_outputs(c.outputs);
    if (c.app.count("--layer") > 0) {
        a.layers = detail::split(c.layers, ',');
        for (const std::string& l : a.layers)
            if (l.empty()) throw Failure(ExitCode::usage, "--layer '" + c.layers + "' has an empty layer name");
    }
    if (c.app.count("--lime-superpixels") > 0) {
        a.superpixels = c.superpixels;
        a.segmentation = detail::parse_superpixels(c.superpixels);
    }
    if (c.app.count("--colormap") > 0) {
        try {
            a.colormap = xai::colormap_from_string(c.colormap);
        } catch (const xai::invalid_argument&) {
            throw Failure(ExitCode::usage, "--colormap '" + c.colormap + "', expected jet, viridis or turbo");
        }
    }
    if (c.app.count("--resize") > 0) {
        if (c.resize != "crop" && c.resize != "squash")
            throw Failure(ExitCode::usage, "--resize '" + c.resize + "', expected crop or squash");
        a.fit = c.resize == "crop" ? xai::Fit::center_crop : xai::Fit::squash;
    }
    if (c.app.count("--size") > 0) {
        const std::vector<std::string> hw = detail::split(c.size, 'x');
        if (hw.size() > 2) throw Failure(ExitCode::usage, "--size '" + c.size + "', expected N or HxW");
        a.height = detail::parse_unsigned("--size", hw.front(), false);
        a.width = detail::parse_unsigned("--size", hw.back(), false);
    }
    if (const std::string* v = given("--channels")) {
        a.channels = detail::parse_unsigned("--channels", *v, false);
        if (*a.channels != 1 && *a.channels != 3) throw Failure(ExitCode::usage, "--channels '" + *v + "', expected 1 or 3");
    }
    if (c.app.count("--normalize") > 0) {
        if (c.normalize != "imagenet" && c.normalize != "none")
            throw Failure(ExitCode::usage, "--normalize '" + c.normalize + "', expected imagenet or none");
        a.imagenet_normalization = c.normalize == "imagenet";
    }
    parse_library_flags(c, a);
    return a;
}

}  // namespace xai_explain
