// Writes the seed corpus of the fuzz targets into <dir>/<target>/ (the committed copy is
// tests/fuzz/corpus/). Seeds are small valid inputs that reach deep into each target: one tiny
// file per image format, a few weights files (whole, and without their CRC for the target's
// CRC-fixing mode), and plausible option bytes for every superpixel algorithm and explainer.
// Everything is deterministic (xai::Rng), so rerunning gives the same files.
//
//   make_fuzz_seeds tests/fuzz/corpus
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <stb_image_write.h>

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
    write(dir / "tga_rgb", concat(channels_as_stored, tga));
    std::vector<float> radiance(4 * 5 * 3, 0.25f);
    Bytes hdr;
    stbi_write_hdr_to_func(append, &hdr, 4, 5, 3, radiance.data());
    write(dir / "hdr_rgb", concat(channels_as_stored, hdr));
    // A 2×2 binary greymap and a 1×1 GIF (global colour table of two entries, one LZW code block).
    const std::string pgm = "P5\n2 2\n255\n";
    Bytes pnm(pgm.begin(), pgm.end());
    pnm.insert(pnm.end(), {0, 64, 128, 255});
    write(dir / "pgm_grey", concat(Bytes{1}, pnm));
    const Bytes gif = {'G', 'I', 'F', '8', '9', 'a', 1, 0, 1, 0, 0x80, 0, 0, 0, 0, 0, 255, 255, 255,
                       0x2C, 0, 0, 0, 0, 1, 0, 1, 0, 0, 2, 2, 0x44, 0x01, 0, 0x3B};
    write(dir / "gif_1x1", concat(channels_as_stored, gif));
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
    weights_seeds(root / "fuzz_weights_file");
    superpixel_seeds(root / "fuzz_superpixels");
    explainer_seeds(root / "fuzz_explainer_options");
    return 0;
}
