// What every fuzz target shares: reading typed values from libFuzzer's bytes, biased toward
// the values that break code (0, 1, the largest sizes, NaN, ±Inf, denormals, huge and tiny
// magnitudes), and the one rule every target enforces: a call may throw only an xai::error.
#pragma once

#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <limits>
#include <span>

#include "xai/core/error.hpp"

namespace fuzz {

/// Reads values from the fuzzer's bytes front to back; an exhausted input reads zeros, so every
/// input, however short, describes one complete call.
class Input {
public:
    Input(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}

    bool empty() const { return pos_ >= size_; }
    std::size_t remaining() const { return size_ - pos_; }
    std::span<const std::uint8_t> rest() const { return {data_ + pos_, size_ - pos_}; }

    std::uint8_t byte() { return pos_ < size_ ? data_[pos_++] : 0; }
    bool flag() { return (byte() & 1u) != 0; }

    template <class T>
    T raw() {
        unsigned char bytes[sizeof(T)] = {};
        for (auto& b : bytes) b = byte();
        T value;
        std::memcpy(&value, bytes, sizeof(T));
        return value;
    }

    /// A value in [lo, hi] (inclusive), for quantities whose cost is the caller's choice
    /// (image sides, mask counts): fuzzing them unbounded would only measure patience.
    std::size_t in_range(std::size_t lo, std::size_t hi) {
        const std::size_t span = hi - lo + 1;
        return lo + static_cast<std::size_t>(raw<std::uint16_t>()) % span;
    }

    /// A count or size option: mostly small, sometimes one of the values that overflow
    /// arithmetic on sizes (SIZE_MAX, 2^63, 2^32, …).
    std::size_t size() {
        static constexpr std::array<std::size_t, 8> hostile = {
            0, 1, std::numeric_limits<std::size_t>::max(), std::numeric_limits<std::size_t>::max() - 1,
            std::size_t{1} << 63, std::size_t{1} << 32, (std::size_t{1} << 32) - 1, std::size_t{1} << 31};
        const std::uint8_t kind = byte();
        if (kind < 200) return kind % 17;
        if (kind < 240) return hostile[kind % hostile.size()];
        return raw<std::size_t>();
    }

    /// A real option: mostly a plain value, often a special one (0, −0, ±1, NaN, ±Inf,
    /// denormal, 1e±300), sometimes raw bits.
    double real() {
        static constexpr std::array<double, 16> special = {
            0.0, -0.0, 1.0, -1.0, 0.5, 2.0, 10.0, 1e-6, 1e6, 1e-300, 1e300, 5e-324,
            std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::infinity(),
            -std::numeric_limits<double>::infinity(), std::numeric_limits<double>::max()};
        const std::uint8_t kind = byte();
        if (kind < 128) return static_cast<double>(kind) / 16.0;  // 0 … 7.94
        if (kind < 224) return special[kind % special.size()];
        return raw<double>();
    }

    /// A pixel value: mostly in [0, 1], sometimes far outside it or not finite.
    float pixel() {
        const std::uint8_t kind = byte();
        if (kind < 250) return static_cast<float>(kind) / 249.0f;
        switch (kind) {
            case 250: return std::numeric_limits<float>::quiet_NaN();
            case 251: return std::numeric_limits<float>::infinity();
            case 252: return -1e30f;
            case 253: return 1e30f;
            case 254: return std::numeric_limits<float>::denorm_min();
            default: return raw<float>();
        }
    }

private:
    const std::uint8_t* data_;
    std::size_t size_;
    std::size_t pos_ = 0;
};

/// Stops the fuzzer with a message: a broken invariant is a finding, like a crash.
[[noreturn]] inline void fail(const char* what) {
    std::fprintf(stderr, "fuzz invariant broken: %s\n", what);
    std::abort();
}

inline void check(bool condition, const char* what) {
    if (!condition) fail(what);
}

/// Runs `call`; an xai::error is an accepted answer to bad input, any other exception is a
/// finding (libFuzzer reports the abort with the input that caused it).
template <class Call>
bool accepts(Call&& call) {
    try {
        call();
        return true;
    } catch (const xai::error&) {
        return false;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "non-xai exception escaped: %s\n", e.what());
        std::abort();
    }
}

}  // namespace fuzz
