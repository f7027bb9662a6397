#pragma once
// The libpng backend of load_image() (built when XAI_WITH_SYSTEM_DECODERS is ON, see
// docs/image.md): PNG through Debian's libpng16, fuzzed continuously upstream (OSS-Fuzz) and
// security-supported by Debian.
//
// Same pixels as stb on valid files. libpng is asked for what stb returns: palettes expanded
// to RGB, a tRNS chunk turned into an alpha channel (RGBA for palettes and RGB, grey + alpha for
// grey), grey of 1, 2 or 4 bits scaled to 8 bits by bit replication, 16-bit samples kept, no
// gamma correction (stb ignores gAMA, sRGB and iCCP), interlaced images assembled. The channel
// conversion afterwards is xai's (detail::convert_channels), the one the stb backend uses.
//
// Errors without undefined behaviour. libpng reports an error by calling back and then
// longjmp-ing to the last setjmp; a C++ frame left that way must hold nothing with a non-trivial
// destructor (C++ [csetjmp.syn]). So each call into libpng that can fail sits in a small
// function (read_header, read_pixels) that calls setjmp itself and holds only pointers and
// integers; the image buffer and the libpng structures (released by a guard) belong to the
// caller, which no longjmp leaves. The error callback copies libpng's message into a plain
// char array and jumps; C++ exceptions never cross libpng's C frames.
//
// Limits. The pixel budget is checked from the IHDR chunk, read here before libpng sees the
// file, so that it is the budget that refuses an oversized image and not libpng's own default
// limit of 10^6 pixels a side, which is lifted to the PNG maximum (2^31 − 1) for the same reason
// (stb accepts 2·10^6 × 1). libpng keeps its limits on ancillary chunks (8 MB a chunk, 1000
// chunks). It checks CRCs and the zlib checksum, which stb does not: a file whose checksums do
// not match is refused here and decoded by stb.

#include <png.h>

#include <csetjmp>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "xai/core/error.hpp"
#include "xai/core/tensor.hpp"
#include "xai/image/decode/pixels.hpp"
#include "xai/image/decode/stb.hpp"

namespace xai::detail::libpng {

/// What the callbacks share with the caller: trivially destructible, so a longjmp may leave
/// any frame that points to it.
struct Source {
    const std::uint8_t* bytes;
    std::size_t size;
    std::size_t pos;
    char message[200];  ///< libpng's error message, NUL-terminated
};

inline void read_data(png_structp png, png_bytep out, std::size_t length) {
    auto* source = static_cast<Source*>(png_get_io_ptr(png));
    if (length > source->size - source->pos) png_error(png, "the file ends before the data libpng reads");
    std::memcpy(out, source->bytes + source->pos, length);
    source->pos += length;
}

[[noreturn]] inline void on_error(png_structp png, png_const_charp text) {
    auto* source = static_cast<Source*>(png_get_error_ptr(png));
    std::strncpy(source->message, text != nullptr ? text : "unknown error", sizeof source->message - 1);
    source->message[sizeof source->message - 1] = '\0';
    png_longjmp(png, 1);
}

/// Warnings are not errors: stb decodes the files libpng warns about (an unknown ancillary
/// chunk with a bad CRC, extra data after the image, an out-of-range palette index).
inline void on_warning(png_structp, png_const_charp) {}

/// What the transforms turn the image into.
struct Layout {
    png_uint_32 width, height;
    int channels, bit_depth;
    std::size_t row_bytes;
};

/// Reads the chunks up to the image data and sets the transforms that give stb's layout.
/// Returns false when libpng reports an error (the message is in the Source).
inline bool read_header(png_structp png, png_infop info, Layout* layout) {
    if (setjmp(png_jmpbuf(png))) return false;
    png_read_info(png, info);
    const int colour = png_get_color_type(png, info);
    const int depth = png_get_bit_depth(png, info);
    if (colour == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
    if (colour == PNG_COLOR_TYPE_GRAY && depth < 8) png_set_expand_gray_1_2_4_to_8(png);
    if (png_get_valid(png, info, PNG_INFO_tRNS) != 0) png_set_tRNS_to_alpha(png);
    if (depth == 16) {
        // PNG stores 16-bit samples most significant byte first; the buffer holds uint16_t.
        const std::uint16_t one = 1;
        std::uint8_t first = 0;
        std::memcpy(&first, &one, 1);
        if (first == 1) png_set_swap(png);
    }
    png_set_interlace_handling(png);
    png_read_update_info(png, info);
    layout->width = png_get_image_width(png, info);
    layout->height = png_get_image_height(png, info);
    layout->channels = png_get_channels(png, info);
    layout->bit_depth = png_get_bit_depth(png, info);
    layout->row_bytes = png_get_rowbytes(png, info);
    return true;
}

/// Decodes the image into `rows` (one pointer per row) and reads the chunks after it.
inline bool read_pixels(png_structp png, png_infop info, png_bytepp rows) {
    if (setjmp(png_jmpbuf(png))) return false;
    png_read_image(png, rows);
    png_read_end(png, info);
    return true;
}

/// Owns libpng's read and info structures.
struct ReadStruct {
    png_structp png = nullptr;
    png_infop info = nullptr;
    ReadStruct() = default;
    ReadStruct(const ReadStruct&) = delete;
    ReadStruct& operator=(const ReadStruct&) = delete;
    ~ReadStruct() {
        if (png != nullptr) png_destroy_read_struct(&png, info != nullptr ? &info : nullptr, nullptr);
    }
};

/// The width and height in the IHDR chunk, which the PNG specification puts first, right after
/// the signature; false when the file is too short or starts with another chunk.
inline bool ihdr_size(const std::uint8_t* bytes, std::size_t size, std::uint32_t* width, std::uint32_t* height) {
    if (size < 8 + 8 + 13 || std::memcmp(bytes + 8, "\0\0\0\x0dIHDR", 8) != 0) return false;
    const auto be32 = [&](std::size_t at) {
        return (std::uint32_t{bytes[at]} << 24) | (std::uint32_t{bytes[at + 1]} << 16) |
               (std::uint32_t{bytes[at + 2]} << 8) | bytes[at + 3];
    };
    *width = be32(16);
    *height = be32(20);
    return true;
}

/// Decodes a PNG with libpng; `channels` 0–4, the checks of require_well_formed() have passed.
inline Image decode(const std::uint8_t* bytes, std::size_t size, std::size_t channels, std::size_t max_pixels,
                    const std::string& source_name, const char* where) {
    std::uint32_t width = 0, height = 0;
    if (!ihdr_size(bytes, size, &width, &height))
        throw io_error(message(where, ": cannot read ", source_name,
                               ": the PNG does not start with an IHDR chunk (a truncated or corrupt header)"));
    require_pixel_budget(width, height, max_pixels, source_name, where);

    Source source{bytes, size, 0, {}};
    ReadStruct reader;
    reader.png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &source, on_error, on_warning);
    require<io_error>(reader.png != nullptr, where, ": libpng could not allocate its decoder for ", source_name);
    reader.info = png_create_info_struct(reader.png);
    require<io_error>(reader.info != nullptr, where, ": libpng could not allocate its decoder for ", source_name);
    png_set_read_fn(reader.png, &source, read_data);
    png_set_user_limits(reader.png, PNG_UINT_31_MAX, PNG_UINT_31_MAX);

    const auto fail = [&] {
        return io_error(message(where, ": cannot decode ", source_name, ": libpng: ", source.message,
                                " (a truncated or corrupt file)"));
    };
    Layout layout{};
    if (!read_header(reader.png, reader.info, &layout)) throw fail();
    require_pixel_budget(layout.width, layout.height, max_pixels, source_name, where);

    // One buffer of the samples' own type (libpng writes bytes, which may alias anything), its
    // rows in file order, or bottom-up when the program asked stb to flip on load.
    const bool flip = stb_flips_on_load();
    const std::size_t w = layout.width, h = layout.height, c = static_cast<std::size_t>(layout.channels);
    std::vector<std::uint8_t> bytes8(layout.bit_depth == 16 ? 0 : h * layout.row_bytes);
    std::vector<std::uint16_t> bytes16(layout.bit_depth == 16 ? h * layout.row_bytes / 2 : 0);
    auto* base = layout.bit_depth == 16 ? reinterpret_cast<png_bytep>(bytes16.data()) : bytes8.data();
    std::vector<png_bytep> rows(h);
    for (std::size_t y = 0; y < h; ++y) rows[flip ? h - 1 - y : y] = base + y * layout.row_bytes;
    if (!read_pixels(reader.png, reader.info, rows.data())) throw fail();
    if (layout.bit_depth == 16) return to_image(PixelView<std::uint16_t>{bytes16.data(), w, h, c}, channels);
    return to_image(PixelView<std::uint8_t>{bytes8.data(), w, h, c}, channels);
}

}  // namespace xai::detail::libpng
