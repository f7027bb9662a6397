#pragma once
// Branch-free float approximations of exp, exp2 and log2 for the inner loops of the superpixel
// algorithms. They avoid float→int conversions (which GCC does not vectorise under the default
// -ftrapping-math), arithmetic in one arm of a conditional (select() below) and calls into libm,
// so loops over them vectorise on any x86-64 target. Accuracy, checked against
// <cmath> in tests/test_superpixels.cpp: exp2 relative error below 3e-7; exp below 5e-6 near
// x = −87 (the rounding of x·log2 e grows as 6e-8·|x|); log2 absolute error below 5e-7.

#include <algorithm>
#include <bit>
#include <cstdint>

namespace xai::detail {

/// condition ? if_true : if_false, by bit operations. With a plain ?: GCC moves arithmetic that
/// only one arm uses into a branch, and then, under the default -ftrapping-math, will not
/// execute it unconditionally again: the loop does not vectorise (except with AVX-512's masked
/// operations).
inline float select(bool condition, float if_true, float if_false) {
    const std::uint32_t mask = 0u - static_cast<std::uint32_t>(condition);
    return std::bit_cast<float>((std::bit_cast<std::uint32_t>(if_true) & mask) |
                                (std::bit_cast<std::uint32_t>(if_false) & ~mask));
}

/// 2^y for y in [−126, 126] (clamped outside). y = k + f with k = round(y) found by adding
/// 1.5·2^23 (the integer lands in the low mantissa bits), |f| <= 1/2; 2^f = e^(f·ln2) by its
/// degree-6 Taylor polynomial (remainder (ln2/2)^7/7! < 1.3e-7); 2^k from the exponent bits.
inline float exp2_approx(float y) {
    constexpr float round_shift = 12582912.0f;  // 1.5·2^23
    y = select(y > 126.0f, 126.0f, select(y < -126.0f, -126.0f, y));  // std::clamp would branch
    const float shifted = y + round_shift;
    const float k = shifted - round_shift;
    const std::int32_t k_int = std::bit_cast<std::int32_t>(shifted) - std::bit_cast<std::int32_t>(round_shift);
    const float z = (y - k) * 0.693147180559945309f;
    float p = 1.0f / 720.0f;
    p = p * z + 1.0f / 120.0f;
    p = p * z + 1.0f / 24.0f;
    p = p * z + 1.0f / 6.0f;
    p = p * z + 0.5f;
    p = p * z + 1.0f;
    p = p * z + 1.0f;
    return p * std::bit_cast<float>((k_int + 127) << 23);
}

/// e^x for x <= 0 (x below −87 gives e^−87).
inline float exp_nonpositive(float x) { return exp2_approx(select(x < -87.0f, -87.0f, x) * 1.44269504088896341f); }

/// log2(x) for a normal float x > 0 (other inputs give finite garbage, never a trap, so a
/// caller may compute it unconditionally and select the result). x = m·2^e with m in
/// [√½, √2); ln m = 2 atanh(s) = 2(s + s³/3 + … + s⁹/9), s = (m−1)/(m+1), |s| <= 0.172, so
/// the truncation error is below s¹¹/11·2 < 1e-9.
inline float log2_approx(float x) {
    const std::int32_t bits = std::bit_cast<std::int32_t>(x);
    const std::int32_t exponent = ((bits >> 23) & 0xff) - 127;
    const float m = std::bit_cast<float>((bits & 0x007fffff) | 0x3f800000);  // [1, 2)
    const bool high = m > 1.41421356f;
    const float mr = select(high, m * 0.5f, m);
    // int → float through the mantissa of 1.5·2^23 (a plain conversion blocks vectorisation too)
    const float e = std::bit_cast<float>(0x4B400000 + (high ? exponent + 1 : exponent)) - 12582912.0f;
    const float s = (mr - 1.0f) / (mr + 1.0f);
    const float s2 = s * s;
    float p = 1.0f / 9.0f;
    p = p * s2 + 1.0f / 7.0f;
    p = p * s2 + 1.0f / 5.0f;
    p = p * s2 + 1.0f / 3.0f;
    p = p * s2 + 1.0f;
    return e + (2.0f * 1.44269504088896341f) * s * p;
}

}  // namespace xai::detail
