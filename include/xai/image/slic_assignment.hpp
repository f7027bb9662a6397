#pragma once
// SLIC's assignment step (slic.hpp, step 3), vectorised over pixels with the centres inside.
//
// Every pixel goes to the candidate centre with the smallest
//   D = ((y − y_k)² + (x − x_k)²) / S²  +  ‖c − c_k‖²      (colours already divided by m),
// the candidates being the live centres whose window covers the pixel; exact ties go to the
// lower centre index; a pixel no window covers keeps its label (scikit-image's rule).
//
// The obvious loop order (each centre over its window, keeping a distance per pixel in memory)
// reads and writes every pixel's best distance once per candidate, about 16 times per
// iteration. Here the loops are the other way round: a chunk of pixels of a row (as many as
// one vector register holds: 16 with AVX-512, 8 with AVX, 4 otherwise) is loaded once and every
// centre whose window meets it is tried in increasing index, the best distance and label
// staying in registers; the labels are stored once. The chunk is an explicit vector (GCC/Clang
// vector extensions), and two chunks go through the centres together because each
// compare-and-select waits for the previous one. Float by default; double (half the lanes) for
// SlicOptions::exact.

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

namespace xai::detail {

/// A SLIC centre: y, x, colour (scaled by 1/m, up to 3 channels).
using SlicCentre = std::array<double, 5>;

/// The pixels a centre may take: rows [y0, y1) and columns [x0, x1).
struct SlicWindow {
    std::size_t y0, y1, x0, x1;
};

/// Bytes in the target's widest vector register: a vector type wider than the hardware's is
/// split by the compiler through memory (several times slower than the scalar loop), and
/// functions passing one change ABI. ARM NEON, like SSE, has 16.
#if defined(__AVX512F__)
inline constexpr std::size_t slic_vector_bytes = 64;
#elif defined(__AVX__)
inline constexpr std::size_t slic_vector_bytes = 32;
#else
inline constexpr std::size_t slic_vector_bytes = 16;
#endif

/// The vector types of a chunk per scalar type (vector_size cannot apply to a template's
/// dependent type): values, and labels in lanes as wide as the values, so a comparison's mask
/// selects them directly.
template <class Scalar>
struct SlicVectors;
template <>
struct SlicVectors<float> {
    using Values = float __attribute__((vector_size(slic_vector_bytes)));
    using Labels = std::int32_t __attribute__((vector_size(slic_vector_bytes)));
    using Label = std::int32_t;
};
template <>
struct SlicVectors<double> {
    using Values = double __attribute__((vector_size(slic_vector_bytes)));
    using Labels = std::int64_t __attribute__((vector_size(slic_vector_bytes)));
    using Label = std::int64_t;
};

/// The assignment in Scalar (float by default; double for SlicOptions::exact, skimage's
/// precision for 8-bit and float64 images, with half the lanes).
template <class Scalar = float>
class SlicAssignment {
public:
    static constexpr std::size_t lanes = slic_vector_bytes / sizeof(Scalar);  ///< pixels per chunk
    static constexpr std::size_t span = 2 * lanes;  ///< pixels that go through the centres together

    /// `planes`: `channels` (1 or 3) planes of height × width scaled colours, which must outlive
    /// this object; `spatial_weight` = 1/S². Every label starts at 0.
    SlicAssignment(const Scalar* planes, std::size_t channels, std::size_t height, std::size_t width, Scalar spatial_weight)
        : planes_(planes), channels_(channels), height_(height), width_(width), spatial_weight_(spatial_weight),
          labels_(height * width, 0) {}

    /// Assigns every pixel (see the header); `alive[k]` is 0 for centres that lost all pixels.
    void assign(const std::vector<SlicCentre>& centres, const std::vector<SlicWindow>& windows,
                const std::vector<char>& alive) {
        // Each row's centres (those whose window covers it), in increasing index.
        rows_.resize(height_);
        for (auto& row : rows_) row.clear();
        centres_.clear();
        centre_y_.clear();
        for (std::size_t k = 0; k < centres.size(); ++k) {
            const SlicWindow& win = windows[k];
            if (alive[k] == 0 || win.x0 >= win.x1) continue;
            const auto& c = centres[k];
            for (std::size_t y = win.y0; y < win.y1; ++y) rows_[y].push_back(static_cast<std::uint32_t>(centres_.size()));
            centres_.push_back({Scalar(0), static_cast<Scalar>(c[1]), static_cast<Scalar>(c[2]), static_cast<Scalar>(c[3]),
                                static_cast<Scalar>(c[4]), static_cast<Scalar>(win.x0), static_cast<Scalar>(win.x1),
                                win.x0, win.x1, static_cast<Label>(k)});
            centre_y_.push_back(static_cast<Scalar>(c[0]));
        }
        for (std::size_t y = 0; y < height_; ++y) {
            row_.clear();
            for (std::uint32_t i : rows_[y]) {
                row_.push_back(centres_[i]);
                const Scalar dy = centre_y_[i] - static_cast<Scalar>(y);
                row_.back().dy2 = dy * dy;
            }
            if (channels_ == 3)
                assign_row<3>(y);
            else
                assign_row<1>(y);
        }
    }

    /// The labels after the last assign(), row-major height × width.
    const std::vector<std::int32_t>& labels() const { return labels_; }

private:
    using Label = typename SlicVectors<Scalar>::Label;
    using Floats = typename SlicVectors<Scalar>::Values;
    using Ints = typename SlicVectors<Scalar>::Labels;

    /// A centre as the chunks of one row see it.
    struct RowCentre {
        Scalar dy2, x, c0, c1, c2;  ///< (y − y_k)², x_k, colour
        Scalar lo, hi;              ///< the window's columns [lo, hi) as Scalar
        std::size_t x0, x1;         ///< the same as indices
        Label label;
    };

    static Ints load_labels(const std::int32_t* from) {
        Ints v;
        for (std::size_t j = 0; j < lanes; ++j) v[j] = static_cast<Label>(from[j]);
        return v;
    }

    static void store_labels(const Ints& v, std::int32_t* to) {
        for (std::size_t j = 0; j < lanes; ++j) to[j] = static_cast<std::int32_t>(v[j]);
    }

    template <class Vector, class Value>
    static Vector load(const Value* from) {
        Vector v;
        std::memcpy(&v, from, sizeof v);
        return v;
    }

    /// `lanes` consecutive pixels of a row: colours, x, the best distance and label so far.
    template <std::size_t Channels>
    struct Chunk {
        Floats p0, p1, p2, xs, best;
        Ints label;

        /// From `colour` (three planes `plane` values apart) and `labels`, starting at column x0.
        Chunk(const Scalar* colour, std::size_t plane, const std::int32_t* labels, Scalar x0)
            : p0(load<Floats>(colour)), p1(load<Floats>(colour + (Channels == 3 ? plane : 0))),
              p2(load<Floats>(colour + (Channels == 3 ? 2 * plane : 0))),
              best(Floats{} + std::numeric_limits<Scalar>::max()), label(load_labels(labels)) {
            for (std::size_t j = 0; j < lanes; ++j) xs[j] = x0 + static_cast<Scalar>(j);
        }

        /// The pixels inside the centre's window that are closer to it than to the best so far
        /// take it (equal distances keep the earlier, lower-index centre). `WholeChunkInside`:
        /// the caller knows the window covers every pixel, so the window test is left out.
        template <bool WholeChunkInside>
        void try_centre(const RowCentre& c, Scalar spatial_weight) {
            const Floats dx = c.x - xs;
            const Floats t0 = p0 - c.c0;
            Floats colour = t0 * t0;
            if constexpr (Channels == 3) {
                const Floats t1 = p1 - c.c1, t2 = p2 - c.c2;
                colour = t0 * t0 + t1 * t1 + t2 * t2;
            }
            const Floats d = (c.dy2 + dx * dx) * spatial_weight + colour;
            Ints take = d < best;
            if constexpr (!WholeChunkInside) take &= (xs >= c.lo) & (xs < c.hi);
            best = take ? d : best;
            label = take ? c.label : label;
        }
    };

    /// Pixels [start, start + span) of a row, read from `colour` and `labels` (laid out with
    /// `plane` floats between colour planes), labels written back to `labels`.
    template <std::size_t Channels>
    void assign_span(const Scalar* colour, std::size_t plane, std::int32_t* labels, std::size_t start) {
        Chunk<Channels> left(colour, plane, labels, static_cast<Scalar>(start));
        Chunk<Channels> right(colour + lanes, plane, labels + lanes, static_cast<Scalar>(start + lanes));
        for (const RowCentre& c : row_) {
            if (c.x1 <= start || c.x0 >= start + span) continue;
            if (c.x0 <= start && c.x1 >= start + span) {
                left.template try_centre<true>(c, spatial_weight_);
                right.template try_centre<true>(c, spatial_weight_);
            } else {
                left.template try_centre<false>(c, spatial_weight_);
                right.template try_centre<false>(c, spatial_weight_);
            }
        }
        store_labels(left.label, labels);
        store_labels(right.label, labels + lanes);
    }

    template <std::size_t Channels>
    void assign_row(std::size_t y) {
        const std::size_t plane = height_ * width_, row = y * width_;
        std::size_t start = 0;
        for (; start + span <= width_; start += span)
            assign_span<Channels>(planes_ + row + start, plane, labels_.data() + row + start, start);
        if (start == width_) return;
        // The row's last, partial span goes through a zero-padded copy; the padding's columns
        // lie beyond every window, so it never takes a centre.
        const std::size_t rest = width_ - start;
        std::array<Scalar, 3 * span> colour{};
        std::array<std::int32_t, span> labels{};
        for (std::size_t c = 0; c < Channels; ++c)
            std::copy_n(planes_ + c * plane + row + start, rest, colour.data() + c * span);
        std::copy_n(labels_.data() + row + start, rest, labels.data());
        assign_span<Channels>(colour.data(), span, labels.data(), start);
        std::copy_n(labels.data(), rest, labels_.data() + row + start);
    }

    const Scalar* planes_;
    std::size_t channels_, height_, width_;
    Scalar spatial_weight_;
    std::vector<std::int32_t> labels_;  ///< height × width
    std::vector<RowCentre> centres_;                 ///< the live centres, as rows see them but dy2
    std::vector<Scalar> centre_y_;                   ///< their y
    std::vector<std::vector<std::uint32_t>> rows_;   ///< per row, the centres_ whose window covers it
    std::vector<RowCentre> row_;                     ///< the centres of the row being assigned
};

}  // namespace xai::detail
