#pragma once
// The libjpeg-turbo backend of load_image() (built when XAI_WITH_SYSTEM_DECODERS is ON, see
// docs/image.md): JPEG through Debian's libjpeg62-turbo, fuzzed continuously upstream
// (OSS-Fuzz) and security-supported by Debian.
//
// Same picture as stb on valid files, up to the arithmetic. The colour interpretation is stb's,
// not libjpeg's guess: a 3-component file is RGB when its components are named 'R', 'G', 'B' or
// an Adobe marker says "no transform" without a JFIF marker (stb's is_rgb), YCbCr otherwise; a
// 4-component file is decoded raw and converted as stb converts it (Adobe transform 0: CMYK,
// 2: YCCK, anything else: YCbCr with the fourth component ignored), with stb's formulas
// (stbi__blinn_8x8, stbi__YCbCr_to_RGB_row). Grey from a YCbCr file is its luma channel, as stb
// gives it; otherwise grey is computed with xai's conversion, which is stb's. What differs is the
// arithmetic of the inverse DCT, the chroma upsampling and the YCbCr conversion, a few levels
// at most (tests/test_image_decoders.cpp measures it on the shipped photos; docs/image.md gives
// the figure). Interblock smoothing, which libjpeg applies to incomplete progressive files and
// stb does not, is off.
//
// Truncated files. libjpeg-turbo decodes a file that ends before its EOI marker and warns
// ("Premature end of JPEG file"); stb refuses it. That one warning is an error here, so both
// backends refuse the same truncated files; the other warnings (corrupt entropy-coded data,
// extraneous bytes) stay warnings, as stb decodes those files too.
//
// Errors without undefined behaviour: as for libpng (image/decode/png.hpp), every libjpeg call
// that can fail sits in a function that calls setjmp itself and holds only pointers and
// integers; the error handler formats libjpeg's message into a plain char array and longjmps;
// the decompressor (released by a guard) and the image buffer belong to the caller.

#include <stdio.h>  // jpeglib.h uses FILE and size_t without including what declares them

#include <jerror.h>
#include <jpeglib.h>

#include <algorithm>
#include <csetjmp>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "xai/core/error.hpp"
#include "xai/core/tensor.hpp"
#include "xai/image/decode/pixels.hpp"
#include "xai/image/decode/stb.hpp"
#include "xai/image/format.hpp"

namespace xai::detail::libjpeg {

/// libjpeg's error manager with the jump target and the message: standard layout, `manager`
/// first, so libjpeg's pointer to it is a pointer to the whole.
struct ErrorHandler {
    jpeg_error_mgr manager;
    std::jmp_buf jump;
    char message[JMSG_LENGTH_MAX];
};

[[noreturn]] inline void on_error(j_common_ptr cinfo) {
    auto* handler = reinterpret_cast<ErrorHandler*>(cinfo->err);
    (*cinfo->err->format_message)(cinfo, handler->message);
    std::longjmp(handler->jump, 1);
}

/// Warnings and trace messages are silent (libjpeg would print them on stderr), except the
/// warning that the file ended early, which stb treats as an error (see the top of this file).
inline void on_message(j_common_ptr cinfo, int level) {
    if (level < 0 && cinfo->err->msg_code == JWRN_JPEG_EOF) on_error(cinfo);
}

/// Owns the decompressor once jpeg_create_decompress has run.
struct Decompressor {
    jpeg_decompress_struct cinfo{};
    ErrorHandler handler{};
    bool created = false;
    Decompressor() = default;
    Decompressor(const Decompressor&) = delete;
    Decompressor& operator=(const Decompressor&) = delete;
    ~Decompressor() {
        if (created) jpeg_destroy_decompress(&cinfo);
    }
};

/// Creates the decompressor over `bytes` and reads the header (the markers up to the first scan).
inline bool read_header(Decompressor* d, const std::uint8_t* bytes, std::size_t size) {
    if (setjmp(d->handler.jump)) return false;
    jpeg_create_decompress(&d->cinfo);
    d->created = true;
    jpeg_mem_src(&d->cinfo, bytes, static_cast<unsigned long>(size));
    jpeg_read_header(&d->cinfo, TRUE);
    return true;
}

inline bool start(Decompressor* d) {
    if (setjmp(d->handler.jump)) return false;
    jpeg_start_decompress(&d->cinfo);
    return true;
}

/// Decodes every scanline into `base` (rows of `stride` bytes, bottom-up when `flip`) and reads
/// the rest of the file up to EOI.
inline bool read_scanlines(Decompressor* d, std::uint8_t* base, std::size_t stride, bool flip) {
    if (setjmp(d->handler.jump)) return false;
    const std::size_t height = d->cinfo.output_height;
    while (d->cinfo.output_scanline < d->cinfo.output_height) {
        const std::size_t line = d->cinfo.output_scanline;
        JSAMPROW row = base + (flip ? height - 1 - line : line) * stride;
        jpeg_read_scanlines(&d->cinfo, &row, 1);
    }
    jpeg_finish_decompress(&d->cinfo);
    return true;
}

/// stbi__blinn_8x8: x·y/255, rounded, in integers.
constexpr std::uint8_t blinn_8x8(std::uint8_t x, std::uint8_t y) {
    const unsigned t = static_cast<unsigned>(x) * y + 128u;
    return static_cast<std::uint8_t>((t + (t >> 8)) >> 8);
}

/// stbi__YCbCr_to_RGB_row for one pixel (20-bit fixed point, rounded, clamped).
inline void ycbcr_to_rgb(std::uint8_t y, std::uint8_t cb, std::uint8_t cr, std::uint8_t* rgb) {
    const auto fixed = [](float x) { return static_cast<int>(x * 4096.0f + 0.5f) * 256; };
    const int y_fixed = (y << 20) + (1 << 19);
    const int dr = cr - 128, db = cb - 128;
    const int r = y_fixed + dr * fixed(1.40200f);
    const int g = y_fixed + dr * -fixed(0.71414f) + static_cast<int>(static_cast<unsigned>(db * -fixed(0.34414f)) & 0xFFFF0000u);
    const int b = y_fixed + db * fixed(1.77200f);
    rgb[0] = static_cast<std::uint8_t>(std::clamp(r >> 20, 0, 255));
    rgb[1] = static_cast<std::uint8_t>(std::clamp(g >> 20, 0, 255));
    rgb[2] = static_cast<std::uint8_t>(std::clamp(b >> 20, 0, 255));
}

/// stb's conversion of raw 4-component samples to RGB (or to grey when `grey`), by the Adobe
/// transform (-1 when the file has no Adobe marker).
inline std::vector<std::uint8_t> convert_four_components(const std::vector<std::uint8_t>& raw, std::size_t count,
                                                         int transform, bool grey) {
    std::vector<std::uint8_t> out(count * (grey ? 1 : 3));
    for (std::size_t i = 0; i < count; ++i) {
        const std::uint8_t* p = raw.data() + 4 * i;
        std::uint8_t rgb[3];
        if (transform == 0) {  // CMYK
            for (int k = 0; k < 3; ++k) rgb[k] = blinn_8x8(p[k], p[3]);
        } else if (transform == 2) {  // YCCK
            if (grey) {
                out[i] = blinn_8x8(static_cast<std::uint8_t>(255 - p[0]), p[3]);
                continue;
            }
            ycbcr_to_rgb(p[0], p[1], p[2], rgb);
            for (std::uint8_t& v : rgb) v = blinn_8x8(static_cast<std::uint8_t>(255 - v), p[3]);
        } else {  // YCbCr with a fourth component stb ignores
            if (grey) {
                out[i] = p[0];
                continue;
            }
            ycbcr_to_rgb(p[0], p[1], p[2], rgb);
        }
        if (grey) {
            out[i] = static_cast<std::uint8_t>((rgb[0] * 77 + rgb[1] * 150 + rgb[2] * 29) >> 8);
        } else {
            std::copy(rgb, rgb + 3, out.data() + 3 * i);
        }
    }
    return out;
}

/// The width and height in the first frame header (SOF0–SOF15) of a JPEG stream, found by
/// walking its marker segments from SOI as a decoder does; false when the stream has none before
/// its first scan or its end.
inline bool frame_size(const std::uint8_t* bytes, std::size_t size, std::uint32_t* width, std::uint32_t* height) {
    bool found = false;
    for_each_jpeg_segment(bytes, size, jpeg_start_of_image_end(bytes, size), [&](std::uint8_t marker, std::size_t pos) {
        if (marker == 0xDA) return false;  // a scan before any frame
        if (marker < 0xC0 || marker > 0xCF || marker == 0xC4 || marker == 0xC8 || marker == 0xCC) return true;
        if (pos + 9 <= size) {  // SOF0–SOF15: length, precision, height, width
            *height = (std::uint32_t{bytes[pos + 5]} << 8) | bytes[pos + 6];
            *width = (std::uint32_t{bytes[pos + 7]} << 8) | bytes[pos + 8];
            found = true;
        }
        return false;
    });
    return found;
}

/// Decodes a JPEG with libjpeg-turbo; `channels` 0–4, the checks of require_well_formed() have
/// passed.
inline Image decode(const std::uint8_t* bytes, std::size_t size, std::size_t channels, std::size_t max_pixels,
                    const std::string& source, const char* where) {
    // The budget from the frame header, before libjpeg reads the file (whose header parsing goes
    // on to the first scan, and fails on a file that is nothing but a header): so an oversized
    // image is refused by the budget, as the stb backend refuses it.
    std::uint32_t declared_width = 0, declared_height = 0;
    if (frame_size(bytes, size, &declared_width, &declared_height) && declared_width != 0 && declared_height != 0)
        require_pixel_budget(declared_width, declared_height, max_pixels, source, where);
    Decompressor d;
    d.cinfo.err = jpeg_std_error(&d.handler.manager);
    d.handler.manager.error_exit = on_error;
    d.handler.manager.emit_message = on_message;
    if (!read_header(&d, bytes, size))
        throw io_error(message(where, ": cannot read ", source, ": libjpeg: ", d.handler.message,
                               " (an unsupported format, or a truncated or corrupt header)"));
    jpeg_decompress_struct& cinfo = d.cinfo;
    require_pixel_budget(cinfo.image_width, cinfo.image_height, max_pixels, source, where);

    // stb's colour interpretation (see the top of this file).
    const bool want_grey = channels == 1 || channels == 2;
    const int components = cinfo.num_components;
    const int transform = cinfo.saw_Adobe_marker ? cinfo.Adobe_transform : -1;
    bool four = false;
    if (components == 3) {
        const bool named_rgb = cinfo.comp_info[0].component_id == 'R' && cinfo.comp_info[1].component_id == 'G' &&
                               cinfo.comp_info[2].component_id == 'B';
        const bool is_rgb = named_rgb || (transform == 0 && !cinfo.saw_JFIF_marker);
        cinfo.jpeg_color_space = is_rgb ? JCS_RGB : JCS_YCbCr;
        cinfo.out_color_space = want_grey && !is_rgb ? JCS_GRAYSCALE : JCS_RGB;
    } else if (components == 4) {
        // Raw samples: libjpeg passes CMYK through untouched.
        cinfo.jpeg_color_space = JCS_CMYK;
        cinfo.out_color_space = JCS_CMYK;
        four = true;
    } else {
        cinfo.jpeg_color_space = JCS_GRAYSCALE;
        cinfo.out_color_space = JCS_GRAYSCALE;
    }
    cinfo.do_block_smoothing = FALSE;
    const auto fail = [&] {
        return io_error(message(where, ": cannot decode ", source, ": libjpeg: ", d.handler.message,
                                " (a truncated or corrupt file)"));
    };
    if (!start(&d)) throw fail();
    const std::size_t w = cinfo.output_width, h = cinfo.output_height;
    const auto c = static_cast<std::size_t>(cinfo.output_components);
    require_pixel_budget(w, h, max_pixels, source, where);
    std::vector<std::uint8_t> samples(w * h * c);
    if (!read_scanlines(&d, samples.data(), w * c, stb_flips_on_load())) throw fail();
    if (four) {
        const std::vector<std::uint8_t> converted = convert_four_components(samples, w * h, transform, want_grey);
        return to_image(PixelView<std::uint8_t>{converted.data(), w, h, want_grey ? 1u : 3u}, channels);
    }
    return to_image(PixelView<std::uint8_t>{samples.data(), w, h, c}, channels);
}

}  // namespace xai::detail::libjpeg
