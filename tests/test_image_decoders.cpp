// Tests of image loading's formats and decoders (include/xai/image/format.hpp, io.hpp, decode/,
// stb_guard.hpp): the allow-list of formats, the agreement of the stb and libpng/libjpeg-turbo
// backends, the checks that keep hostile files away from stb.
//
// PNG and JPEG test files are written here with libpng and libjpeg (when xai is built with the
// system decoders), in every colour type, bit depth, interlacing, subsampling and progression,
// so that both backends are compared on files neither of them wrote.
#include <catch2/catch.hpp>

#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "test_files.hpp"
#include "xai/core/data_dir.hpp"
#include "xai/core/random.hpp"
#include "xai/image/decode/stb_jpeg_check.hpp"
#include "xai/image/format.hpp"
#include "xai/image/io.hpp"
#include "xai/image/stb_guard.hpp"

#include <stb_image_write.h>

#if defined(XAI_HAS_SYSTEM_DECODERS) && XAI_HAS_SYSTEM_DECODERS
#include "system_image_writers.hpp"
#endif

using Catch::Matchers::Contains;
using Bytes = std::vector<std::uint8_t>;

namespace {

using xai_test::put_u32_be;
using xai_test::TempDir;
using xai_test::write_bytes;

Bytes text_bytes(const std::string& text) { return Bytes(text.begin(), text.end()); }

void append(void* context, void* data, int size) {
    auto* out = static_cast<Bytes*>(context);
    const auto* p = static_cast<const std::uint8_t*>(data);
    out->insert(out->end(), p, p + size);
}

void put_u16_le(Bytes& out, std::uint32_t v) {
    out.push_back(static_cast<std::uint8_t>(v));
    out.push_back(static_cast<std::uint8_t>(v >> 8));
}
void put_u32_le(Bytes& out, std::uint32_t v) {
    put_u16_le(out, v & 0xFFFF);
    put_u16_le(out, v >> 16);
}
void put_u16_be(Bytes& out, std::uint32_t v) {
    out.push_back(static_cast<std::uint8_t>(v >> 8));
    out.push_back(static_cast<std::uint8_t>(v));
}

/// The decoders this build has: stb always, the system decoders when built in.
std::vector<xai::ImageDecoder> decoders() {
    if (xai::has_system_decoders) return {xai::ImageDecoder::stb, xai::ImageDecoder::system};
    return {xai::ImageDecoder::stb};
}

const char* name_of(xai::ImageDecoder decoder) {
    return decoder == xai::ImageDecoder::stb ? "stb" : decoder == xai::ImageDecoder::system ? "system" : "automatic";
}

xai::Image load(const Bytes& bytes, std::size_t channels, xai::ImageDecoder decoder) {
    return xai::load_image_from_memory(bytes, channels, {.decoder = decoder});
}

/// A 1×1 GIF: global colour table of black and white, one LZW code block (clear, index 0, end).
Bytes tiny_gif() {
    return {'G', 'I', 'F', '8', '9', 'a', 1, 0, 1, 0, 0x80, 0, 0, 0,    0,    0, 255, 255,
            255, 0x2C, 0, 0, 0, 0, 1, 0, 1, 0, 0, 2, 2, 0x44, 0x01, 0, 0x3B};
}

/// An uncompressed palette BMP (BITMAPINFOHEADER), rows given top-down as palette indices.
Bytes palette_bmp(std::uint32_t width, std::uint32_t bpp, const std::vector<std::array<std::uint8_t, 3>>& palette,
                  const std::vector<std::vector<std::uint8_t>>& rows, std::int32_t offset_adjust = 0) {
    const auto height = static_cast<std::uint32_t>(rows.size());
    const std::uint32_t row_bytes = ((width * bpp + 31) / 32) * 4;
    const auto offset = static_cast<std::uint32_t>(14 + 40 + 4 * static_cast<std::int64_t>(palette.size()) + offset_adjust);
    Bytes bmp = {'B', 'M'};
    put_u32_le(bmp, offset + row_bytes * height);
    put_u32_le(bmp, 0);
    put_u32_le(bmp, offset);
    put_u32_le(bmp, 40);
    put_u32_le(bmp, width);
    put_u32_le(bmp, height);  // positive: bottom-up
    put_u16_le(bmp, 1);
    put_u16_le(bmp, bpp);
    put_u32_le(bmp, 0);  // no compression
    put_u32_le(bmp, row_bytes * height);
    put_u32_le(bmp, 2835);
    put_u32_le(bmp, 2835);
    put_u32_le(bmp, static_cast<std::uint32_t>(palette.size()));
    put_u32_le(bmp, 0);
    for (const auto& [r, g, b] : palette) bmp.insert(bmp.end(), {b, g, r, 0});
    for (std::size_t y = rows.size(); y-- > 0;) {
        Bytes packed(row_bytes, 0);
        for (std::uint32_t x = 0; x < width; ++x) {
            const std::uint32_t bit = x * bpp;
            packed[bit / 8] |= static_cast<std::uint8_t>(rows[y][x] << (8 - bpp - bit % 8));
        }
        bmp.insert(bmp.end(), packed.begin(), packed.end());
    }
    return bmp;
}

/// An 8-bit PNG written by hand (zlib for the data), with an optional tRNS chunk: what libpng's
/// writer is not needed for.
Bytes handmade_png(std::uint32_t width, std::uint32_t height, std::uint8_t colour_type, const Bytes& trns,
                   const Bytes& scanlines) {
    Bytes png = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
    const auto chunk = [&](const char* type, const Bytes& data) {
        put_u32_be(png, static_cast<std::uint32_t>(data.size()));
        Bytes typed(type, type + 4);
        typed.insert(typed.end(), data.begin(), data.end());
        png.insert(png.end(), typed.begin(), typed.end());
        put_u32_be(png, static_cast<std::uint32_t>(crc32(0, typed.data(), static_cast<uInt>(typed.size()))));
    };
    Bytes ihdr;
    put_u32_be(ihdr, width);
    put_u32_be(ihdr, height);
    ihdr.insert(ihdr.end(), {8, colour_type, 0, 0, 0});
    chunk("IHDR", ihdr);
    if (!trns.empty()) chunk("tRNS", trns);
    uLongf z_size = compressBound(static_cast<uLong>(scanlines.size()));
    Bytes z(z_size);
    compress(z.data(), &z_size, scanlines.data(), static_cast<uLong>(scanlines.size()));
    z.resize(z_size);
    chunk("IDAT", z);
    chunk("IEND", {});
    return png;
}

/// The standard base64 alphabet decoded (the issue quotes its fuzzing input that way).
Bytes from_base64(const std::string& text) {
    const std::string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    Bytes out;
    std::uint32_t buffer = 0;
    int bits = 0;
    for (char ch : text) {
        const auto at = alphabet.find(ch);
        if (at == std::string::npos) continue;  // '=', line breaks
        buffer = (buffer << 6) | static_cast<std::uint32_t>(at);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out.push_back(static_cast<std::uint8_t>(buffer >> bits));
        }
    }
    return out;
}

/// A baseline grey JPEG of `blocks` 8×8 blocks in one row whose every block's DC difference is
/// +32767 (a DC Huffman table holding category 15 alone, coded '0', and an AC table holding
/// end-of-block alone, coded '0'), so that the DC prediction grows by 32767 a block; with
/// `restart` > 0, a restart marker every `restart` blocks resets it. `dc_quant` is the DC entry
/// of the quantization table.
Bytes dc_ramp_jpeg(int blocks, int restart, int dc_quant) {
    Bytes j = {0xFF, 0xD8, 0xFF, 0xDB, 0, 67, 0x00};
    j.push_back(static_cast<std::uint8_t>(dc_quant));
    j.insert(j.end(), 63, 1);
    j.insert(j.end(), {0xFF, 0xC0, 0, 11, 8, 0, 8});
    put_u16_be(j, static_cast<std::uint32_t>(8 * blocks));
    j.insert(j.end(), {1, 1, 0x11, 0});
    for (std::uint8_t table_class : {0x00, 0x10}) {
        j.insert(j.end(), {0xFF, 0xC4, 0, 20, table_class, 1});
        j.insert(j.end(), 15, 0);
        j.push_back(table_class == 0 ? 15 : 0);  // DC: category 15; AC: end of block
    }
    if (restart > 0) {
        j.insert(j.end(), {0xFF, 0xDD, 0, 4});
        put_u16_be(j, static_cast<std::uint32_t>(restart));
    }
    j.insert(j.end(), {0xFF, 0xDA, 0, 8, 1, 1, 0x00, 0, 63, 0});
    std::uint32_t acc = 0;
    int n = 0, rst = 0;
    const auto put_bit = [&](int bit) {
        acc = (acc << 1) | static_cast<std::uint32_t>(bit);
        if (++n == 8) {
            j.push_back(static_cast<std::uint8_t>(acc));
            if (acc == 0xFF) j.push_back(0x00);  // byte stuffing
            acc = 0;
            n = 0;
        }
    };
    for (int b = 0; b < blocks; ++b) {
        if (restart > 0 && b > 0 && b % restart == 0) {
            while (n != 0) put_bit(1);
            j.insert(j.end(), {0xFF, static_cast<std::uint8_t>(0xD0 + rst++ % 8)});
        }
        put_bit(0);                               // DC code: category 15
        for (int i = 0; i < 15; ++i) put_bit(1);  // +32767
        put_bit(0);                               // AC code: end of block
    }
    while (n != 0) put_bit(1);
    j.insert(j.end(), {0xFF, 0xD9});
    return j;
}

#if defined(XAI_HAS_SYSTEM_DECODERS) && XAI_HAS_SYSTEM_DECODERS
// ---- PNG and JPEG written by libpng and libjpeg ----------------------------------------------

/// The largest |a − b| in levels of 1/255 (whole levels: both images hold k/255), and the mean.
std::pair<double, double> difference_255(const xai::Image& a, const xai::Image& b) {
    REQUIRE(a.shape() == b.shape());
    double largest = 0, sum = 0;
    for (std::size_t i = 0; i < a.size(); ++i) {
        const double d = std::round(std::abs(static_cast<double>(a.data()[i]) - b.data()[i]) * 255.0);
        largest = std::max(largest, d);
        sum += d;
    }
    return {largest, sum / static_cast<double>(a.size())};
}

/// `jpeg` without its segments of the given marker (DHT 0xC4, DQT 0xDB), up to the first scan.
Bytes without_segments(const Bytes& jpeg, std::uint8_t marker) {
    Bytes out(jpeg.begin(), jpeg.begin() + 2);
    std::size_t pos = 2;
    while (pos + 4 <= jpeg.size() && jpeg[pos] == 0xFF && jpeg[pos + 1] != 0xDA) {
        const std::size_t length = (std::size_t{jpeg[pos + 2]} << 8) | jpeg[pos + 3];
        if (jpeg[pos + 1] != marker) out.insert(out.end(), jpeg.begin() + static_cast<std::ptrdiff_t>(pos),
                                                jpeg.begin() + static_cast<std::ptrdiff_t>(pos + 2 + length));
        pos += 2 + length;
    }
    out.insert(out.end(), jpeg.begin() + static_cast<std::ptrdiff_t>(pos), jpeg.end());
    return out;
}

xai::Image photo(const std::string& name) {
    return xai::load_image(xai::data_directory() / "samples" / "photos" / name, 3);
}


using xai_test::JpegSpec;
using xai_test::PngSpec;
using xai_test::write_jpeg;
using xai_test::write_png;

/// A JpegSpec holding an RGB image.
JpegSpec jpeg_of(const xai::Image& rgb) {
    const xai::PixelsU8 pixels = xai::to_hwc_u8(rgb);
    JpegSpec spec;
    spec.width = static_cast<int>(pixels.shape(1));
    spec.height = static_cast<int>(pixels.shape(0));
    spec.components = static_cast<int>(pixels.shape(2));
    spec.in_space = spec.components == 1 ? JCS_GRAYSCALE : JCS_RGB;
    spec.file_space = spec.components == 1 ? JCS_GRAYSCALE : JCS_YCbCr;
    spec.samples.assign(pixels.data(), pixels.data() + pixels.size());
    return spec;
}
#endif

}  // namespace

// ---- formats -------------------------------------------------------------------------------

TEST_CASE("detect_image_format recognises every format by its magic bytes, TGA by its header fields",
          "[image][format]") {
    using xai::ImageFormat;
    const auto detect = [](const Bytes& b) { return xai::detect_image_format(b); };
    CHECK(detect(xai::encode_image(xai::Image(xt::zeros<float>({3, 2, 2})), ImageFormat::png)) == ImageFormat::png);
    const Bytes jpeg = xai::encode_image(xai::Image(xt::zeros<float>({3, 2, 2})), ImageFormat::jpeg);
    CHECK(detect(jpeg) == ImageFormat::jpeg);
    Bytes filled = {0xFF, 0xFF};  // stb accepts 0xFF fill bytes before SOI, and so does the detection
    filled.insert(filled.end(), jpeg.begin() + 1, jpeg.end());
    CHECK(detect(filled) == ImageFormat::jpeg);
    CHECK(detect(text_bytes("BM\x36")) == ImageFormat::bmp);
    CHECK(detect(text_bytes("P5\n1 1\n255\n\x01")) == ImageFormat::pnm);
    CHECK(detect(text_bytes("P6 1 1 255 abc")) == ImageFormat::pnm);
    CHECK_FALSE(detect(text_bytes("P1\n1 1\n0")).has_value());  // ASCII PNM: stb reads binary only
    CHECK(detect(tiny_gif()) == ImageFormat::gif);
    CHECK(detect(text_bytes("GIF87a....")) == ImageFormat::gif);
    CHECK(detect(text_bytes("8BPS\x00\x01")) == ImageFormat::psd);
    CHECK(detect(text_bytes("#?RADIANCE\nFORMAT=32-bit_rle_rgbe\n")) == ImageFormat::hdr);
    CHECK(detect(text_bytes("#?RGBE\n")) == ImageFormat::hdr);
    Bytes pic = {0x53, 0x80, 0xF6, 0x34};
    pic.resize(88, 0);
    pic.insert(pic.end(), {'P', 'I', 'C', 'T'});
    CHECK(detect(pic) == ImageFormat::pic);
    pic.resize(90);  // "PICT" cut short: no PIC
    CHECK_FALSE(detect(pic).has_value());

    // TGA: stb_image_write's, and the header fields one by one.
    Bytes tga;
    const std::uint8_t pixel[3] = {10, 20, 30};
    stbi_write_tga_to_func(append, &tga, 1, 1, 3, pixel);
    CHECK(detect(tga) == ImageFormat::tga);
    Bytes bad_type = tga;
    bad_type[2] = 4;  // image type 4 does not exist
    CHECK_FALSE(detect(bad_type).has_value());
    Bytes zero_width = tga;
    zero_width[12] = zero_width[13] = 0;
    CHECK_FALSE(detect(zero_width).has_value());
    Bytes bad_depth = tga;
    bad_depth[16] = 7;
    CHECK_FALSE(detect(bad_depth).has_value());

    CHECK_FALSE(detect(text_bytes("plain text")).has_value());
    CHECK_FALSE(detect(Bytes{}).has_value());
    CHECK_FALSE(detect(Bytes{0x89, 'P', 'N'}).has_value());  // a PNG signature cut short
}

TEST_CASE("ImageFormats: the default set, all formats, unions, membership and names", "[image][format]") {
    using xai::ImageFormat;
    using xai::ImageFormats;
    const ImageFormats defaults = ImageFormats::defaults();
    for (ImageFormat f : {ImageFormat::png, ImageFormat::jpeg, ImageFormat::bmp, ImageFormat::pnm})
        CHECK(defaults.contains(f));
    for (ImageFormat f : {ImageFormat::gif, ImageFormat::tga, ImageFormat::psd, ImageFormat::hdr, ImageFormat::pic}) {
        CHECK_FALSE(defaults.contains(f));
        CHECK(ImageFormats::all().contains(f));
        CHECK((defaults | f).contains(f));
    }
    CHECK(defaults.to_string() == "PNG, JPEG, BMP, PNM");
    CHECK(ImageFormats::all().to_string() == "PNG, JPEG, BMP, PNM, GIF, TGA, PSD, HDR, PIC");
    CHECK(ImageFormats{}.empty());
    CHECK(ImageFormats{}.to_string() == "none");
    CHECK((ImageFormat::png | ImageFormat::jpeg) == ImageFormats{ImageFormat::jpeg, ImageFormat::png});
    ImageFormats grown = ImageFormat::png;
    grown |= ImageFormat::gif;
    CHECK(grown.to_string() == "PNG, GIF");
    CHECK(xai::LoadOptions{}.formats == defaults);  // the default of load_image
    CHECK(std::string(xai::to_string(ImageFormat::hdr)) == "HDR");
}

TEST_CASE("image_format_from_string reads every format's name in any case, and jpg", "[image][format]") {
    using xai::ImageFormat;
    for (int f = 0; f <= static_cast<int>(ImageFormat::pic); ++f) {
        const auto format = static_cast<ImageFormat>(f);
        const std::string upper = xai::to_string(format);
        std::string lower = upper;
        std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
        CHECK(xai::image_format_from_string(upper) == format);
        CHECK(xai::image_format_from_string(lower) == format);
    }
    static_assert(xai::image_format_from_string("Gif") == ImageFormat::gif);
    CHECK(xai::image_format_from_string("jpg") == ImageFormat::jpeg);
    CHECK(xai::image_format_from_string("JPG") == ImageFormat::jpeg);
    for (const char* other : {"", "tiff", "gi", "gifs", " png", "webp", "ppm"})
        CHECK_FALSE(xai::image_format_from_string(other).has_value());
}

TEST_CASE("A GIF is refused by default with one line naming the file, the format and the opt-in", "[image][format][io]") {
    TempDir dir("gif");
    const auto path = dir / "x.gif";
    write_bytes(path, tiny_gif());
    CHECK_THROWS_AS(xai::load_image(path), xai::io_error);
    try {
        xai::load_image(path);
    } catch (const xai::io_error& e) {
        const std::string what = e.what();
        CHECK(what.find('\n') == std::string::npos);
        CHECK_THAT(what, Contains("xai::load_image(): ") && Contains("x.gif") && Contains("is a GIF") &&
                             Contains("not decoded by default") && Contains("memory-safety") &&
                             Contains("add ImageFormat::gif to LoadOptions::formats"));
    }
    // The opt-in decodes it: the first frame, RGBA, its one pixel palette entry 0, opaque black.
    const xai::Image gif = xai::load_image(path, 0, {.formats = xai::ImageFormats::defaults() | xai::ImageFormat::gif});
    REQUIRE(gif.shape() == std::array<std::size_t, 3>{4, 1, 1});
    CHECK(gif(0, 0, 0) == 0.0f);
    CHECK(gif(3, 0, 0) == 1.0f);
}

TEST_CASE("Every opt-in format is refused by default and decoded when allowed", "[image][format][io]") {
    xai::Image rgb = xai::Image::from_shape({3, 2, 3});
    for (std::size_t i = 0; i < rgb.size(); ++i) rgb.data()[i] = static_cast<float>(i * 13 % 256) / 255.0f;
    const xai::PixelsU8 pixels = xai::to_hwc_u8(rgb);
    Bytes tga, hdr;
    stbi_write_tga_to_func(append, &tga, 3, 2, 3, pixels.data());
    std::vector<float> radiance(3 * 2 * 3, 0.25f);
    stbi_write_hdr_to_func(append, &hdr, 3, 2, 3, radiance.data());
    Bytes psd = text_bytes("8BPS");
    psd.resize(40, 0);
    Bytes pic = {0x53, 0x80, 0xF6, 0x34};
    pic.resize(88, 0);
    pic.insert(pic.end(), {'P', 'I', 'C', 'T'});

    CHECK_THROWS_WITH(xai::load_image_from_memory(tga), Contains("looks like a TGA") && Contains("no magic number") &&
                                                            Contains("add ImageFormat::tga to LoadOptions::formats"));
    CHECK_THROWS_WITH(xai::load_image_from_memory(hdr), Contains("is an HDR") && Contains("ImageFormat::hdr"));
    CHECK_THROWS_WITH(xai::load_image_from_memory(psd), Contains("is a PSD") && Contains("ImageFormat::psd"));
    CHECK_THROWS_WITH(xai::load_image_from_memory(pic), Contains("is a PIC") && Contains("ImageFormat::pic"));

    const xai::LoadOptions all{.formats = xai::ImageFormats::all()};
    CHECK((xai::load_image_from_memory(tga, 0, all) == rgb));  // TGA is lossless
    const xai::Image tone_mapped = xai::load_image_from_memory(hdr, 3, all);
    CHECK(tone_mapped.shape() == std::array<std::size_t, 3>{3, 2, 3});
    CHECK(xt::all(tone_mapped > 0.0f && tone_mapped < 1.0f));
    // A PSD or PIC header with nothing after it reaches stb, which refuses it.
    CHECK_THROWS_AS(xai::load_image_from_memory(psd, 0, all), xai::io_error);
    CHECK_THROWS_AS(xai::load_image_from_memory(pic, 0, all), xai::io_error);

    // A caller may narrow the default set too: a JPEG where only PNG is allowed.
    const Bytes jpeg = xai::encode_image(rgb, xai::ImageFormat::jpeg);
    CHECK_THROWS_WITH(xai::load_image_from_memory(jpeg, 0, {.formats = xai::ImageFormat::png}),
                      Contains("is a JPEG, which LoadOptions::formats (PNG) does not allow") &&
                          Contains("add ImageFormat::jpeg"));
    CHECK_THROWS_AS(xai::load_image_from_memory(jpeg, 0, {.formats = {}}), xai::io_error);
}

TEST_CASE("An unrecognised file is refused before any decoder, naming the formats xai reads", "[image][format][io]") {
    for (xai::ImageDecoder decoder : decoders()) {
        INFO(name_of(decoder));
        CHECK_THROWS_WITH(load(text_bytes("<html>not an image</html>"), 0, decoder),
                          Contains("unknown image type") && Contains("PNG, JPEG, BMP, binary PNM") &&
                              Contains("GIF, TGA, PSD, HDR, PIC when LoadOptions::formats allows them"));
    }
    CHECK_THROWS_AS(xai::encode_image(xai::Image(xt::zeros<float>({3, 2, 2})), xai::ImageFormat::gif),
                    xai::invalid_argument);
}

TEST_CASE("LoadOptions::decoder picks the backend; system without the system decoders is an invalid_argument",
          "[image][io]") {
    const Bytes png = xai::encode_image(xai::Image(xt::ones<float>({1, 2, 2})), xai::ImageFormat::png);
    if constexpr (xai::has_system_decoders) {
        CHECK((load(png, 0, xai::ImageDecoder::system) == load(png, 0, xai::ImageDecoder::automatic)));
    } else {
        CHECK_THROWS_AS(load(png, 0, xai::ImageDecoder::system), xai::invalid_argument);
        CHECK_THROWS_WITH(load(png, 0, xai::ImageDecoder::system), Contains("XAI_WITH_SYSTEM_DECODERS"));
    }
    CHECK((load(png, 0, xai::ImageDecoder::stb) == xai::Image(xt::ones<float>({1, 2, 2}))));
    CHECK_THROWS_WITH(load(png, 0, static_cast<xai::ImageDecoder>(7)), Contains("LoadOptions::decoder is 7"));
}

TEST_CASE("Channel conversion is stb's: xai's conversion equals stbi_load's for every pair of channel counts",
          "[image][io]") {
    // 8-bit PNG of 1–4 channels and a 24-bit BMP, converted by stb itself (req_comp) and by xai.
    xai::Image pattern = xai::Image::from_shape({4, 3, 5});
    for (std::size_t i = 0; i < pattern.size(); ++i) pattern.data()[i] = static_cast<float>((i * 53) % 256) / 255.0f;
    std::vector<Bytes> files;
    for (std::size_t c = 1; c <= 4; ++c)
        files.push_back(xai::encode_image(xai::Image(xt::view(pattern, xt::range(0, c), xt::all(), xt::all())),
                                          xai::ImageFormat::png));
    const xai::PixelsU8 rgb = xai::to_hwc_u8(xai::Image(xt::view(pattern, xt::range(0, 3), xt::all(), xt::all())));
    Bytes bmp;
    stbi_write_bmp_to_func(append, &bmp, 5, 3, 3, rgb.data());
    files.push_back(bmp);
    for (const Bytes& file : files)
        for (int to = 1; to <= 4; ++to) {
            int w = 0, h = 0, n = 0;
            stbi_uc* expected = stbi_load_from_memory(file.data(), static_cast<int>(file.size()), &w, &h, &n, to);
            REQUIRE(expected != nullptr);
            const xai::Image expected_image = xai::from_hwc_u8(expected, static_cast<std::size_t>(h),
                                                               static_cast<std::size_t>(w), static_cast<std::size_t>(to));
            stbi_image_free(expected);
            for (xai::ImageDecoder decoder : decoders()) {
                INFO(name_of(decoder) << ", " << n << " -> " << to << " channels");
                CHECK((load(file, static_cast<std::size_t>(to), decoder) == expected_image));
            }
        }
}

TEST_CASE("stb's vertical flip is honoured for every PNG, tRNS ones included", "[image][io]") {
    // A 2×3 grey PNG whose tRNS makes value 7 transparent, decoded as grey + alpha: the rows of
    // the two channels come out reversed together, through every decoder.
    const Bytes rows = {0, 7, 20, 0, 40, 7, 0, 60, 80};  // each row: filter byte 0, two pixels
    const Bytes png = handmade_png(2, 3, 0, {0, 7}, rows);
    const xai::Image upright = load(png, 0, xai::ImageDecoder::stb);
    REQUIRE(upright.shape() == std::array<std::size_t, 3>{2, 3, 2});
    CHECK(upright(1, 0, 0) == 0.0f);  // value 7: transparent
    CHECK(upright(1, 0, 1) == 1.0f);
    stbi_set_flip_vertically_on_load(1);
    std::vector<xai::Image> flipped;
    for (xai::ImageDecoder decoder : decoders()) flipped.push_back(load(png, 0, decoder));
    stbi_set_flip_vertically_on_load(0);
    for (const xai::Image& image : flipped) {
        REQUIRE(image.shape() == upright.shape());
        for (std::size_t c = 0; c < 2; ++c)
            for (std::size_t y = 0; y < 3; ++y)
                for (std::size_t x = 0; x < 2; ++x) CHECK(image(c, y, x) == upright(c, 2 - y, x));
    }
}

// ---- the two backends agree ------------------------------------------------------------------

#if defined(XAI_HAS_SYSTEM_DECODERS) && XAI_HAS_SYSTEM_DECODERS
TEST_CASE("libpng and stb give identical pixels for every PNG colour type, bit depth and interlacing",
          "[image][io][decoders]") {
    xai::Rng rng(23);
    std::size_t compared = 0;
    for (const xai_test::PngKind& kind : xai_test::png_kinds)
        for (int depth : {1, 2, 4, 8, 16}) {
            if (!xai_test::png_depth_allowed(kind.colour, depth)) continue;
            for (bool interlaced : {false, true})
                for (bool transparency : {false, true}) {
                    if (transparency && (kind.colour == PNG_COLOR_TYPE_GRAY_ALPHA || kind.colour == PNG_COLOR_TYPE_RGB_ALPHA))
                        continue;
                    PngSpec spec;
                    spec.width = 13;  // odd sizes, so every Adam7 pass has partial blocks
                    spec.height = 11;
                    spec.bit_depth = depth;
                    spec.colour_type = kind.colour;
                    spec.interlaced = interlaced;
                    const int levels = 1 << std::min(depth, 8);
                    if (kind.colour == PNG_COLOR_TYPE_PALETTE) {
                        for (int i = 0; i < levels; ++i)
                            spec.palette.push_back({static_cast<png_byte>(rng.uniform_index(256)),
                                                    static_cast<png_byte>(rng.uniform_index(256)),
                                                    static_cast<png_byte>(rng.uniform_index(256))});
                        if (transparency) spec.trans_alpha = {0, 77};
                    } else if (transparency) {
                        spec.trans_colour = true;
                        spec.trans.gray = spec.trans.red = spec.trans.green = spec.trans.blue = 1;
                    }
                    const std::size_t row_bytes = (static_cast<std::size_t>(depth * kind.samples) * spec.width + 7) / 8;
                    for (std::uint32_t y = 0; y < spec.height; ++y) {
                        Bytes row(row_bytes);
                        for (auto& b : row) b = static_cast<std::uint8_t>(rng.uniform_index(4) == 0 ? 0 : rng.uniform_index(256));
                        spec.rows.push_back(row);
                    }
                    const Bytes png = write_png(spec);
                    for (std::size_t channels = 0; channels <= 4; ++channels) {
                        INFO(kind.name << " " << depth << " bits" << (interlaced ? ", Adam7" : "")
                                       << (transparency ? ", tRNS" : "") << ", channels " << channels);
                        const xai::Image a = load(png, channels, xai::ImageDecoder::stb);
                        const xai::Image b = load(png, channels, xai::ImageDecoder::system);
                        REQUIRE(a.shape() == b.shape());
                        CHECK((a == b));
                        ++compared;
                    }
                    // As stored, the samples are the file's: check one against the rows written.
                    const xai::Image stored = load(png, 0, xai::ImageDecoder::system);
                    if (kind.colour == PNG_COLOR_TYPE_GRAY && !transparency) {
                        const unsigned first = depth == 16 ? (spec.rows[0][0] << 8u) | spec.rows[0][1]
                                                           : static_cast<unsigned>(spec.rows[0][0] >> (8 - std::min(depth, 8)));
                        const double max_value = depth == 16 ? 65535.0 : static_cast<double>(levels - 1);
                        CHECK(stored(0, 0, 0) == Approx(first / max_value).margin(1e-6));
                    }
                    if (kind.colour == PNG_COLOR_TYPE_PALETTE) {
                        const unsigned index = spec.rows[0][0] >> (8 - depth);
                        CHECK(stored(0, 0, 0) == static_cast<float>(spec.palette[index].red) / 255.0f);
                        CHECK(stored.shape(0) == (transparency ? 4u : 3u));
                    }
                }
        }
    // Grey: 5 depths × 2 interlacings × 2 (with and without tRNS); RGB 2 × 2 × 2; palette
    // 4 × 2 × 2; grey + alpha and RGBA 2 × 2: 52 files, each read with 5 channel counts.
    CHECK(compared == 52 * 5);
}

TEST_CASE("The shipped photos and the project's own PNGs decode to identical pixels through both backends",
          "[image][io][decoders]") {
    for (const char* name : {"chelsea_224.png", "astronaut_224.png", "coffee_224.png"}) {
        const Bytes png = [&] {
            std::ifstream in(xai::data_directory() / "samples" / "photos" / name, std::ios::binary);
            return Bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        }();
        for (std::size_t channels : {0, 1, 3, 4}) {
            INFO(name << ", channels " << channels);
            CHECK((load(png, channels, xai::ImageDecoder::stb) == load(png, channels, xai::ImageDecoder::system)));
        }
    }
}

TEST_CASE("libjpeg-turbo and stb agree within 3/255 on the shipped photos as JPEG (1/255 for grey)",
          "[image][io][decoders]") {
    // The two decoders differ only in integer arithmetic: their inverse DCTs (both accurate
    // integer IDCTs, rounded differently), libjpeg's chroma upsampling rounds alternately up and
    // down where stb always rounds up, and their YCbCr conversions use different fixed-point
    // scales. Measured on six photos (these three and their larger originals), in 14 encodings
    // each: at most 3/255 for colour, 1/255 for grey (the luma channel alone), means below
    // 0.1/255 (docs/image.md). The bounds below are those maxima.
    double worst_rgb = 0, worst_grey = 0, worst_mean = 0;
    for (const char* name : {"chelsea_224.png", "astronaut_224.png", "coffee_224.png"}) {
        const xai::Image rgb = photo(name);
        std::vector<std::pair<std::string, Bytes>> files;
        for (int quality : {50, 95})
            for (int sampling : {1, 2})
                for (bool progressive : {false, true}) {
                    JpegSpec spec = jpeg_of(rgb);
                    spec.quality = quality;
                    spec.h_samp = spec.v_samp = sampling;
                    spec.progressive = progressive;
                    spec.restart_interval = progressive ? 0 : 7;
                    files.emplace_back("libjpeg q" + std::to_string(quality) + (sampling == 2 ? " 4:2:0" : " 4:4:4") +
                                           (progressive ? " progressive" : " baseline, restarts"),
                                       write_jpeg(spec));
                }
        files.emplace_back("stb_image_write q95", xai::encode_image(rgb, xai::ImageFormat::jpeg));
        files.emplace_back("stb_image_write q75 (4:2:0)", xai::encode_image(rgb, xai::ImageFormat::jpeg, {.jpeg_quality = 75}));
        for (const auto& [what, jpeg] : files) {
            INFO(name << ", " << what);
            CHECK_FALSE(xai::detail::stb_jpeg::check(jpeg.data(), jpeg.size()).refuse);  // no valid file is refused
            const auto [rgb_max, rgb_mean] = difference_255(load(jpeg, 3, xai::ImageDecoder::stb),
                                                            load(jpeg, 3, xai::ImageDecoder::system));
            const auto [grey_max, grey_mean] = difference_255(load(jpeg, 1, xai::ImageDecoder::stb),
                                                              load(jpeg, 1, xai::ImageDecoder::system));
            CHECK(rgb_max <= 3.0);
            CHECK(grey_max <= 1.0);
            CHECK(rgb_mean < 0.1);
            CHECK(grey_mean < 0.1);
            worst_rgb = std::max(worst_rgb, rgb_max);
            worst_grey = std::max(worst_grey, grey_max);
            worst_mean = std::max(worst_mean, rgb_mean);
        }
    }
    // They do differ (the comparison is not vacuous), by whole levels.
    CHECK(worst_rgb >= 1.0);
    CHECK(worst_grey == 1.0);
    CHECK(worst_mean > 0.0);
}

TEST_CASE("JPEG colour spaces decode alike through both backends: grey, YCbCr, Adobe RGB, CMYK, YCCK",
          "[image][io][decoders]") {
    const xai::Image rgb = photo("chelsea_224.png");
    const xai::PixelsU8 pixels = xai::to_hwc_u8(rgb);
    // CMYK from the photo: C = 255 − R and so on, K = the darkest channel's complement.
    Bytes cmyk;
    for (std::size_t i = 0; i < pixels.size() / 3; ++i) {
        const std::uint8_t* p = pixels.data() + 3 * i;
        cmyk.insert(cmyk.end(), {static_cast<std::uint8_t>(255 - p[0]), static_cast<std::uint8_t>(255 - p[1]),
                                 static_cast<std::uint8_t>(255 - p[2]), static_cast<std::uint8_t>(p[0] / 2 + 100)});
    }
    struct Case {
        const char* name;
        int components;
        J_COLOR_SPACE in, file;
        double bound;
    };
    // CMYK and YCCK add stb's blinn products, which turn the IDCT's level into up to two.
    const Case cases[] = {{"grey", 1, JCS_GRAYSCALE, JCS_GRAYSCALE, 1.0},
                          {"YCbCr", 3, JCS_RGB, JCS_YCbCr, 3.0},
                          {"Adobe RGB", 3, JCS_RGB, JCS_RGB, 3.0},
                          {"CMYK", 4, JCS_CMYK, JCS_CMYK, 3.0},
                          {"YCCK", 4, JCS_CMYK, JCS_YCCK, 4.0}};
    for (const Case& c : cases) {
        JpegSpec spec = jpeg_of(c.components == 1 ? xai::Image(xt::view(rgb, xt::range(0, 1), xt::all(), xt::all())) : rgb);
        spec.components = c.components;
        spec.in_space = c.in;
        spec.file_space = c.file;
        if (c.components == 4) spec.samples = cmyk;
        const Bytes jpeg = write_jpeg(spec);
        for (std::size_t channels = 0; channels <= 4; ++channels) {
            INFO(c.name << ", channels " << channels);
            const xai::Image a = load(jpeg, channels, xai::ImageDecoder::stb);
            const xai::Image b = load(jpeg, channels, xai::ImageDecoder::system);
            const auto [largest, mean] = difference_255(a, b);
            CHECK(largest <= c.bound);
            CHECK(mean < 0.2);
            if (channels == 0) CHECK(a.shape(0) == (c.components == 1 ? 1u : 3u));
        }
    }
}

TEST_CASE("Both backends refuse the same broken PNG and JPEG files with an io_error naming the file",
          "[image][io][decoders]") {
    TempDir dir("broken");
    const xai::Image image = photo("coffee_224.png");
    const Bytes png = xai::encode_image(image, xai::ImageFormat::png);
    JpegSpec spec = jpeg_of(image);
    spec.progressive = true;
    const Bytes progressive = write_jpeg(spec);
    const Bytes baseline = xai::encode_image(image, xai::ImageFormat::jpeg);
    struct Broken {
        const char* file;
        Bytes bytes;
        const char* stage;
    };
    Bytes corrupt_png = png;
    for (std::size_t i = 100; i < 400; ++i) corrupt_png[i] ^= 0x5A;  // inside the zlib stream
    const std::vector<Broken> broken = {
        {"header.png", Bytes(png.begin(), png.begin() + 12), "cannot read"},
        {"half.png", Bytes(png.begin(), png.begin() + static_cast<std::ptrdiff_t>(png.size() / 2)), "cannot decode"},
        {"corrupt.png", corrupt_png, "cannot decode"},
        {"half.jpg", Bytes(baseline.begin(), baseline.begin() + static_cast<std::ptrdiff_t>(baseline.size() / 2)),
         "cannot decode"},
        {"half_progressive.jpg",
         Bytes(progressive.begin(), progressive.begin() + static_cast<std::ptrdiff_t>(progressive.size() / 2)),
         "cannot decode"},
        {"header.jpg", Bytes(baseline.begin(), baseline.begin() + 30), "cannot"},
    };
    for (const Broken& b : broken) {
        write_bytes(dir / b.file, b.bytes);
        for (xai::ImageDecoder decoder : decoders()) {
            INFO(b.file << " through " << name_of(decoder));
            CHECK_THROWS_AS(xai::load_image(dir / b.file, 0, {.decoder = decoder}), xai::io_error);
            CHECK_THROWS_WITH(xai::load_image(dir / b.file, 0, {.decoder = decoder}),
                              Contains(std::string("xai::load_image(): ") + b.stage) && Contains(b.file));
        }
    }
    // A JPEG cut inside its scan but closed with EOI decodes through both (the rest is filled).
    Bytes closed(baseline.begin(), baseline.begin() + static_cast<std::ptrdiff_t>(baseline.size() / 2));
    closed.insert(closed.end(), {0xFF, 0xD9});
    for (xai::ImageDecoder decoder : decoders()) CHECK(load(closed, 3, decoder).shape() == image.shape());
}

TEST_CASE("The pixel budget refuses a PNG or JPEG header with the same message through both backends",
          "[image][io][decoders]") {
    // Headers alone: a grey PNG IHDR and a grey JPEG SOF0 of 16000×16000, nothing else (stb's
    // own limit, 2^30 bytes, is above it: the budget decides).
    const Bytes png = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n', 0, 0, 0, 13, 'I', 'H', 'D', 'R',
                       0, 0, 0x3E, 0x80, 0, 0, 0x3E, 0x80, 8, 0, 0, 0, 0, 0, 0, 0, 0};
    const Bytes jpeg = {0xFF, 0xD8, 0xFF, 0xC0, 0, 11, 8, 0x3E, 0x80, 0x3E, 0x80, 1, 1, 0x11, 0, 0xFF, 0xD9};
    for (const Bytes& file : {png, jpeg})
        for (xai::ImageDecoder decoder : decoders()) {
            INFO(name_of(decoder));
            CHECK_THROWS_WITH(load(file, 0, decoder),
                              Contains("declares 16000x16000 = 256000000 pixels, more than LoadOptions::max_pixels = "
                                       "100000000; refused before decoding"));
        }
    // Within a smaller budget a real file is refused the same way, and decodes with enough.
    const Bytes photo_png = xai::encode_image(photo("chelsea_224.png"), xai::ImageFormat::png);
    for (xai::ImageDecoder decoder : decoders()) {
        CHECK_THROWS_WITH(xai::load_image_from_memory(photo_png, 0, {.max_pixels = 224 * 223, .decoder = decoder}),
                          Contains("declares 224x224 = 50176 pixels"));
        CHECK(xai::load_image_from_memory(photo_png, 0, {.max_pixels = 224 * 224, .decoder = decoder}).shape(1) == 224);
    }
}

TEST_CASE("Both backends honour stbi_set_flip_vertically_on_load", "[image][io][decoders]") {
    xai::Image ramp = xai::Image::from_shape({1, 4, 2});
    for (std::size_t y = 0; y < 4; ++y)
        for (std::size_t x = 0; x < 2; ++x) ramp(0, y, x) = static_cast<float>(y * 60 + x) / 255.0f;
    const Bytes png = xai::encode_image(ramp, xai::ImageFormat::png);
    const Bytes jpeg = xai::encode_image(ramp, xai::ImageFormat::jpeg);
    stbi_set_flip_vertically_on_load(1);
    const xai::Image png_stb = load(png, 0, xai::ImageDecoder::stb), png_system = load(png, 0, xai::ImageDecoder::system);
    const xai::Image jpeg_stb = load(jpeg, 1, xai::ImageDecoder::stb);
    const xai::Image jpeg_system = load(jpeg, 1, xai::ImageDecoder::system);
    stbi_set_flip_vertically_on_load(0);
    CHECK(png_stb(0, 0, 1) == ramp(0, 3, 1));  // stb flipped
    CHECK((png_system == png_stb));
    CHECK(difference_255(jpeg_system, jpeg_stb).first <= 1.0);
    CHECK((load(png, 0, xai::ImageDecoder::system) == ramp));  // and no longer once reset
}

TEST_CASE("The system decoders fail cleanly thousands of times (no leak, no stale jump target)",
          "[image][io][decoders]") {
    // Every prefix of a small PNG and JPEG: each ends in an io_error or an image, through the
    // longjmp error paths of libpng and libjpeg (the sanitizer build checks for leaks).
    xai::Image small = xai::Image::from_shape({3, 9, 7});
    for (std::size_t i = 0; i < small.size(); ++i) small.data()[i] = static_cast<float>((i * 31) % 97) / 96.0f;
    JpegSpec spec = jpeg_of(small);
    spec.progressive = true;
    for (const Bytes& file : {xai::encode_image(small, xai::ImageFormat::png), write_jpeg(spec)}) {
        std::size_t refused = 0, decoded = 0;
        for (std::size_t cut = 1; cut <= file.size(); ++cut) {
            try {
                const xai::Image out = load(Bytes(file.begin(), file.begin() + static_cast<std::ptrdiff_t>(cut)), 0,
                                            xai::ImageDecoder::system);
                CHECK(out.shape() == small.shape());
                ++decoded;
            } catch (const xai::io_error&) {
                ++refused;
            }
        }
        CHECK(decoded >= 1);  // the whole file
        CHECK(refused + decoded == file.size());
    }
}

TEST_CASE("A palette PNG with indices past its palette: black through both backends, never stb's stack",
          "[image][io][decoders][hostile]") {
    // Two palette entries, 2-bit indices 0–3: entries 2 and 3 do not exist. libpng shows black;
    // stb would read its uninitialised stack array, so the stb backend pads the palette.
    PngSpec spec;
    spec.width = 4;
    spec.height = 1;
    spec.bit_depth = 2;
    spec.colour_type = PNG_COLOR_TYPE_PALETTE;
    spec.palette = {{200, 10, 20}, {30, 220, 40}};
    spec.rows = {{0x1B}};  // indices 0, 1, 2, 3
    // libpng refuses to write an index past the palette; write a full one and cut the PLTE chunk.
    spec.palette.push_back({1, 2, 3});
    spec.palette.push_back({4, 5, 6});
    Bytes png = write_png(spec);
    const std::string plte = "PLTE";
    const auto at = static_cast<std::size_t>(std::search(png.begin(), png.end(), plte.begin(), plte.end()) - png.begin());
    png[at - 1] = 6;                                             // length 12 → 6: two entries
    png.erase(png.begin() + static_cast<std::ptrdiff_t>(at + 4 + 6), png.begin() + static_cast<std::ptrdiff_t>(at + 4 + 12));
    const std::uint32_t crc = static_cast<std::uint32_t>(crc32(0, png.data() + at, 4 + 6));
    for (int k = 0; k < 4; ++k) png[at + 4 + 6 + static_cast<std::size_t>(k)] = static_cast<std::uint8_t>(crc >> (24 - 8 * k));

    const Bytes padded = xai::detail::pad_png_palettes(png.data(), png.size());
    REQUIRE(padded.size() == png.size() + 768 - 6);
    CHECK(padded[at - 2] == 0x03);  // PLTE length 768
    CHECK(padded[at - 1] == 0x00);
    const std::uint32_t padded_crc = static_cast<std::uint32_t>(crc32(0, padded.data() + at, 4 + 768));
    CHECK(padded[at + 4 + 768] == static_cast<std::uint8_t>(padded_crc >> 24));
    CHECK(xai::detail::pad_png_palettes(padded.data(), padded.size()).empty());  // nothing more to pad

    for (xai::ImageDecoder decoder : decoders()) {
        INFO(name_of(decoder));
        const xai::Image image = load(png, 0, decoder);
        REQUIRE(image.shape() == std::array<std::size_t, 3>{3, 1, 4});
        CHECK(image(0, 0, 0) == 200.0f / 255.0f);
        CHECK(image(1, 0, 1) == 220.0f / 255.0f);
        for (std::size_t x : {2, 3})
            for (std::size_t c = 0; c < 3; ++c) CHECK(image(c, 0, x) == 0.0f);
    }
}

TEST_CASE("A JPEG without Huffman tables: stb's path refuses it, libjpeg-turbo uses the standard tables",
          "[image][io][decoders][hostile]") {
    // libjpeg writes the standard tables (T.81 K.3) and, like Motion-JPEG frames, a file may
    // leave them out; libjpeg-turbo then supplies them, while stb would read its uninitialised
    // tables (heap garbage in the picture). Without quantization tables neither can decode.
    JpegSpec spec = jpeg_of(photo("astronaut_224.png"));
    const Bytes jpeg = write_jpeg(spec);
    const Bytes no_dht = without_segments(jpeg, 0xC4);
    REQUIRE(no_dht.size() < jpeg.size());
    CHECK_THROWS_WITH(load(no_dht, 3, xai::ImageDecoder::stb),
                      Contains("a scan uses DC Huffman table 0, which the file never defines") &&
                          Contains("uninitialised memory"));
    CHECK((load(no_dht, 3, xai::ImageDecoder::system) == load(jpeg, 3, xai::ImageDecoder::system)));
    const Bytes no_dqt = without_segments(jpeg, 0xDB);
    CHECK_THROWS_WITH(load(no_dqt, 3, xai::ImageDecoder::stb), Contains("quantization table 0, which the file never defines"));
    CHECK_THROWS_AS(load(no_dqt, 3, xai::ImageDecoder::system), xai::io_error);
}
#endif

// ---- the checks that keep hostile files away from stb ---------------------------------------

TEST_CASE("The JPEG from issue 23 is refused before stb's DC prediction overflows (stb_image.h:2197)",
          "[image][io][hostile]") {
    // fuzz_image_decode's input from issue 23, its first byte (the target's control byte) dropped:
    // UBSan reported "signed integer overflow: -32553031 * 66" in `dc * dequant[0]`.
    const Bytes input = from_base64(
        "AP/Y/+AAEEpGSUYAAQEAAAEAAQAA/9sAhABCAQEBAQECAQEBAgICAgIEAwICAgIFBAQBAAYFBgYGBQYGBgcJCAYHCQeMBggL"
        "CAkKCgoKCgYICwwLCgwJCgoKAVECAgICAgUDAwUKBwYECgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoK"
        "CgoKCgoKCgoKCgr/wAARCAAF99sDAREAAhEBAxEB/8QBogAAAQUBAQEBAQEAAAAAAAAADuA/AAQFBgcICQoLEAACAQMDAgQD"
        "BQUEBAAAAX0BAgMABBEFEiEwQQYTUWEHInAUMYGRoQgjIxwjIyMjIyMjIyMjIyMjIyMwIyMjIyMjIyMjIyMjIyMjIyMjIyMj"
        "IyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyOKkpOUlZaXmJmaoqOkpaajqKmqsrO0tba3uLm6wsPExcbHyMnK0tPU"
        "1dbX2Nna4eLj5OXm5+jp6vHy8/T19vf4+foBAAMBAQEBAQEBAQEAAAAAAAABAgMEBQYHCAkKCxEAAgECBAQDBAcFBAQAAQJ3"
        "AAECAREEBSExBhJBUQdhcRMiMoEIFEKRobHBCfAjYhUzUnLRChYkNOEl8RcYGRomJygpKjU2Nzg5OkNERUZHSElKU1RVVldY"
        "WVpjZGVmZ2hpanN0dXaBCBRCkaGxwQMABBEFEiEwQQYTUWEHInAUMoGRoQgjQrHBFVLR8CQzYnKCCQoWFxgZGiUmJygpKjQ1"
        "Njc4OTpDREVGR0hJSlNUVfn6/9oADAMBAAIRAxEAPwDtb/8Agkr8KPAn+A/B39fD////AAAOAP///wH2cbAvLM1a8mbgf7Uj"
        "V6ud/wDI0qfL/wBJR5sw/wDIuh8/zZ//2Q==");
    REQUIRE(input.size() == 673);
    const Bytes jpeg(input.begin() + 1, input.end());
    const xai::detail::stb_jpeg::Verdict verdict = xai::detail::stb_jpeg::check(jpeg.data(), jpeg.size());
    CHECK(verdict.refuse);
    CHECK_THAT(verdict.reason, Contains("accumulates to -32553031") && Contains("dc * dequant[0]"));
    CHECK_THROWS_AS(load(jpeg, 0, xai::ImageDecoder::stb), xai::io_error);
    CHECK_THROWS_WITH(load(jpeg, 0, xai::ImageDecoder::stb),
                      Contains("cannot decode") && Contains("DC coefficient") && Contains("would overflow"));
    // libjpeg-turbo has no such overflow (it dequantises in its IDCT's wider arithmetic); here
    // it refuses the file for its Huffman tables. Either way the caller gets an io_error.
    for (xai::ImageDecoder decoder : decoders()) CHECK_THROWS_AS(load(jpeg, 0, decoder), xai::io_error);
}

TEST_CASE("stb's DC prediction is followed block by block, across restart markers", "[image][io][hostile]") {
    // Each block adds 32767 to the DC prediction. With a DC quantiser of 255, block 258 makes
    // dc · 255 = 258 · 32767 · 255 pass 2^31 − 1: refused, naming the value.
    const Bytes ramp = dc_ramp_jpeg(300, 0, 255);
    const auto verdict = xai::detail::stb_jpeg::check(ramp.data(), ramp.size());
    CHECK(verdict.refuse);
    CHECK_THAT(verdict.reason, Contains("accumulates to " + std::to_string(258 * 32767)));
    CHECK_THROWS_WITH(load(ramp, 0, xai::ImageDecoder::stb), Contains("would overflow in stb's decoder"));
    // 257 blocks stay below: the file decodes (to saturated garbage, but without overflow).
    const Bytes short_ramp = dc_ramp_jpeg(257, 0, 255);
    CHECK_FALSE(xai::detail::stb_jpeg::check(short_ramp.data(), short_ramp.size()).refuse);
    CHECK(load(short_ramp, 0, xai::ImageDecoder::stb).shape() == std::array<std::size_t, 3>{1, 8, 8 * 257});
    // A restart marker every 100 blocks resets the prediction: 100 · 32767 · 255 fits.
    const Bytes restarted = dc_ramp_jpeg(300, 100, 255);
    CHECK_FALSE(xai::detail::stb_jpeg::check(restarted.data(), restarted.size()).refuse);
    CHECK(load(restarted, 0, xai::ImageDecoder::stb).shape() == std::array<std::size_t, 3>{1, 8, 8 * 300});
    // With a quantiser of 1 the product never overflows in 300 blocks.
    const Bytes fine = dc_ramp_jpeg(300, 0, 1);
    CHECK_FALSE(xai::detail::stb_jpeg::check(fine.data(), fine.size()).refuse);
    for (xai::ImageDecoder decoder : decoders()) {
        INFO(name_of(decoder));
        CHECK(load(fine, 0, decoder).shape() == std::array<std::size_t, 3>{1, 8, 8 * 300});
    }
}

TEST_CASE("A palette BMP whose pixels point past the palette is refused before stb reads its stack",
          "[image][io][hostile]") {
    const std::vector<std::array<std::uint8_t, 3>> two = {{{255, 0, 0}}, {{0, 0, 255}}};
    // Every index within the palette: the palette's colours.
    const Bytes good = palette_bmp(3, 8, two, {{0, 1, 0}, {1, 1, 0}});
    const xai::Image image = xai::load_image_from_memory(good);
    REQUIRE(image.shape() == std::array<std::size_t, 3>{3, 2, 3});
    CHECK(image(0, 0, 0) == 1.0f);
    CHECK(image(2, 0, 1) == 1.0f);
    CHECK(image(0, 1, 0) == 0.0f);
    // Index 5 of a 2-entry palette, 8 and 4 bits a pixel; index 1 of a 1-entry palette, 1 bit.
    CHECK_THROWS_WITH(xai::load_image_from_memory(palette_bmp(3, 8, two, {{0, 1, 0}, {1, 5, 0}})),
                      Contains("cannot decode") && Contains("a BMP pixel uses palette entry 5 of a 2-entry palette"));
    CHECK_THROWS_WITH(xai::load_image_from_memory(palette_bmp(3, 4, two, {{0, 1, 9}})), Contains("palette entry 9"));
    CHECK_THROWS_WITH(xai::load_image_from_memory(palette_bmp(9, 1, {{{7, 7, 7}}}, {{0, 0, 0, 0, 0, 0, 0, 0, 1}})),
                      Contains("palette entry 1 of a 1-entry palette"));
    CHECK(xai::load_image_from_memory(palette_bmp(9, 1, {{{7, 7, 7}}}, {{0, 0, 0, 0, 0, 0, 0, 0, 0}})).shape(2) == 9);
    // A pixel offset before the end of the header leaves stb a palette of negative size.
    CHECK_THROWS_WITH(xai::load_image_from_memory(palette_bmp(3, 8, two, {{0, 1, 0}}, -20)),
                      Contains("leaves no room for its palette"));
    // A height of -2^31 (stb takes its absolute value as an int).
    Bytes tall = good;
    tall[22] = tall[23] = tall[24] = 0;
    tall[25] = 0x80;
    CHECK_THROWS_WITH(xai::load_image_from_memory(tall), Contains("height of -2147483648"));
}

TEST_CASE("A PNG chunk longer than the file is refused before stb allocates for it", "[image][io][hostile]") {
    // fuzz_image_decode (issue 23's long run): a 152-byte PNG whose second IDAT chunk declares
    // 1229209951 bytes made stb grow its IDAT buffer to 2 GiB before finding the data missing.
    const Bytes png = xai::encode_image(xai::Image(xt::ones<float>({3, 4, 5})), xai::ImageFormat::png);
    const std::string idat = "IDAT";
    const auto at = static_cast<std::size_t>(std::search(png.begin(), png.end(), idat.begin(), idat.end()) - png.begin());
    Bytes lying = png;
    lying[at - 4] = 0x40;  // the IDAT's length: 2^30 and a little
    for (xai::ImageDecoder decoder : decoders()) {
        INFO(name_of(decoder));
        CHECK_THROWS_WITH(load(lying, 0, decoder),
                          Contains("cannot decode") && Contains("truncated PNG: its 'IDAT' chunk declares 10737") &&
                              Contains("bytes and the file holds"));
    }
    CHECK(xai::detail::png_chunk_problem(png.data(), png.size()).empty());
    // Whatever follows IEND is not read by either decoder, and not checked.
    Bytes trailing = png;
    trailing.insert(trailing.end(), {0x7F, 0xFF, 0xFF, 0xFF, 'j', 'u', 'n', 'k'});
    CHECK(xai::detail::png_chunk_problem(trailing.data(), trailing.size()).empty());
    for (xai::ImageDecoder decoder : decoders()) CHECK(load(trailing, 0, decoder).shape(2) == 5);
}
