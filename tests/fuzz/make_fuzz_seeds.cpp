// Writes the seed corpus of the fuzz targets into <dir>/<target>/ (the committed copy is
// tests/fuzz/corpus/). Seeds are small valid inputs that reach deep into each target: one tiny
// file per image format (and, written with libpng and libjpeg when xai is built with them, one
// per PNG colour type, bit depth and interlacing, and per JPEG colour space, subsampling,
// progression and restart interval), a few weights files (whole, and without their CRC for the
// target's CRC-fixing mode), and plausible option bytes for every superpixel algorithm and
// explainer. Everything is deterministic (xai::Rng), so rerunning gives the same files. The
// committed corpus also holds regression inputs (regression_*), which this program does not
// write; fuzzing runs add the minimised inputs that reach new code (libFuzzer's -merge=1).
//
//   make_fuzz_seeds tests/fuzz/corpus
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include <stb_image_write.h>

#if defined(XAI_HAS_SYSTEM_DECODERS) && XAI_HAS_SYSTEM_DECODERS
#include "../system_image_writers.hpp"
#endif

#include "xai/core/random.hpp"
#include "xai/image/io.hpp"
#include "xai/models/sequential.hpp"

namespace {

using Bytes = std::vector<std::uint8_t>;

void write(const std::filesystem::path& path, const Bytes& bytes) {
    std::filesystem::create_directories(path.parent_path());
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

Bytes concat(Bytes a, const Bytes& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

void append(void* context, void* data, int size) {
    auto* out = static_cast<Bytes*>(context);
    const auto* p = static_cast<const std::uint8_t*>(data);
    out->insert(out->end(), p, p + size);
}

/// A 3×5×4 image with a little of everything: gradients, an edge, saturated values.
xai::Image sample_image(std::size_t channels) {
    xai::Image image = xai::Image::from_shape({channels, 5, 4});
    for (std::size_t c = 0; c < channels; ++c)
        for (std::size_t y = 0; y < 5; ++y)
            for (std::size_t x = 0; x < 4; ++x) image(c, y, x) = x >= 2 ? 1.0f : static_cast<float>(y + c) / 8.0f;
    return image;
}

#if defined(XAI_HAS_SYSTEM_DECODERS) && XAI_HAS_SYSTEM_DECODERS
// ---- PNG and JPEG written by libpng and libjpeg, in the variants their decoders treat apart ----
using xai_test::JpegSpec;
using xai_test::PngSpec;
using xai_test::write_jpeg;
using xai_test::write_png;

/// 5×4 PNGs of every colour type and bit depth, interlaced or not, with and without tRNS.
std::vector<std::pair<std::string, Bytes>> png_variants() {
    std::vector<std::pair<std::string, Bytes>> out;
    for (const xai_test::PngKind& kind : xai_test::png_kinds)
        for (int depth : {1, 2, 4, 8, 16}) {
            if (!xai_test::png_depth_allowed(kind.colour, depth)) continue;
            for (bool interlaced : {false, true}) {
                PngSpec spec;
                spec.width = 5;
                spec.height = 4;
                spec.bit_depth = depth;
                spec.colour_type = kind.colour;
                spec.interlaced = interlaced;
                const int levels = 1 << std::min(depth, 8);
                if (kind.colour == PNG_COLOR_TYPE_PALETTE) {
                    for (int i = 0; i < levels; ++i)
                        spec.palette.push_back({static_cast<png_byte>(40 * i), static_cast<png_byte>(255 - 40 * i), 128});
                    spec.trans_alpha = {0, 128};
                } else if (kind.colour == PNG_COLOR_TYPE_GRAY || kind.colour == PNG_COLOR_TYPE_RGB) {
                    spec.trans_colour = true;
                    spec.trans.gray = spec.trans.red = spec.trans.green = spec.trans.blue = 1;
                }
                const int bits_per_pixel = depth * kind.samples;
                const std::size_t row_bytes = (static_cast<std::size_t>(bits_per_pixel) * spec.width + 7) / 8;
                for (std::uint32_t y = 0; y < spec.height; ++y) {
                    Bytes row(row_bytes);
                    for (std::size_t i = 0; i < row_bytes; ++i) row[i] = static_cast<std::uint8_t>(37 * i + 91 * y);
                    spec.rows.push_back(row);
                }
                out.emplace_back(std::string("png_") + kind.name + std::to_string(depth) + (interlaced ? "_adam7" : ""),
                                 write_png(spec));
            }
        }
    return out;
}

/// 16×16 JPEGs: grey, YCbCr 4:4:4 and 4:2:0, progressive, with restart intervals, RGB, CMYK, YCCK.
std::vector<std::pair<std::string, Bytes>> jpeg_variants() {
    std::vector<std::pair<std::string, Bytes>> out;
    const auto spec_of = [](int components, J_COLOR_SPACE in, J_COLOR_SPACE file) {
        JpegSpec spec;
        spec.width = spec.height = 16;
        spec.components = components;
        spec.in_space = in;
        spec.file_space = file;
        for (int i = 0; i < 16 * 16 * components; ++i) spec.samples.push_back(static_cast<std::uint8_t>((i * 29) % 251));
        return spec;
    };
    JpegSpec grey = spec_of(1, JCS_GRAYSCALE, JCS_GRAYSCALE);
    out.emplace_back("jpeg_grey", write_jpeg(grey));
    JpegSpec ycc420 = spec_of(3, JCS_RGB, JCS_YCbCr);
    out.emplace_back("jpeg_ycc420", write_jpeg(ycc420));
    JpegSpec ycc444 = ycc420;
    ycc444.h_samp = ycc444.v_samp = 1;
    out.emplace_back("jpeg_ycc444", write_jpeg(ycc444));
    JpegSpec progressive = ycc420;
    progressive.progressive = true;
    out.emplace_back("jpeg_progressive", write_jpeg(progressive));
    JpegSpec restarts = ycc420;
    restarts.restart_interval = 1;
    out.emplace_back("jpeg_restart", write_jpeg(restarts));
    out.emplace_back("jpeg_adobe_rgb", write_jpeg(spec_of(3, JCS_RGB, JCS_RGB)));
    out.emplace_back("jpeg_cmyk", write_jpeg(spec_of(4, JCS_CMYK, JCS_CMYK)));
    out.emplace_back("jpeg_ycck", write_jpeg(spec_of(4, JCS_CMYK, JCS_YCCK)));
    return out;
}
#endif

void image_seeds(const std::filesystem::path& dir) {
    const Bytes channels_as_stored{0};
    write(dir / "png_rgb", concat(channels_as_stored, xai::encode_image(sample_image(3), xai::ImageFormat::png)));
    write(dir / "png_grey", concat(channels_as_stored, xai::encode_image(sample_image(1), xai::ImageFormat::png)));
    write(dir / "png_rgba", concat(Bytes{3}, xai::encode_image(sample_image(4), xai::ImageFormat::png)));
    write(dir / "jpeg_rgb", concat(channels_as_stored, xai::encode_image(sample_image(3), xai::ImageFormat::jpeg)));
    const xai::PixelsU8 pixels = xai::to_hwc_u8(sample_image(3), xai::Rounding::nearest);
    Bytes bmp, tga;
    stbi_write_bmp_to_func(append, &bmp, 4, 5, 3, pixels.data());
    stbi_write_tga_to_func(append, &tga, 4, 5, 3, pixels.data());
    write(dir / "bmp_rgb", concat(channels_as_stored, bmp));
    // Opt-in formats: the first byte's top bit allows them (fuzz_image_decode.cpp).
    const Bytes all_formats{0x80};
    write(dir / "tga_rgb", concat(all_formats, tga));
    std::vector<float> radiance(4 * 5 * 3, 0.25f);
    Bytes hdr;
    stbi_write_hdr_to_func(append, &hdr, 4, 5, 3, radiance.data());
    write(dir / "hdr_rgb", concat(all_formats, hdr));
    // A 2×2 binary greymap and a 1×1 GIF (global colour table of two entries, one LZW code block).
    const std::string pgm = "P5\n2 2\n255\n";
    Bytes pnm(pgm.begin(), pgm.end());
    pnm.insert(pnm.end(), {0, 64, 128, 255});
    write(dir / "pgm_grey", concat(Bytes{1}, pnm));
    const Bytes gif = {'G', 'I', 'F', '8', '9', 'a', 1, 0, 1, 0, 0x80, 0, 0, 0, 0, 0, 255, 255, 255,
                       0x2C, 0, 0, 0, 0, 1, 0, 1, 0, 0, 2, 2, 0x44, 0x01, 0, 0x3B};
    write(dir / "gif_1x1", concat(all_formats, gif));
    // An 8-bit BMP with a 4-entry palette (stb_guard.hpp checks every index against it).
    Bytes bmp8 = {'B', 'M', 70, 0, 0, 0, 0, 0, 0, 0, 70, 0, 0, 0, 40, 0, 0, 0, 4, 0, 0, 0, 2, 0, 0, 0, 1, 0, 8, 0};
    bmp8.resize(54, 0);
    for (std::uint8_t i = 0; i < 4; ++i) bmp8.insert(bmp8.end(), {static_cast<std::uint8_t>(60 * i), 20, 200, 0});
    bmp8.insert(bmp8.end(), {0, 1, 2, 3, 3, 2, 1, 0});
    write(dir / "bmp_palette8", concat(channels_as_stored, bmp8));
#if defined(XAI_HAS_SYSTEM_DECODERS) && XAI_HAS_SYSTEM_DECODERS
    for (const auto& [name, file] : png_variants()) write(dir / name, concat(channels_as_stored, file));
    for (const auto& [name, file] : jpeg_variants()) write(dir / name, concat(channels_as_stored, file));
#endif
}

/// The system decoders' target reads PNG and JPEG only.
void system_image_seeds(const std::filesystem::path& dir) {
    const Bytes channels_as_stored{0};
    write(dir / "png_rgb", concat(channels_as_stored, xai::encode_image(sample_image(3), xai::ImageFormat::png)));
    write(dir / "png_rgba", concat(Bytes{3}, xai::encode_image(sample_image(4), xai::ImageFormat::png)));
    write(dir / "jpeg_rgb", concat(channels_as_stored, xai::encode_image(sample_image(3), xai::ImageFormat::jpeg)));
#if defined(XAI_HAS_SYSTEM_DECODERS) && XAI_HAS_SYSTEM_DECODERS
    for (const auto& [name, file] : png_variants()) write(dir / name, concat(channels_as_stored, file));
    for (const auto& [name, file] : jpeg_variants()) write(dir / name, concat(Bytes{1}, file));
#endif
}

void weights_seeds(const std::filesystem::path& dir) {
    using namespace xai::models;
    const std::vector<Sequential> models = {
        Sequential({1, 2, 2}, {flatten(), linear(2)}, 1),
        Sequential({1, 6, 6}, {conv2d(2, 3, 1, 1), relu(), max_pool2d(2), global_avg_pool(), linear(3)}, 2),
        Sequential({3, 5, 4}, {conv2d(2, 2, 2, 1), relu(), flatten(), linear(2)}, 3),
    };
    const std::filesystem::path scratch = std::filesystem::temp_directory_path() / "xai_make_fuzz_seeds.xaiw";
    for (std::size_t i = 0; i < models.size(); ++i) {
        models[i].save(scratch);
        std::ifstream in(scratch, std::ios::binary);
        const Bytes file((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        write(dir / ("model" + std::to_string(i)), concat(Bytes{0}, file));
        // Mode 1: the target appends the CRC itself.
        write(dir / ("model" + std::to_string(i) + "_body"), concat(Bytes{1}, Bytes(file.begin(), file.end() - 4)));
    }
    std::filesystem::remove(scratch);
}

/// Random bytes below `limit` (so the targets' readers mostly produce plausible values).
Bytes random_bytes(xai::Rng& rng, std::size_t count, std::uint8_t limit) {
    Bytes out(count);
    for (auto& b : out) b = static_cast<std::uint8_t>(rng.uniform_index(limit));
    return out;
}

void superpixel_seeds(const std::filesystem::path& dir) {
    xai::Rng rng(11);
    for (std::uint8_t algorithm = 0; algorithm < 4; ++algorithm)
        for (std::uint8_t variant = 0; variant < 2; ++variant) {
            const std::uint8_t side = variant == 0 ? 12 : 5;
            // algorithm, channels (0: RGB, 4: grey), height and width (little-endian u16), fill, pixels, options
            Bytes seed = {algorithm, static_cast<std::uint8_t>(variant == 0 ? 0 : 4), side, 0, side, 0, 200};
            const std::size_t channels = variant == 0 ? 3 : 1;
            seed = concat(seed, random_bytes(rng, channels * side * side, 250));
            seed = concat(seed, random_bytes(rng, 48, 100));
            write(dir / ("algorithm" + std::to_string(algorithm) + "_" + std::to_string(variant)), seed);
        }
}

void explainer_seeds(const std::filesystem::path& dir) {
    xai::Rng rng(12);
    for (std::uint8_t method = 0; method < 17; ++method) {
        // method, batch kind (1: two 1×8×8 images), fill (< 200: bytes / 255), pixels, no targets, options
        Bytes seed = {method, 1, 0};
        seed = concat(seed, random_bytes(rng, 2 * 64, 255));
        seed.push_back(0);
        seed = concat(seed, random_bytes(rng, 64, 100));
        write(dir / ("method" + std::to_string(method)), seed);
    }
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s <corpus directory>\n", argv[0]);
        return 2;
    }
    const std::filesystem::path root = argv[1];
    image_seeds(root / "fuzz_image_decode");
    system_image_seeds(root / "fuzz_image_decode_system");
    weights_seeds(root / "fuzz_weights_file");
    superpixel_seeds(root / "fuzz_superpixels");
    explainer_seeds(root / "fuzz_explainer_options");
    return 0;
}
