#pragma once
// The one random engine of xai and how seeds become streams.
//
// Determinism contract: every random choice in xai comes from an Rng built by
// `Rng::stream(seed, index)`, where `seed` is the user's option and `index` numbers the unit
// of work (a mask, a perturbed sample, a repeat). A unit's random numbers therefore depend
// only on (seed, index), never on which thread runs it or in which batch it falls: results
// are identical bit for bit for any thread count and any batch size.
//
// The engine is xoshiro256** (Blackman & Vigna 2018), seeded through SplitMix64. The
// distributions below are written out here rather than taken from <random>, whose
// distributions differ between standard libraries.

#include <cmath>
#include <cstdint>
#include <limits>

namespace xai {

/// The random engine of xai: xoshiro256** (Blackman & Vigna 2018) seeded through SplitMix64,
/// with hand-written distributions so results are identical across standard libraries.
///
/// Every random choice in xai comes from `Rng::stream(seed, index)`, where `seed` is the
/// user's option and `index` numbers the unit of work (a mask, a perturbed sample, a repeat),
/// so results are bit-identical for any thread count and batch size. Satisfies
/// std::uniform_random_bit_generator.
class Rng {
public:
    /// The type of the raw 64-bit outputs.
    using result_type = std::uint64_t;

    /// An engine seeded from a single 64-bit value.
    explicit Rng(std::uint64_t seed = 0) {
        std::uint64_t x = seed;
        for (auto& word : state_) word = splitmix64(x);
    }

    /// The engine for unit of work `index` under user seed `seed` (see the contract above).
    static Rng stream(std::uint64_t seed, std::uint64_t index) {
        std::uint64_t x = seed ^ 0x6a09e667f3bcc909ULL;
        const std::uint64_t mixed_seed = splitmix64(x);
        std::uint64_t y = index + 0xbb67ae8584caa73bULL;
        return Rng(mixed_seed ^ splitmix64(y));
    }

    /// The smallest value operator()() returns: 0.
    static constexpr result_type min() { return 0; }
    /// The largest value operator()() returns: 2^64 − 1.
    static constexpr result_type max() { return std::numeric_limits<result_type>::max(); }

    /// The next 64 random bits.
    result_type operator()() {
        const std::uint64_t result = rotl(state_[1] * 5, 7) * 9;
        const std::uint64_t t = state_[1] << 17;
        state_[2] ^= state_[0];
        state_[3] ^= state_[1];
        state_[1] ^= state_[2];
        state_[0] ^= state_[3];
        state_[2] ^= t;
        state_[3] = rotl(state_[3], 45);
        return result;
    }

    /// Uniform in [0, 1) with 53 random bits.
    double uniform() { return static_cast<double>((*this)() >> 11) * 0x1.0p-53; }

    /// Uniform in [0, 1) with 24 random bits (every float in the grid k/2^24 equally likely).
    float uniform_float() { return static_cast<float>((*this)() >> 40) * 0x1.0p-24f; }

    /// Uniform in [lo, hi).
    double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }

    /// Uniform integer in [0, n) without modulo bias (rejection of the 2^64 mod n lowest
    /// values). n must be > 0.
    std::uint64_t uniform_index(std::uint64_t n) {
        const std::uint64_t threshold = (0 - n) % n;
        std::uint64_t r = (*this)();
        while (r < threshold) r = (*this)();
        return r % n;
    }

    /// True with probability p (p outside [0,1] is clamped by the comparison).
    bool bernoulli(double p) { return uniform() < p; }

    /// Standard normal by the Box–Muller transform (one of the pair is discarded so that the
    /// engine's position depends only on the number of calls).
    double normal() {
        double u1 = uniform();
        while (u1 <= 0.0) u1 = uniform();
        const double u2 = uniform();
        return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
    }

    /// Normal with the given mean and standard deviation.
    double normal(double mean, double stddev) { return mean + stddev * normal(); }

private:
    static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

    static std::uint64_t splitmix64(std::uint64_t& x) {
        std::uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
    }

    std::uint64_t state_[4]{};
};

}  // namespace xai
