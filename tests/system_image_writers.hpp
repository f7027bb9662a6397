// PNG and JPEG files written with libpng and libjpeg, for the tests of the image decoders
// (test_image_decoders) and the fuzz seeds (fuzz/make_fuzz_seeds): files in every colour type,
// bit depth, interlacing, colour space, subsampling and progression, written by neither of the
// decoders under test. Only for builds with the system decoders (XAI_HAS_SYSTEM_DECODERS), whose
// xai::xai target links libpng and libjpeg.
#pragma once

#if !(defined(XAI_HAS_SYSTEM_DECODERS) && XAI_HAS_SYSTEM_DECODERS)
#error "system_image_writers.hpp needs xai built with the system decoders (XAI_WITH_SYSTEM_DECODERS)"
#endif

#include <png.h>
#include <stdio.h>  // jpeglib.h uses FILE and size_t without including what declares them
#include <jpeglib.h>

#include <csetjmp>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <stdexcept>
#include <vector>

namespace xai_test {

using Bytes = std::vector<std::uint8_t>;

/// What write_png() writes.
struct PngSpec {
    std::uint32_t width = 0, height = 0;
    int bit_depth = 8, colour_type = PNG_COLOR_TYPE_RGB;
    bool interlaced = false;
    std::vector<png_color> palette;         ///< colour type 3
    std::vector<std::uint8_t> trans_alpha;  ///< tRNS of a palette
    bool trans_colour = false;              ///< tRNS of grey or RGB: `trans`
    png_color_16 trans{};
    std::vector<Bytes> rows;  ///< packed rows as PNG stores them (16-bit most significant byte first)
};

inline void png_append(png_structp png, png_bytep data, std::size_t length) {
    auto* out = static_cast<Bytes*>(png_get_io_ptr(png));
    out->insert(out->end(), data, data + length);
}
inline void png_flush(png_structp) {}

// The setjmp target lives in a function of its own, with no object whose destructor the
// longjmp would skip.
inline bool png_write_body(png_structp png, png_infop info, const PngSpec* spec, png_bytepp rows) {
    if (setjmp(png_jmpbuf(png))) return false;
    png_set_IHDR(png, info, spec->width, spec->height, spec->bit_depth, spec->colour_type,
                 spec->interlaced ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
                 PNG_FILTER_TYPE_DEFAULT);
    if (!spec->palette.empty()) png_set_PLTE(png, info, spec->palette.data(), static_cast<int>(spec->palette.size()));
    if (!spec->trans_alpha.empty())
        png_set_tRNS(png, info, spec->trans_alpha.data(), static_cast<int>(spec->trans_alpha.size()), nullptr);
    if (spec->trans_colour) png_set_tRNS(png, info, nullptr, 0, &spec->trans);
    png_write_info(png, info);
    png_write_image(png, rows);
    png_write_end(png, info);
    return true;
}

/// A PNG colour type, its samples per pixel, and its name in file names and messages.
struct PngKind {
    const char* name;
    int colour, samples;
};

/// The five PNG colour types.
inline constexpr PngKind png_kinds[] = {{"grey", PNG_COLOR_TYPE_GRAY, 1},
                                        {"rgb", PNG_COLOR_TYPE_RGB, 3},
                                        {"palette", PNG_COLOR_TYPE_PALETTE, 1},
                                        {"grey_alpha", PNG_COLOR_TYPE_GRAY_ALPHA, 2},
                                        {"rgba", PNG_COLOR_TYPE_RGB_ALPHA, 4}};

/// True when the PNG specification allows `depth` bits per sample (1, 2, 4, 8, 16) for the
/// colour type: grey all of them, palette up to 8, the others 8 and 16.
constexpr bool png_depth_allowed(int colour, int depth) {
    return colour == PNG_COLOR_TYPE_GRAY || (colour == PNG_COLOR_TYPE_PALETTE ? depth <= 8 : depth >= 8);
}

/// The PNG file `spec` describes, written by libpng.
inline Bytes write_png(const PngSpec& spec) {
    Bytes out;
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
    png_infop info = png_create_info_struct(png);
    png_set_write_fn(png, &out, png_append, png_flush);
    std::vector<png_bytep> rows;
    for (const Bytes& r : spec.rows) rows.push_back(const_cast<png_bytep>(r.data()));
    const bool ok = png_write_body(png, info, &spec, rows.data());
    png_destroy_write_struct(&png, &info);
    if (!ok) throw std::runtime_error("libpng could not write the test PNG");
    return out;
}

/// What write_jpeg() writes.
struct JpegSpec {
    int width = 0, height = 0, components = 3;
    J_COLOR_SPACE in_space = JCS_RGB, file_space = JCS_YCbCr;
    int quality = 90;
    int h_samp = 2, v_samp = 2;  ///< luma sampling factors (2, 2: 4:2:0)
    bool progressive = false;
    unsigned restart_interval = 0;
    Bytes samples;  ///< height × width × components
};

struct JpegError {
    jpeg_error_mgr manager;
    std::jmp_buf jump;
};
[[noreturn]] inline void jpeg_fail(j_common_ptr cinfo) { std::longjmp(reinterpret_cast<JpegError*>(cinfo->err)->jump, 1); }

inline bool jpeg_write_body(jpeg_compress_struct* c, JpegError* err, const JpegSpec* spec, unsigned char** buffer,
                            unsigned long* size) {
    if (setjmp(err->jump)) return false;
    jpeg_create_compress(c);
    jpeg_mem_dest(c, buffer, size);
    c->image_width = static_cast<JDIMENSION>(spec->width);
    c->image_height = static_cast<JDIMENSION>(spec->height);
    c->input_components = spec->components;
    c->in_color_space = spec->in_space;
    jpeg_set_defaults(c);
    jpeg_set_colorspace(c, spec->file_space);
    jpeg_set_quality(c, spec->quality, TRUE);
    if (c->num_components >= 3) {
        c->comp_info[0].h_samp_factor = spec->h_samp;
        c->comp_info[0].v_samp_factor = spec->v_samp;
    }
    if (spec->progressive) jpeg_simple_progression(c);
    c->restart_interval = spec->restart_interval;
    jpeg_start_compress(c, TRUE);
    const std::size_t stride = static_cast<std::size_t>(spec->width) * static_cast<std::size_t>(spec->components);
    while (c->next_scanline < c->image_height) {
        JSAMPROW row = const_cast<JSAMPROW>(spec->samples.data() + c->next_scanline * stride);
        jpeg_write_scanlines(c, &row, 1);
    }
    jpeg_finish_compress(c);
    return true;
}

/// The JPEG file `spec` describes, written by libjpeg.
inline Bytes write_jpeg(const JpegSpec& spec) {
    jpeg_compress_struct c{};
    JpegError err{};
    c.err = jpeg_std_error(&err.manager);
    err.manager.error_exit = jpeg_fail;
    unsigned char* buffer = nullptr;
    unsigned long size = 0;
    const bool ok = jpeg_write_body(&c, &err, &spec, &buffer, &size);
    jpeg_destroy_compress(&c);
    Bytes out;
    if (ok) out.assign(buffer, buffer + size);
    std::free(buffer);
    if (!ok) throw std::runtime_error("libjpeg could not write the test JPEG");
    return out;
}

}  // namespace xai_test
