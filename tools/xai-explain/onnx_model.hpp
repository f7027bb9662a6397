#pragma once
// xai-explain's ONNX models (a build with XAI_WITH_ONNX: OpenCV's DNN module, docs/onnx.md):
//
//   --model model.onnx   any classifier OpenCV 4.6 can import, with one input (N×C×H×W) and one
//                        output (N×K): xai::models::OnnxModel
//
// OpenCV runs inference only: the black-box methods (LIME, RISE, occlusion, the metrics) and the
// CAMs that need activations alone (Score-CAM, Eigen-CAM) apply; the gradient methods are refused
// with the reason (explain.hpp). The file records its input shape (--size and --channels are
// needed only when its spatial sizes are symbolic) but not its normalization: --normalize
// (default imagenet for RGB input, none for grey), applied before the model as for TorchScript
// (torch_model.hpp). An ONNX file names no feature layer: the CAM family explains the last node
// whose output is C×h×w with h·w > 1 unless --layer says otherwise.

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>

#include "arguments.hpp"
#include "images.hpp"
#include "models.hpp"
#include "records.hpp"
#include "xai/onnx.hpp"

namespace xai_explain {

/// --model for an .onnx file (see the header); Failure(model) when it cannot be loaded or takes
/// another input than --size and --channels say.
inline xai::models::OnnxModel load_onnx_model(const Arguments& a, ModelInfo& info) {
    if (!std::filesystem::exists(a.model)) throw Failure(ExitCode::model, "ONNX file '" + a.model + "' does not exist");
    xai::models::OnnxOptions options;
    std::optional<xai::models::OnnxModel> model;
    try {
        model.emplace(xai::models::OnnxModel::load(a.model, options));
    } catch (const xai::shape_error& e) {
        if (!a.height)
            throw Failure(ExitCode::model, "cannot load model '" + a.model + "': " + first_line(e.what()) +
                                               " (here: --size HxW and --channels)");
        options.input_shape = {a.channels.value_or(3), *a.height, *a.width};
        try {
            model.emplace(xai::models::OnnxModel::load(a.model, options));
        } catch (const xai::error& again) {
            throw Failure(ExitCode::model, "cannot load model '" + a.model + "': " + first_line(again.what()));
        }
    } catch (const xai::error& e) {
        throw Failure(ExitCode::model, "cannot load model '" + a.model + "': " + first_line(e.what()));
    }
    const xai::ImageShape shape = model->input_shape();
    if (a.channels && *a.channels != shape.channels)
        throw Failure(ExitCode::model, "'" + a.model + "' takes " + channel_words(shape.channels) + " input, not " +
                                           channel_words(*a.channels) + " (--channels " + std::to_string(*a.channels) +
                                           "): pass --channels " + std::to_string(shape.channels) + " or leave it out");
    if (a.height && (*a.height != shape.height || *a.width != shape.width))
        throw Failure(ExitCode::model, "'" + a.model + "' takes " + std::to_string(shape.height) + "x" +
                                           std::to_string(shape.width) + " input, not --size " + std::to_string(*a.height) +
                                           "x" + std::to_string(*a.width));
    if (a.imagenet_normalization.value_or(false) && shape.channels != 3)
        throw Failure(ExitCode::usage, "--normalize imagenet needs RGB input (the model takes " +
                                           channel_words(shape.channels) + "): use --normalize none");
    info.source = a.model;
    info.kind = "ONNX";
    info.normalize = a.imagenet_normalization.value_or(shape.channels == 3);
    info.labels = labels_for(a, model->num_classes(), false);
    info.preprocessing = preprocessing_for(a, shape, info.normalize);
    if (a.layers.empty()) info.fallback_layer = last_spatial_layer(*model);
    return std::move(*model);
}

}  // namespace xai_explain
