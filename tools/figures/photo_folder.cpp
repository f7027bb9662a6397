// photo_folder: a folder of photos as users have them, for scripts/demo.sh and docs/cli.md — the
// shipped whole photos (data/samples/photos: 451×300, 600×400, 512×512) cut and resized into
// photos of mixed sizes and aspects, in nested subfolders, as JPEG and PNG, plus one grey photo
// and one corrupt file (a PNG cut off half-way, as an interrupted copy leaves it).
//
//   photo_folder --out DIR [--count N]
//
// Photo i (i = 0 … N−1, default N = 50) is cut from photo i mod 3: a window of 45–100 % of its
// height at an aspect between 1:2 and 2:1 (clipped to the photo), placed by a fixed sequence
// (a 64-bit linear congruential generator with Knuth's MMIX constants, seeded with i, so the
// folder is the same on every machine), then resized with antialiasing (xai::resize_antialiased)
// so that its longer side is one of 48, 64, 96, 160, 256, 400 and 640 pixels. Even photos are
// written as DIR/trip_<i mod 2>/photo_<i>.jpg (quality 90), odd ones under DIR/trip_<i mod 2>/
// day_<i mod 3>/ as PNG; DIR/grey.png is the first photo in grey (Rec. 601 luma) and
// DIR/trip_0/corrupt.png the first half of a PNG.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "xai/core/data_dir.hpp"
#include "xai/image/antialias.hpp"
#include "xai/image/framing.hpp"
#include "xai/image/io.hpp"

namespace {

/// Knuth's MMIX linear congruential generator: a fixed sequence per seed on every platform.
struct Sequence {
    std::uint64_t state;
    double next() {
        state = state * 6364136223846793005ull + 1442695040888963407ull;
        return static_cast<double>(state >> 11) / static_cast<double>(1ull << 53);  // [0, 1)
    }
};

xai::Image cut(const xai::Image& photo, std::size_t i) {
    Sequence s{i * 2654435761ull + 1};
    const std::size_t h = photo.shape(1), w = photo.shape(2);
    const double share = 0.45 + 0.55 * s.next();                       // of the height
    const double aspect = std::exp2(-1.0 + 2.0 * s.next());            // width / height, 1:2 … 2:1
    const auto wh = std::max<std::size_t>(8, static_cast<std::size_t>(share * static_cast<double>(h)));
    const std::size_t ww = std::clamp<std::size_t>(static_cast<std::size_t>(aspect * static_cast<double>(wh)), 8, w);
    const auto top = static_cast<std::size_t>(s.next() * static_cast<double>(h - wh + 1));
    const auto left = static_cast<std::size_t>(s.next() * static_cast<double>(w - ww + 1));
    static constexpr std::size_t sides[] = {48, 64, 96, 160, 256, 400, 640};
    const std::size_t side = sides[i % std::size(sides)], longer = std::max(wh, ww);
    const auto scaled = [&](std::size_t extent) { return std::max<std::size_t>(1, (extent * side + longer / 2) / longer); };
    return xai::resize_antialiased(xai::crop(photo, top, left, wh, ww), scaled(wh), scaled(ww));
}

}  // namespace

int main(int argc, char** argv) {
    try {
        std::filesystem::path out;
        std::size_t count = 50;
        for (int a = 1; a + 1 < argc; a += 2) {
            const std::string_view flag = argv[a];
            if (flag == "--out") out = argv[a + 1];
            else if (flag == "--count") count = std::stoul(argv[a + 1]);
            else throw std::invalid_argument("unknown option " + std::string(flag));
        }
        if (out.empty() || count == 0) {
            std::fprintf(stderr, "usage: photo_folder --out DIR [--count N]  (N >= 1)\n");
            return 2;
        }
        const std::filesystem::path photos = xai::data_directory() / "samples" / "photos";
        const std::vector<xai::Image> sources = {xai::load_image(photos / "chelsea.png", 3),
                                                 xai::load_image(photos / "coffee.jpg", 3),
                                                 xai::load_image(photos / "astronaut.jpg", 3)};
        xai::SaveOptions jpeg;
        jpeg.jpeg_quality = 90;
        for (std::size_t i = 0; i < count; ++i) {
            const xai::Image photo = cut(sources[i % sources.size()], i);
            std::filesystem::path dir = out / ("trip_" + std::to_string(i % 2));
            if (i % 2 == 1) dir /= "day_" + std::to_string(i % 3);
            std::filesystem::create_directories(dir);
            char name[32];
            std::snprintf(name, sizeof name, "photo_%02zu.%s", i, i % 2 == 0 ? "jpg" : "png");
            xai::save_image(dir / name, photo, jpeg);
        }
        // The grey photo: Rec. 601 luma of the first source.
        const xai::Image& first = sources.front();
        const std::size_t plane = first.shape(1) * first.shape(2);
        xai::Image grey = xai::Image::from_shape({1, first.shape(1), first.shape(2)});
        for (std::size_t p = 0; p < plane; ++p)
            grey.data()[p] = 0.299f * first.data()[p] + 0.587f * first.data()[plane + p] + 0.114f * first.data()[2 * plane + p];
        xai::save_image(out / "grey.png", grey);
        // The corrupt file: a PNG cut off half-way (stb_image decodes a cut JPEG as far as it goes).
        const std::vector<std::uint8_t> bytes = xai::encode_image(first, xai::ImageFormat::png);
        std::filesystem::create_directories(out / "trip_0");
        std::ofstream(out / "trip_0" / "corrupt.png", std::ios::binary)
            .write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size() / 2));
        std::printf("%s: %zu photos, grey.png and trip_0/corrupt.png\n", out.string().c_str(), count);
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "photo_folder: %s\n", e.what());
        return 1;
    }
}
