// Tests of include/xai/image: resize, normalization, conversions, colormaps, overlay, file I/O.
//
// Reference values are computed by hand in the comments from the published rules: PyTorch's
// F.interpolate(align_corners=False) source index (UpSample.h), OpenCV's colormap.cpp, matplotlib's
// and Google's colormap tables, pytorch-grad-cam's show_cam_on_image.
#include <catch2/catch.hpp>

#include <unistd.h>
#include <zlib.h>

#include <array>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "test_files.hpp"
#include "xai/core/data_dir.hpp"
#include "xai/image/colormap.hpp"
#include "xai/image/convert.hpp"
#include "xai/image/io.hpp"
#include "xai/image/normalize.hpp"
#include "xai/image/overlay.hpp"
#include "xai/image/resize.hpp"
#include "xai/image/antialias.hpp"
#include "xai/image/framing.hpp"
#include "xai/image/map_back.hpp"
#include "xai/image/preprocess.hpp"

using Catch::Matchers::Contains;

namespace {

using xai_test::put_u32_be;
using xai_test::TempDir;
using xai_test::write_bytes;

xai::Map map_of(std::size_t h, std::size_t w, std::initializer_list<float> values) {
    xai::Map m = xai::Map::from_shape({h, w});
    std::copy(values.begin(), values.end(), m.begin());
    return m;
}

/// A 1×n map holding `values`, and the 1×out row PyTorch would produce, compared to 1e-5.
void check_row(const std::vector<float>& values, std::size_t out, xai::Interpolation method,
               const std::vector<float>& expected) {
    xai::Map row = xai::Map::from_shape({1, values.size()});
    std::copy(values.begin(), values.end(), row.begin());
    const xai::Map got = xai::resize(row, 1, out, method);
    REQUIRE(got.shape(1) == expected.size());
    for (std::size_t i = 0; i < expected.size(); ++i) {
        INFO("output column " << i);
        CHECK(got(0, i) == Approx(expected[i]).margin(1e-5));
    }
}

void put_u32_le(std::vector<std::uint8_t>& out, std::uint32_t v) {
    for (int shift = 0; shift <= 24; shift += 8) out.push_back(static_cast<std::uint8_t>(v >> shift));
}

void put_png_chunk(std::vector<std::uint8_t>& out, const char* type, const std::vector<std::uint8_t>& data) {
    put_u32_be(out, static_cast<std::uint32_t>(data.size()));
    std::vector<std::uint8_t> typed(type, type + 4);
    typed.insert(typed.end(), data.begin(), data.end());
    out.insert(out.end(), typed.begin(), typed.end());
    put_u32_be(out, static_cast<std::uint32_t>(crc32(0, typed.data(), static_cast<uInt>(typed.size()))));
}

/// A PNG written by hand (signature, IHDR, optional IDAT of the given raw scanlines, IEND), so the
/// tests can declare any size and bit depth, including ones stb_image_write cannot produce.
std::vector<std::uint8_t> handmade_png(std::uint32_t width, std::uint32_t height, std::uint8_t bit_depth,
                                       std::uint8_t color_type, const std::vector<std::uint8_t>* scanlines) {
    std::vector<std::uint8_t> png = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    std::vector<std::uint8_t> ihdr;
    put_u32_be(ihdr, width);
    put_u32_be(ihdr, height);
    ihdr.insert(ihdr.end(), {bit_depth, color_type, 0, 0, 0});
    put_png_chunk(png, "IHDR", ihdr);
    if (scanlines != nullptr) {
        uLongf size = compressBound(static_cast<uLong>(scanlines->size()));
        std::vector<std::uint8_t> z(size);
        REQUIRE(compress(z.data(), &size, scanlines->data(), static_cast<uLong>(scanlines->size())) == Z_OK);
        z.resize(size);
        put_png_chunk(png, "IDAT", z);
    }
    put_png_chunk(png, "IEND", {});
    return png;
}

/// A 54-byte BMP header (BITMAPINFOHEADER, 24 bits) that declares width×height and holds no pixels.
std::vector<std::uint8_t> bmp_header_only(std::uint32_t width, std::uint32_t height) {
    std::vector<std::uint8_t> bmp = {'B', 'M'};
    put_u32_le(bmp, 54);  // file size as declared; stb does not check it
    put_u32_le(bmp, 0);   // reserved
    put_u32_le(bmp, 54);  // offset of the pixel data
    put_u32_le(bmp, 40);  // BITMAPINFOHEADER
    put_u32_le(bmp, width);
    put_u32_le(bmp, height);
    bmp.insert(bmp.end(), {1, 0, 24, 0});  // planes 1, 24 bits per pixel
    for (int i = 0; i < 6; ++i) put_u32_le(bmp, 0);
    return bmp;
}

/// The decoders this build has (stb always, libpng and libjpeg-turbo when built in): the I/O
/// tests below run through each, since both must give the same results and the same errors.
std::vector<xai::ImageDecoder> decoders() {
    if (xai::has_system_decoders) return {xai::ImageDecoder::stb, xai::ImageDecoder::system};
    return {xai::ImageDecoder::stb};
}

xai::Image test_pattern(std::size_t channels, std::size_t height, std::size_t width) {
    xai::Image image = xai::Image::from_shape({channels, height, width});
    for (std::size_t c = 0; c < channels; ++c)
        for (std::size_t y = 0; y < height; ++y)
            for (std::size_t x = 0; x < width; ++x)
                image(c, y, x) = static_cast<float>((37 * c + 11 * y + 5 * x) % 256) / 255.0f;
    return image;
}

}  // namespace

// ---- resize -------------------------------------------------------------------------------

TEST_CASE("bilinear upsampling equals PyTorch F.interpolate(align_corners=False)", "[image][resize]") {
    // torch.nn.functional.interpolate(torch.tensor([[[[1., 2.], [3., 4.]]]]), size=(4, 4),
    // mode="bilinear", align_corners=False): s = (d + 0.5)/2 − 0.5 = −0.25, 0.25, 0.75, 1.25,
    // clamped below at 0, so columns weigh (1, 0), (0.75, 0.25), (0.25, 0.75), (0, 1).
    const xai::Map up = xai::resize(map_of(2, 2, {1, 2, 3, 4}), 4, 4);
    const xai::Map expected = map_of(4, 4, {1.0f, 1.25f, 1.75f, 2.0f, 1.5f, 1.75f, 2.25f, 2.5f,  //
                                            2.5f, 2.75f, 3.25f, 3.5f, 3.0f, 3.25f, 3.75f, 4.0f});
    CHECK(xt::allclose(up, expected, 0.0, 1e-5));

    // 3 → 5 (ratio 0.6, not an integer): s = 0.6(d + 0.5) − 0.5 = −0.2, 0.4, 1.0, 1.6, 2.2.
    // [0, 10, 40] → [0, 4, 10, 28, 40] (the last one clamps its upper neighbour to index 2).
    check_row({0, 10, 40}, 5, xai::Interpolation::bilinear, {0.0f, 4.0f, 10.0f, 28.0f, 40.0f});
    // 2 → 7 (ratio 2/7): s = (d + 0.5)·2/7 − 0.5 = −0.357, −0.071, 0.214, 0.5, 0.786, 1.071, 1.357.
    check_row({0, 7}, 7, xai::Interpolation::bilinear, {0.0f, 0.0f, 1.5f, 3.5f, 5.5f, 7.0f, 7.0f});
}

TEST_CASE("bilinear downsampling equals PyTorch without antialiasing, integer and non-integer ratios",
          "[image][resize]") {
    // 4 → 2: s = 2(d + 0.5) − 0.5 = 0.5, 2.5: the mean of each pair (no antialias filter).
    check_row({1, 3, 10, 30}, 2, xai::Interpolation::bilinear, {2.0f, 20.0f});
    // 4 → 3 (ratio 4/3): s = 1/6, 3/2, 17/6 → 0 + (1/6)·6, 6 + 0.5·12, 18 + (5/6)·18.
    check_row({0, 6, 18, 36}, 3, xai::Interpolation::bilinear, {1.0f, 12.0f, 33.0f});
    // 7 → 3 (ratio 7/3): s = 2/3, 3, 16/3 → 0 + (2/3)·1, 9, 25 + (1/3)·11  on squares 0, 1, 4, …, 36.
    check_row({0, 1, 4, 9, 16, 25, 36}, 3, xai::Interpolation::bilinear, {2.0f / 3.0f, 9.0f, 25.0f + 11.0f / 3.0f});
    // 2-D with different ratios per axis: 4×6 → 3×4, against the separable hand computation.
    xai::Map m = xai::Map::from_shape({4, 6});
    for (std::size_t y = 0; y < 4; ++y)
        for (std::size_t x = 0; x < 6; ++x) m(y, x) = static_cast<float>(10 * y + x * x);
    const xai::Map down = xai::resize(m, 3, 4);
    // rows s = 1/6, 3/2, 17/6 (from 4 → 3); columns s = 0.25, 1.75, 3.25, 4.75 (from 6 → 4).
    const std::array<float, 3> row_s = {1.0f / 6.0f, 1.5f, 17.0f / 6.0f};
    const std::array<float, 4> col_s = {0.25f, 1.75f, 3.25f, 4.75f};
    for (std::size_t i = 0; i < 3; ++i)
        for (std::size_t j = 0; j < 4; ++j) {
            // 10·y is linear, so it interpolates to 10·s_y; x² interpolates between ⌊s⌋² and (⌊s⌋+1)².
            const float x0 = std::floor(col_s[j]), t = col_s[j] - x0;
            const float expected = 10.0f * row_s[i] + (1 - t) * x0 * x0 + t * (x0 + 1) * (x0 + 1);
            CHECK(down(i, j) == Approx(expected).margin(1e-5));
        }
}

TEST_CASE("bilinear reproduces a linear ramp at PyTorch's source coordinates for any ratio", "[image][resize]") {
    // For input values f(i) = i, output d must be clamp((d + 0.5)·in/out − 0.5, 0, in − 1).
    for (auto [in, out] : std::vector<std::pair<std::size_t, std::size_t>>{{7, 224}, {224, 7}, {13, 5}, {5, 13}, {3, 3}}) {
        std::vector<float> ramp(in);
        for (std::size_t i = 0; i < in; ++i) ramp[i] = static_cast<float>(i);
        std::vector<float> expected(out);
        for (std::size_t d = 0; d < out; ++d) {
            const double s = (static_cast<double>(d) + 0.5) * static_cast<double>(in) / static_cast<double>(out) - 0.5;
            expected[d] = static_cast<float>(std::clamp(s, 0.0, static_cast<double>(in - 1)));
        }
        INFO(in << " -> " << out);
        check_row(ramp, out, xai::Interpolation::bilinear, expected);
    }
}

TEST_CASE("nearest follows PyTorch's float index rule floor(d * (float)in/out)", "[image][resize]") {
    // 3 → 5: d·0.6 = 0, 0.6, 1.2, 1.8, 2.4.
    check_row({10, 20, 30}, 5, xai::Interpolation::nearest, {10, 10, 20, 20, 30});
    // 5 → 2: d·2.5 = 0, 2.5 (downsampling picks the left pixel of each block).
    check_row({0, 1, 2, 3, 4}, 2, xai::Interpolation::nearest, {0, 2});
    // 26 → 22, d = 11: exactly 11·26/22 = 13, but in float 11 · 1.1818181f = 12.999999, so PyTorch
    // (and OpenCV's legacy INTER_NEAREST) picks 12. A double computation would pick 13.
    std::vector<float> ramp(26);
    for (std::size_t i = 0; i < 26; ++i) ramp[i] = static_cast<float>(i);
    xai::Map row = xai::Map::from_shape({1, 26});
    std::copy(ramp.begin(), ramp.end(), row.begin());
    const xai::Map got = xai::resize(row, 1, 22, xai::Interpolation::nearest);
    CHECK(got(0, 11) == 12.0f);
    CHECK(got(0, 10) == 11.0f);  // 10 · 1.1818181 = 11.818
}

TEST_CASE("bicubic is Keys' convolution with A = -0.75 and border-clamped taps", "[image][resize]") {
    // At t = 0.5 the weights are W(1.5), W(0.5), W(0.5), W(1.5) with
    //   W(0.5) = ((A+2)·0.5 − (A+3))·0.25 + 1 = 0.59375,  W(1.5) = ((A·1.5 − 5A)·1.5 + 8A)·1.5 − 4A = −0.09375.
    // 4 → 2: s = 0.5 and 2.5; taps {−1, 0, 1, 2} → {0, 0, 1, 2} and {1, 2, 3, 4} → {1, 2, 3, 3}.
    //   d = 0: −0.09375·1 + 0.59375·1 + 0.59375·2 − 0.09375·4 = 1.3125
    //   d = 1: −0.09375·2 + 0.59375·4 + 0.59375·8 − 0.09375·8 = 6.1875
    check_row({1, 2, 4, 8}, 2, xai::Interpolation::bicubic, {1.3125f, 6.1875f});
    // 8 → 20 (ratio 0.4), d = 5: s = 0.4·5.5 − 0.5 = 1.7, so t = 0.7 and the taps are 0, 1, 2, 3 with
    //   W(1.7) = −0.04725, W(0.7) = 0.32625, W(0.3) = 0.83125, W(1.3) = −0.11025   (sum 1).
    // On the ramp 3i: 0.32625·3 + 0.83125·6 − 0.11025·9 = 4.974, not 3·1.7 = 5.1: with A = −0.75
    // (unlike A = −0.5) cubic convolution does not reproduce linear functions, as PyTorch's doesn't.
    std::vector<float> ramp(8);
    for (std::size_t i = 0; i < 8; ++i) ramp[i] = 3.0f * static_cast<float>(i);
    xai::Map row = xai::Map::from_shape({1, 8});
    std::copy(ramp.begin(), ramp.end(), row.begin());
    const xai::Map up = xai::resize(row, 1, 20, xai::Interpolation::bicubic);
    CHECK(up(0, 5) == Approx(4.974f).margin(1e-5));
    // The weights sum to 1, so a constant stays constant, borders included — up to float rounding:
    // two passes of four float products and sums each, a few units in the last place (2⁻²⁴ ≈ 6e-8
    // relative each), so 2e-6 relative. (An absolute 1e-6, 4 ulp of 2.5, held at -O2 and failed in
    // the -O1 sanitizer build: the bound is what float arithmetic promises, not what one build gives.)
    const xai::Map flat = xai::Map(xt::full_like(xai::Map::from_shape({3, 5}), 2.5f));
    CHECK(xt::allclose(xai::resize(flat, 7, 11, xai::Interpolation::bicubic), 2.5f, 2e-6, 0.0));
}

TEST_CASE("resize of images and batches resizes every plane like a map", "[image][resize]") {
    const xai::Image image = test_pattern(3, 5, 6);
    const xai::Image resized = xai::resize(image, 9, 4);
    REQUIRE(resized.shape() == std::array<std::size_t, 3>{3, 9, 4});
    xai::Batch batch = xai::Batch::from_shape({2, 3, 5, 6});
    std::copy(image.begin(), image.end(), batch.begin());
    std::copy(image.begin(), image.end(), batch.begin() + 90);
    const xai::Batch resized_batch = xai::resize(batch, 9, 4, xai::Interpolation::bicubic);
    for (std::size_t c = 0; c < 3; ++c) {
        const xai::Map plane = xt::view(image, c, xt::all(), xt::all());
        const xai::Map expected = xai::resize(plane, 9, 4);
        const xai::Map got = xt::view(resized, c, xt::all(), xt::all());
        CHECK((got == expected));
        const xai::Map expected_cubic = xai::resize(plane, 9, 4, xai::Interpolation::bicubic);
        const xai::Map got_cubic = xt::view(resized_batch, 1, c, xt::all(), xt::all());
        CHECK((got_cubic == expected_cubic));
    }
}

TEST_CASE("resize refuses a zero-sized output and an empty input", "[image][resize]") {
    const xai::Map map = map_of(2, 2, {1, 2, 3, 4});
    CHECK_THROWS_AS(xai::resize(map, 0, 4), xai::invalid_argument);
    CHECK_THROWS_WITH(xai::resize(map, 4, 0), Contains("output size is 4x0"));
    const xai::Map empty = xai::Map::from_shape({0, 3});
    CHECK_THROWS_AS(xai::resize(empty, 4, 4), xai::shape_error);
    CHECK_THROWS_WITH(xai::resize(empty, 4, 4), Contains("input is empty"));
    const xai::Batch empty_batch = xai::Batch::from_shape({0, 3, 4, 4});
    CHECK_THROWS_AS(xai::resize(empty_batch, 2, 2), xai::shape_error);
}

// ---- normalization ------------------------------------------------------------------------

TEST_CASE("min-max normalization maps to [0, 1] and a flat map to zeros", "[image][normalize]") {
    const xai::Map n = xai::normalize_min_max(map_of(2, 2, {-1, 0, 1, 3}));
    CHECK(xt::allclose(n, map_of(2, 2, {0.0f, 0.25f, 0.5f, 1.0f})));
    const xai::Map flat = xai::normalize_min_max(map_of(2, 2, {7, 7, 7, 7}));
    CHECK((flat == xt::zeros<float>({2, 2})));
    xai::Maps maps = xai::Maps::from_shape({2, 1, 3});
    maps(0, 0, 0) = 0, maps(0, 0, 1) = 5, maps(0, 0, 2) = 10;
    maps(1, 0, 0) = 2, maps(1, 0, 1) = 2, maps(1, 0, 2) = 2;
    const xai::Maps each = xai::normalize_min_max(maps);
    CHECK(each(0, 0, 1) == Approx(0.5f));
    CHECK(each(1, 0, 1) == 0.0f);  // the flat one, on its own
}

TEST_CASE("normalization refuses NaN, Inf and empty maps", "[image][normalize]") {
    CHECK_THROWS_AS(xai::normalize_min_max(map_of(1, 2, {0.0f, std::nanf("")})), xai::invalid_argument);
    CHECK_THROWS_WITH(xai::normalize_min_max(map_of(1, 2, {0.0f, INFINITY})), Contains("NaN or Inf"));
    CHECK_THROWS_AS(xai::normalize_min_max(xai::Map::from_shape({0, 0})), xai::shape_error);
}

// ---- conversions ------------------------------------------------------------------------

TEST_CASE("HWC bytes and CHW floats convert both ways, every byte value exactly", "[image][convert]") {
    xai::PixelsU8 pixels = xai::PixelsU8::from_shape({16, 16, 1});
    for (std::size_t i = 0; i < 256; ++i) pixels.data()[i] = static_cast<std::uint8_t>(i);
    const xai::Image grey = xai::from_hwc_u8(pixels);
    CHECK(grey(0, 0, 1) == Approx(1.0f / 255.0f));
    CHECK(grey(0, 15, 15) == 1.0f);
    CHECK((xai::to_hwc_u8(grey) == pixels));

    // Layout: H×W×C interleaved ↔ C×H×W planar.
    const std::uint8_t rgb[2 * 3] = {10, 20, 30, 40, 50, 60};  // 1×2 pixels, RGB
    const xai::Image planar = xai::from_hwc_u8(rgb, 1, 2, 3);
    CHECK(planar(0, 0, 1) == Approx(40.0f / 255.0f));  // red of pixel 1
    CHECK(planar(2, 0, 0) == Approx(30.0f / 255.0f));  // blue of pixel 0
    const xai::PixelsU8 back = xai::to_hwc_u8(planar);
    CHECK(std::equal(rgb, rgb + 6, back.data()));
}

TEST_CASE("float to bytes clamps, rounds or truncates, and refuses NaN", "[image][convert]") {
    xai::Image image = xai::Image::from_shape({1, 1, 4});
    image(0, 0, 0) = -0.5f;
    image(0, 0, 1) = 1.5f;
    image(0, 0, 2) = 0.5f;    // 127.5 → 128 rounded, 127 truncated
    image(0, 0, 3) = 0.999f;  // 254.745 → 255 rounded, 254 truncated
    const xai::PixelsU8 nearest = xai::to_hwc_u8(image);
    const xai::PixelsU8 truncated = xai::to_hwc_u8(image, xai::Rounding::truncate);
    CHECK(nearest(0, 0, 0) == 0);
    CHECK(nearest(0, 1, 0) == 255);
    CHECK(nearest(0, 2, 0) == 128);
    CHECK(truncated(0, 2, 0) == 127);
    CHECK(nearest(0, 3, 0) == 255);
    CHECK(truncated(0, 3, 0) == 254);
    image(0, 0, 1) = std::nanf("");
    CHECK_THROWS_AS(xai::to_hwc_u8(image), xai::invalid_argument);
    CHECK_THROWS_AS(xai::to_hwc_u8(xai::Image::from_shape({3, 0, 2})), xai::shape_error);
    CHECK_THROWS_WITH(xai::to_hwc_u8(xai::Image::from_shape({5, 2, 2})), Contains("5 channels"));
    CHECK_THROWS_AS(xai::from_hwc_u8(nullptr, 1, 1, 1), xai::invalid_argument);
    CHECK_THROWS_AS(xai::from_hwc_u8(xai::PixelsU8::from_shape({2, 2, 0})), xai::shape_error);
}

TEST_CASE("grey_to_rgb replicates the plane; as_rgb accepts grey and RGB only", "[image][convert]") {
    const xai::Image grey = test_pattern(1, 3, 4);
    const xai::Image rgb = xai::grey_to_rgb(grey);
    REQUIRE(rgb.shape(0) == 3);
    for (std::size_t c = 0; c < 3; ++c) CHECK((xt::view(rgb, c, xt::all(), xt::all()) == xt::view(grey, 0, xt::all(), xt::all())));
    CHECK((xai::as_rgb(rgb) == rgb));
    CHECK((xai::as_rgb(grey) == rgb));
    CHECK_THROWS_AS(xai::grey_to_rgb(rgb), xai::shape_error);
    CHECK_THROWS_WITH(xai::as_rgb(test_pattern(4, 2, 2)), Contains("4 channels"));
    CHECK_THROWS_AS(xai::grey_to_rgb(xai::Image::from_shape({1, 0, 0})), xai::shape_error);
}

// ---- colormaps ----------------------------------------------------------------------------

namespace {

/// OpenCV's COLORMAP_JET recomputed the way imgproc/src/colormap.cpp builds it: Octave's jet at
/// x = i/255 as float (the literals of colormap::Jet), X = linspace(0, 1, 256) with
/// x0 + i·step in float, interp1_<float> onto the same points (binary search, then
/// Y[lo] + (xi − X[lo])·(Y[hi] − Y[lo]) / (X[hi] − X[lo])), and convertTo(CV_8U, 255), which
/// rounds half to even. `volatile` keeps the compiler from fusing the steps, as OpenCV's
/// baseline build does not.
std::array<std::array<int, 3>, 256> opencv_jet_recomputed() {
    auto octave = [](int channel, double x) {
        const double up[3] = {4 * x - 1.5, 4 * x - 0.5, 4 * x + 0.5};
        const double down[3] = {-4 * x + 4.5, -4 * x + 3.5, -4 * x + 2.5};
        return static_cast<float>(std::clamp(std::min(up[channel], down[channel]), 0.0, 1.0));
    };
    volatile float step = 1.0f / 255.0f;
    std::array<float, 256> X{};
    for (int i = 0; i < 256; ++i) {
        volatile float offset = static_cast<float>(i) * step;
        X[static_cast<std::size_t>(i)] = 0.0f + offset;
    }
    std::array<std::array<int, 3>, 256> bytes{};
    for (int channel = 0; channel < 3; ++channel) {
        std::array<float, 256> Y{};
        for (std::size_t i = 0; i < 256; ++i) Y[i] = octave(channel, static_cast<double>(i) / 255.0);
        for (std::size_t i = 0; i < 256; ++i) {
            const float xi = X[i];
            std::size_t lo = 0, hi = 255;
            while (hi - lo > 1) {
                const std::size_t mid = lo + (hi - lo) / 2;
                (xi > X[mid] ? lo : hi) = mid;
            }
            volatile float dx = xi - X[lo];
            volatile float dy = Y[hi] - Y[lo];
            volatile float product = dx * dy;
            volatile float span = X[hi] - X[lo];
            volatile float quotient = product / span;
            volatile float y = Y[lo] + quotient;
            volatile float scaled = y * 255.0f;
            bytes[i][static_cast<std::size_t>(channel)] = std::clamp(static_cast<int>(std::nearbyint(scaled)), 0, 255);
        }
    }
    return bytes;
}

}  // namespace

TEST_CASE("jet is OpenCV's COLORMAP_JET byte for byte", "[image][colormap]") {
    const auto recomputed = opencv_jet_recomputed();
    const xai::ColormapTable& table = xai::colormap_table(xai::Colormap::jet);
    for (int i = 0; i < 256; ++i) {
        const auto bytes = xai::detail::jet_bytes(i);
        INFO("entry " << i);
        for (std::size_t c = 0; c < 3; ++c) {
            CHECK(static_cast<int>(bytes[c]) == recomputed[static_cast<std::size_t>(i)][c]);
            CHECK(table[static_cast<std::size_t>(i)][c] == Approx(bytes[c] / 255.0f).margin(1e-7));
        }
    }
    // Published output of cv2.applyColorMap(0..255, COLORMAP_JET) (BGR there, RGB here):
    // 0 → BGR(128,0,0), 1 → BGR(132,0,0), 20 → BGR(208,0,0), and the OpenCV-derived closed form
    // 96 → BGR(254,255,2), 159 → BGR(1,255,254), 255 → BGR(0,0,128).
    CHECK(xai::detail::jet_bytes(0) == std::array<std::uint8_t, 3>{0, 0, 128});
    CHECK(xai::detail::jet_bytes(1) == std::array<std::uint8_t, 3>{0, 0, 132});
    CHECK(xai::detail::jet_bytes(20) == std::array<std::uint8_t, 3>{0, 0, 208});
    CHECK(xai::detail::jet_bytes(32) == std::array<std::uint8_t, 3>{0, 0, 255});
    CHECK(xai::detail::jet_bytes(96) == std::array<std::uint8_t, 3>{2, 255, 254});
    CHECK(xai::detail::jet_bytes(159) == std::array<std::uint8_t, 3>{254, 255, 1});
    CHECK(xai::detail::jet_bytes(223) == std::array<std::uint8_t, 3>{255, 0, 0});
    CHECK(xai::detail::jet_bytes(255) == std::array<std::uint8_t, 3>{128, 0, 0});
}

TEST_CASE("viridis and turbo hold matplotlib's and Google's reference entries", "[image][colormap]") {
    using xai::Colormap;
    const auto& viridis = xai::colormap_table(Colormap::viridis);
    // matplotlib: viridis(0.0), viridis(0.5) = listed entry 128, viridis(1.0).
    CHECK(viridis[0] == xai::Rgb{0.267004f, 0.004874f, 0.329415f});
    CHECK(viridis[128] == xai::Rgb{0.127568f, 0.566949f, 0.550556f});
    CHECK(viridis[255] == xai::Rgb{0.993248f, 0.906157f, 0.143936f});
    const auto& turbo = xai::colormap_table(Colormap::turbo);
    CHECK(turbo[0] == xai::Rgb{0.18995f, 0.07176f, 0.23217f});
    CHECK(turbo[128] == xai::Rgb{0.64362f, 0.98999f, 0.23356f});
    CHECK(turbo[255] == xai::Rgb{0.47960f, 0.01583f, 0.01055f});
    // Both tables are smooth curves: a mistyped digit would show as a kink. The largest second
    // difference of the published tables is below 1e-3 per step.
    for (const auto* table : {&viridis, &turbo})
        for (std::size_t i = 1; i + 1 < 256; ++i)
            for (std::size_t c = 0; c < 3; ++c) {
                INFO("entry " << i << " channel " << c);
                CHECK(std::abs((*table)[i + 1][c] - 2 * (*table)[i][c] + (*table)[i - 1][c]) < 1e-3f);
            }
}

TEST_CASE("apply_colormap indexes floor(255 v), clamps, and refuses non-finite maps", "[image][colormap]") {
    // 0.5 → ⌊127.5⌋ = 127; 1 → 255; −0.3 clamps to 0; 1.7 clamps to 255; 0.999 → 254.
    const xai::Map map = map_of(1, 5, {0.5f, 1.0f, -0.3f, 1.7f, 0.999f});
    for (xai::Colormap cm : {xai::Colormap::jet, xai::Colormap::viridis, xai::Colormap::turbo}) {
        const xai::Image rgb = xai::apply_colormap(map, cm);
        const auto& table = xai::colormap_table(cm);
        const std::array<std::size_t, 5> index = {127, 255, 0, 255, 254};
        for (std::size_t x = 0; x < 5; ++x)
            for (std::size_t c = 0; c < 3; ++c) CHECK(rgb(c, 0, x) == table[index[x]][c]);
        CHECK(xai::colormap_color(0.5f, cm) == table[127]);
    }
    CHECK_THROWS_AS(xai::apply_colormap(map_of(1, 2, {0.1f, std::nanf("")})), xai::invalid_argument);
    CHECK_THROWS_WITH(xai::apply_colormap(map_of(1, 1, {-INFINITY})), Contains("apply_colormap(): map contains NaN"));
    CHECK_THROWS_AS(xai::apply_colormap(xai::Map::from_shape({3, 0})), xai::shape_error);
    CHECK_THROWS_AS(xai::colormap_color(INFINITY), xai::invalid_argument);
}

TEST_CASE("colormap names round-trip and unknown names are refused", "[image][colormap]") {
    for (xai::Colormap cm : {xai::Colormap::jet, xai::Colormap::viridis, xai::Colormap::turbo})
        CHECK(xai::colormap_from_string(xai::to_string(cm)) == cm);
    CHECK_THROWS_AS(xai::colormap_from_string("parula"), xai::invalid_argument);
    CHECK_THROWS_WITH(xai::colormap_from_string("Jet"), Contains("unknown colormap 'Jet'"));
}

// ---- overlay ------------------------------------------------------------------------------

TEST_CASE("overlay reproduces show_cam_on_image on a hand-computed pixel", "[image][overlay]") {
    // Two pixels. Pixel 0: RGB (0.2, 0.4, 0.6), mask 0.5 → jet entry ⌊127.5⌋ = 127 = RGB(126, 255, 130).
    // Pixel 1: white, mask 0 → jet entry 0 = RGB(0, 0, 128).
    xai::Image image = xai::Image::from_shape({3, 1, 2});
    image(0, 0, 0) = 0.2f, image(1, 0, 0) = 0.4f, image(2, 0, 0) = 0.6f;
    image(0, 0, 1) = 1.0f, image(1, 0, 1) = 1.0f, image(2, 0, 1) = 1.0f;
    const xai::Map mask = map_of(1, 2, {0.5f, 0.0f});
    const xai::Image cam = xai::overlay(image, mask);
    // cam = 0.5·heatmap + 0.5·img, in float32 as numpy:
    const float p0[3] = {0.5f * (126.0f / 255.0f) + 0.5f * 0.2f, 0.5f * 1.0f + 0.5f * 0.4f,
                         0.5f * (130.0f / 255.0f) + 0.5f * 0.6f};
    const float p1[3] = {0.5f * 0.0f + 0.5f, 0.5f * 0.0f + 0.5f, 0.5f * (128.0f / 255.0f) + 0.5f};
    const float peak = p1[2];  // 0.750980…, the largest of the six
    for (std::size_t c = 0; c < 3; ++c) {
        CHECK(cam(c, 0, 0) == p0[c] / peak);
        CHECK(cam(c, 0, 1) == p1[c] / peak);
    }
    // np.uint8(255 · cam) truncates: pixel 0 green 0.7/0.750980 · 255 = 237.69 → 237.
    const xai::PixelsU8 bytes = xai::to_hwc_u8(cam, xai::Rounding::truncate);
    CHECK(bytes(0, 0, 1) == 237);
    CHECK(bytes(0, 1, 2) == 255);
    CHECK(bytes(0, 0, 0) == static_cast<int>(std::floor(255.0f * (p0[0] / peak))));
}

TEST_CASE("overlay options: weight, colormap, grey images, map resizing", "[image][overlay]") {
    const xai::Image grey = xai::Image(xt::full_like(xai::Image::from_shape({1, 4, 4}), 0.25f));
    const xai::Map coarse = map_of(2, 2, {0.0f, 1.0f, 1.0f, 0.0f});
    // image_weight 1: the image alone, scaled by its maximum (0.25) → all ones.
    xai::OverlayOptions only_image;
    only_image.image_weight = 1.0;
    CHECK(xt::allclose(xai::overlay(grey, coarse, only_image), xt::ones<float>({3, 4, 4})));
    // image_weight 0 with turbo: the heatmap of the bilinearly resized map, divided by its max.
    xai::OverlayOptions only_heat;
    only_heat.image_weight = 0.0;
    only_heat.colormap = xai::Colormap::turbo;
    const xai::Image heat = xai::overlay(grey, coarse, only_heat);
    const xai::Image expected = xai::apply_colormap(xai::resize(coarse, 4, 4), xai::Colormap::turbo);
    CHECK(xt::allclose(heat, expected / xt::amax(expected)(), 0.0, 1e-6));
    // A black image with weight 1 has max 0: zeros, not NaN.
    const xai::Image black = xai::Image(xt::zeros<float>({3, 2, 2}));
    CHECK((xai::overlay(black, coarse, only_image) == xt::zeros<float>({3, 2, 2})));
    // Without resize_map the sizes must agree.
    xai::OverlayOptions strict;
    strict.resize_map = false;
    CHECK_THROWS_AS(xai::overlay(grey, coarse, strict), xai::shape_error);
    CHECK_THROWS_WITH(xai::overlay(grey, coarse, strict), Contains("map is 2x2 but the image is 4x4"));
}

TEST_CASE("overlay refuses bad images, maps and weights", "[image][overlay]") {
    const xai::Image rgb = test_pattern(3, 2, 2);
    const xai::Map map = map_of(2, 2, {0, 0.5f, 1, 0.25f});
    xai::Image too_bright = rgb;
    too_bright(0, 0, 0) = 1.5f;
    CHECK_THROWS_WITH(xai::overlay(too_bright, map), Contains("expected values in [0, 1]"));
    xai::Image negative = rgb;
    negative(1, 1, 1) = -0.1f;
    CHECK_THROWS_AS(xai::overlay(negative, map), xai::invalid_argument);
    CHECK_THROWS_WITH(xai::overlay(test_pattern(4, 2, 2), map), Contains("expected 1 (grey) or 3 (RGB)"));
    CHECK_THROWS_AS(xai::overlay(xai::Image::from_shape({3, 0, 2}), map), xai::shape_error);
    CHECK_THROWS_AS(xai::overlay(rgb, xai::Map::from_shape({0, 0})), xai::shape_error);
    CHECK_THROWS_WITH(xai::overlay(rgb, map_of(2, 2, {0, std::nanf(""), 0, 0})), Contains("map contains NaN or Inf"));
    for (double w : {-0.1, 1.5, std::nan("")}) {
        xai::OverlayOptions options;
        options.image_weight = w;
        CHECK_THROWS_WITH(xai::overlay(rgb, map, options), Contains("image_weight"));
    }
}

// ---- file I/O -----------------------------------------------------------------------------

TEST_CASE("PNG save and load round-trip exactly for 1, 3 and 4 channels", "[image][io]") {
    TempDir dir("png");
    for (std::size_t channels : {1, 3, 4}) {
        const xai::Image image = test_pattern(channels, 7, 5);
        const auto path = dir / ("pattern" + std::to_string(channels) + ".PNG");  // extension case ignored
        xai::save_image(path, image);
        const xai::Image loaded = xai::load_image(path);
        INFO(channels << " channels");
        CHECK(loaded.shape() == image.shape());
        CHECK((loaded == image));  // k/255 → byte k → k/255
    }
}

TEST_CASE("JPEG round-trips approximately", "[image][io]") {
    const xai::ImageDecoder decoder = GENERATE(from_range(decoders()));
    INFO("decoder " << static_cast<int>(decoder));
    TempDir dir("jpeg");
    xai::Image smooth = xai::Image::from_shape({3, 32, 32});
    for (std::size_t c = 0; c < 3; ++c)
        for (std::size_t y = 0; y < 32; ++y)
            for (std::size_t x = 0; x < 32; ++x)
                smooth(c, y, x) = static_cast<float>(0.2 + 0.6 * (static_cast<double>(x + y + 8 * c) / 78.0));
    for (const char* name : {"smooth.jpg", "smooth.jpeg"}) {
        xai::save_image(dir / name, smooth);
        const xai::Image loaded = xai::load_image(dir / name, 3, {.decoder = decoder});
        REQUIRE(loaded.shape() == smooth.shape());
        CHECK(xt::mean(xt::abs(loaded - smooth))() < 0.01f);
    }
    xai::SaveOptions low;
    low.jpeg_quality = 5;
    CHECK(xai::encode_image(smooth, xai::ImageFormat::jpeg, low).size() <
          xai::encode_image(smooth, xai::ImageFormat::jpeg).size());
}

TEST_CASE("load_image converts channels as stb does and reads 16-bit PNG at full precision", "[image][io]") {
    const xai::ImageDecoder decoder = GENERATE(from_range(decoders()));
    INFO("decoder " << static_cast<int>(decoder));
    const xai::LoadOptions options{.decoder = decoder};
    // RGB pixel (200, 100, 50) read as grey: (77·200 + 150·100 + 29·50) >> 8 = 31850 >> 8 = 124.
    xai::Image rgb = xai::Image::from_shape({3, 1, 1});
    rgb(0, 0, 0) = 200.0f / 255.0f, rgb(1, 0, 0) = 100.0f / 255.0f, rgb(2, 0, 0) = 50.0f / 255.0f;
    const std::vector<std::uint8_t> png = xai::encode_image(rgb, xai::ImageFormat::png);
    const xai::Image grey = xai::load_image_from_memory(png, 1, options);
    REQUIRE(grey.shape(0) == 1);
    CHECK(grey(0, 0, 0) == Approx(124.0f / 255.0f));
    const xai::Image rgba = xai::load_image_from_memory(png, 4, options);
    REQUIRE(rgba.shape(0) == 4);
    CHECK(rgba(3, 0, 0) == 1.0f);  // opaque alpha added
    CHECK(xai::load_image_from_memory(png, 0, options).shape(0) == 3);  // as stored

    // A 16-bit grey PNG, 2×1, samples 0x1234 and 0xFFFF (filter byte 0 before the row).
    const std::vector<std::uint8_t> rows = {0, 0x12, 0x34, 0xFF, 0xFF};
    const xai::Image deep = xai::load_image_from_memory(handmade_png(2, 1, 16, 0, &rows), 0, options);
    REQUIRE(deep.shape() == std::array<std::size_t, 3>{1, 1, 2});
    CHECK(deep(0, 0, 0) == Approx(4660.0f / 65535.0f).epsilon(1e-6));
    CHECK(deep(0, 0, 1) == 1.0f);
    CHECK_THROWS_WITH(xai::load_image_from_memory(png, 5, options), Contains("channels is 5"));
}

TEST_CASE("the shipped sample photos load as 3x224x224 in [0, 1]", "[image][io]") {
    const xai::Image cat = xai::load_image(xai::data_directory() / "samples/photos/chelsea_224.png", 3);
    REQUIRE(cat.shape() == std::array<std::size_t, 3>{3, 224, 224});
    CHECK(xt::amin(cat)() >= 0.0f);
    CHECK(xt::amax(cat)() <= 1.0f);
    CHECK(xt::amax(cat)() > xt::amin(cat)());
}

TEST_CASE("load_image: a missing file, a directory and an empty file are io_errors naming the path", "[image][io]") {
    TempDir dir("missing");
    const auto missing = dir / "no_such_image.png";
    CHECK_THROWS_AS(xai::load_image(missing), xai::io_error);
    CHECK_THROWS_WITH(xai::load_image(missing), Contains("no_such_image.png") && Contains("does not exist"));
    CHECK_THROWS_WITH(xai::load_image(dir.path), Contains("is a directory"));
    write_bytes(dir / "empty.png", {});
    CHECK_THROWS_WITH(xai::load_image(dir / "empty.png"), Contains("empty.png") && Contains("is empty"));
    // A path through a regular file: the file system refuses it (ENOTDIR), and the message says so.
    CHECK_THROWS_WITH(xai::load_image(dir / "empty.png" / "inner.png"), Contains("cannot access") && Contains("inner.png"));
}

TEST_CASE("load_image: truncated, corrupt and unsupported files are io_errors with the decoder's reason",
          "[image][io]") {
    const xai::ImageDecoder decoder = GENERATE(from_range(decoders()));
    INFO("decoder " << static_cast<int>(decoder));
    const xai::LoadOptions options{.decoder = decoder};
    TempDir dir("broken");
    const std::vector<std::uint8_t> good = xai::encode_image(test_pattern(3, 16, 16), xai::ImageFormat::png);

    // Truncated: the header survives, the compressed pixels are cut short.
    write_bytes(dir / "truncated.png", std::vector<std::uint8_t>(good.begin(), good.begin() + 60));
    CHECK_THROWS_AS(xai::load_image(dir / "truncated.png", 0, options), xai::io_error);
    CHECK_THROWS_WITH(xai::load_image(dir / "truncated.png", 0, options), Contains("truncated.png") && Contains("cannot decode"));
    // Truncated inside the header.
    write_bytes(dir / "stub.png", std::vector<std::uint8_t>(good.begin(), good.begin() + 12));
    CHECK_THROWS_WITH(xai::load_image(dir / "stub.png", 0, options), Contains("stub.png") && Contains("cannot read"));

    // Corrupt: a valid PNG header followed by an IDAT that is not zlib data.
    std::vector<std::uint8_t> corrupt = handmade_png(4, 4, 8, 2, nullptr);
    corrupt.resize(corrupt.size() - 12);  // drop IEND
    put_png_chunk(corrupt, "IDAT", std::vector<std::uint8_t>(40, 0xAB));
    put_png_chunk(corrupt, "IEND", {});
    write_bytes(dir / "corrupt.png", corrupt);
    CHECK_THROWS_AS(xai::load_image(dir / "corrupt.png", 0, options), xai::io_error);
    CHECK_THROWS_WITH(xai::load_image(dir / "corrupt.png", 0, options), Contains("corrupt.png") && Contains("cannot decode"));

    // Unrecognised: a text file, whatever its extension says (refused before any decoder).
    const std::string text = "this is not an image\n";
    write_bytes(dir / "notes.png", std::vector<std::uint8_t>(text.begin(), text.end()));
    CHECK_THROWS_AS(xai::load_image(dir / "notes.png", 0, options), xai::io_error);
    CHECK_THROWS_WITH(xai::load_image(dir / "notes.png", 0, options), Contains("notes.png") && Contains("unknown image type"));
}

TEST_CASE("load_image refuses a declared size over the pixel budget before decoding", "[image][io]") {
    // A 56-byte BMP declaring 20000×20000 (400 megapixels, 1.2 GB of bytes that stb would
    // allocate and fill with zeros past the end of the file) is refused by the default budget.
    const std::vector<std::uint8_t> bmp = bmp_header_only(20000, 20000);
    CHECK_THROWS_AS(xai::load_image_from_memory(bmp), xai::io_error);
    CHECK_THROWS_WITH(xai::load_image_from_memory(bmp),
                      Contains("declares 20000x20000 = 400000000 pixels") && Contains("max_pixels = 100000000"));
    // A PNG header declaring 100×100 with no pixel data at all: with a budget of 1000 pixels the
    // refusal names the budget, which proves the header was checked before stb tried to decode.
    // Through each decoder.
    const std::vector<std::uint8_t> header_only = handmade_png(100, 100, 8, 2, nullptr);
    for (xai::ImageDecoder decoder : decoders()) {
        INFO("decoder " << static_cast<int>(decoder));
        CHECK_THROWS_WITH(xai::load_image_from_memory(header_only, 0, {.max_pixels = 1000, .decoder = decoder}),
                          Contains("refused before decoding"));
        // Within the budget the same header reaches the decoder, which fails for lack of data.
        CHECK_THROWS_WITH(xai::load_image_from_memory(header_only, 0, {.decoder = decoder}), Contains("cannot decode"));
    }
}

TEST_CASE("save_image refuses NaN, unknown extensions, bad quality and unwritable paths", "[image][io]") {
    TempDir dir("save");
    xai::Image image = test_pattern(3, 4, 4);
    image(1, 2, 3) = std::nanf("");
    CHECK_THROWS_AS(xai::save_image(dir / "nan.png", image), xai::invalid_argument);
    CHECK_FALSE(std::filesystem::exists(dir / "nan.png"));
    image(1, 2, 3) = INFINITY;
    CHECK_THROWS_WITH(xai::save_image(dir / "inf.jpg", image), Contains("NaN or Inf"));

    const xai::Image good = test_pattern(3, 4, 4);
    CHECK_THROWS_WITH(xai::save_image(dir / "picture.gif", good), Contains("expected .png, .jpg or .jpeg"));
    CHECK_THROWS_AS(xai::save_image(dir / "no_extension", good), xai::invalid_argument);
    xai::SaveOptions bad_quality;
    bad_quality.jpeg_quality = 0;
    CHECK_THROWS_WITH(xai::save_image(dir / "q.jpg", good, bad_quality), Contains("jpeg_quality is 0"));
    CHECK_THROWS_AS(xai::save_image(dir / "missing_dir/out.png", good), xai::io_error);
    CHECK_THROWS_AS(xai::save_image(dir / "five.png", test_pattern(5, 2, 2)), xai::shape_error);
    CHECK_THROWS_AS(xai::save_image(dir / "empty.png", xai::Image::from_shape({3, 0, 4})), xai::shape_error);

    // Values outside [0, 1] are clamped, not refused.
    xai::Image bright = xai::Image::from_shape({1, 1, 2});
    bright(0, 0, 0) = -3.0f, bright(0, 0, 1) = 7.0f;
    xai::save_image(dir / "clamped.png", bright);
    const xai::Image back = xai::load_image(dir / "clamped.png");
    CHECK(back(0, 0, 0) == 0.0f);
    CHECK(back(0, 0, 1) == 1.0f);
}

TEST_CASE("images load and fail concurrently, each thread with its own error", "[image][io]") {
    const xai::ImageDecoder decoder = GENERATE(from_range(decoders()));
    INFO("decoder " << static_cast<int>(decoder));
    const xai::LoadOptions options{.decoder = decoder};
    const std::vector<std::uint8_t> good = xai::encode_image(test_pattern(3, 8, 8), xai::ImageFormat::png);
    const std::string text = "plain text";
    const std::vector<std::uint8_t> bad(text.begin(), text.end());
    const std::vector<std::uint8_t> header_only = handmade_png(4, 4, 8, 2, nullptr);
    const xai::Image expected = xai::load_image_from_memory(good, 0, options);
    std::atomic<int> wrong{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([&, t] {
            for (int i = 0; i < 50; ++i) {
                if (!(xai::load_image_from_memory(good, 0, options) == expected)) ++wrong;
                try {
                    xai::load_image_from_memory(t % 2 == 0 ? bad : header_only, 0, options);
                    ++wrong;
                } catch (const xai::io_error& e) {
                    // Text is refused as an unknown image type; a header without IDAT fails later.
                    const std::string what = e.what();
                    const bool ok = t % 2 == 0 ? what.find("unknown image type") != std::string::npos
                                               : what.find("cannot decode") != std::string::npos;
                    if (!ok) ++wrong;
                }
            }
        });
    for (auto& thread : threads) thread.join();
    CHECK(wrong == 0);
}

TEST_CASE("resize_antialiased equals F.interpolate(antialias=True) and keeps a constant image constant",
          "[image][antialias]") {
    // 5×7 → 2×3, reference from /usr/bin/python3 (Debian's python3-torch 1.13):
    //   x[r][c] = ((3c + 7r) % 11) / 10
    //   F.interpolate(x, size=(2, 3), mode="bilinear", antialias=True, align_corners=False)
    xai::Image x = xai::Image::from_shape({1, 5, 7});
    for (std::size_t r = 0; r < 5; ++r)
        for (std::size_t c = 0; c < 7; ++c) x(0, r, c) = static_cast<float>((3 * c + 7 * r) % 11) / 10.0f;
    const xai::Image y = xai::resize_antialiased(x, 2, 3);
    const std::vector<float> torch = {0.5285714f, 0.5058824f, 0.4392858f, 0.5821428f, 0.4617647f, 0.5285714f};
    REQUIRE(y.shape(1) == 2);
    REQUIRE(y.shape(2) == 3);
    for (std::size_t i = 0; i < torch.size(); ++i) CHECK(y.data()[i] == Approx(torch[i]).margin(1e-6));
    // By hand, one axis 4 → 2: scale 2, support 2. Output 0: centre 1, taps j = 0, 1, 2 with
    // tri((j − 1 + 0.5)/2) = 0.75, 0.75, 0.25; output 1: centre 3, taps j = 1, 2, 3 with 0.25,
    // 0.75, 0.75; each normalized by 1.75.
    const xai::Image row = xai::resize_antialiased(xai::Image(xt::xtensor<float, 3>{{{1.0f, 2.0f, 4.0f, 8.0f}}}), 1, 2);
    CHECK(row(0, 0, 0) == Approx((0.75f * 1 + 0.75f * 2 + 0.25f * 4) / 1.75f));
    CHECK(row(0, 0, 1) == Approx((0.25f * 2 + 0.75f * 4 + 0.75f * 8) / 1.75f));
    // Enlarging is plain bilinear (xai::resize), and a constant stays constant at any ratio.
    CHECK(xt::allclose(xai::resize_antialiased(x, 11, 13), xai::resize(x, 11, 13), 0.0, 1e-6));
    const xai::Image flat = xai::resize_antialiased(xai::Image(xt::full_like(xt::xtensor<float, 3>::from_shape({3, 37, 53}), 0.3f)), 5, 9);
    CHECK(xt::allclose(flat, 0.3f, 0.0, 1e-6));
    CHECK_THROWS_AS(xai::resize_antialiased(x, 0, 3), xai::invalid_argument);
}

TEST_CASE("center_crop_framing is torchvision's Resize(256) + CenterCrop(224), with Python's rounding", "[image][framing]") {
    // A 451×300 photo (width × height): torchvision's Resize(256) gives 384×256 (int(256 · 451 /
    // 300) = 384), CenterCrop(224) takes the corner (round(16), round(80)) = (16, 80).
    const xai::Framing f = xai::center_crop_framing(300, 451, 224, 224, 0.875);
    CHECK(f.resized_height == 256);
    CHECK(f.resized_width == 384);
    CHECK(f.top == 16);
    CHECK(f.left == 80);
    // The photo rows whose centres land in [16, 240): (p + 0.5)·256/300 ≥ 16 ⇔ p ≥ 18.25, and
    // < 240 ⇔ p < 280.75; columns (p + 0.5)·384/451 in [80, 304) ⇔ 93.46 ≤ p < 356.54.
    CHECK(f.rows() == xai::PixelSpan{19, 281});
    CHECK(f.columns() == xai::PixelSpan{94, 357});
    CHECK_FALSE(f.covers_photo());
    // Portrait: the width binds. Python's round halves to even: (45 − 10 = 35) / 2 = 17.5 → 18,
    // (43 − 10 = 33) / 2 = 16.5 → 16.
    const xai::Framing portrait = xai::center_crop_framing(90, 20, 10, 10, 0.5);
    CHECK(portrait.resized_width == 20);
    CHECK(portrait.resized_height == 90);
    CHECK(xai::center_crop_framing(45, 20, 10, 10, 0.5).top == 18);
    CHECK(xai::center_crop_framing(43, 20, 10, 10, 0.5).top == 16);
    // A squash covers the photo; so does a crop of a photo already at the crop's aspect and fraction 1.
    CHECK(xai::squash_framing(300, 451, 224, 224).covers_photo());
    CHECK(xai::center_crop_framing(50, 50, 10, 10, 1.0).covers_photo());
    CHECK_THROWS_AS(xai::center_crop_framing(300, 451, 224, 224, 0.0), xai::invalid_argument);
    CHECK_THROWS_AS(xai::center_crop_framing(300, 451, 224, 224, 1.5), xai::invalid_argument);
    CHECK_THROWS_AS(xai::center_crop_framing(0, 451, 224, 224, 0.875), xai::shape_error);
    CHECK_THROWS_AS(xai::crop(xai::Image::from_shape({1, 4, 4}), 2, 2, 3, 1), xai::shape_error);
}

TEST_CASE("Preprocessing center_crop equals torchvision's resize(antialias=True) + center_crop", "[image][framing]") {
    // Reference from /usr/bin/python3 (python3-torch, python3-torchvision 0.14):
    //   x[0][r][c] = ((3c + 7r) % 13) / 12, 30×45
    //   TF.center_crop(TF.resize(x, 10, antialias=True), 8): 10×15, corner (1, 4)
    xai::Image x = xai::Image::from_shape({1, 30, 45});
    for (std::size_t r = 0; r < 30; ++r)
        for (std::size_t c = 0; c < 45; ++c) x(0, r, c) = static_cast<float>((3 * c + 7 * r) % 13) / 12.0f;
    xai::Preprocessing p{.height = 8, .width = 8, .mean = {0.5f}, .std = {0.25f}, .fit = xai::Fit::center_crop,
                         .crop_fraction = 0.8};
    const xai::Framing f = p.framing(30, 45);
    CHECK(f.resized_height == 10);
    CHECK(f.resized_width == 15);
    CHECK(f.top == 1);
    CHECK(f.left == 4);
    const xai::Image y = p.resize(x);
    REQUIRE(y.shape(1) == 8);
    REQUIRE(y.shape(2) == 8);
    const float first[8] = {0.527778f, 0.528807f, 0.449588f, 0.477366f, 0.545268f, 0.519547f, 0.480453f, 0.454733f};
    const float last[8] = {0.5f, 0.527778f, 0.528807f, 0.449588f, 0.477366f, 0.545268f, 0.519547f, 0.480453f};
    for (std::size_t c = 0; c < 8; ++c) {
        CHECK(y(0, 0, c) == Approx(first[c]).margin(2e-6));
        CHECK(y(0, 7, c) == Approx(last[c]).margin(2e-6));
    }
    // normalize then denormalize is the identity; operator() is normalize(resize()).
    CHECK(xt::allclose(p.denormalize(p.normalize(y)), y, 0.0, 1e-6));
    CHECK(xt::allclose(p(x), (y - 0.5f) / 0.25f, 0.0, 1e-5));
    // The squash default is the old pipeline: plain bilinear to height×width.
    p.fit = xai::Fit::squash;
    CHECK(xt::allclose(p.resize(x), xai::resize(x, 8, 8), 0.0, 0.0));
    p.antialias = true;
    p.interpolation = xai::Interpolation::nearest;
    CHECK_THROWS_AS(p.resize(x), xai::invalid_argument);
}

TEST_CASE("map_to_photo samples the map bilinearly at the photo's pixel centres inside the crop, 0 outside",
          "[image][map_back]") {
    const xai::Framing f = xai::center_crop_framing(300, 451, 224, 224, 0.875);
    // A ramp over the input's columns, m(i, j) = j: bilinear sampling at index v − 0.5 returns
    // v − 0.5, with v = (p + 0.5)·384/451 − 80 the photo column's place in the input (unclamped
    // inside [0.5, 223.5]).
    xai::Map ramp = xai::Map::from_shape({224, 224});
    for (std::size_t i = 0; i < 224; ++i)
        for (std::size_t j = 0; j < 224; ++j) ramp(i, j) = static_cast<float>(j);
    const xai::Map on_photo = xai::map_to_photo(ramp, f);
    REQUIRE(on_photo.shape(0) == 300);
    REQUIRE(on_photo.shape(1) == 451);
    for (std::size_t p : {100u, 200u, 300u}) {
        const double v = (p + 0.5) * 384.0 / 451.0 - 80.0;
        CHECK(on_photo(150, p) == Approx(v - 0.5).margin(1e-4));
    }
    CHECK(on_photo(150, 93) == 0.0f);   // left of the crop
    CHECK(on_photo(150, 357) == 0.0f);  // right of it
    CHECK(on_photo(18, 200) == 0.0f);   // above it
    CHECK(on_photo(19, 200) > 0.0f);
    // A 7×7 map of a squashed photo is the map upsampled to the photo's size (F.interpolate).
    xai::Map small = xai::Map::from_shape({7, 7});
    for (std::size_t i = 0; i < small.size(); ++i) small.data()[i] = static_cast<float>((i * 5) % 7);
    CHECK(xt::allclose(xai::map_to_photo(small, xai::squash_framing(30, 45, 28, 28)), xai::resize(small, 30, 45), 0.0, 1e-5));
    xai::Map bad = small;
    bad(0, 0) = std::nanf("");
    CHECK_THROWS_AS(xai::map_to_photo(bad, f), xai::invalid_argument);
}

TEST_CASE("overlay_on_photo blends inside the crop and greys and hatches the rest", "[image][map_back]") {
    const xai::Framing f = xai::center_crop_framing(30, 45, 8, 8, 0.8);
    const xai::Image photo = xai::Image(xt::full_like(xt::xtensor<float, 3>::from_shape({3, 30, 45}), 0.5f));
    const xai::Map map = xt::ones<float>({8, 8});
    const xai::Image out = xai::overlay_on_photo(photo, map, f);
    REQUIRE(out.shape(1) == 30);
    REQUIRE(out.shape(2) == 45);
    const xai::PixelSpan rows = f.rows(), cols = f.columns();
    // Inside: pytorch-grad-cam's blend of the photo with jet(1) (dark red, 0.5 0 0 in RGB):
    // 0.5·0.5 + 0.5·(0.5, 0, 0) = (0.5, 0.25, 0.25), as overlay() gives for the same pixel.
    const xai::Image reference = xai::overlay(xai::crop(photo, 0, 0, 1, 1), xt::ones<float>({1, 1}));
    for (std::size_t c = 0; c < 3; ++c) CHECK(out(c, rows.begin, cols.begin) == Approx(reference(c, 0, 0)));
    // Outside: grey (all channels equal) — the hatch lines at (x + y) % 8 == 0 darker than the rest.
    CHECK(out(0, 0, 1) == out(1, 0, 1));
    CHECK(out(0, 0, 1) == Approx(0.45f + 0.35f * 0.5f));
    CHECK(out(0, 0, 8) == Approx(0.25f));
    const xai::Image marked = xai::mark_unexplained(photo, f, {.mark_unexplained = false});
    CHECK(xt::allclose(marked, photo, 0.0, 0.0));
    CHECK_THROWS_AS(xai::overlay_on_photo(xai::Image::from_shape({3, 10, 10}), map, f), xai::shape_error);
}
