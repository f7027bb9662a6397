#pragma once
// ResNets with basic blocks (He, Zhang, Ren & Sun, "Deep Residual Learning for Image
// Recognition", CVPR 2016) as a torch::nn::Sequential that TorchModel runs child by child, with
// torchvision's layout and parameter names:
//
//   conv1 → bn1 → relu → [maxpool] → layer1 … layerK → avgpool → flatten → fc
//   layerK = TorchStage(TorchBasicBlock, …): conv3×3-BN-ReLU-conv3×3-BN + shortcut (a 1×1
//            convolution + BN when the stride or the width changes), then ReLU
//
// The parameter and buffer names are torchvision's state-dict keys ("layer2.0.downsample.0.weight",
// "fc.bias", …), so weights exported from torchvision's resnet18/resnet34 by name can be copied
// in. TorchModel's layers are "conv1", …, "layer4.0", "layer4.1", "layer4", "avgpool", "flatten",
// "fc", and CAM's feature layer is "layer4" (the input of avgpool).
//
// TorchStage is also what any nested chain needs: LibTorch cannot put a plain Sequential inside
// a Sequential (its forward is a template), a subclass with a Tensor → Tensor forward can be.

#include "xai/core/eigen.hpp"  // first: silences GCC 12's false AVX-512 warnings (also reached through LibTorch)

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <torch/torch.h>

#include "xai/core/error.hpp"

namespace xai::models {

/// A Sequential that can sit inside a Sequential: its forward takes and returns one tensor.
struct TorchStageImpl : torch::nn::SequentialImpl {
    using torch::nn::SequentialImpl::SequentialImpl;
    /// Runs the children in order on `x`.
    torch::Tensor forward(torch::Tensor x) { return torch::nn::SequentialImpl::forward(std::move(x)); }
};
/// The module holder of TorchStageImpl (LibTorch's shared-pointer wrapper).
TORCH_MODULE(TorchStage);

/// ResNet's basic block: relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)).
struct TorchBasicBlockImpl : torch::nn::Module {
    /// A block from `in` to `out` channels; the first convolution has stride `stride`, and a
    /// 1×1 convolution + BN shortcut ("downsample") is added when stride ≠ 1 or in ≠ out.
    TorchBasicBlockImpl(std::int64_t in, std::int64_t out, std::int64_t stride) {
        namespace nn = torch::nn;
        conv1 = register_module("conv1", nn::Conv2d(nn::Conv2dOptions(in, out, 3).stride(stride).padding(1).bias(false)));
        bn1 = register_module("bn1", nn::BatchNorm2d(out));
        conv2 = register_module("conv2", nn::Conv2d(nn::Conv2dOptions(out, out, 3).padding(1).bias(false)));
        bn2 = register_module("bn2", nn::BatchNorm2d(out));
        if (stride != 1 || in != out)
            downsample = register_module(
                "downsample", nn::Sequential(nn::Conv2d(nn::Conv2dOptions(in, out, 1).stride(stride).bias(false)),
                                             nn::BatchNorm2d(out)));
    }
    /// relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)).
    torch::Tensor forward(torch::Tensor x) {
        torch::Tensor y = torch::relu(bn1(conv1(x)));
        y = bn2(conv2(y));
        return torch::relu(y + (downsample.is_empty() ? x : downsample->forward(x)));
    }
    ///@{
    /// The 3×3 convolutions (no bias), torchvision's "conv1" and "conv2".
    torch::nn::Conv2d conv1{nullptr}, conv2{nullptr};
    ///@}
    ///@{
    /// The batch normalizations after conv1 and conv2, torchvision's "bn1" and "bn2".
    torch::nn::BatchNorm2d bn1{nullptr}, bn2{nullptr};
    ///@}
    /// The shortcut's 1×1 convolution + BN; empty (identity shortcut) when the shape is kept.
    torch::nn::Sequential downsample{nullptr};
};
/// The module holder of TorchBasicBlockImpl (LibTorch's shared-pointer wrapper).
TORCH_MODULE(TorchBasicBlock);

/// The shape of a basic-block ResNet. The defaults are ResNet-18 for ImageNet.
struct TorchResNetShape {
    std::int64_t in_channels = 3;                          ///< input channels (3: RGB)
    std::vector<std::int64_t> widths{64, 128, 256, 512};  ///< channels of layer1, layer2, …
    std::vector<std::int64_t> blocks{2, 2, 2, 2};          ///< basic blocks per stage (34: 3, 4, 6, 3)
    std::int64_t num_classes = 1000;                       ///< outputs of fc (1000: ImageNet)
    /// ImageNet's stem: conv1 7×7 stride 2 and a 3×3 stride-2 max pooling. false: a 3×3 stride-1
    /// conv1 and no pooling (the CIFAR-style stem for small images).
    bool imagenet_stem = true;
};

/// How torch_resnet draws the parameters of a new ResNet.
enum class TorchResNetInit {
    /// LibTorch's module defaults: convolutions Kaiming-uniform with a = √5 (a standard deviation
    /// of 1/√(3·fan_in)), which shrinks the signal at every layer: the 1000 outputs of a random
    /// ResNet-18 are then almost only fc's bias, and its softmax is ≈ 1/1000 whatever the image.
    libtorch,
    /// torchvision's ResNet constructor: after the modules' defaults, every convolution is
    /// redrawn Kaiming-normal with fan-out and ReLU's gain (standard deviation √(2 / (out·k·k))),
    /// in module order; BN weight 1, bias 0; fc keeps its default. The signal keeps its scale, so
    /// the outputs depend on the image, as those of `torchvision.models.resnet18()` do.
    torchvision,
};

/// A ResNet of the given shape, parameters drawn after torch::manual_seed(seed) by LibTorch's
/// initialisers or, with TorchResNetInit::torchvision, as torchvision's constructor draws them.
inline torch::nn::Sequential torch_resnet(const TorchResNetShape& shape = {}, std::uint64_t seed = 0,
                                          TorchResNetInit init = TorchResNetInit::libtorch) {
    namespace nn = torch::nn;
    xai::detail::require(!shape.widths.empty() && shape.widths.size() == shape.blocks.size(),
                         "xai::models::torch_resnet(): widths has ", shape.widths.size(), " entries and blocks ",
                         shape.blocks.size(), ", expected the same non-zero number (one per stage)");
    for (std::size_t s = 0; s < shape.widths.size(); ++s)
        xai::detail::require(shape.widths[s] > 0 && shape.blocks[s] > 0, "xai::models::torch_resnet(): stage ", s + 1,
                             " has width ", shape.widths[s], " and ", shape.blocks[s], " blocks, expected both > 0");
    xai::detail::require(shape.in_channels > 0 && shape.num_classes > 0, "xai::models::torch_resnet(): in_channels is ",
                         shape.in_channels, " and num_classes ", shape.num_classes, ", expected both > 0");
    torch::manual_seed(seed);
    nn::Sequential net;
    const std::int64_t stem = shape.widths.front();
    if (shape.imagenet_stem)
        net->push_back("conv1", nn::Conv2d(nn::Conv2dOptions(shape.in_channels, stem, 7).stride(2).padding(3).bias(false)));
    else
        net->push_back("conv1", nn::Conv2d(nn::Conv2dOptions(shape.in_channels, stem, 3).padding(1).bias(false)));
    net->push_back("bn1", nn::BatchNorm2d(stem));
    net->push_back("relu", nn::ReLU());
    if (shape.imagenet_stem) net->push_back("maxpool", nn::MaxPool2d(nn::MaxPool2dOptions(3).stride(2).padding(1)));
    std::int64_t in = stem;
    for (std::size_t s = 0; s < shape.widths.size(); ++s) {
        TorchStage stage;
        for (std::int64_t b = 0; b < shape.blocks[s]; ++b) {
            const std::int64_t stride = (s > 0 && b == 0) ? 2 : 1;
            stage->push_back(TorchBasicBlock(b == 0 ? in : shape.widths[s], shape.widths[s], stride));
        }
        net->push_back("layer" + std::to_string(s + 1), stage);
        in = shape.widths[s];
    }
    net->push_back("avgpool", nn::AdaptiveAvgPool2d(1));
    net->push_back("flatten", nn::Flatten());
    net->push_back("fc", nn::Linear(in, shape.num_classes));
    if (init == TorchResNetInit::torchvision) {
        // The same draws in the same order as torchvision's loop over self.modules(): the
        // defaults above consumed the generator as torchvision's construction does (the same
        // tensors, whatever their order), then each convolution is redrawn in module order.
        torch::NoGradGuard no_grad;
        for (const std::shared_ptr<nn::Module>& module : net->modules(/*include_self=*/false))
            if (auto* conv = module->as<nn::Conv2d>())
                nn::init::kaiming_normal_(conv->weight, 0.0, torch::kFanOut, torch::kReLU);
    }
    return net;
}

}  // namespace xai::models
