#pragma once
// xai-explain's command line: the options, their parsing and checking, the help text, and the
// exit codes (docs/cli.md). Every default shown or used is read from the library's options
// structs (LimeOptions, RiseOptions, OcclusionOptions, LimeStabilityOptions, OverlayOptions,
// Preprocessing), never restated.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "xai/runtime.hpp"
#include "xai/explain/influence/exact.hpp"
#include "xai/image/colormap.hpp"
#include "xai/image/overlay.hpp"
#include "xai/image/superpixels.hpp"
#include "xai/image/preprocess.hpp"

namespace xai_explain {

/// The process exit status, one per kind of failure (docs/cli.md lists them).
enum class ExitCode : int {
    ok = 0,
    failure = 1,  ///< an explanation failed (a model error) or an output could not be written
    usage = 2,    ///< an unknown option, a missing or bad option value
    model = 3,    ///< the model is missing, unreadable, or needs the LibTorch build
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

struct Arguments {
    std::string model;
    std::vector<std::string> images;  ///< --image, once or more
    std::vector<std::string> methods{"gradcam"};
    std::string target = "top";
    std::vector<std::string> layers;
    std::filesystem::path out = "out";
    std::filesystem::path classes;
    std::optional<std::uint64_t> seed;
    std::optional<std::size_t> samples, threads, window, stride, grid, stability;
    /// --superpixels as given, and the policy it describes (unset: the library's default).
    std::string superpixels;
    std::function<xai::Segmentation(const xai::Image&)> segmentation;
    std::optional<double> tolerance, damping;
    std::string train;  ///< --train, for the influence method
    xai::Colormap colormap = xai::OverlayOptions{}.colormap;
    // TorchScript models only (the LibTorch build)
    std::size_t height = xai::Preprocessing{}.height;
    std::size_t width = xai::Preprocessing{}.width;
    std::size_t channels = 3;
    bool imagenet_normalization = true;
    bool json = false, quiet = false, help = false, list_models = false, list_layers = false, list_methods = false;
};

inline std::string usage_text() {
    const xai::LimeOptions lime;
    const xai::RiseOptions rise;
    const xai::OcclusionOptions occlusion;
    const xai::LimeStabilityOptions stability = xai::ExplainerSettings{}.lime_stability;
    const xai::Preprocessing torch;
    const auto n = [](auto v) { return std::to_string(v); };
    std::string methods;
    for (const xai::MethodInfo& m : xai::explanation_methods) methods += (methods.empty() ? "" : ",") + std::string(m.name);
    return "usage: xai-explain --model MODEL --image FILE|DIR [--method LIST|all] [--target top|INDEX|NAME]\n"
           "                   [--layer NAME[,NAME...]] [--out DIR] [--seed N] [--samples N] [--threads N]\n"
           "                   [--json] [--quiet] [more options below]\n"
           "       xai-explain --list-models | --list-methods | --model MODEL --list-layers | --help\n"
           "\n"
           "Explains what an image classifier sees: for every image and method an overlay PNG and the raw\n"
           "map as .npy (float32), one gallery PNG per image, and summary.json, all in --out.\n"
           "\n"
           "  --model MODEL     a built-in model (fashion, scenes; see --list-models), a weights file (.xaiw),\n"
           "                    or TorchScript: model.pt or features.pt,head.pt (the LibTorch build only)\n"
           "  --image PATH      an image file, or a folder: every image file in it, in name order;\n"
           "                    may be given more than once\n"
           "  --method LIST     comma-separated methods, or all (default: gradcam):\n"
           "                    " + methods + "\n"
           "                    and influence (training examples, needs --train; not part of all)\n"
           "  --target T        top (the predicted class, default), a class index, or a class name\n"
           "  --layer L[,L...]  the layer the CAM family explains; several are fused (default: the input\n"
           "                    of global average pooling; see --list-layers). CAM always uses it.\n"
           "  --out DIR         where the files go (default: out)\n"
           "  --seed N          seed of LIME's samples and RISE's masks (default: " + n(lime.seed) + ")\n"
           "  --samples N       LIME samples (default: " + n(lime.num_samples) + ") and RISE masks (default: " +
           n(rise.num_masks) + ")\n"
           "  --threads N       threads per explainer, 0 = all cores (default: " + n(lime.threads) + ")\n"
           "  --json            print summary.json on stdout instead of the result lines\n"
           "  --quiet           no progress bar, no notes, no result lines (errors are still reported)\n"
           "\n"
           "  --stability N     LIME: explanations with different seeds for the stability report; 0 or 1:\n"
           "                    none (default: " + n(stability.repeats) + ")\n"
           "  --superpixels S  LIME's segmentation, NAME[:KEY=VALUE,...] (default: quickshift, lime's):\n"
           "                    quickshift:ratio,kernel_size,max_dist,sigma   slic:n_segments,compactness,sigma,max_iter\n"
           "                    felzenszwalb:scale,sigma,min_size             grid:n_segments,rows,cols\n"
           "                    e.g. quickshift:kernel_size=1 (lime's MNIST tutorial), slic:n_segments=40,compactness=0.1\n"
           "  --grid N          RISE: mask grid size s (default: " + n(rise.grid_size) + ")\n"
           "  --tolerance X     RISE: stop when the mean relative standard error is at most X (default: " +
           (rise.tolerance == 0.0 ? std::string("off") : std::to_string(rise.tolerance)) + ")\n"
           "  --window N        occlusion: window side in pixels (default: " + n(occlusion.window) + ")\n"
           "  --stride N        occlusion: step between windows (default: " + n(occlusion.stride) + ")\n"
           "  --train SPEC      influence: the training set, fashion-mnist[:N], scenes[:N] or a folder with\n"
           "                    one subfolder of images per class (named by class name or index)\n"
           "  --damping X       influence: mu in (H + mu I)^-1 (default: " + xai::detail::message(xai::ExactSolver{}.damping) + ")\n"
           "  --colormap C      jet, viridis or turbo (default: " + std::string(xai::to_string(xai::OverlayOptions{}.colormap)) + ")\n"
           "  --classes FILE    class names, one per line (default for the built-in models: Fashion-MNIST's)\n"
           "\n"
           "  TorchScript models (xai-explain built with LibTorch):\n"
           "  --size N|HxW      the model's input size (default: " + n(torch.height) + "x" + n(torch.width) + ")\n"
           "  --channels 1|3    grey or RGB input (default: 3)\n"
           "  --normalize M     imagenet (torchvision's mean and std, default) or none\n"
           "\n"
           "Exit status: 0 done, 1 an explanation or an output failed, 2 bad usage or option value,\n"
           "3 model missing or unreadable, 4 image missing or unreadable, 5 unknown or unsupported method,\n"
           "6 unknown layer.\n";
}

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

inline double parse_number(const std::string& flag, const std::string& value) {
    std::size_t used = 0;
    double x = 0.0;
    try {
        x = std::stod(value, &used);
    } catch (const std::exception&) {
        used = 0;
    }
    if (used == 0 || used != value.size() || !std::isfinite(x) || x < 0.0)
        throw Failure(ExitCode::usage, flag + " '" + value + "' is not a finite number >= 0");
    return x;
}

/// --superpixels NAME[:KEY=VALUE,...]: the algorithm's options struct with the given fields
/// changed (the others keep the library's defaults).
inline std::function<xai::Segmentation(const xai::Image&)> parse_superpixels(const std::string& spec) {
    const std::size_t colon = spec.find(':');
    const std::string name = spec.substr(0, colon);
    std::vector<std::pair<std::string, std::string>> settings;
    if (colon != std::string::npos)
        for (const std::string& item : split(spec.substr(colon + 1), ',')) {
            const std::size_t eq = item.find('=');
            if (eq == std::string::npos || eq == 0 || eq + 1 == item.size())
                throw Failure(ExitCode::usage, "--superpixels '" + spec + "': '" + item + "' is not KEY=VALUE");
            settings.emplace_back(item.substr(0, eq), item.substr(eq + 1));
        }
    // Sets the field called `key` among `fields` (name, pointer to a double or a size_t).
    const auto apply = [&](auto& options, const auto&... fields) {
        for (const auto& [key, value] : settings) {
            bool found = false;
            const auto assign = [&](const auto& field) {
                if (field.first != key) return;
                found = true;
                using Type = std::remove_reference_t<decltype(options.*(field.second))>;
                const std::string flag = "--superpixels " + name + ":" + key;
                if constexpr (std::is_same_v<Type, double>) options.*(field.second) = parse_number(flag, value);
                else options.*(field.second) = static_cast<Type>(parse_unsigned(flag, value, true));
            };
            (assign(fields), ...);
            if (!found) throw Failure(ExitCode::usage, "--superpixels '" + spec + "': " + name + " has no parameter '" + key + "'");
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
    throw Failure(ExitCode::usage, "--superpixels '" + spec + "', expected quickshift, slic, felzenszwalb or grid");
}

/// "gradcam,lime" or "all" → the method names, in the order given, without repeats.
inline std::vector<std::string> parse_methods(const std::string& value) {
    std::vector<std::string> methods;
    const auto add = [&](std::string_view name) {
        if (std::find(methods.begin(), methods.end(), name) == methods.end()) methods.emplace_back(name);
    };
    for (const std::string& part : split(value, ',')) {
        if (part == "all") {
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

}  // namespace detail

/// Parses the arguments after the program name; Failure(usage or method) when they are wrong.
inline Arguments parse_arguments(const std::vector<std::string>& args) {
    Arguments a;
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string& flag = args[i];
        if (flag == "--help" || flag == "-h") a.help = true;
        else if (flag == "--json") a.json = true;
        else if (flag == "--quiet" || flag == "-q") a.quiet = true;
        else if (flag == "--list-models") a.list_models = true;
        else if (flag == "--list-layers") a.list_layers = true;
        else if (flag == "--list-methods") a.list_methods = true;
        else {
            const bool known = flag == "--model" || flag == "--image" || flag == "--method" || flag == "--target" ||
                               flag == "--layer" || flag == "--out" || flag == "--classes" || flag == "--seed" ||
                               flag == "--samples" || flag == "--threads" || flag == "--window" || flag == "--stride" ||
                               flag == "--grid" || flag == "--stability" || flag == "--superpixels" || flag == "--train" ||
                               flag == "--damping" || flag == "--tolerance" ||
                               flag == "--colormap" || flag == "--size" || flag == "--channels" || flag == "--normalize";
            if (!known) throw Failure(ExitCode::usage, "unknown option '" + flag + "' (see --help)");
            if (i + 1 >= args.size()) throw Failure(ExitCode::usage, flag + " needs a value (see --help)");
            const std::string& value = args[++i];
            if (value.empty()) throw Failure(ExitCode::usage, flag + " needs a non-empty value");
            if (flag == "--model") a.model = value;
            else if (flag == "--image") a.images.push_back(value);
            else if (flag == "--method") a.methods = detail::parse_methods(value);
            else if (flag == "--target") a.target = value;
            else if (flag == "--layer") {
                a.layers = detail::split(value, ',');
                for (const std::string& l : a.layers)
                    if (l.empty()) throw Failure(ExitCode::usage, "--layer '" + value + "' has an empty layer name");
            } else if (flag == "--out") a.out = value;
            else if (flag == "--classes") a.classes = value;
            else if (flag == "--seed") a.seed = detail::parse_unsigned(flag, value, true);
            else if (flag == "--samples") a.samples = detail::parse_unsigned(flag, value, false);
            else if (flag == "--threads") a.threads = detail::parse_unsigned(flag, value, true);
            else if (flag == "--window") a.window = detail::parse_unsigned(flag, value, false);
            else if (flag == "--stride") a.stride = detail::parse_unsigned(flag, value, false);
            else if (flag == "--grid") a.grid = detail::parse_unsigned(flag, value, false);
            else if (flag == "--stability") a.stability = detail::parse_unsigned(flag, value, true);
            else if (flag == "--superpixels") {
                a.superpixels = value;
                a.segmentation = detail::parse_superpixels(value);
            } else if (flag == "--tolerance") a.tolerance = detail::parse_number(flag, value);
            else if (flag == "--damping") a.damping = detail::parse_number(flag, value);
            else if (flag == "--train") a.train = value;
            else if (flag == "--colormap") {
                try {
                    a.colormap = xai::colormap_from_string(value);
                } catch (const xai::invalid_argument&) {
                    throw Failure(ExitCode::usage, "--colormap '" + value + "', expected jet, viridis or turbo");
                }
            } else if (flag == "--size") {
                const std::vector<std::string> hw = detail::split(value, 'x');
                if (hw.size() > 2) throw Failure(ExitCode::usage, "--size '" + value + "', expected N or HxW");
                a.height = detail::parse_unsigned(flag, hw.front(), false);
                a.width = detail::parse_unsigned(flag, hw.back(), false);
            } else if (flag == "--channels") {
                a.channels = detail::parse_unsigned(flag, value, false);
                if (a.channels != 1 && a.channels != 3) throw Failure(ExitCode::usage, "--channels '" + value + "', expected 1 or 3");
            } else {  // --normalize
                if (value != "imagenet" && value != "none")
                    throw Failure(ExitCode::usage, "--normalize '" + value + "', expected imagenet or none");
                a.imagenet_normalization = value == "imagenet";
            }
        }
    }
    return a;
}

}  // namespace xai_explain
