#pragma once
// xai-explain-torch's TorchScript models (the LibTorch build of xai-explain, docs/cli.md):
//
//   --model model.pt              forward(x) returns (logits, activations of the layer)
//   --model features.pt,head.pt   features(x) = activations of the layer, head(a) = logits
//
// (the two forms of TorchModel, docs/torch.md). The model takes --channels × --size input
// standardized with ImageNet's mean and standard deviation (torchvision's classifiers) unless
// --normalize none. The standardization is placed inside the model (StandardizedInput), so
// every explainer sees, perturbs and segments the image in [0, 1] exactly as it shows it: LIME's
// superpixels and hidden colours, RISE's and occlusion's zero baseline and Score-CAM's masks all
// act on the picture, as in the reference implementations, whose classifier functions
// preprocess inside.

#include "xai/torch.hpp"  // first: LibTorch, with GCC 12's false AVX-512 warnings silenced

#include <cstddef>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "arguments.hpp"
#include "explain.hpp"
#include "xai/image/preprocess.hpp"

namespace xai_explain {

/// `model` with x' = (x − mean_c) / std_c applied to its input first. Forwards the model
/// concepts the model has; activations given to forward_from are past the standardization.
template <xai::Classifier Model>
class StandardizedInput {
public:
    StandardizedInput(const Model& model, std::vector<float> mean, std::vector<float> std)
        : model_(&model), mean_(std::move(mean)), std_(std::move(std)) {}
    StandardizedInput(const Model&&, std::vector<float>, std::vector<float>) = delete;

    xai::ImageShape input_shape() const { return model_->input_shape(); }
    std::size_t num_classes() const { return model_->num_classes(); }
    xai::Scores forward(const xai::Batch& batch) const { return model_->forward(standardize(batch)); }

    xai::FeatureOutput forward_features(const xai::Batch& batch) const
        requires xai::FeatureModel<Model>
    {
        return model_->forward_features(standardize(batch));
    }
    xt::xtensor<float, 2> classifier_weights() const
        requires xai::FeatureModel<Model>
    {
        return model_->classifier_weights();
    }

    std::vector<std::string> layer_names() const
        requires xai::LayerActivationModel<Model>
    {
        return model_->layer_names();
    }
    std::string feature_layer() const
        requires requires(const Model& m) { m.feature_layer(); }
    {
        return model_->feature_layer();
    }
    std::vector<std::size_t> layer_shape(const std::string& layer) const
        requires requires(const Model& m, const std::string& l) { m.layer_shape(l); }
    {
        return model_->layer_shape(layer);
    }
    xai::LayerOutput layer_activations(const xai::Batch& batch, const std::string& layer) const
        requires xai::LayerActivationModel<Model>
    {
        return model_->layer_activations(standardize(batch), layer);
    }
    xai::LayerGradients layer_gradients(const xai::Batch& batch, const std::string& layer, const xai::ScoreSeed& seed) const
        requires xai::LayerGradientModel<Model>
    {
        return model_->layer_gradients(standardize(batch), layer, seed);
    }
    xai::Scores forward_from(const std::string& layer, const xai::Activations& activations) const
        requires xai::LayerForwardModel<Model>
    {
        return model_->forward_from(layer, activations);
    }

private:
    /// A batch of the model's channel count, standardized; anything else is passed on as it
    /// is, for the model to refuse with its own message.
    xai::Batch standardize(const xai::Batch& batch) const {
        const std::size_t channels = model_->input_shape().channels;
        if (batch.dimension() != 4 || batch.shape(1) != channels) return batch;
        xai::Batch out = xai::Batch::from_shape(batch.shape());
        const std::size_t plane = batch.shape(2) * batch.shape(3);
        for (std::size_t i = 0; i < batch.shape(0); ++i)
            for (std::size_t c = 0; c < channels; ++c) {
                const float mean = mean_.size() == 1 ? mean_[0] : mean_[c];
                const float inverse = 1.0f / (std_.size() == 1 ? std_[0] : std_[c]);
                const float* src = batch.data() + (i * channels + c) * plane;
                float* dst = out.data() + (i * channels + c) * plane;
                for (std::size_t p = 0; p < plane; ++p) dst[p] = (src[p] - mean) * inverse;
            }
        return out;
    }

    const Model* model_;
    std::vector<float> mean_, std_;
};

/// xai-explain on a TorchScript model (see the header); Failure(model) when it cannot be loaded.
inline int explain_with_torch(const Arguments& a, Console& console) {
    const std::vector<std::string> files = detail::split(a.model, ',');
    if (files.size() > 2)
        throw Failure(ExitCode::model, "--model '" + a.model + "': expected model.pt or features.pt,head.pt");
    for (const std::string& file : files)
        if (!std::filesystem::exists(file)) throw Failure(ExitCode::model, "TorchScript file '" + file + "' does not exist");
    xai::models::TorchOptions options;
    options.input_shape = {a.channels, a.height, a.width};
    options.threads = 1;  // the explainers run model calls on their own threads (torch.hpp: not both)
    const xai::models::TorchModel model = [&] {
        try {
            return files.size() == 2 ? xai::models::TorchModel::load_torchscript_pair(files[0], files[1], options)
                                     : xai::models::TorchModel::load_torchscript(files[0], options);
        } catch (const xai::error& e) {
            throw Failure(ExitCode::model, "cannot load model '" + a.model + "': " + e.what());
        }
    }();
    const xai::Preprocessing imagenet;
    const StandardizedInput<xai::models::TorchModel> standardized(
        model, a.imagenet_normalization ? imagenet.mean : std::vector<float>{0.0f},
        a.imagenet_normalization ? imagenet.std : std::vector<float>{1.0f});
    if (a.imagenet_normalization && a.channels != imagenet.mean.size())
        throw Failure(ExitCode::usage, "--normalize imagenet needs --channels 3 (or use --normalize none)");
    ModelInfo info;
    info.source = a.model;
    info.kind = files.size() == 2 ? "TorchScript pair" : "TorchScript";
    info.class_names = class_names_for(a, model.num_classes(), false);
    return explain_images(standardized, info, a, console);
}

}  // namespace xai_explain
