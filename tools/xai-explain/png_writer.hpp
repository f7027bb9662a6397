#pragma once
// xai-explain's PNG writer: the pictures encoded with zlib (already linked by the tool, ZLIB::ZLIB)
// at Z_BEST_SPEED instead of stb_image_write's own deflate, which was a third to a half of the
// tool's time per 64×64 image (docs/cli.md, "Performance"). The library's headers do not need
// zlib, so this stays in the tool.
//
// The file (PNG 1.2 / ISO 15948): the signature, IHDR (8-bit samples, colour type 0 grey, 4 grey
// + alpha, 2 RGB or 6 RGBA for 1–4 channels, no interlace), one IDAT chunk holding the zlib
// stream of the filtered rows, IEND; each chunk's CRC-32 by zlib's crc32. The samples are the
// bytes xai::save_image() writes (⌊255·clamp(v, 0, 1) + 0.5⌋, xai::to_hwc_u8's Rounding::nearest),
// so a picture loads back to the same pixels either way (tests/test_cli.cpp decodes them with stb
// and with libpng). Each row gets the filter None, Sub or Up with the smallest sum of absolute
// filtered bytes (the "minimum sum of absolute differences" heuristic of the PNG specification,
// section 12.8, without Average and Paeth, the costly ones); a row equal to the one above (the
// zoomed pictures repeat each row, gallery.hpp) is found by comparing the floats and written as
// Up, all zeros, without converting it.
//
// A PngEncoder keeps its deflate state and buffers between pictures (one per writing thread), so
// that a run does not allocate and fault in fresh pages for every picture.

#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <new>
#include <string>
#include <vector>

#include "write_file.hpp"
#include "xai/core/tensor.hpp"
#include "xai/image/convert.hpp"

namespace xai_explain {

/// PNG encoder on zlib (see the header); not thread-safe: one per thread.
class PngEncoder {
public:
    PngEncoder() {
        if (deflateInit2(&stream_, Z_BEST_SPEED, Z_DEFLATED, 15, 8, Z_DEFAULT_STRATEGY) != Z_OK) throw std::bad_alloc();
    }
    ~PngEncoder() { deflateEnd(&stream_); }
    PngEncoder(const PngEncoder&) = delete;
    PngEncoder& operator=(const PngEncoder&) = delete;

    /// The PNG file's bytes for a C×H×W image (1–4 channels, values clamped to [0, 1]); valid
    /// until the next call. Throws like xai::to_hwc_u8 for another shape or a non-finite value.
    const std::vector<std::uint8_t>& encode(const xai::Image& image) {
        const char* where = "xai_explain::PngEncoder::encode()";
        const std::size_t c = image.shape(0), h = image.shape(1), w = image.shape(2);
        xai::detail::require_pixel_extents(h, w, c, where);
        xai::detail::require<xai::shape_error>(h <= 0x7FFFFFFFu / 4 && w <= 0x7FFFFFFFu / 4, where, ": the image is ", h, "x",
                                               w, ", too large for a PNG");
        const std::size_t stride = w * c, plane = h * w;
        filtered_.resize(h * (stride + 1));
        row_.resize(2 * stride);
        std::uint8_t* previous = row_.data();
        std::uint8_t* current = row_.data() + stride;
        std::fill_n(previous, stride, std::uint8_t{0});
        const float* in = image.data();
        float finite = 0.0f;  // stays 0 unless a value is NaN or infinite (v − v is NaN then)
        for (std::size_t y = 0; y < h; ++y) {
            std::uint8_t* out = filtered_.data() + y * (stride + 1);
            if (y > 0 && same_as_previous_row(in, c, plane, w, y)) {
                // A zoomed picture repeats each row (gallery.hpp): Up makes it all zeros, which
                // deflate turns into a few back-references, and the row needs no conversion.
                // `previous` keeps the row's bytes for the next one.
                out[0] = 2;
                std::fill_n(out + 1, stride, std::uint8_t{0});
                continue;
            }
            // The bytes of xai::detail::to_byte(v, Rounding::nearest): ⌊255·clamp(v) + 0.5⌋, the
            // cast truncating a non-negative value as floor does; a NaN becomes 0 here (no
            // undefined cast) and is refused after the row.
            for (std::size_t ch = 0; ch < c; ++ch) {
                const float* source = in + ch * plane + y * w;
                for (std::size_t x = 0; x < w; ++x) {
                    finite += source[x] - source[x];
                    const float v = source[x] >= 0.0f ? (source[x] <= 1.0f ? source[x] : 1.0f) : 0.0f;
                    current[x * c + ch] = static_cast<std::uint8_t>(255.0f * v + 0.5f);
                }
            }
            xai::detail::require(finite == 0.0f, where, ": the image contains NaN or Inf, expected finite values");
            // The filter with the smallest sum of |filtered byte as a signed value|.
            std::size_t none = 0, sub = 0, up = 0;
            for (std::size_t i = 0; i < stride; ++i) {
                const std::uint8_t left = i >= c ? current[i - c] : 0;
                none += magnitude(current[i]);
                sub += magnitude(static_cast<std::uint8_t>(current[i] - left));
                up += magnitude(static_cast<std::uint8_t>(current[i] - previous[i]));
            }
            if (up <= std::min(none, sub)) {
                out[0] = 2;
                for (std::size_t i = 0; i < stride; ++i) out[1 + i] = static_cast<std::uint8_t>(current[i] - previous[i]);
            } else if (sub < none) {
                out[0] = 1;
                std::copy_n(current, std::min(c, stride), out + 1);
                for (std::size_t i = c; i < stride; ++i) out[1 + i] = static_cast<std::uint8_t>(current[i] - current[i - c]);
            } else {
                out[0] = 0;
                std::copy_n(current, stride, out + 1);
            }
            std::swap(previous, current);
        }

        static constexpr std::uint8_t signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
        static constexpr std::uint8_t colour_types[5] = {0, 0, 4, 2, 6};
        const uLong bound = deflateBound(&stream_, static_cast<uLong>(filtered_.size()));
        png_.resize(8 + (12 + 13) + 12 + bound + 12);
        std::copy_n(signature, 8, png_.data());
        std::size_t at = 8;
        std::uint8_t header[13] = {};
        put_u32(header, static_cast<std::uint32_t>(w));
        put_u32(header + 4, static_cast<std::uint32_t>(h));
        header[8] = 8;                  // bits per sample
        header[9] = colour_types[c];    // compression, filter method and interlace stay 0
        at = chunk(at, "IHDR", header, 13);

        // IDAT: deflated straight into the file's buffer after its length and type.
        if (deflateReset(&stream_) != Z_OK) throw std::bad_alloc();
        stream_.next_in = filtered_.data();
        stream_.avail_in = static_cast<uInt>(filtered_.size());
        stream_.next_out = png_.data() + at + 8;
        stream_.avail_out = static_cast<uInt>(bound);
        const int status = deflate(&stream_, Z_FINISH);
        xai::detail::require<xai::io_error>(status == Z_STREAM_END, where, ": zlib's deflate returned ", status,
                                            ", expected Z_STREAM_END");
        at = chunk(at, "IDAT", nullptr, static_cast<std::size_t>(stream_.total_out));
        at = chunk(at, "IEND", nullptr, 0);
        png_.resize(at);
        return png_;
    }

    /// Writes the image to `path` as PNG (write_file.hpp: Failure naming the file when it cannot be written).
    void save(const std::filesystem::path& path, const xai::Image& image) {
        const std::vector<std::uint8_t>& bytes = encode(image);
        write_file(path, bytes.data(), bytes.size());
    }

private:
    /// Whether row y of every channel holds the same floats, bit for bit, as row y − 1 (so the same bytes).
    static bool same_as_previous_row(const float* in, std::size_t c, std::size_t plane, std::size_t w, std::size_t y) {
        for (std::size_t ch = 0; ch < c; ++ch) {
            const float* row = in + ch * plane + y * w;
            if (std::memcmp(row, row - w, w * sizeof(float)) != 0) return false;
        }
        return true;
    }

    static std::size_t magnitude(std::uint8_t filtered) {
        return static_cast<std::size_t>(std::abs(static_cast<int>(static_cast<std::int8_t>(filtered))));
    }

    static void put_u32(std::uint8_t* out, std::uint32_t v) {
        out[0] = static_cast<std::uint8_t>(v >> 24), out[1] = static_cast<std::uint8_t>(v >> 16);
        out[2] = static_cast<std::uint8_t>(v >> 8), out[3] = static_cast<std::uint8_t>(v);
    }

    /// Writes a chunk at `at`: length, type, the data (copied from `data` unless it is already in
    /// place, as IDAT's is) and the CRC-32 of type and data; returns the offset after it.
    std::size_t chunk(std::size_t at, const char (&type)[5], const std::uint8_t* data, std::size_t size) {
        std::uint8_t* out = png_.data() + at;
        put_u32(out, static_cast<std::uint32_t>(size));
        std::copy_n(type, 4, out + 4);
        if (data != nullptr) std::copy_n(data, size, out + 8);
        const uLong crc = crc32(crc32(0L, Z_NULL, 0), out + 4, static_cast<uInt>(size + 4));
        put_u32(out + 8 + size, static_cast<std::uint32_t>(crc));
        return at + 12 + size;
    }

    z_stream stream_{};
    std::vector<std::uint8_t> row_;       ///< the previous and the current row, as bytes
    std::vector<std::uint8_t> filtered_;  ///< the rows, each after its filter-type byte
    std::vector<std::uint8_t> png_;       ///< the file
};

}  // namespace xai_explain
