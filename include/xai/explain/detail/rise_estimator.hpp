#pragma once
// RISE's running sums and its estimator with the variance reductions of RiseOptions
// (explain/rise.hpp; the proofs are in docs/methods/rise.md, *Variance reduction*).
//
// Masks come in units that are independent of each other: one mask (independent or
// quasi-random sampling) or an antithetic pair. For unit u with masks i ∈ u, per class and pixel
//     A_u = Σ_{i∈u} f_i M_i(p),   B_u = Σ_{i∈u} M_i(p),   F_u = Σ_{i∈u} f_i,   n_u = |u| = m,
// and with a control variate c_u (a number that does not depend on unit u's masks) the map is
//     S = (1/N) Σ_u [ (A_u − c_u B_u) / p1 + m c_u ]                 (N = Σ_u n_u masks)
// whose expectation is plain RISE's E[f M] / p1 for any such c_u, because E[M(p)] = p1 for every
// mask: c_u = 0 is plain RISE; a constant c is the score of the unmasked or of the fully masked
// image; the mean score uses c_u = (F − F_u) / (N − m), the mean of the other units' scores.
//
// Standard error: treating the control variate as fixed at ĉ (0, c, or the mean score F / N),
// the unit totals Z_u = (A_u − ĉ B_u)/p1 + m ĉ are i.i.d. and S ≈ Σ Z_u / N, so
//     SE² = U/(U − 1) · Σ_u (Z_u − m S)² / N²                        (U = N/m units),
// from running sums of A, A², A·B, B, B², F·B, F kept in double. With one mask per unit and no
// control variate this is the sample variance of X_i = f_i M_i / p1 over N, as before. For
// quasi-random masks the units are not independent; the same formula then over-estimates the
// error (a scrambled net's variance is below the i.i.d. one's in practice), which only makes
// early stopping cautious.
//
// Sums are added in the order of the units, whatever the batch they come in and however many
// threads add them (threads split the pixels, never the units): identical bit for bit for any
// batch size and thread count.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <vector>

#include "xai/core/ceil_div.hpp"
#include "xai/core/parallel.hpp"
#include "xai/core/tensor.hpp"

namespace xai::detail {

/// RISE's running sums over units of `unit` masks (see the header). Memory: 2 doubles per class
/// and pixel without a control variate; 4, plus 2 per pixel, with one.
class RiseMoments {
public:
    RiseMoments(std::size_t classes, std::size_t pixels, std::size_t unit, bool control_variate)
        : classes_(classes), pixels_(pixels), unit_(unit),
          sum_(classes * pixels, 0.0), sum_sq_(classes * pixels, 0.0),
          sum_ab_(control_variate ? classes * pixels : 0, 0.0), sum_fb_(control_variate ? classes * pixels : 0, 0.0),
          mask_sum_(control_variate ? pixels : 0, 0.0), mask_sum_sq_(control_variate ? pixels : 0, 0.0), score_sum_(classes, 0.0),
          control_variate_(control_variate) {}

    /// Adds `count` masks (count × pixels floats, the next masks in index order; a multiple of
    /// the unit) with their scores (count × classes).
    void add(const float* masks, std::size_t count, const Scores& scores, std::size_t threads) {
        constexpr std::size_t tile = 1024;  // a tile's accumulators stay in cache while every unit passes
        const std::size_t tiles = ceil_div(pixels_, tile), units = count / unit_;
        parallel_for(tiles, threads, [&](std::size_t t) {
            const std::size_t begin = t * tile, end = std::min(pixels_, begin + tile);
            if (control_variate_)
                for (std::size_t u = 0; u < units; ++u)
                    for (std::size_t p = begin; p < end; ++p) {
                        double b = 0.0;
                        for (std::size_t k = 0; k < unit_; ++k) b += static_cast<double>(masks[(u * unit_ + k) * pixels_ + p]);
                        mask_sum_[p] += b;
                        mask_sum_sq_[p] += b * b;
                    }
            for (std::size_t c = 0; c < classes_; ++c) {
                double* sum = sum_.data() + c * pixels_;
                double* sum_sq = sum_sq_.data() + c * pixels_;
                for (std::size_t u = 0; u < units; ++u) {
                    if (unit_ == 1 && !control_variate_) {
                        // plain RISE: the loop as it always was (results unchanged to the bit)
                        const double w = scores.data()[u * classes_ + c];
                        const float* m = masks + u * pixels_;
                        for (std::size_t p = begin; p < end; ++p) {
                            const double y = w * static_cast<double>(m[p]);
                            sum[p] += y;
                            sum_sq[p] += y * y;
                        }
                        continue;
                    }
                    double f = 0.0;
                    for (std::size_t k = 0; k < unit_; ++k) f += scores.data()[(u * unit_ + k) * classes_ + c];
                    for (std::size_t p = begin; p < end; ++p) {
                        double a = 0.0, b = 0.0;
                        for (std::size_t k = 0; k < unit_; ++k) {
                            const double m = static_cast<double>(masks[(u * unit_ + k) * pixels_ + p]);
                            a += scores.data()[(u * unit_ + k) * classes_ + c] * m;
                            b += m;
                        }
                        sum[p] += a;
                        sum_sq[p] += a * a;
                        if (control_variate_) {
                            sum_ab_[c * pixels_ + p] += a * b;
                            sum_fb_[c * pixels_ + p] += f * b;
                        }
                    }
                }
            }
        });
        for (std::size_t u = 0; u < units; ++u)
            for (std::size_t c = 0; c < classes_; ++c) {
                double f = 0.0;
                for (std::size_t k = 0; k < unit_; ++k) f += scores.data()[(u * unit_ + k) * classes_ + c];
                score_sum_[c] += f;
            }
        count_ += count;
    }

    std::size_t count() const { return count_; }              ///< N, the masks added
    std::size_t units() const { return count_ / unit_; }       ///< U = N / m
    std::size_t unit() const { return unit_; }                 ///< m, masks per unit
    std::size_t classes() const { return classes_; }
    std::size_t pixels() const { return pixels_; }
    double sum(std::size_t i) const { return sum_[i]; }        ///< Σ A_u of class-pixel i
    double sum_sq(std::size_t i) const { return sum_sq_[i]; }  ///< Σ A_u²
    double sum_ab(std::size_t i) const { return sum_ab_[i]; }  ///< Σ A_u B_u (with a control variate)
    double sum_fb(std::size_t i) const { return sum_fb_[i]; }  ///< Σ F_u B_u (with a control variate)
    double mask_sum(std::size_t p) const { return mask_sum_[p]; }        ///< Σ B_u (with a control variate)
    double mask_sum_sq(std::size_t p) const { return mask_sum_sq_[p]; }  ///< Σ B_u²
    double score_sum(std::size_t c) const { return score_sum_[c]; }      ///< F = Σ F_u of class c

private:
    std::size_t classes_, pixels_, unit_;
    std::size_t count_ = 0;
    std::vector<double> sum_, sum_sq_, sum_ab_, sum_fb_, mask_sum_, mask_sum_sq_, score_sum_;
    bool control_variate_;
};

/// Which control variate a RISE estimate uses (see the header).
struct RiseControl {
    enum class Kind { none, constant, leave_one_out } kind = Kind::none;
    std::vector<double> constant;  ///< per class, for Kind::constant
};

/// S and its standard error at one class and pixel.
struct RiseEstimate {
    double mean = 0.0, standard_error = 0.0;
};

/// The estimate of class c at pixel p from the sums (see the header for the formulas).
inline RiseEstimate rise_estimate(const RiseMoments& m, std::size_t c, std::size_t p, double p1,
                                  const RiseControl& control) {
    const std::size_t i = c * m.pixels() + p;
    const auto n = static_cast<double>(m.count());
    const auto units = static_cast<double>(m.units());
    const auto unit = static_cast<double>(m.unit());
    RiseControl::Kind kind = control.kind;
    if (kind == RiseControl::Kind::leave_one_out && m.units() < 2) kind = RiseControl::Kind::none;
    if (kind == RiseControl::Kind::none && m.unit() == 1) {
        // plain RISE, as it always was computed (results unchanged to the bit)
        const double sum = m.sum(i) / p1, sum_sq = m.sum_sq(i) / (p1 * p1);
        const double mean = sum / n;
        const double variance = std::max(0.0, (sum_sq - n * mean * mean) / (n - 1.0));
        return {mean, std::sqrt(variance / n)};
    }
    const double sa = m.sum(i), saa = m.sum_sq(i);
    const bool crossed = kind != RiseControl::Kind::none;
    const double sb = crossed ? m.mask_sum(p) : 0.0, sbb = crossed ? m.mask_sum_sq(p) : 0.0;
    double mean = 0.0, c_hat = 0.0;
    switch (kind) {
        case RiseControl::Kind::none: mean = sa / (n * p1); break;
        case RiseControl::Kind::constant:
            c_hat = control.constant[c];
            mean = (sa - c_hat * sb) / (n * p1) + c_hat;
            break;
        case RiseControl::Kind::leave_one_out: {
            const double f = m.score_sum(c);
            // Σ_u c_u B_u with c_u = (F − F_u)/(N − m), and Σ_u m c_u = F
            mean = (sa / p1 - (f * sb - m.sum_fb(i)) / ((n - unit) * p1) + f) / n;
            c_hat = f / n;
            break;
        }
    }
    if (m.units() < 2) return {mean, 0.0};
    const double sab = crossed ? m.sum_ab(i) : 0.0;
    const double sum_z = (sa - c_hat * sb) / p1 + n * c_hat;
    const double sum_z2 = (saa - 2.0 * c_hat * sab + c_hat * c_hat * sbb) / (p1 * p1) +
                          2.0 * unit * c_hat * (sa - c_hat * sb) / p1 + units * unit * unit * c_hat * c_hat;
    const double q = sum_z2 - 2.0 * unit * mean * sum_z + units * unit * unit * mean * mean;
    const double variance = std::max(0.0, units / (units - 1.0) * q / (n * n));
    return {mean, std::sqrt(variance)};
}

}  // namespace xai::detail
