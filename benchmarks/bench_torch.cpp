// LibTorch benchmarks (docs/torch.md), every figure a ratio of times measured alternately in the
// same loop, so that the load of a shared machine cancels out:
//
//   gradcam_resnet18   Grad-CAM at layer4 of a ResNet-18 (models/torch/resnet.hpp; random weights) on
//                      one 224×224 image, LibTorch threads = the argument (0 = all cores):
//                        gradcam/layer_gradient      xai::GradCam through TorchModel, over
//                                                    forward + gradient to layer4 in bare torch ops
//                                                    (goal ≤ 1.05)
//                        full_backward/layer_gradient what pytorch-grad-cam runs (parameters that
//                                                    require gradients, one full backward pass)
//                        adapter_forward/bare_forward TorchModel::forward over the module's forward
//   builtin_vs_torch   the built-in CNN (models/sequential.hpp) against the same architecture and
//                      weights in LibTorch (to_torch_sequential), batch 64 and 256, the same
//                      thread count for both:
//                        forward: xai/torch          images/s of xai over images/s of LibTorch
//                        forward_backward: xai/torch the same for a training step's gradient
//                                                    (forward, mean cross-entropy, every parameter
//                                                    gradient): Sequential::objective_gradient
//                                                    against autograd::grad of the loss
//                      (the models issue's goal: at least 0.5).
//   gradients_resnet18 each gradient method (explain/gradients/) through TorchModel on the same
//                      ResNet-18, one LibTorch thread, over the passes it cannot avoid done with
//                      bare torch ops in the same batches: forward + autograd::grad of the
//                      target logit to the input only (parameters frozen: the benchmark fails if
//                      any requires a gradient). The argument picks the method:
//                        0 Saliency, 1 gradient × input, 2 guided backprop, 3 the deconvnet on
//                          4 images (one pass of 4);
//                        4 Guided Grad-CAM on 4 images (one input pass + one pass to layer4);
//                        5 Integrated Gradients, 6 SmoothGrad, 7 GradientSHAP with m = 32 steps /
//                          samples on one image (m input passes in batches of 16).
//                      method/passes is the ratio of thread CPU times (goal ≤ 1.05); for 5–7
//                      method/(passes+forwards) also counts the no-grad forward pass of the image
//                      (its predicted class) and, for IG, of the black baseline (F(x′); GradientSHAP
//                      scores its baseline once, at construction). The guided
//                      rules are charged their hooks: the passes are ordinary backward passes.
//
// Threads: LibTorch's intra-op pool and OpenBLAS's own pool (Debian's LibTorch calls BLAS through
// libblas.so.3, which update-alternatives points at OpenBLAS) are both set with
// xai::models::set_torch_threads, so "1 thread" really is one. The benchmark context
// names the BLAS library actually loaded ("blas").

#include "xai/core/eigen.hpp"  // first: silences GCC 12's false AVX-512 warnings (also reached through LibTorch)

#include <dlfcn.h>

#include <benchmark/benchmark.h>

#include <ctime>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "xai/cam.hpp"
#include "xai/gradients.hpp"
#include "xai/models/builtin.hpp"
#include "torch_support.hpp"
#include "xai/torch.hpp"

namespace {

namespace nn = torch::nn;
using xai_bench::run_children;
using xai_bench::set_bench_threads;

/// The BLAS library that provides sgemm_ in this process (the libblas.so.3 alternative resolved).
std::string blas_library() {
    void* symbol = dlsym(RTLD_DEFAULT, "sgemm_");
    Dl_info info{};
    if (symbol == nullptr || dladdr(symbol, &info) == 0 || info.dli_fname == nullptr) return "unknown";
    std::error_code ec;
    const std::filesystem::path resolved = std::filesystem::canonical(info.dli_fname, ec);
    return ec ? std::string(info.dli_fname) : resolved.string();
}

xai::Batch random_images(std::int64_t n, std::int64_t c, std::int64_t h, std::int64_t w) {
    torch::manual_seed(1);
    return xai::models::to_xtensor<4>(torch::rand({n, c, h, w}));
}

/// The children of a Sequential from `first` (inclusive) to `last` (exclusive), in bare torch.
void gradcam_resnet18(benchmark::State& state) {
    const int threads = set_bench_threads(state.range(0));
    nn::Sequential net = xai::models::torch_resnet();  // ResNet-18, torchvision's layout
    xai::models::TorchOptions options;
    options.input_shape = {3, 224, 224};
    const xai::models::TorchModel model(net, options);
    const xai::GradCam<xai::models::TorchModel> grad_cam(model, {.layer = "layer4", .threads = 1});
    const xai::Batch batch = random_images(1, 3, 224, 224);
    const torch::Tensor x = xai::models::as_torch(batch);
    const std::size_t split = 8;  // conv1, bn1, relu, maxpool, layer1–4 | avgpool, flatten, fc
    const std::size_t total = net->size();

    // Forward + gradient to layer4 with bare torch ops: no graph below layer4, no parameter
    // gradients (the parameters are frozen), no input gradient.
    auto layer_gradient = [&] { return xai_bench::bare_layer_gradient(net, x, split); };
    // pytorch-grad-cam: parameters require gradients, the layer's activations are kept with
    // their gradient, and one full backward pass runs from the target score.
    auto full_backward = [&] {
        for (auto& p : net->parameters()) p.requires_grad_(true);
        torch::Tensor a = run_children(net, x, 0, split);
        a.retain_grad();
        const torch::Tensor logits = run_children(net, a, split, total);
        const torch::Tensor seed = torch::zeros_like(logits).scatter_(1, logits.argmax(1, true), 1.0);
        logits.backward(seed);
        torch::Tensor g = a.grad();
        for (auto& p : net->parameters()) {
            p.mutable_grad() = torch::Tensor();
            p.requires_grad_(false);
        }
        return g;
    };
    auto bare_forward = [&] {
        torch::NoGradGuard no_grad;
        return net->forward(x);
    };

    const auto [t_layer, t_gradcam, t_full, t_adapter, t_bare] = xai_bench::time_interleaved<5>(
        state, {[&] { benchmark::DoNotOptimize(layer_gradient()); }, [&] { benchmark::DoNotOptimize(grad_cam.explain(batch)); },
                [&] { benchmark::DoNotOptimize(full_backward()); }, [&] { benchmark::DoNotOptimize(model.forward(batch)); },
                [&] { benchmark::DoNotOptimize(bare_forward()); }});
    const double n = static_cast<double>(state.iterations());
    state.counters["threads"] = threads;
    state.counters["gradcam_ms"] = 1e3 * t_gradcam / n;
    state.counters["layer_gradient_ms"] = 1e3 * t_layer / n;
    state.counters["full_backward_ms"] = 1e3 * t_full / n;
    state.counters["gradcam/layer_gradient"] = t_gradcam / t_layer;
    state.counters["full_backward/layer_gradient"] = t_full / t_layer;
    state.counters["full_backward/gradcam"] = t_full / t_gradcam;
    state.counters["adapter_forward/bare_forward"] = t_adapter / t_bare;
}

void builtin_vs_torch(benchmark::State& state, const std::string& name) {
    const auto n = static_cast<std::size_t>(state.range(0));
    const int threads = set_bench_threads(state.range(1));
    xai::models::Sequential builtin = xai::models::builtin_architecture(name, 1);
    builtin.set_num_threads(static_cast<std::size_t>(threads));
    nn::Sequential net = xai::models::to_torch_sequential(builtin);
    net->eval();
    const xai::ImageShape s = builtin.input_shape();
    const xai::Batch batch = random_images(static_cast<std::int64_t>(n), static_cast<std::int64_t>(s.channels),
                                           static_cast<std::int64_t>(s.height), static_cast<std::int64_t>(s.width));
    xai::Labels labels(n);
    for (std::size_t i = 0; i < n; ++i) labels[i] = i % builtin.num_classes();
    const torch::Tensor x = xai::models::as_torch(batch);
    const torch::Tensor target = torch::tensor(std::vector<std::int64_t>(labels.begin(), labels.end()));
    std::vector<torch::Tensor> params = net->parameters();
    std::vector<float> gradient(builtin.num_parameters());

    {  // The two are the same function: their logits agree to float rounding.
        torch::NoGradGuard no_grad;
        const double difference =
            (xai::models::as_torch(builtin.forward(batch)) - net->forward(x)).abs().max().item<double>();
        state.counters["max_logit_difference"] = difference;
    }
    auto torch_forward = [&] {
        torch::NoGradGuard no_grad;
        return net->forward(x);
    };
    auto torch_training_gradient = [&] {
        const torch::Tensor loss = torch::nn::functional::cross_entropy(net->forward(x), target);
        return torch::autograd::grad({loss}, params);
    };

    const auto [t_xai_f, t_torch_f, t_xai_fb, t_torch_fb] = xai_bench::time_interleaved<4>(
        state, {[&] { benchmark::DoNotOptimize(builtin.forward(batch)); }, [&] { benchmark::DoNotOptimize(torch_forward()); },
                [&] { benchmark::DoNotOptimize(builtin.objective_gradient(batch, labels, gradient)); },
                [&] { benchmark::DoNotOptimize(torch_training_gradient()); }});
    const double images = static_cast<double>(n) * static_cast<double>(state.iterations());
    state.counters["threads"] = threads;
    state.counters["xai_forward_images/s"] = images / t_xai_f;
    state.counters["torch_forward_images/s"] = images / t_torch_f;
    state.counters["xai_forward_backward_images/s"] = images / t_xai_fb;
    state.counters["torch_forward_backward_images/s"] = images / t_torch_fb;
    state.counters["forward: xai/torch"] = t_torch_f / t_xai_f;
    state.counters["forward_backward: xai/torch"] = t_torch_fb / t_xai_fb;
}

/// CPU time of the calling thread spent in f, in seconds.
double thread_seconds(const std::function<void()>& f) {
    timespec start{}, stop{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &start);
    f();
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &stop);
    return static_cast<double>(stop.tv_sec - start.tv_sec) + 1e-9 * static_cast<double>(stop.tv_nsec - start.tv_nsec);
}

/// forward + gradient of each row's predicted logit to the input only, with bare torch ops.
torch::Tensor input_gradient_pass(nn::Sequential& net, const torch::Tensor& x) {
    const torch::Tensor leaf = x.detach().requires_grad_(true);
    const torch::Tensor logits = net->forward(leaf);
    const torch::Tensor seed = torch::zeros_like(logits).scatter_(1, logits.argmax(1, true), 1.0);
    return torch::autograd::grad({logits}, {leaf}, {seed})[0];
}

/// forward + gradient of each row's predicted logit to layer4's activations only.
torch::Tensor layer4_gradient_pass(nn::Sequential& net, const torch::Tensor& x) {
    const std::size_t split = 8;  // conv1, bn1, relu, maxpool, layer1–4 | avgpool, flatten, fc
    return xai_bench::bare_layer_gradient(net, x, split);
}

void gradients_resnet18(benchmark::State& state) {
    using Model = xai::models::TorchModel;
    const int threads = set_bench_threads(1);
    nn::Sequential net = xai::models::torch_resnet();  // ResNet-18, torchvision's layout, random weights
    xai::models::TorchOptions options;
    options.input_shape = {3, 224, 224};
    const Model model(net, options);
    for (const torch::Tensor& p : net->parameters())
        if (p.requires_grad()) state.SkipWithError("a parameter requires a gradient");
    constexpr std::size_t m = 32, batch = 16, images = 4;
    const xai::Batch four = random_images(images, 3, 224, 224), one = random_images(1, 3, 224, 224);
    const torch::Tensor x4 = xai::models::as_torch(four), x1 = xai::models::as_torch(one);
    const torch::Tensor path = x1.expand({batch, 3, 224, 224}).contiguous();  // m rows in batches of 16

    const std::int64_t which = state.range(0);
    std::function<void()> method;
    std::function<void()> passes = [&] { benchmark::DoNotOptimize(input_gradient_pass(net, x4)); };
    const std::vector<std::string> names{"Saliency", "gradient x input", "guided backprop", "deconvnet", "Guided Grad-CAM",
                                         "Integrated Gradients", "SmoothGrad", "GradientSHAP"};
    const xai::Saliency<Model> saliency(model, {.threads = 1});
    const xai::GradientTimesInput<Model> gxi(model, {.threads = 1});
    const xai::GuidedBackprop<Model> guided(model, {.threads = 1});
    const xai::Deconvolution<Model> deconv(model, {.threads = 1});
    const xai::GuidedGradCam<Model> ggc(model, {.cam = {.layer = "layer4", .threads = 1}, .threads = 1});
    const xai::IntegratedGradients<Model> ig(model, {.steps = m, .batch_size = batch, .threads = 1});
    const xai::NoiseTunnel<xai::Saliency<Model>> sg(model, {.method = {.batch_size = batch, .threads = 1}, .noise = {.samples = m}});
    const xai::GradientShap<Model> shap(model, {.samples = m, .batch_size = batch, .threads = 1});
    switch (which) {
        case 0: method = [&] { benchmark::DoNotOptimize(saliency.explain(four).attributions.data()); }; break;
        case 1: method = [&] { benchmark::DoNotOptimize(gxi.explain(four).attributions.data()); }; break;
        case 2: method = [&] { benchmark::DoNotOptimize(guided.explain(four).attributions.data()); }; break;
        case 3: method = [&] { benchmark::DoNotOptimize(deconv.explain(four).attributions.data()); }; break;
        case 4:
            method = [&] { benchmark::DoNotOptimize(ggc.explain(four).attributions.data()); };
            passes = [&] {
                benchmark::DoNotOptimize(input_gradient_pass(net, x4));
                benchmark::DoNotOptimize(layer4_gradient_pass(net, x4));
            };
            break;
        default:
            if (which == 5) method = [&] { benchmark::DoNotOptimize(ig.explain(one).attributions.data()); };
            if (which == 6) method = [&] { benchmark::DoNotOptimize(sg.explain(one).attributions.data()); };
            if (which == 7) method = [&] { benchmark::DoNotOptimize(shap.explain(one).attributions.data()); };
            passes = [&] {
                for (std::size_t done = 0; done < m; done += batch) benchmark::DoNotOptimize(input_gradient_pass(net, path));
            };
    }
    // What the one-image methods also run besides their m passes: a forward pass of the image
    // (its predicted class) and, for IG, one of the black baseline (F(x′) of the
    // completeness report).
    const std::function<void()> forwards = [&] {
        torch::NoGradGuard no_grad;
        benchmark::DoNotOptimize(net->forward(x1));
        if (which == 5) benchmark::DoNotOptimize(net->forward(torch::zeros_like(x1)));
    };
    state.SetLabel(names.at(static_cast<std::size_t>(which)));
    double t_method = 0, t_passes = 0, t_forwards = 0;
    std::size_t round = 0;
    for (auto _ : state) {
        // Alternating, the order swapped every round; thread CPU time, since everything runs on
        // this thread (one LibTorch and OpenBLAS thread, explainers with threads = 1), so the
        // other jobs of a shared machine do not count.
        for (std::size_t k = 0; k < 2; ++k) {
            if ((k + round) % 2 == 0) {
                t_method += thread_seconds(method);
            } else {
                t_passes += thread_seconds(passes);
            }
        }
        if (which >= 5) t_forwards += thread_seconds(forwards);
        ++round;
    }
    const double n = static_cast<double>(state.iterations());
    state.counters["threads"] = threads;
    state.counters["method_ms"] = 1e3 * t_method / n;
    state.counters["passes_ms"] = 1e3 * t_passes / n;
    state.counters["method/passes"] = t_method / t_passes;
    if (which >= 5) state.counters["method/(passes+forwards)"] = t_method / (t_passes + t_forwards);
}

[[maybe_unused]] const bool context_added = [] {
    benchmark::AddCustomContext("blas", blas_library());
    benchmark::AddCustomContext("libtorch", TORCH_VERSION);
    return true;
}();

}  // namespace

// Argument: LibTorch threads (0 = all cores).
BENCHMARK(gradcam_resnet18)->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMillisecond)->MinTime(2.0);
// Arguments: {batch size, threads (0 = all cores)}.
BENCHMARK_CAPTURE(builtin_vs_torch, fashion, std::string("fashion"))
    ->Args({64, 1})->Args({64, 2})->Args({256, 1})->Args({256, 2})->UseRealTime()->Unit(benchmark::kMillisecond)->MinTime(2.0);
BENCHMARK_CAPTURE(builtin_vs_torch, scenes, std::string("scenes"))
    ->Args({64, 1})->Args({64, 2})->Args({256, 1})->Args({256, 2})->UseRealTime()->Unit(benchmark::kMillisecond)->MinTime(2.0);
// Argument: the method (see the header comment); one LibTorch thread.
BENCHMARK(gradients_resnet18)->DenseRange(0, 4)->Unit(benchmark::kMillisecond)->Iterations(16);
BENCHMARK(gradients_resnet18)->DenseRange(5, 7)->Unit(benchmark::kMillisecond)->Iterations(4);
