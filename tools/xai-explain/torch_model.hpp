#pragma once
// xai-explain-torch's TorchScript models (the LibTorch build of xai-explain, docs/cli.md):
//
//   --model model.pt              any scripted or traced classifier, as users export it
//                                 (torch.jit.script(model).save, torch.jit.trace(...).save):
//                                 every submodule is a layer (TorchModel::load, docs/torch.md);
//                                 also the older form whose forward returns (logits, activations)
//   --model features.pt,head.pt   features(x) = activations of the layer, head(a) = logits
//
// A TorchScript file records neither its input size nor its normalization: --size (default
// 224x224), --channels (default 3; a model that takes only grey input is found by trying 1 when 3
// fails, with a note) and --normalize (default imagenet for RGB input: torchvision's mean and
// standard deviation; none for grey). The images are normalized before the model sees them
// (xai::Preprocessing, images.hpp), so the explainers work in the normalized space the reference
// implementations use: RISE, occlusion, Score-CAM and the metrics hide pixels with 0 there (the
// mean colour), as pytorch-grad-cam, RISE's and Captum's code do on their normalized tensors;
// LIME's superpixels are found on the picture itself (explain.hpp). Maps are drawn on the photo.

#include "xai/torch.hpp"  // first: LibTorch, with GCC 12's false AVX-512 warnings silenced

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "arguments.hpp"
#include "images.hpp"
#include "models.hpp"
#include "records.hpp"
#include "xai/image/preprocess.hpp"

namespace xai_explain {

/// --model for xai-explain-torch (see the header); Failure(model) when it cannot be loaded, and
/// when it takes another channel count than --channels, in one line naming --channels.
inline xai::models::TorchModel load_torch_model(const Arguments& a, ModelInfo& info) {
    const std::vector<std::string> files = detail::split(a.model, ',');
    if (files.size() > 2)
        throw Failure(ExitCode::model, "--model '" + a.model + "': expected model.pt or features.pt,head.pt");
    for (const std::string& file : files)
        if (!std::filesystem::exists(file)) throw Failure(ExitCode::model, "TorchScript file '" + file + "' does not exist");
    const xai::Preprocessing defaults;
    const std::size_t height = a.height.value_or(defaults.height), width = a.width.value_or(defaults.width);
    const auto load = [&](std::size_t channels) {
        xai::models::TorchOptions options;
        options.input_shape = {channels, height, width};
        options.threads = 1;  // the explainers run model calls on their own threads (docs/torch.md: not both)
        return files.size() == 2 ? xai::models::TorchModel::load_torchscript_pair(files[0], files[1], options)
                                 : xai::models::TorchModel::load(files[0], options);
    };
    const std::size_t asked = a.channels.value_or(3), other = asked == 3 ? 1 : 3;
    std::optional<xai::models::TorchModel> model;
    try {
        model.emplace(load(asked));
    } catch (const xai::error& e) {
        try {
            model.emplace(load(other));
        } catch (const xai::error&) {
            throw Failure(ExitCode::model, "cannot load model '" + a.model + "': " + first_line(e.what()) +
                                               (a.height ? "" : " (a TorchScript file does not record its input size; " +
                                                                    std::to_string(height) + "x" + std::to_string(width) +
                                                                    " was tried: give it with --size HxW)"));
        }
        if (a.channels)
            throw Failure(ExitCode::model, "'" + a.model + "' takes " + channel_words(other) + " input, not " +
                                               channel_words(asked) + " (--channels " + std::to_string(asked) +
                                               "): pass --channels " + std::to_string(other));
        info.notes.push_back("the model takes " + channel_words(other) + " input (" + channel_words(asked) +
                             " was tried first; --channels " + std::to_string(other) + " says so)");
    }
    const std::size_t channels = model->input_shape().channels;
    if (a.imagenet_normalization.value_or(false) && channels != 3)
        throw Failure(ExitCode::usage, "--normalize imagenet needs RGB input (the model takes " + channel_words(channels) +
                                           "): use --normalize none");
    info.source = a.model;
    info.kind = files.size() == 2 ? "TorchScript pair" : "TorchScript";
    info.normalize = a.imagenet_normalization.value_or(channels == 3);
    info.labels = labels_for(a, model->num_classes(), false);
    info.preprocessing = preprocessing_for(a, model->input_shape(), info.normalize);
    return std::move(*model);
}

}  // namespace xai_explain
