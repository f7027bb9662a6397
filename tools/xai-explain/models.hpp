#pragma once
// xai-explain's models: what the run knows about the model (ModelInfo: its source, class names,
// input pipeline), the built-in models and weights files (the adapters for TorchScript and ONNX
// are torch_model.hpp and onnx_model.hpp), --list-models and --list-layers.

#include <algorithm>
#include <cstddef>
#include <filesystem>
#include <fstream>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "arguments.hpp"
#include "xai/data/fashion_mnist.hpp"
#include "xai/image/preprocess.hpp"
#include "xai/models/builtin.hpp"
#include "xai/models/sequential.hpp"
#include "xai/runtime.hpp"

namespace xai_explain {

/// What the run, its pictures and its summary know about the model.
struct ModelInfo {
    std::string source;  ///< --model as given
    std::string kind;    ///< "built-in", "weights file", "TorchScript", "TorchScript pair" or "ONNX"
    /// Class names (--labels, or the built-in models' Fashion-MNIST names); empty when unknown:
    /// pictures then say "class k" and the summary gives indices only.
    std::vector<std::string> labels;
    /// How photos become the model's input: size, fit, and (when `normalize`) mean and std.
    xai::Preprocessing preprocessing;
    bool normalize = false;  ///< the model takes (x − mean) / std; otherwise pixels in [0, 1]
    /// The CAM family's layer when the model names no feature layer (ONNX), found by the tool.
    std::string fallback_layer;
    std::vector<std::string> notes;  ///< about the model, once on stderr and in the summary
};

/// Class k's name for pictures and messages.
inline std::string class_name(const ModelInfo& info, std::size_t k) {
    return k < info.labels.size() ? info.labels[k] : "class " + std::to_string(k);
}

/// A TorchScript model: a .pt file, or two files separated by a comma (features, head).
inline bool is_torchscript(const std::string& model) {
    const auto ends_with = [&](std::string_view suffix) {
        return model.size() >= suffix.size() && model.compare(model.size() - suffix.size(), suffix.size(), suffix) == 0;
    };
    return model.find(',') != std::string::npos || ends_with(".pt") || ends_with(".pth");
}

/// An ONNX model file.
inline bool is_onnx(const std::string& model) {
    return model.size() >= 5 && model.compare(model.size() - 5, 5, ".onnx") == 0;
}

/// --labels (one name per line), else the built-in models' Fashion-MNIST names, else none.
inline std::vector<std::string> labels_for(const Arguments& a, std::size_t classes, bool fashion) {
    std::vector<std::string> names;
    if (!a.labels.empty()) {
        std::ifstream in(a.labels);
        if (!in) throw Failure(ExitCode::usage, "--labels '" + a.labels.string() + "' cannot be read");
        for (std::string line; std::getline(in, line);) {
            if (!line.empty() && line.back() == '\r') line.pop_back();
            if (!line.empty()) names.push_back(line);
        }
        if (names.size() != classes)
            throw Failure(ExitCode::usage, "--labels '" + a.labels.string() + "' has " + std::to_string(names.size()) +
                                               " names, the model has " + std::to_string(classes) + " classes");
        return names;
    }
    if (fashion && classes == xai::fashion_mnist_classes.size())
        for (std::string_view name : xai::fashion_mnist_classes) names.emplace_back(name);
    return names;
}

/// The input pipeline for a model of input `shape`: --resize and --crop-fraction, and ImageNet's
/// mean and std when `normalize`.
inline xai::Preprocessing preprocessing_for(const Arguments& a, const xai::ImageShape& shape, bool normalize) {
    xai::Preprocessing p;
    p.height = shape.height;
    p.width = shape.width;
    p.fit = a.fit;
    p.crop_fraction = a.crop_fraction;
    if (!normalize) p.mean = {0.0f}, p.std = {1.0f};
    return p;
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
    if (a.channels || a.height || a.imagenet_normalization)
        throw Failure(ExitCode::usage, "--size, --channels and --normalize are for TorchScript and ONNX models; '" + a.model +
                                           "' records its input (" + xai::to_string(model.input_shape()) + ", pixels in [0, 1])");
    info.source = a.model;
    info.kind = is_builtin ? "built-in" : "weights file";
    info.labels = labels_for(a, model.num_classes(), is_builtin);
    info.preprocessing = preprocessing_for(a, model.input_shape(), false);
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

/// The extents of `layer`'s output after the batch axis: what the model knows without a pass
/// (the built-in CNN, TorchModel), else from one forward pass of a zero image (ONNX).
template <xai::LayerActivationModel Model>
std::vector<std::size_t> layer_extents(const Model& model, const std::string& name) {
    if constexpr (requires { model.layer(name).output; }) {
        const auto& s = model.layer(name).output;
        if (!s.spatial) return {s.channels};  // a vector (linear layers)
        return {s.channels, s.height, s.width};
    } else if constexpr (requires { model.layer_shape(name); }) {
        return model.layer_shape(name);
    } else {
        const xai::ImageShape in = model.input_shape();
        const xai::Batch zero = xt::zeros<float>({std::size_t{1}, in.channels, in.height, in.width});
        const xai::LayerOutput o = model.layer_activations(zero, name);
        return std::vector<std::size_t>(o.activations.shape().begin() + 1, o.activations.shape().end());
    }
}

/// "32x28x28": extents for people.
inline std::string extents_text(const std::vector<std::size_t>& extents) {
    std::string out;
    for (std::size_t e : extents) {
        if (!out.empty()) out += 'x';
        out += std::to_string(e);
    }
    return out;
}

/// For a model that names no feature layer (an ONNX file): the last layer whose output is
/// C×h×w with h·w > 1, the usual choice of the CAM family (the last convolutional block, before
/// global pooling). Empty when there is none.
template <xai::LayerActivationModel Model>
std::string last_spatial_layer(const Model& model) {
    const std::vector<std::string> names = model.layer_names();
    for (auto it = names.rbegin(); it != names.rend(); ++it) {
        const std::vector<std::size_t> e = layer_extents(model, *it);
        if (e.size() == 3 && e[1] * e[2] > 1) return *it;
    }
    return {};
}

/// The layer the CAM family explains by default: xai::default_layer, else the tool's fallback.
template <xai::LayerActivationModel Model>
std::optional<std::string> default_layer_of(const Model& model, const ModelInfo& info) {
    try {
        return xai::default_layer(model);
    } catch (const xai::error&) {
        if (!info.fallback_layer.empty()) return info.fallback_layer;
        return std::nullopt;
    }
}

/// One line per layer for --list-layers: the name, its output's shape (and kind for the built-in
/// CNN), and which one the CAM family explains by default.
template <xai::Classifier Model>
void list_layers(const Model& model, const ModelInfo& info, std::ostream& out) {
    if constexpr (xai::LayerActivationModel<Model>) {
        const std::string fallback = default_layer_of(model, info).value_or("");
        std::size_t width = 10;
        for (const std::string& name : model.layer_names()) width = std::max(width, name.size() + 1);
        for (const std::string& name : model.layer_names()) {
            out << name << std::string(width - name.size(), ' ');
            if constexpr (requires { model.layer(name).spec.kind; })
                out << xai::models::to_string(model.layer(name).spec.kind) << " -> ";
            out << extents_text(layer_extents(model, name));
            if (name == fallback) out << "   (default --layer)";
            out << "\n";
        }
    } else {
        out << "(this model names no layers: only lime, rise and occlusion apply)\n";
    }
}

}  // namespace xai_explain
