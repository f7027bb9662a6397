#pragma once
// A minimal, deterministic parallel loop.
//
// parallel_for(n, threads, body) calls body(i) for every i in [0, n) on up to `threads`
// threads (0 = all hardware threads). Indices are split into contiguous chunks, so work that
// writes to slot i of an output is race-free and its result does not depend on the thread
// count. The first exception thrown by any body is rethrown in the caller after all threads
// have joined. Reductions must not be done across threads here: write per-index results and
// reduce them in index order afterwards, which keeps results bit-for-bit reproducible.

#include <algorithm>
#include <cstddef>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace xai {

/// Requests for more threads than this (or than the machine's hardware threads, if more) are
/// clamped to it: every result is independent of the thread count, so clamping changes nothing
/// but time, and an absurd option value (2^63 threads, found by fuzz_explainer_options) must
/// not size per-thread buffers or spawn threads without bound.
inline constexpr std::size_t thread_request_ceiling = 256;

/// The number of threads that `threads` (0 = all) resolves to on this machine: at least 1,
/// at most max(256, hardware threads).
inline std::size_t resolve_threads(std::size_t threads) {
    const unsigned reported = std::thread::hardware_concurrency();
    const std::size_t hardware = reported == 0 ? 1 : reported;
    if (threads == 0) return hardware;
    return std::min(threads, std::max(thread_request_ceiling, hardware));
}

/// Calls body(i) for every i in [0, n) on up to `threads` threads (0 = all hardware threads),
/// in contiguous chunks; the first exception thrown by a body is rethrown after all threads
/// have joined. Write per-index results and reduce them in index order afterwards to keep
/// results independent of the thread count.
template <class Body>
void parallel_for(std::size_t n, std::size_t threads, Body&& body) {
    const std::size_t workers = std::min(resolve_threads(threads), n);
    if (workers <= 1) {
        for (std::size_t i = 0; i < n; ++i) body(i);
        return;
    }
    std::exception_ptr failure;
    std::mutex failure_mutex;
    auto run_chunk = [&](std::size_t worker) {
        const std::size_t begin = n * worker / workers;
        const std::size_t end = n * (worker + 1) / workers;
        try {
            for (std::size_t i = begin; i < end; ++i) body(i);
        } catch (...) {
            std::lock_guard<std::mutex> lock(failure_mutex);
            if (!failure) failure = std::current_exception();
        }
    };
    std::vector<std::thread> pool;
    pool.reserve(workers - 1);
    for (std::size_t w = 1; w < workers; ++w) pool.emplace_back(run_chunk, w);
    run_chunk(0);
    for (auto& t : pool) t.join();
    if (failure) std::rethrow_exception(failure);
}

}  // namespace xai
