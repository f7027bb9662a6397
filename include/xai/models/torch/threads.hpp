#pragma once
// LibTorch's and OpenBLAS's thread pools, both set by TorchOptions::threads (set_torch_threads).
//
// Why this exists: Debian's LibTorch runs its convolutions and linear layers as matrix products
// through whatever libblas.so.3 the alternatives system selects (docs/torch.md, "Speed"). With
// OpenBLAS, that library keeps a thread pool of its own — one thread per core, or
// OPENBLAS_NUM_THREADS — which at::set_num_threads does not reach. Two consequences a user
// meets: a model wrapped with threads = 1 still runs its products on every core, and its output
// depends on the batch an image comes in, because OpenBLAS splits a product among its threads by
// the product's size (a random ResNet-18's logits differ by up to 3.3e-6 between the same images
// in a batch of 12 and inside one of 32; by 0 with one OpenBLAS thread).
//
// How: LibTorch does not expose OpenBLAS's interface, and which BLAS sits behind libblas.so.3 is
// decided when the program starts, not when it is built. The two functions are therefore looked
// up by name among the libraries the process has loaded (dlsym with RTLD_DEFAULT). With another
// BLAS (the reference BLAS is single-threaded) they are absent and there is nothing to set.
// Like at::set_num_threads, setting the count is process-wide: do it before model calls run on
// other threads, not while they run.

#include <optional>

#if __has_include(<dlfcn.h>)
#include <dlfcn.h>
#define XAI_HAS_DLSYM 1
#endif

#include <ATen/Parallel.h>

#include "xai/core/error.hpp"

namespace xai::models {

namespace detail {

/// The process's function `name` of type F, or nullptr when no loaded library defines it.
template <class F>
F* loaded_function([[maybe_unused]] const char* name) {
#ifdef XAI_HAS_DLSYM
    // POSIX guarantees that dlsym's result converts to a function pointer (and GCC and Clang
    // accept the conversion without a warning since C++11, where it is conditionally-supported).
    return reinterpret_cast<F*>(dlsym(RTLD_DEFAULT, name));
#else
    return nullptr;
#endif
}

}  // namespace detail

/// OpenBLAS's thread count, or nullopt when the process's BLAS is not OpenBLAS.
inline std::optional<int> blas_threads() {
    auto* get = detail::loaded_function<int()>("openblas_get_num_threads");
    if (get == nullptr) return std::nullopt;
    return get();
}

/// Sets OpenBLAS's thread count, process-wide. Returns false, and does nothing, when the
/// process's BLAS is not OpenBLAS (another BLAS has no pool of its own to set).
inline bool set_blas_threads(int threads) {
    xai::detail::require(threads > 0, "set_blas_threads: threads is ", threads, ", expected a positive count");
    auto* set = detail::loaded_function<void(int)>("openblas_set_num_threads");
    if (set == nullptr) return false;
    set(threads);
    return true;
}

/// Sets LibTorch's intra-op threads (at::set_num_threads) and, when OpenBLAS is the BLAS,
/// OpenBLAS's threads to the same count, process-wide: "one thread" is then one thread.
inline void set_torch_threads(int threads) {
    xai::detail::require(threads > 0, "set_torch_threads: threads is ", threads, ", expected a positive count");
    at::set_num_threads(threads);
    set_blas_threads(threads);
}

}  // namespace xai::models
