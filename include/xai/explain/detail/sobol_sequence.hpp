#pragma once
// Sobol' low-discrepancy points (Sobol', "On the distribution of points in a cube and the
// approximate evaluation of integrals", USSR Comput. Math. Math. Phys. 7, 1967), optionally with
// Owen's nested uniform scrambling (Owen, "Randomly permuted (t,m,s)-nets and (t,s)-sequences",
// 1995), for RISE's quasi-random masks (explain/rise.hpp) and the Sobol attribution method's
// quasi-Monte-Carlo design (explain/sobol.hpp).
//
// Construction (Bratley and Fox, ACM TOMS 14, 1988): dimension 0 is van der Corput's (all
// initial numbers 1); dimension j ≥ 1 uses the j-th primitive polynomial over GF(2), in order of
// degree and then of its coefficients read as an integer (x+1, x²+x+1, x³+x+1, x³+x²+1, …, the
// order of Joe and Kuo's tables), and the direction numbers m_k = 2a₁m_{k−1} ⊕ … ⊕ 2^s m_{k−s} ⊕
// m_{k−s}. The s initial numbers of each dimension (odd m_k < 2^k) are not Joe and Kuo's tables,
// which this library does not ship: they are chosen here by a small deterministic search in the
// spirit of Joe and Kuo (2008) — among 16 candidates from a fixed generator, the one whose first
// output digit over 256 points differs from every earlier dimension's (possible up to 128
// dimensions) and whose two-dimensional projections with the 16 previous dimensions have the
// smallest total t-value over the nets of the first 8, 32 and 256 points (then the smallest
// worst one). The numbers are made once per process: about 20 ms for RISE's 51 dimensions
// (s = 7), 0.1 s for the Sobol attribution method's 128 (g = 8). The points follow the Gray-code order (Antonov and Saleev), so the first 2^m
// points of every dimension form a (t, m, s)-net, as scipy.stats.qmc.Sobol's.
//
// Scrambling: y = x ⊕ π(x), where the flip of output bit b is a hash of (seed, dimension, b, the
// bits of x above b): Owen's nested scrambling with the random bits drawn by a hash instead of
// stored, so a point of any index is made on its own. Each scrambled point is uniform on
// [0, 1)^D, which is what keeps RISE's and the Jansen estimator's expectations exact.

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <vector>

#include "xai/core/error.hpp"

namespace xai::detail {

/// The most dimensions sobol_directions() makes (RISE: s² + 2 for s ≤ 31; the Sobol attribution
/// method: 2·g² for g ≤ 22).
inline constexpr std::size_t max_sobol_dimensions = 1024;

/// The 32 direction numbers of one dimension, v_k = m_k · 2^(32−k), k = 1 … 32.
using SobolDirection = std::array<std::uint32_t, 32>;

/// x · y mod p over GF(2), for polynomials of degree < 32 (bit i = the coefficient of x^i).
inline std::uint64_t gf2_mulmod(std::uint64_t x, std::uint64_t y, std::uint64_t p, unsigned degree) {
    std::uint64_t result = 0;
    while (y != 0) {
        if (y & 1u) result ^= x;
        y >>= 1;
        x <<= 1;
        if ((x >> degree) & 1u) x ^= p;
    }
    return result;
}

/// x^e mod p over GF(2).
inline std::uint64_t gf2_power_of_x(std::uint64_t e, std::uint64_t p, unsigned degree) {
    std::uint64_t result = 1, base = degree == 1 ? (2u ^ p) : 2u;  // x mod p
    while (e != 0) {
        if (e & 1u) result = gf2_mulmod(result, base, p, degree);
        base = gf2_mulmod(base, base, p, degree);
        e >>= 1;
    }
    return result;
}

/// True when p (degree `degree`, constant term 1) is primitive: x has order 2^degree − 1 mod p.
inline bool gf2_primitive(std::uint64_t p, unsigned degree) {
    const std::uint64_t order = (std::uint64_t{1} << degree) - 1;
    if (gf2_power_of_x(order, p, degree) != 1) return false;
    std::uint64_t rest = order;
    for (std::uint64_t q = 2; q * q <= rest; ++q) {
        if (rest % q != 0) continue;
        while (rest % q == 0) rest /= q;
        if (gf2_power_of_x(order / q, p, degree) == 1) return false;
    }
    if (rest > 1 && rest != order && gf2_power_of_x(order / rest, p, degree) == 1) return false;
    return true;
}

/// The first M = 8 rows of a dimension's generating matrix over its first M columns, as bit
/// masks (row r = output bit r from the top, bit k = input digit k).
inline std::array<std::uint32_t, 8> sobol_rows(const SobolDirection& v) {
    std::array<std::uint32_t, 8> rows{};
    for (unsigned r = 0; r < 8; ++r)
        for (unsigned k = 0; k < 8; ++k) rows[r] |= ((v[k] >> (31 - r)) & 1u) << k;
    return rows;
}

/// The t-value of the two-dimensional net of the first 2^m points of two dimensions (m ≤ 8):
/// m − the largest q such that for every d₁ + d₂ = q the first d₁ rows of one and the first d₂
/// of the other, restricted to the first m columns, are linearly independent over GF(2).
inline unsigned sobol_pair_t(const std::array<std::uint32_t, 8>& a, const std::array<std::uint32_t, 8>& b, unsigned m) {
    const std::uint32_t columns = (std::uint32_t{1} << m) - 1;
    // Gaussian elimination over GF(2): a vector that reduces to zero depends on the others.
    auto independent = [](const std::uint32_t* rows, std::size_t count) {
        std::array<std::uint32_t, 8> basis{};  // basis[bit]: a stored vector whose highest set bit is `bit`
        for (std::size_t i = 0; i < count; ++i) {
            std::uint32_t x = rows[i];
            for (int bit = 7; bit >= 0 && x != 0; --bit) {
                if (((x >> bit) & 1u) == 0) continue;
                if (basis[static_cast<std::size_t>(bit)] == 0) {
                    basis[static_cast<std::size_t>(bit)] = x;
                    break;
                }
                x ^= basis[static_cast<std::size_t>(bit)];
            }
            if (x == 0) return false;
        }
        return true;
    };
    for (unsigned q = m; q > 0; --q) {
        bool ok = true;
        for (unsigned d1 = 0; d1 <= q && ok; ++d1) {
            std::array<std::uint32_t, 8> rows{};
            for (unsigned i = 0; i < d1; ++i) rows[i] = a[i] & columns;
            for (unsigned i = 0; i < q - d1; ++i) rows[d1 + i] = b[i] & columns;
            ok = independent(rows.data(), q);
        }
        if (ok) return m - q;
    }
    return m;
}

/// The direction numbers of the first `dimensions` dimensions (see the header), made once per
/// process and extended on demand.
inline std::vector<SobolDirection> sobol_directions(std::size_t dimensions) {
    require(dimensions <= max_sobol_dimensions, "xai::detail::sobol_directions(): dimensions is ", dimensions,
            ", expected at most ", max_sobol_dimensions);
    static std::mutex mutex;
    static std::vector<SobolDirection> made;
    static std::vector<std::array<std::uint32_t, 8>> rows;
    static std::uint64_t next_polynomial = 3;  // x + 1
    static unsigned next_degree = 1;
    std::lock_guard<std::mutex> lock(mutex);
    while (made.size() < dimensions) {
        SobolDirection v{};
        if (made.empty()) {
            for (unsigned k = 0; k < 32; ++k) v[k] = std::uint32_t{1} << (31 - k);
        } else {
            // the next primitive polynomial
            std::uint64_t p = next_polynomial;
            unsigned degree = next_degree;
            for (;;) {
                if ((p & 1u) && gf2_primitive(p, degree)) break;
                ++p;
                if (p >> (degree + 1)) {
                    ++degree;
                    p = (std::uint64_t{1} << degree) | 1u;
                }
            }
            next_polynomial = p + 1;
            next_degree = degree;
            if (next_polynomial >> (degree + 1)) {
                ++next_degree;
                next_polynomial = (std::uint64_t{1} << next_degree) | 1u;
            }
            // candidates for the initial numbers, from a generator seeded by the dimension
            std::uint64_t state = 0x5851f42d4c957f2dULL ^ (made.size() * 0x9e3779b97f4a7c15ULL);
            auto next = [&state] {
                std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
                z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
                z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
                return z ^ (z >> 31);
            };
            SobolDirection best{};
            std::array<std::uint32_t, 8> best_rows{};
            unsigned best_worst = ~0u, best_total = ~0u;
            for (int candidate = 0; candidate < 16; ++candidate) {
                std::array<std::uint64_t, 32> m{};
                for (unsigned k = 1; k <= degree; ++k) m[k - 1] = (next() % (std::uint64_t{1} << (k - 1))) * 2 + 1;
                for (unsigned k = degree + 1; k <= 32; ++k) {
                    std::uint64_t value = m[k - degree - 1] ^ (m[k - degree - 1] << degree);
                    for (unsigned i = 1; i < degree; ++i)
                        if ((p >> (degree - i)) & 1u) value ^= m[k - i - 1] << i;
                    m[k - 1] = value;
                }
                SobolDirection c{};
                for (unsigned k = 1; k <= 32; ++k) c[k - 1] = static_cast<std::uint32_t>(m[k - 1] << (32 - k));
                const std::array<std::uint32_t, 8> c_rows = sobol_rows(c);
                // A first row (the first output digit of 256 points) equal to an earlier
                // dimension's makes the two dimensions' halves coincide: RISE's keep bits (p1 = ½)
                // of the two cells would then be equal or opposite in every mask.
                unsigned worst = 0, total = 0;
                for (const auto& earlier : rows) total += earlier[0] == c_rows[0] ? 1000u : 0u;
                const std::size_t first = made.size() > 16 ? made.size() - 16 : 0;
                for (std::size_t l = first; l < made.size(); ++l)
                    for (unsigned points : {3u, 5u, 8u}) {
                        const unsigned t = sobol_pair_t(c_rows, rows[l], points);
                        worst = std::max(worst, t);
                        total += t;
                    }
                if (total < best_total || (total == best_total && worst < best_worst)) {
                    best_worst = worst;
                    best_total = total;
                    best = c;
                    best_rows = c_rows;
                }
            }
            v = best;
        }
        made.push_back(v);
        rows.push_back(sobol_rows(v));
    }
    return {made.begin(), made.begin() + static_cast<std::ptrdiff_t>(dimensions)};
}

/// Points of a D-dimensional Sobol' sequence in Gray-code order, unscrambled or with Owen's
/// nested scrambling seeded by `seed` (see the header).
class SobolSequence {
public:
    SobolSequence(std::size_t dimensions, bool scrambled, std::uint64_t seed)
        : directions_(sobol_directions(dimensions)), scrambled_(scrambled), seed_(seed) {}

    std::size_t dimensions() const { return directions_.size(); }

    /// Coordinate `dimension` of point `index` as a 32-bit integer (the point is that / 2^32).
    std::uint32_t integer(std::uint64_t index, std::size_t dimension) const {
        const std::uint64_t gray = index ^ (index >> 1);
        std::uint32_t x = 0;
        const SobolDirection& v = directions_[dimension];
        for (unsigned k = 0; k < 32 && (gray >> k) != 0; ++k)
            if ((gray >> k) & 1u) x ^= v[k];
        return scrambled_ ? scramble(x, dimension) : x;
    }

    /// Coordinate `dimension` of point `index` in [0, 1): the integer's midpoint / 2^32 when
    /// scrambled (uniform, never 0), the integer / 2^32 otherwise (scipy's unscrambled points).
    double uniform(std::uint64_t index, std::size_t dimension) const {
        const double x = static_cast<double>(integer(index, dimension));
        return scrambled_ ? (x + 0.5) * 0x1.0p-32 : x * 0x1.0p-32;
    }

private:
    static std::uint64_t mix(std::uint64_t z) {
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
    }

    /// Owen's nested scrambling: bit b (from the top) flips by a hash of the bits above it.
    std::uint32_t scramble(std::uint32_t x, std::size_t dimension) const {
        const std::uint64_t key = mix(seed_ ^ mix(0x243f6a8885a308d3ULL + dimension));
        std::uint32_t flips = 0;
        for (unsigned b = 0; b < 32; ++b) {
            const std::uint64_t prefix = b == 0 ? 0 : (static_cast<std::uint64_t>(x) >> (32 - b));
            const std::uint64_t h = mix(key ^ mix((prefix << 6) | b));
            flips |= static_cast<std::uint32_t>(h >> 63) << (31 - b);
        }
        return x ^ flips;
    }

    std::vector<SobolDirection> directions_;
    bool scrambled_;
    std::uint64_t seed_;
};

}  // namespace xai::detail
