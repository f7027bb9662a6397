// Uses xai::torch as a downstream project would, without calling find_package(Torch) itself:
// a small LibTorch ResNet behind TorchModel, one forward pass and one layer gradient.
#include <cstdio>
#include <vector>

#include <xai/torch.hpp>

int main() {
    xai::models::TorchResNetShape shape;
    shape.widths = {4, 8};
    shape.blocks = {1, 1};
    shape.num_classes = 3;
    shape.imagenet_stem = false;
    xai::models::TorchOptions options;
    options.input_shape = {3, 8, 8};
    const xai::models::TorchModel model(xai::models::torch_resnet(shape, 1), options);
    const xai::Batch batch = xt::ones<float>({1, 3, 8, 8});
    const std::vector<std::size_t> targets{0};
    const xai::LayerGradients g = model.layer_gradients(batch, "layer2", [&](const xai::Scores& logits) {
        return xai::target_score_gradient(logits, targets, xai::ScoreKind::logit);
    });
    if (model.num_classes() != 3 || g.gradients.shape(1) != 8) {
        std::fputs("consumer_torch: unexpected shapes\n", stderr);
        return 1;
    }
    std::puts("consumer_torch: OK");
    return 0;
}
