// The rewritten-graph path of TorchModel::load (models/torch/script.hpp) on a plain scripted
// ResNet-18 (torchvision's layout and names, random weights, 224×224, float32), every figure a
// ratio of times measured alternately in the same loop, so that the load of a shared machine
// cancels out (docs/torch.md):
//
//   script_layer_gradient/bare_layer_gradient
//       TorchModel::layer_gradients(batch, "layer4", seed) on the scripted file — what Grad-CAM
//       asks of the model: the prefix graph under NoGradGuard, the suffix from a leaf, autograd
//       to layer4 only — over the same computation in bare torch ops on the C++ ResNet-18 of
//       models/torch/resnet.hpp (forward to layer4 without autograd, the head from a leaf,
//       torch::autograd::grad). The goal: ≤ 1.05.
//   script_layer_gradient/script_forward
//       the same over one plain forward of the scripted module (module.forward, no autograd):
//       what the gradient to layer4 adds to a forward pass.
//   adapter_forward/script_forward
//       TorchModel::forward over the module's own forward: the adapter's overhead.
//   script_forward/bare_forward
//       the TorchScript interpreter against the C++ frontend on the same architecture.
//
// LibTorch and OpenBLAS are set to the argument's thread count (see bench_torch.cpp).

#include "xai/core/eigen.hpp"  // first: silences GCC 12's false AVX-512 warnings (also reached through LibTorch)

#include <benchmark/benchmark.h>

#include <filesystem>

#include "torch_support.hpp"
#include "torchscript_fixtures.hpp"
#include "xai/core/scores.hpp"
#include <xtensor/xsort.hpp>
#include <xtensor/xview.hpp>
#include "xai/torch.hpp"

namespace {

namespace nn = torch::nn;
using xai_bench::set_bench_threads;

void gradcam_scripted_resnet18(benchmark::State& state) {
    const int threads = set_bench_threads(state.range(0));
    // The scripted ResNet-18, saved and loaded back as a user's file would be.
    const std::filesystem::path file = std::filesystem::temp_directory_path() / "xai_bench_resnet18_script.pt";
    {
        torch::jit::Module m = xai_test::tv::resnet(1, {64, 128, 256, 512}, {2, 2, 2, 2}, 1000);
        m.to(torch::kFloat32);
        m.save(file.string());
    }
    torch::jit::Module script = torch::jit::load(file.string());
    script.eval();
    xai::models::TorchOptions options;
    options.input_shape = {3, 224, 224};
    const xai::models::TorchModel model = xai::models::TorchModel::load(file, options);
    std::filesystem::remove(file);

    nn::Sequential net = xai::models::torch_resnet();  // the C++ ResNet-18 for the bare reference
    net->eval();
    for (auto& p : net->parameters()) p.requires_grad_(false);
    const std::size_t split = 8;  // conv1 … layer4 | avgpool, flatten, fc

    torch::manual_seed(2);
    const xai::Batch batch = xai::models::to_xtensor<4>(torch::rand({1, 3, 224, 224}));
    const torch::Tensor x = xai::models::as_torch(batch);
    const xai::ScoreSeed seed = [](const xai::Scores& logits) {  // the predicted class, as Grad-CAM's default
        std::vector<std::size_t> predicted(logits.shape(0));
        for (std::size_t i = 0; i < predicted.size(); ++i)
            predicted[i] = static_cast<std::size_t>(xt::argmax(xt::view(logits, i))());
        return xai::target_score_gradient(logits, predicted, xai::ScoreKind::logit);
    };

    auto bare_layer_gradient = [&] { return xai_bench::bare_layer_gradient(net, x, split); };
    auto script_forward = [&] {
        torch::NoGradGuard no_grad;
        return script.forward({x}).toTensor();
    };
    auto bare_forward = [&] {
        torch::NoGradGuard no_grad;
        return net->forward(x);
    };

    const auto [t_script_grad, t_bare_grad, t_script_fwd, t_adapter_fwd, t_bare_fwd] = xai_bench::time_interleaved<5>(
        state, {[&] { benchmark::DoNotOptimize(model.layer_gradients(batch, "layer4", seed)); },
                [&] { benchmark::DoNotOptimize(bare_layer_gradient()); }, [&] { benchmark::DoNotOptimize(script_forward()); },
                [&] { benchmark::DoNotOptimize(model.forward(batch)); }, [&] { benchmark::DoNotOptimize(bare_forward()); }});
    const double n = static_cast<double>(state.iterations());
    state.counters["threads"] = threads;
    state.counters["script_layer_gradient_ms"] = 1e3 * t_script_grad / n;
    state.counters["bare_layer_gradient_ms"] = 1e3 * t_bare_grad / n;
    state.counters["script_forward_ms"] = 1e3 * t_script_fwd / n;
    state.counters["script_layer_gradient/bare_layer_gradient"] = t_script_grad / t_bare_grad;
    state.counters["script_layer_gradient/script_forward"] = t_script_grad / t_script_fwd;
    state.counters["adapter_forward/script_forward"] = t_adapter_fwd / t_script_fwd;
    state.counters["script_forward/bare_forward"] = t_script_fwd / t_bare_fwd;
}

[[maybe_unused]] const bool context_added = [] {
    benchmark::AddCustomContext("libtorch", TORCH_VERSION);
    return true;
}();

}  // namespace

// Argument: LibTorch threads (0 = all cores). The first iterations also pay the TorchScript
// executor's profiling runs; MinTime keeps them a small share.
BENCHMARK(gradcam_scripted_resnet18)->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMillisecond)->MinTime(5.0);
