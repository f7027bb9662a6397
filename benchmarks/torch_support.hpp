#pragma once
// What the LibTorch benchmarks (bench_torch, bench_torchscript) share: the thread setup, the
// bare-torch layer gradient that Grad-CAM is measured against, and the interleaved timing loop
// their ratios come from.

#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <thread>

#include <benchmark/benchmark.h>

#include "xai/torch.hpp"

namespace xai_bench {

/// LibTorch's and OpenBLAS's thread pools both set to `threads` — 0 = all cores, the benchmarks'
/// argument convention (xai::models::set_torch_threads itself wants a positive count) — so that
/// "1 thread" really is one. Returns the count set.
inline int set_bench_threads(std::int64_t threads) {
    const int n = threads == 0 ? static_cast<int>(std::max(1u, std::thread::hardware_concurrency())) : static_cast<int>(threads);
    xai::models::set_torch_threads(n);
    return n;
}

/// The children [first, last) of a Sequential applied to x in order.
inline torch::Tensor run_children(torch::nn::Sequential& net, torch::Tensor x, std::size_t first, std::size_t last) {
    for (std::size_t i = first; i < last; ++i) x = (net->begin() + static_cast<std::ptrdiff_t>(i))->forward(x);
    return x;
}

/// The least any Grad-CAM can do, in bare torch ops: the children below `split` without autograd,
/// the rest from a leaf, and autograd::grad of each row's top logit with respect to that leaf (no
/// parameter gradient, no input gradient). Returns the gradient at the split.
inline torch::Tensor bare_layer_gradient(torch::nn::Sequential& net, const torch::Tensor& x, std::size_t split) {
    torch::Tensor a;
    {
        torch::NoGradGuard no_grad;
        a = run_children(net, x, 0, split);
    }
    const torch::Tensor leaf = a.detach().requires_grad_(true);
    const torch::Tensor logits = run_children(net, leaf, split, net->size());
    const torch::Tensor seed = torch::zeros_like(logits).scatter_(1, logits.argmax(1, true), 1.0);
    return torch::autograd::grad({logits}, {leaf}, {seed})[0];
}

/// Runs every method once per benchmark iteration and returns each one's total wall seconds. The
/// order rotates from one iteration to the next, so that no method always runs on a warm (or
/// cold) cache, and the methods share whatever load the machine has: their ratios cancel it.
template <std::size_t N>
std::array<double, N> time_interleaved(benchmark::State& state, const std::array<std::function<void()>, N>& methods) {
    using clock = std::chrono::steady_clock;
    std::array<double, N> seconds{};
    std::size_t round = 0;
    for (auto _ : state) {
        for (std::size_t k = 0; k < N; ++k) {
            const std::size_t m = (k + round) % N;
            const auto start = clock::now();
            methods[m]();
            seconds[m] += std::chrono::duration<double>(clock::now() - start).count();
        }
        ++round;
    }
    return seconds;
}

}  // namespace xai_bench
