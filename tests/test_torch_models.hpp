#pragma once
// Small LibTorch models with fixed seeds for the torch adapter's tests (test_torch*.cpp).

#include "xai/core/eigen.hpp"  // first: silences GCC 12's false AVX-512 warnings (also reached through LibTorch)

#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <torch/script.h>
#include <torch/torch.h>

#include "xai/core/concepts.hpp"
#include "xai/core/scores.hpp"
#include "xai/core/tensor.hpp"
#include "xai/models/torch/tensor.hpp"
#include "xai/torch.hpp"

namespace xai_test {

namespace nn = torch::nn;

/// Gives every BatchNorm of the module non-trivial statistics and affine parameters, so that
/// eval mode (running statistics) and train mode (batch statistics) give different results.
inline void randomize_batchnorm(nn::Module& module) {
    torch::NoGradGuard no_grad;
    for (const auto& m : module.modules()) {
        if (auto* bn = m->as<nn::BatchNorm2d>()) {
            bn->running_mean.copy_(0.1 * torch::randn_like(bn->running_mean));
            bn->running_var.copy_(0.5 + torch::rand_like(bn->running_var));
            bn->weight.copy_(1.0 + 0.2 * torch::randn_like(bn->weight));
            bn->bias.copy_(0.1 * torch::randn_like(bn->bias));
        }
    }
}

/// A small ResNet (models/torch/resnet.hpp): 3×32×32 input, CIFAR-style stem, two stages of two basic
/// blocks (8 and 16 channels), 5 classes, BatchNorm with random statistics.
inline nn::Sequential tiny_resnet(std::uint64_t seed = 7, std::int64_t classes = 5) {
    xai::models::TorchResNetShape shape;
    shape.widths = {8, 16};
    shape.blocks = {2, 2};
    shape.num_classes = classes;
    shape.imagenet_stem = false;
    nn::Sequential net = xai::models::torch_resnet(shape, seed);
    randomize_batchnorm(*net);
    return net;
}

/// The child `name` of a Sequential as its module holder type.
template <class Holder>
Holder child(const nn::Sequential& net, const std::string& name) {
    return Holder(std::dynamic_pointer_cast<typename Holder::ContainedType>(net->named_children()[name]));
}

/// The same ResNet written the usual C++ way, sharing the Sequential's modules: members and a
/// forward() with functional pooling, which no "run the children in order" can reproduce;
/// TorchModel needs splits for it.
struct ResNetModuleImpl : nn::Module {
    explicit ResNetModuleImpl(const nn::Sequential& net) {
        conv1 = register_module("conv1", child<nn::Conv2d>(net, "conv1"));
        bn1 = register_module("bn1", child<nn::BatchNorm2d>(net, "bn1"));
        layer1 = register_module("layer1", child<xai::models::TorchStage>(net, "layer1"));
        layer2 = register_module("layer2", child<xai::models::TorchStage>(net, "layer2"));
        fc = register_module("fc", child<nn::Linear>(net, "fc"));
    }
    torch::Tensor stem(const torch::Tensor& x) { return torch::relu(bn1(conv1(x))); }
    torch::Tensor head(const torch::Tensor& a) { return fc(torch::flatten(torch::adaptive_avg_pool2d(a, {1, 1}), 1)); }
    torch::Tensor forward(const torch::Tensor& x) { return head(layer2->forward(layer1->forward(stem(x)))); }
    nn::Conv2d conv1{nullptr};
    nn::BatchNorm2d bn1{nullptr};
    xai::models::TorchStage layer1{nullptr}, layer2{nullptr};
    nn::Linear fc{nullptr};
};
TORCH_MODULE(ResNetModule);

/// conv-ReLU-conv-ReLU-GAP-linear: a network CAM applies to (3×12×12 input, 4 classes).
inline nn::Sequential gap_linear_net(std::uint64_t seed = 3) {
    torch::manual_seed(seed);
    nn::Sequential net;
    net->push_back("conv1", nn::Conv2d(nn::Conv2dOptions(3, 6, 3).padding(1)));
    net->push_back("relu1", nn::ReLU());
    net->push_back("conv2", nn::Conv2d(nn::Conv2dOptions(6, 8, 3).stride(2).padding(1)));
    net->push_back("relu2", nn::ReLU());
    net->push_back("gap", nn::AdaptiveAvgPool2d(1));
    net->push_back("flatten", nn::Flatten());
    net->push_back("fc", nn::Linear(8, 4));
    return net;
}

/// A twice continuously differentiable CNN in double precision (tanh, average pooling) for
/// finite-difference checks: 2×6×6 input, 3 classes.
inline nn::Sequential smooth_net(std::uint64_t seed = 11) {
    torch::manual_seed(seed);
    nn::Sequential net;
    net->push_back("conv1", nn::Conv2d(nn::Conv2dOptions(2, 3, 3).padding(1)));
    net->push_back("tanh1", nn::Tanh());
    net->push_back("conv2", nn::Conv2d(nn::Conv2dOptions(3, 4, 3).stride(2)));
    net->push_back("tanh2", nn::Tanh());
    net->push_back("gap", nn::AdaptiveAvgPool2d(1));
    net->push_back("flatten", nn::Flatten());
    net->push_back("fc", nn::Linear(4, 3));
    net->to(torch::kFloat64);
    return net;
}

/// N random images of the given shape, reproducible from the seed.
inline xai::Batch random_batch(std::size_t n, xai::ImageShape shape, std::uint64_t seed, float scale = 1.0f) {
    torch::manual_seed(seed);
    const torch::Tensor t = scale * torch::randn({static_cast<std::int64_t>(n),
                                                  static_cast<std::int64_t>(shape.channels),
                                                  static_cast<std::int64_t>(shape.height),
                                                  static_cast<std::int64_t>(shape.width)});
    return xai::models::to_xtensor<4>(t);
}

/// A fresh directory under the system's temporary directory, removed at scope exit.
struct TempDir {
    std::filesystem::path path;
    explicit TempDir(const std::string& name)
        : path(std::filesystem::temp_directory_path() / (name + "-" + std::to_string(::getpid()))) {
        std::filesystem::remove_all(path);
        std::filesystem::create_directories(path);
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
};

// ---- helpers shared by the tests ------------------------------------------------------

inline xai::models::TorchOptions options_for(xai::ImageShape shape) {
    xai::models::TorchOptions o;
    o.input_shape = shape;
    return o;
}

inline const xai::ImageShape resnet_input{3, 32, 32};

template <class E>
bool shape_is(const E& x, std::vector<std::size_t> expected) {
    return std::vector<std::size_t>(x.shape().begin(), x.shape().end()) == expected;
}

inline double max_abs_diff(const torch::Tensor& a, const torch::Tensor& b) {
    return (a.to(torch::kFloat64) - b.to(torch::kFloat64)).abs().max().item<double>();
}

template <class E>
torch::Tensor tensor_of(const E& x) {
    return xai::models::as_torch(x).clone();
}

/// pytorch-grad-cam's way, with bare torch ops: the input requires a gradient, every child of
/// the Sequential runs in order, the activations of `layer` keep their gradient, and one full
/// backward pass runs from the seeded logits.
struct Reference {
    torch::Tensor activations, gradients, logits;
};
inline Reference full_backward(torch::nn::Sequential& net, const std::string& layer, const torch::Tensor& x,
                        const std::vector<std::int64_t>& targets) {
    Reference r;
    torch::Tensor h = x.clone().requires_grad_(true);
    const auto children = net->named_children();
    std::size_t i = 0;
    for (auto it = net->begin(); it != net->end(); ++it, ++i) {
        h = it->forward(h);
        if (children[i].key() == layer) {
            r.activations = h;
            r.activations.retain_grad();
        }
    }
    r.logits = h;
    const torch::Tensor seed =
        torch::nn::functional::one_hot(torch::tensor(targets), r.logits.size(1)).to(r.logits.dtype());
    r.logits.backward(seed);
    r.gradients = r.activations.grad();
    return r;
}

inline xai::ScoreSeed one_hot_seed(std::vector<std::size_t> targets) {
    return [targets](const xai::Scores& logits) {
        return xai::target_score_gradient(logits, targets, xai::ScoreKind::logit);
    };
}


}  // namespace xai_test
