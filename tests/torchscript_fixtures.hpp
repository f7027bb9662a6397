#pragma once
// Plain TorchScript classifiers with torchvision's module structure and submodule names (ResNet,
// MobileNetV2, MobileNetV3, EfficientNet-B0, DenseNet, ViT), built from C++ with
// torch::jit::Module::define (no Python), at small widths and with random float64 weights, for
// the tests of TorchModel::load's graph rewriting (test_torch_script.cpp) and the ONNX tests.
//
// Each module's forward is written the way torchvision writes it where that matters to the
// rewriting: submodules called through `self.name.forward(...)` (prim::CallMethod, as torch.jit.script
// compiles them), torchvision's `_forward_impl` and `_process_input` helper methods, shared
// ReLUs called twice, in-place residual additions (`out += identity`), conditions on module
// attributes (`if self.use_res_connect`, `if self.training`, `if self.downsample is not None`),
// DenseNet's growing feature list, and a ViT attention that returns a tuple. Sequential
// containers have children named "0", "1", … reached with getattr(self, "0"), as
// torch.jit.script unrolls nn.Sequential.

#include "xai/core/eigen.hpp"  // first: silences GCC 12's false AVX-512 warnings (also reached through LibTorch)

#include <cmath>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <torch/script.h>
#include <torch/torch.h>

namespace xai_test::tv {

using torch::jit::Module;

/// Parameter factory: random float64 tensors from one generator, scaled by 1/√fan_in.
struct Init {
    explicit Init(std::uint64_t seed) { torch::manual_seed(seed); }
    torch::Tensor weight(std::vector<std::int64_t> shape, std::int64_t fan_in) const {
        return torch::randn(shape, torch::kFloat64) / std::sqrt(static_cast<double>(fan_in));
    }
    torch::Tensor small(std::vector<std::int64_t> shape) const { return 0.1 * torch::randn(shape, torch::kFloat64); }
};

/// A module of a new class named `type`, with the `training` flag that torch.nn.Module gives
/// every scripted module (torch::jit::Module's constructor does not).
inline Module make(const std::string& type) {
    Module m(type);
    m.register_attribute("training", c10::BoolType::get(), true);
    return m;
}

inline Module leaf(const std::string& type, const std::string& source) {
    Module m = make(type);
    m.define(source);
    return m;
}

inline Module conv(const Init& init, std::int64_t in, std::int64_t out, std::int64_t k, std::int64_t stride = 1,
                   std::int64_t pad = -1, std::int64_t groups = 1, bool bias = false) {
    if (pad < 0) pad = (k - 1) / 2;
    Module m = make("Conv2d");
    m.register_parameter("weight", init.weight({out, in / groups, k, k}, in / groups * k * k), false);
    if (bias) m.register_parameter("bias", init.small({out}), false);
    const std::string s = std::to_string(stride), p = std::to_string(pad);
    m.define("def forward(self, x):\n    return torch.conv2d(x, self.weight, " + std::string(bias ? "self.bias" : "None") +
             ", [" + s + ", " + s + "], [" + p + ", " + p + "], [1, 1], " + std::to_string(groups) + ")\n");
    return m;
}

inline Module batchnorm(const Init& init, std::int64_t c) {
    Module m = make("BatchNorm2d");
    m.register_parameter("weight", 1.0 + init.small({c}), false);
    m.register_parameter("bias", init.small({c}), false);
    m.register_buffer("running_mean", init.small({c}));
    m.register_buffer("running_var", 0.5 + torch::rand({c}, torch::kFloat64));
    m.define(R"(
def forward(self, x):
    return torch.batch_norm(x, self.weight, self.bias, self.running_mean, self.running_var, self.training, 0.1, 1e-05, False)
)");
    return m;
}

inline Module linear(const Init& init, std::int64_t in, std::int64_t out) {
    Module m = make("Linear");
    m.register_parameter("weight", init.weight({out, in}, in), false);
    m.register_parameter("bias", init.small({out}), false);
    m.define("def forward(self, x):\n    return torch.linear(x, self.weight, self.bias)\n");
    return m;
}

inline Module layer_norm(const Init& init, std::int64_t d) {
    Module m = make("LayerNorm");
    m.register_parameter("weight", 1.0 + init.small({d}), false);
    m.register_parameter("bias", init.small({d}), false);
    m.define("def forward(self, x):\n    return torch.layer_norm(x, [" + std::to_string(d) +
             "], self.weight, self.bias, 1e-06)\n");
    return m;
}

inline Module relu() { return leaf("ReLU", "def forward(self, x):\n    return torch.relu(x)\n"); }
inline Module relu6() { return leaf("ReLU6", "def forward(self, x):\n    return torch.hardtanh(x, 0.0, 6.0)\n"); }
inline Module hardswish() { return leaf("Hardswish", "def forward(self, x):\n    return torch.hardswish(x)\n"); }
inline Module hardsigmoid() { return leaf("Hardsigmoid", "def forward(self, x):\n    return torch.hardsigmoid(x)\n"); }
inline Module silu() { return leaf("SiLU", "def forward(self, x):\n    return torch.silu(x)\n"); }
inline Module sigmoid() { return leaf("Sigmoid", "def forward(self, x):\n    return torch.sigmoid(x)\n"); }
inline Module gelu() { return leaf("GELU", "def forward(self, x):\n    return torch.gelu(x)\n"); }
inline Module flatten() { return leaf("Flatten", "def forward(self, x):\n    return torch.flatten(x, 1)\n"); }
inline Module gap() {
    return leaf("AdaptiveAvgPool2d", "def forward(self, x):\n    return torch.adaptive_avg_pool2d(x, [1, 1])\n");
}
inline Module maxpool() {
    return leaf("MaxPool2d", "def forward(self, x):\n    return torch.max_pool2d(x, [3, 3], [2, 2], [1, 1])\n");
}
inline Module avgpool2() {
    return leaf("AvgPool2d", "def forward(self, x):\n    return torch.avg_pool2d(x, [2, 2], [2, 2])\n");
}
/// Dropout as torchvision runs it: identity unless training (the condition is folded).
inline Module dropout(double p) {
    Module m = make("Dropout");
    m.register_attribute("p", c10::FloatType::get(), p);
    m.define(R"(
def forward(self, x):
    if self.training:
        x = torch.dropout(x, self.p, True)
    return x
)");
    return m;
}

/// nn.Sequential: children "0", "1", … run in order.
inline Module sequential(const std::vector<Module>& children, const std::string& type = "Sequential") {
    Module m = make(type);
    std::string source = "def forward(self, x):\n";
    for (std::size_t i = 0; i < children.size(); ++i) {
        m.register_module(std::to_string(i), children[i]);
        source += "    x = getattr(self, \"" + std::to_string(i) + "\").forward(x)\n";
    }
    m.define(source + "    return x\n");
    return m;
}

/// A container with named children run in order (torchvision's features of DenseNet, the
/// encoder layers of ViT).
inline Module named_sequential(const std::vector<std::pair<std::string, Module>>& children,
                               const std::string& type = "Sequential") {
    Module m = make(type);
    std::string source = "def forward(self, x):\n";
    for (const auto& [name, child] : children) {
        m.register_module(name, child);
        source += "    x = self." + name + ".forward(x)\n";
    }
    m.define(source + "    return x\n");
    return m;
}

/// torchvision's Conv2dNormActivation: conv, BatchNorm, then the activation when given.
inline Module conv_norm_act(const Init& init, std::int64_t in, std::int64_t out, std::int64_t k, std::int64_t stride,
                            std::int64_t groups, Module (*activation)()) {
    std::vector<Module> parts{conv(init, in, out, k, stride, -1, groups), batchnorm(init, out)};
    if (activation) parts.push_back(activation());
    return sequential(parts, "Conv2dNormActivation");
}

// ---- ResNet (torchvision.models.resnet18's structure) -------------------------------------

inline Module basic_block(const Init& init, std::int64_t in, std::int64_t out, std::int64_t stride) {
    Module m = make("BasicBlock");
    m.register_module("conv1", conv(init, in, out, 3, stride));
    m.register_module("bn1", batchnorm(init, out));
    m.register_module("relu", relu());
    m.register_module("conv2", conv(init, out, out, 3));
    m.register_module("bn2", batchnorm(init, out));
    if (stride != 1 || in != out)
        m.register_module("downsample", sequential({conv(init, in, out, 1, stride), batchnorm(init, out)}));
    else
        m.register_attribute("downsample", c10::NoneType::get(), c10::IValue());
    m.define(R"(
def forward(self, x):
    identity = x
    out = self.conv1.forward(x)
    out = self.bn1.forward(out)
    out = self.relu.forward(out)
    out = self.conv2.forward(out)
    out = self.bn2.forward(out)
    if self.downsample is not None:
        identity = self.downsample.forward(x)
    out += identity
    out = self.relu.forward(out)
    return out
)");
    return m;
}

/// ResNet with basic blocks, torchvision's stem (7×7 stride-2 conv, 3×3 stride-2 max pooling).
/// The defaults are small (widths {4, 8, 8, 16}, blocks {2, 2, 1, 1}, 6 classes; used at 3×64×64);
/// widths {64, 128, 256, 512}, blocks {2, 2, 2, 2} and 1000 classes are ResNet-18
/// (benchmarks/bench_torchscript.cpp).
inline Module resnet(std::uint64_t seed = 1, std::vector<std::int64_t> widths = {4, 8, 8, 16},
                     std::vector<std::int64_t> blocks = {2, 2, 1, 1}, std::int64_t classes = 6) {
    const Init init(seed);
    Module m = make("ResNet");
    m.register_module("conv1", conv(init, 3, widths[0], 7, 2));
    m.register_module("bn1", batchnorm(init, widths[0]));
    m.register_module("relu", relu());
    m.register_module("maxpool", maxpool());
    std::int64_t in = widths[0];
    for (std::size_t s = 0; s < widths.size(); ++s) {
        std::vector<Module> stage;
        for (std::int64_t b = 0; b < blocks[s]; ++b) {
            stage.push_back(basic_block(init, b == 0 ? in : widths[s], widths[s], (s > 0 && b == 0) ? 2 : 1));
        }
        m.register_module("layer" + std::to_string(s + 1), sequential(stage));
        in = widths[s];
    }
    m.register_module("avgpool", gap());
    m.register_module("fc", linear(init, in, classes));
    m.define(R"(
def _forward_impl(self, x):
    x = self.conv1.forward(x)
    x = self.bn1.forward(x)
    x = self.relu.forward(x)
    x = self.maxpool.forward(x)
    x = self.layer1.forward(x)
    x = self.layer2.forward(x)
    x = self.layer3.forward(x)
    x = self.layer4.forward(x)
    x = self.avgpool.forward(x)
    x = torch.flatten(x, 1)
    x = self.fc.forward(x)
    return x
def forward(self, x):
    return self._forward_impl(x)
)");
    return m;
}

// ---- MobileNetV2 ----------------------------------------------------------------------------

inline Module inverted_residual_v2(const Init& init, std::int64_t in, std::int64_t out, std::int64_t stride,
                                   std::int64_t expand) {
    const std::int64_t hidden = in * expand;
    std::vector<Module> layers;
    if (expand != 1) layers.push_back(conv_norm_act(init, in, hidden, 1, 1, 1, relu6));
    layers.push_back(conv_norm_act(init, hidden, hidden, 3, stride, hidden, relu6));
    layers.push_back(conv(init, hidden, out, 1));
    layers.push_back(batchnorm(init, out));
    Module m = make("InvertedResidual");
    m.register_module("conv", sequential(layers));
    m.register_attribute("use_res_connect", c10::BoolType::get(), stride == 1 && in == out);
    m.define(R"(
def forward(self, x):
    if self.use_res_connect:
        return x + self.conv.forward(x)
    else:
        return self.conv.forward(x)
)");
    return m;
}

/// MobileNetV2: features.0 … features.5, classifier (Dropout, Linear); 3×32×32 input, 5 classes.
inline Module mobilenet_v2(std::uint64_t seed = 2) {
    const Init init(seed);
    Module m = make("MobileNetV2");
    m.register_module("features", sequential({conv_norm_act(init, 3, 8, 3, 2, 1, relu6), inverted_residual_v2(init, 8, 8, 1, 1),
                                              inverted_residual_v2(init, 8, 12, 2, 6), inverted_residual_v2(init, 12, 12, 1, 6),
                                              conv_norm_act(init, 12, 32, 1, 1, 1, relu6)}));
    m.register_module("classifier", sequential({dropout(0.2), linear(init, 32, 5)}));
    m.define(R"(
def forward(self, x):
    x = self.features.forward(x)
    x = torch.adaptive_avg_pool2d(x, [1, 1])
    x = torch.flatten(x, 1)
    x = self.classifier.forward(x)
    return x
)");
    return m;
}

// ---- MobileNetV3 and EfficientNet: squeeze-and-excitation ---------------------------------

inline Module squeeze_excitation(const Init& init, std::int64_t c, std::int64_t squeeze, Module (*activation)(),
                                 Module (*scale_activation)()) {
    Module m = make("SqueezeExcitation");
    m.register_module("avgpool", gap());
    m.register_module("fc1", conv(init, c, squeeze, 1, 1, 0, 1, true));
    m.register_module("fc2", conv(init, squeeze, c, 1, 1, 0, 1, true));
    m.register_module("activation", activation());
    m.register_module("scale_activation", scale_activation());
    m.define(R"(
def _scale(self, input):
    scale = self.avgpool.forward(input)
    scale = self.fc1.forward(scale)
    scale = self.activation.forward(scale)
    scale = self.fc2.forward(scale)
    return self.scale_activation.forward(scale)
def forward(self, input):
    scale = self._scale(input)
    return scale * input
)");
    return m;
}

inline Module inverted_residual_v3(const Init& init, std::int64_t in, std::int64_t expanded, std::int64_t out,
                                   std::int64_t stride, bool se) {
    std::vector<Module> layers;
    if (expanded != in) layers.push_back(conv_norm_act(init, in, expanded, 1, 1, 1, hardswish));
    layers.push_back(conv_norm_act(init, expanded, expanded, 3, stride, expanded, hardswish));
    if (se) layers.push_back(squeeze_excitation(init, expanded, 8, relu, hardsigmoid));
    layers.push_back(conv_norm_act(init, expanded, out, 1, 1, 1, nullptr));
    Module m = make("InvertedResidual");
    m.register_module("block", sequential(layers));
    m.register_attribute("use_res_connect", c10::BoolType::get(), stride == 1 && in == out);
    m.define(R"(
def forward(self, input):
    result = self.block.forward(input)
    if self.use_res_connect:
        result += input
    return result
)");
    return m;
}

/// MobileNetV3 (small's layout): features.0 … features.3, avgpool, classifier; 3×32×32, 5 classes.
inline Module mobilenet_v3(std::uint64_t seed = 3) {
    const Init init(seed);
    Module m = make("MobileNetV3");
    m.register_module("features", sequential({conv_norm_act(init, 3, 8, 3, 2, 1, hardswish),
                                              inverted_residual_v3(init, 8, 8, 8, 2, true),
                                              inverted_residual_v3(init, 8, 24, 8, 1, true),
                                              conv_norm_act(init, 8, 24, 1, 1, 1, hardswish)}));
    m.register_module("avgpool", gap());
    m.register_module("classifier",
                      sequential({linear(init, 24, 16), hardswish(), dropout(0.2), linear(init, 16, 5)}));
    m.define(R"(
def forward(self, x):
    x = self.features.forward(x)
    x = self.avgpool.forward(x)
    x = torch.flatten(x, 1)
    x = self.classifier.forward(x)
    return x
)");
    return m;
}

/// torchvision's StochasticDepth: identity in eval mode (`not self.training or p == 0`).
inline Module stochastic_depth(double p) {
    Module m = make("StochasticDepth");
    m.register_attribute("p", c10::FloatType::get(), p);
    m.define(R"(
def forward(self, input):
    if not self.training or self.p == 0.0:
        return input
    keep = torch.bernoulli(torch.full([input.size(0), 1, 1, 1], 1.0 - self.p, dtype=input.dtype))
    return input * keep / (1.0 - self.p)
)");
    return m;
}

inline Module mbconv(const Init& init, std::int64_t in, std::int64_t out, std::int64_t stride, std::int64_t expand) {
    const std::int64_t hidden = in * expand;
    std::vector<Module> layers;
    if (expand != 1) layers.push_back(conv_norm_act(init, in, hidden, 1, 1, 1, silu));
    layers.push_back(conv_norm_act(init, hidden, hidden, 3, stride, hidden, silu));
    layers.push_back(squeeze_excitation(init, hidden, std::max<std::int64_t>(1, in / 4), silu, sigmoid));
    layers.push_back(conv_norm_act(init, hidden, out, 1, 1, 1, nullptr));
    Module m = make("MBConv");
    m.register_module("block", sequential(layers));
    m.register_module("stochastic_depth", stochastic_depth(0.1));
    m.register_attribute("use_res_connect", c10::BoolType::get(), stride == 1 && in == out);
    m.define(R"(
def forward(self, input):
    result = self.block.forward(input)
    if self.use_res_connect:
        result = self.stochastic_depth.forward(result)
        result += input
    return result
)");
    return m;
}

/// EfficientNet-B0's layout: features.0 (stem), features.1 (one MBConv1), features.2 (two MBConv6),
/// features.3 (head conv), avgpool, classifier (Dropout, Linear); 3×32×32, 5 classes.
inline Module efficientnet_b0(std::uint64_t seed = 4) {
    const Init init(seed);
    Module m = make("EfficientNet");
    m.register_module("features", sequential({conv_norm_act(init, 3, 8, 3, 2, 1, silu), sequential({mbconv(init, 8, 8, 1, 1)}),
                                              sequential({mbconv(init, 8, 12, 2, 6), mbconv(init, 12, 12, 1, 6)}),
                                              conv_norm_act(init, 12, 32, 1, 1, 1, silu)}));
    m.register_module("avgpool", gap());
    m.register_module("classifier", sequential({dropout(0.2), linear(init, 32, 5)}));
    m.define(R"(
def forward(self, x):
    x = self.features.forward(x)
    x = self.avgpool.forward(x)
    x = torch.flatten(x, 1)
    x = self.classifier.forward(x)
    return x
)");
    return m;
}

// ---- DenseNet -------------------------------------------------------------------------------

inline Module dense_layer(const Init& init, std::int64_t in, std::int64_t growth) {
    Module m = make("_DenseLayer");
    m.register_module("norm1", batchnorm(init, in));
    m.register_module("relu1", relu());
    m.register_module("conv1", conv(init, in, 2 * growth, 1));
    m.register_module("norm2", batchnorm(init, 2 * growth));
    m.register_module("relu2", relu());
    m.register_module("conv2", conv(init, 2 * growth, growth, 3));
    m.define(R"(
def forward(self, input: List[Tensor]):
    concated_features = torch.cat(input, 1)
    bottleneck_output = self.conv1.forward(self.relu1.forward(self.norm1.forward(concated_features)))
    new_features = self.conv2.forward(self.relu2.forward(self.norm2.forward(bottleneck_output)))
    return new_features
)");
    return m;
}

inline Module dense_block(const Init& init, std::int64_t in, std::int64_t growth, int layers) {
    Module m = make("_DenseBlock");
    std::string source = "def forward(self, init_features):\n    features = [init_features]\n";
    for (int i = 0; i < layers; ++i) {
        const std::string name = "denselayer" + std::to_string(i + 1);
        m.register_module(name, dense_layer(init, in + i * growth, growth));
        source += "    new_features = self." + name + ".forward(features)\n    features.append(new_features)\n";
    }
    m.define(source + "    return torch.cat(features, 1)\n");
    return m;
}

inline Module transition(const Init& init, std::int64_t in, std::int64_t out) {
    return named_sequential({{"norm", batchnorm(init, in)}, {"relu", relu()}, {"conv", conv(init, in, out, 1)},
                             {"pool", avgpool2()}},
                            "_Transition");
}

/// DenseNet: features (conv0, norm0, relu0, pool0, denseblock1, transition1, denseblock2, norm5),
/// classifier; 3×32×32, 5 classes.
inline Module densenet(std::uint64_t seed = 5) {
    const Init init(seed);
    Module m = make("DenseNet");
    m.register_module("features", named_sequential({{"conv0", conv(init, 3, 8, 7, 2)},
                                                    {"norm0", batchnorm(init, 8)},
                                                    {"relu0", relu()},
                                                    {"pool0", maxpool()},
                                                    {"denseblock1", dense_block(init, 8, 4, 2)},
                                                    {"transition1", transition(init, 16, 8)},
                                                    {"denseblock2", dense_block(init, 8, 4, 2)},
                                                    {"norm5", batchnorm(init, 16)}}));
    m.register_module("classifier", linear(init, 16, 5));
    m.define(R"(
def forward(self, x):
    features = self.features.forward(x)
    out = torch.relu(features)
    out = torch.adaptive_avg_pool2d(out, [1, 1])
    out = torch.flatten(out, 1)
    out = self.classifier.forward(out)
    return out
)");
    return m;
}

// ---- Vision transformer (torchvision.models.vit_b_16's structure) -------------------------

inline Module attention(const Init& init, std::int64_t d, std::int64_t heads) {
    Module m = make("MultiheadAttention");
    m.register_parameter("in_proj_weight", init.weight({3 * d, d}, d), false);
    m.register_parameter("in_proj_bias", init.small({3 * d}), false);
    m.register_module("out_proj", linear(init, d, d));
    const std::string D = std::to_string(d), H = std::to_string(heads), hd = std::to_string(d / heads);
    m.define("def forward(self, query, key, value):\n"
             "    n = query.size(0)\n"
             "    t = query.size(1)\n"
             "    qkv = torch.linear(query, self.in_proj_weight, self.in_proj_bias)\n"
             "    qkv = qkv.reshape([n, t, 3, " + H + ", " + hd + "]).permute([2, 0, 3, 1, 4])\n"
             "    q = qkv[0]\n"
             "    k = qkv[1]\n"
             "    v = qkv[2]\n"
             "    att = torch.softmax(torch.matmul(q, k.transpose(-2, -1)) / " + std::to_string(std::sqrt(double(d / heads))) + ", -1)\n"
             "    out = torch.matmul(att, v).transpose(1, 2).reshape([n, t, " + D + "])\n"
             "    return self.out_proj.forward(out), None\n");
    return m;
}

inline Module encoder_block(const Init& init, std::int64_t d, std::int64_t heads, std::int64_t mlp) {
    Module m = make("EncoderBlock");
    m.register_module("ln_1", layer_norm(init, d));
    m.register_module("self_attention", attention(init, d, heads));
    m.register_module("dropout", dropout(0.0));
    m.register_module("ln_2", layer_norm(init, d));
    m.register_module("mlp", sequential({linear(init, d, mlp), gelu(), dropout(0.0), linear(init, mlp, d), dropout(0.0)},
                                        "MLPBlock"));
    m.define(R"(
def forward(self, input):
    x = self.ln_1.forward(input)
    x, _ = self.self_attention.forward(x, x, x)
    x = self.dropout.forward(x)
    x = x + input
    y = self.ln_2.forward(x)
    y = self.mlp.forward(y)
    return x + y
)");
    return m;
}

/// ViT: conv_proj (8×8 patches), class_token, encoder (pos_embedding, dropout, layers.encoder_layer_0
/// and _1, ln), heads.head; 3×32×32 (16 patches + the class token, width 16), 5 classes.
inline Module vit(std::uint64_t seed = 6) {
    const Init init(seed);
    const std::int64_t d = 16, tokens = 17;
    Module encoder = make("Encoder");
    encoder.register_parameter("pos_embedding", init.small({1, tokens, d}), false);
    encoder.register_module("dropout", dropout(0.0));
    encoder.register_module("layers", named_sequential({{"encoder_layer_0", encoder_block(init, d, 2, 32)},
                                                        {"encoder_layer_1", encoder_block(init, d, 2, 32)}}));
    encoder.register_module("ln", layer_norm(init, d));
    encoder.define(R"(
def forward(self, input):
    input = input + self.pos_embedding
    return self.ln.forward(self.layers.forward(self.dropout.forward(input)))
)");
    Module m = make("VisionTransformer");
    m.register_module("conv_proj", conv(init, 3, d, 8, 8, 0, 1, true));
    m.register_parameter("class_token", init.small({1, 1, d}), false);
    m.register_module("encoder", encoder);
    m.register_module("heads", named_sequential({{"head", linear(init, d, 5)}}));
    m.register_attribute("patch_size", c10::IntType::get(), std::int64_t{8});
    m.register_attribute("hidden_dim", c10::IntType::get(), d);
    m.define(R"(
def _process_input(self, x):
    n, c, h, w = x.shape
    p = self.patch_size
    n_h = h // p
    n_w = w // p
    x = self.conv_proj.forward(x)
    x = x.reshape(n, self.hidden_dim, n_h * n_w)
    x = x.permute(0, 2, 1)
    return x
def forward(self, x):
    x = self._process_input(x)
    n = x.shape[0]
    batch_class_token = self.class_token.expand(n, -1, -1)
    x = torch.cat([batch_class_token, x], dim=1)
    x = self.encoder.forward(x)
    x = x[:, 0]
    x = self.heads.forward(x)
    return x
)");
    return m;
}

}  // namespace xai_test::tv
