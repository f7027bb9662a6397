// ONNX forward throughput through the adapter (OnnxModel, OpenCV's DNN module) against LibTorch
// (TorchModel) on the same network: ResNet-18 (models/torch/resnet.hpp, torchvision's layout,
// random weights) at 224×224, exported with export_onnx (docs/onnx.md). Times are measured
// alternately in the same loop so that the load of a shared machine cancels out:
//
//   onnx_images/s, torch_images/s   forward passes of a batch of N images
//   onnx/torch                      the ratio of the two throughputs (> 1: ONNX is faster)
//   max_logit_difference            max |logit_onnx − logit_torch| / (1 + max |logit_torch|) on the
//                                   benchmark's batch: the two runtimes agree to float rounding
//
// Arguments: {batch size N, threads}. Both runtimes get the same thread count: LibTorch's
// intra-op pool and OpenBLAS's with at::set_num_threads / openblas_set_num_threads, OpenCV's
// with cv::setNumThreads.

#include "xai/core/eigen.hpp"  // first: silences GCC 12's false AVX-512 warnings (also reached through LibTorch)

#include <dlfcn.h>

#include <benchmark/benchmark.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include <ATen/Parallel.h>
#include <opencv2/core.hpp>

#include "xai/models/onnx/export_torch.hpp"
#include "xai/onnx.hpp"
#include "xai/torch.hpp"

namespace {

using clock_type = std::chrono::steady_clock;

double seconds_between(clock_type::time_point a, clock_type::time_point b) {
    return std::chrono::duration<double>(b - a).count();
}

int set_threads(std::int64_t threads) {
    const int n = threads == 0 ? static_cast<int>(std::max(1u, std::thread::hardware_concurrency())) : static_cast<int>(threads);
    at::set_num_threads(n);
    using SetThreads = void (*)(int);
    if (void* f = dlsym(RTLD_DEFAULT, "openblas_set_num_threads")) reinterpret_cast<SetThreads>(f)(n);
    cv::setNumThreads(n);
    return n;
}

void onnx_vs_torch_resnet18(benchmark::State& state) {
    const auto n = static_cast<std::size_t>(state.range(0));
    const int threads = set_threads(state.range(1));
    torch::nn::Sequential net = xai::models::torch_resnet();
    net->eval();
    const xai::ImageShape shape{3, 224, 224};
    const std::filesystem::path file = std::filesystem::temp_directory_path() / "xai_bench_resnet18.onnx";
    xai::models::export_onnx(net, shape, file);
    xai::models::OnnxOptions onnx_options;
    onnx_options.batch_size = n;
    const xai::models::OnnxModel onnx = xai::models::OnnxModel::load(file, onnx_options);
    std::filesystem::remove(file);
    xai::models::TorchOptions torch_options;
    torch_options.input_shape = shape;
    const xai::models::TorchModel torch_model(net, torch_options);

    torch::manual_seed(3);
    const xai::Batch batch = xai::models::to_xtensor<4>(torch::rand({static_cast<std::int64_t>(n), 3, 224, 224}));
    {
        const xai::Scores a = onnx.forward(batch), b = torch_model.forward(batch);
        double diff = 0.0, scale = 0.0;
        for (std::size_t i = 0; i < a.size(); ++i) {
            diff = std::max(diff, std::abs(double(a.data()[i]) - double(b.data()[i])));
            scale = std::max(scale, std::abs(double(b.data()[i])));
        }
        state.counters["max_logit_difference"] = diff / (1.0 + scale);
    }
    double t_onnx = 0, t_torch = 0;
    std::size_t round = 0;
    for (auto _ : state) {
        for (std::size_t k = 0; k < 2; ++k) {
            const auto t0 = clock_type::now();
            if ((k + round) % 2 == 0) {
                benchmark::DoNotOptimize(onnx.forward(batch));
                t_onnx += seconds_between(t0, clock_type::now());
            } else {
                benchmark::DoNotOptimize(torch_model.forward(batch));
                t_torch += seconds_between(t0, clock_type::now());
            }
        }
        ++round;
    }
    const double images = static_cast<double>(n) * static_cast<double>(state.iterations());
    state.counters["threads"] = threads;
    state.counters["onnx_images/s"] = images / t_onnx;
    state.counters["torch_images/s"] = images / t_torch;
    state.counters["onnx/torch"] = t_torch / t_onnx;
}

[[maybe_unused]] const bool context_added = [] {
    benchmark::AddCustomContext("libtorch", TORCH_VERSION);
    benchmark::AddCustomContext("opencv", CV_VERSION);
    return true;
}();

}  // namespace

// Arguments: {batch size, threads}. A few iterations: a batch of 16 at 224² takes seconds.
BENCHMARK(onnx_vs_torch_resnet18)->Args({1, 1})->Args({16, 1})->UseRealTime()->Unit(benchmark::kMillisecond)->MinTime(3.0);
