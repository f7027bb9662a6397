// Lists the layers of any TorchScript classifier, as users export them (torch.jit.script or
// torch.jit.trace, one file whose forward returns the logits), and checks the chosen ones: their
// activations' shape, the gradient of the predicted class at them, and whether the network can
// be re-run from them (forward_from, what Ablation-CAM needs). The model side of a CLI's
// --list-layers (docs/torch.md).
//
//   torch_layers MODEL.pt [--shape C H W] [LAYER...]
//
// Without --shape the model is loaded for 3×224×224 images. The input is a fixed pattern
// (x = sin(0.37 i) over the flat index), so the output is reproducible.
#include "xai/core/eigen.hpp"  // first: silences GCC 12's false AVX-512 warnings (also reached through LibTorch)

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <xtensor/xsort.hpp>
#include <xtensor/xview.hpp>

#include "xai/core/scores.hpp"
#include "xai/torch.hpp"

namespace {

std::string shape_of(const std::vector<std::size_t>& s) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (i > 0) out += 'x';
        out += std::to_string(s[i]);
    }
    return out;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: %s MODEL.pt [--shape C H W] [LAYER...]\n", argv[0]);
        return 2;
    }
    xai::models::TorchOptions options;
    std::vector<std::string> layers;
    for (int i = 2; i < argc; ++i) {
        if (std::string(argv[i]) == "--shape" && i + 3 < argc) {
            options.input_shape = {std::strtoul(argv[i + 1], nullptr, 10), std::strtoul(argv[i + 2], nullptr, 10),
                                   std::strtoul(argv[i + 3], nullptr, 10)};
            i += 3;
        } else {
            layers.emplace_back(argv[i]);
        }
    }
    try {
        const auto model = xai::models::TorchModel::load(argv[1], options);
        const xai::ImageShape in = model.input_shape();
        std::printf("%s: %s, input %s, %zu classes, CAM feature layer '%s'\n", argv[1], model.form().c_str(),
                    xai::to_string(in).c_str(), model.num_classes(), model.feature_layer().c_str());
        std::printf("%zu layers:\n", model.layer_names().size());
        for (const std::string& name : model.layer_names())
            std::printf("  %-40s %s\n", name.c_str(), shape_of(model.layer_shape(name)).c_str());

        xai::Batch x = xai::Batch::from_shape({1, in.channels, in.height, in.width});
        for (std::size_t i = 0; i < x.size(); ++i) x.data()[i] = static_cast<float>(std::sin(0.37 * static_cast<double>(i)));
        const xai::ScoreSeed predicted = [](const xai::Scores& logits) {
            const std::vector<std::size_t> t{static_cast<std::size_t>(xt::argmax(xt::view(logits, 0))())};
            return xai::target_score_gradient(logits, t, xai::ScoreKind::logit);
        };
        for (const std::string& layer : layers) {
            const xai::LayerGradients g = model.layer_gradients(x, layer, predicted);
            double norm = 0.0;
            for (float v : g.gradients) norm += double(v) * double(v);
            std::printf("%s: activations %s, |d logit / d activations| = %.6g, ", layer.c_str(),
                        shape_of({g.activations.shape().begin(), g.activations.shape().end()}).c_str(), std::sqrt(norm));
            try {
                const xai::Scores again = model.forward_from(layer, g.activations);
                std::printf("forward_from reproduces the logits to %.2g\n",
                            double(xt::amax(xt::abs(again - g.scores))()));
            } catch (const xai::model_error& e) {
                std::printf("no forward_from:\n    %s\n", e.what());
            }
        }
    } catch (const xai::error& e) {
        std::fprintf(stderr, "%s\n", e.what());
        return 1;
    }
    return 0;
}
