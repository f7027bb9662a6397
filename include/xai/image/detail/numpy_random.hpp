#pragma once
// NumPy's default random generator, numpy.random.default_rng(seed), far enough to draw what
// scikit-image's quickshift draws: Generator.normal(). Used by quickshift's seeded-noise tie rule
// (image/quickshift.hpp), which must add exactly the noise skimage adds to reproduce its segments.
//
// Read from NumPy's sources (numpy/random/bit_generator.pyx, _pcg64.pyx, src/pcg64/pcg64.h,
// src/distributions/distributions.c, ziggurat_constants.h), NumPy 1.17 and later:
//   SeedSequence(seed)    the entropy (seed as little-endian 32-bit words) hashed into a pool of
//                         four 32-bit words (hashmix / mix with O'Neill's seed_seq_fe constants);
//                         generate_state(4, uint64) hashes the pool cyclically into 8 words
//   PCG64                 a 128-bit LCG (multiplier 0x2360ed051fc65da4_4385df649fccf645) seeded as
//                         pcg_setseq_128_srandom_r(state = words 0–1, sequence = words 2–3), each
//                         output the XSL-RR of the advanced state
//   standard_normal       the 256-layer ziggurat of Marsaglia and Tsang (r = 3.6541528853610088,
//                         layer area v = 0.00492867323399) on 64-bit draws: 8 bits of layer, 1 of
//                         sign, 52 of magnitude; the tail and wedges as NumPy does them
// The ziggurat tables are computed here by Marsaglia and Tsang's recurrence in long double, with
// the layer area v = r·f(r) + ∫_r^∞ f from r; NumPy stores tables computed once elsewhere, and
// the two differ in the last bits. So the uniforms (PCG64) are NumPy's bit for bit, and a normal
// draw equals NumPy's to a relative 2e-14 (measured on 200,000 draws of default_rng(42), every
// draw in step with NumPy's; docs/superpixels.md). quickshift scales the draws by 1e-5 and adds
// them to densities of order 1–100 held in double, whose own resolution (~1e-15) is far coarser
// than that difference, so the tie rule orders pixels as skimage's does.

#include <array>
#include <cmath>
#include <cstdint>
#include <vector>

namespace xai::detail {

/// numpy.random.SeedSequence(seed).generate_state(4, numpy.uint64) for a non-negative seed.
inline std::array<std::uint64_t, 4> numpy_seed_sequence_state(std::uint64_t seed) {
    constexpr std::uint32_t init_a = 0x43b0d7e5u, mult_a = 0x931e8875u, init_b = 0x8b51f9ddu, mult_b = 0x58f38dedu;
    constexpr std::uint32_t mix_mult_l = 0xca01f9ddu, mix_mult_r = 0x4973f715u;
    constexpr unsigned xshift = 16;
    // The entropy as little-endian 32-bit words (0 is one word 0).
    std::vector<std::uint32_t> entropy;
    do {
        entropy.push_back(static_cast<std::uint32_t>(seed & 0xffffffffu));
        seed >>= 32;
    } while (seed != 0);
    std::uint32_t hash_const = init_a;
    auto hashmix = [&](std::uint32_t value) {
        value ^= hash_const;
        hash_const *= mult_a;
        value *= hash_const;
        value ^= value >> xshift;
        return value;
    };
    auto mix = [&](std::uint32_t x, std::uint32_t y) {
        std::uint32_t result = mix_mult_l * x - mix_mult_r * y;
        result ^= result >> xshift;
        return result;
    };
    std::array<std::uint32_t, 4> pool{};
    for (std::size_t i = 0; i < pool.size(); ++i) pool[i] = hashmix(i < entropy.size() ? entropy[i] : 0u);
    for (std::size_t src = 0; src < pool.size(); ++src)
        for (std::size_t dst = 0; dst < pool.size(); ++dst)
            if (src != dst) pool[dst] = mix(pool[dst], hashmix(pool[src]));
    for (std::size_t src = pool.size(); src < entropy.size(); ++src)
        for (std::size_t dst = 0; dst < pool.size(); ++dst) pool[dst] = mix(pool[dst], hashmix(entropy[src]));
    std::uint32_t out_const = init_b;
    std::array<std::uint32_t, 8> words{};
    for (std::size_t i = 0; i < words.size(); ++i) {
        std::uint32_t value = pool[i % pool.size()];
        value ^= out_const;
        out_const *= mult_b;
        value *= out_const;
        value ^= value >> xshift;
        words[i] = value;
    }
    std::array<std::uint64_t, 4> state{};
    for (std::size_t i = 0; i < state.size(); ++i)
        state[i] = static_cast<std::uint64_t>(words[2 * i]) | (static_cast<std::uint64_t>(words[2 * i + 1]) << 32);
    return state;
}

/// An unsigned 128-bit integer as two halves (portable: no __int128).
struct U128 {
    std::uint64_t high = 0, low = 0;
};

inline U128 add(U128 a, U128 b) {
    U128 r{a.high + b.high, a.low + b.low};
    if (r.low < a.low) ++r.high;
    return r;
}

/// The low 128 bits of a · b.
inline U128 multiply(U128 a, U128 b) {
    // a.low · b.low in full, from 32-bit halves
    const std::uint64_t a0 = a.low & 0xffffffffu, a1 = a.low >> 32, b0 = b.low & 0xffffffffu, b1 = b.low >> 32;
    const std::uint64_t p00 = a0 * b0, p01 = a0 * b1, p10 = a1 * b0, p11 = a1 * b1;
    const std::uint64_t middle = (p00 >> 32) + (p01 & 0xffffffffu) + (p10 & 0xffffffffu);
    U128 r;
    r.low = (p00 & 0xffffffffu) | (middle << 32);
    r.high = p11 + (p01 >> 32) + (p10 >> 32) + (middle >> 32);
    r.high += a.high * b.low + a.low * b.high;
    return r;
}

/// NumPy's PCG64 bit generator, seeded as numpy.random.default_rng(seed).
class NumpyPcg64 {
public:
    explicit NumpyPcg64(std::uint64_t seed) {
        const std::array<std::uint64_t, 4> words = numpy_seed_sequence_state(seed);
        const U128 initstate{words[0], words[1]}, initseq{words[2], words[3]};
        increment_ = {(initseq.high << 1) | (initseq.low >> 63), (initseq.low << 1) | 1u};
        state_ = {};
        step();
        state_ = add(state_, initstate);
        step();
    }

    /// The next 64-bit output (pcg64_random_r: advance, then XSL-RR).
    std::uint64_t next_uint64() {
        step();
        const std::uint64_t value = state_.high ^ state_.low;
        const unsigned rotation = static_cast<unsigned>(state_.high >> 58);
        return (value >> rotation) | (value << ((64u - rotation) & 63u));
    }

    /// A double in [0, 1) from the top 53 bits (NumPy's next_double).
    double next_double() { return static_cast<double>(next_uint64() >> 11) * (1.0 / 9007199254740992.0); }

private:
    void step() { state_ = add(multiply(state_, {0x2360ed051fc65da4ULL, 0x4385df649fccf645ULL}), increment_); }

    U128 state_{}, increment_{};
};

/// The 256-layer ziggurat tables of NumPy's standard normal (Marsaglia and Tsang's layout:
/// index 0 is the base strip with the tail, index 1 the top layer).
struct NumpyZiggurat {
    static constexpr double r = 3.6541528853610088;
    static constexpr double inv_r = 0.27366123732975828;
    std::array<std::uint64_t, 256> k{};
    std::array<double, 256> w{}, f{};

    NumpyZiggurat() {
        const long double m1 = 4503599627370496.0L;  // 2^52
        // the area of each layer: the base strip r·f(r) plus the tail ∫_r^∞ f
        const long double v = r * std::exp(-0.5L * r * r) + std::sqrt(std::acos(-1.0L) / 2.0L) * std::erfc(r / std::sqrt(2.0L));
        long double dn = r, tn = r;
        const long double q = v / std::exp(-0.5L * dn * dn);
        k[0] = static_cast<std::uint64_t>((dn / q) * m1);
        k[1] = 0;
        w[0] = static_cast<double>(q / m1);
        w[255] = static_cast<double>(dn / m1);
        f[0] = 1.0;
        f[255] = static_cast<double>(std::exp(-0.5L * dn * dn));
        for (int i = 254; i >= 1; --i) {
            dn = std::sqrt(-2.0L * std::log(v / dn + std::exp(-0.5L * dn * dn)));
            k[static_cast<std::size_t>(i) + 1] = static_cast<std::uint64_t>((dn / tn) * m1);
            tn = dn;
            f[static_cast<std::size_t>(i)] = static_cast<double>(std::exp(-0.5L * dn * dn));
            w[static_cast<std::size_t>(i)] = static_cast<double>(dn / m1);
        }
    }
};

/// numpy.random.default_rng(seed).standard_normal(), one draw at a time.
class NumpyNormal {
public:
    explicit NumpyNormal(std::uint64_t seed) : bits_(seed) {}

    double operator()() {
        static const NumpyZiggurat table;
        for (;;) {
            std::uint64_t r = bits_.next_uint64();
            const auto idx = static_cast<std::size_t>(r & 0xffu);
            r >>= 8;
            const bool negative = (r & 1u) != 0;
            const std::uint64_t rabs = (r >> 1) & 0x000fffffffffffffULL;
            double x = static_cast<double>(rabs) * table.w[idx];
            if (negative) x = -x;
            if (rabs < table.k[idx]) return x;  // inside the layer's rectangle
            if (idx == 0) {                     // the tail beyond r
                for (;;) {
                    const double xx = -NumpyZiggurat::inv_r * std::log1p(-bits_.next_double());
                    const double yy = -std::log1p(-bits_.next_double());
                    if (yy + yy > xx * xx)
                        return ((rabs >> 8) & 1u) != 0 ? -(NumpyZiggurat::r + xx) : NumpyZiggurat::r + xx;
                }
            }
            if ((table.f[idx - 1] - table.f[idx]) * bits_.next_double() + table.f[idx] < std::exp(-0.5 * x * x))
                return x;  // in the wedge under the curve
        }
    }

    /// The underlying bit generator (its next_double() is Generator.random()).
    NumpyPcg64& bits() { return bits_; }

private:
    NumpyPcg64 bits_;
};

}  // namespace xai::detail
