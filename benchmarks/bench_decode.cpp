// Benchmarks of image decoding (include/xai/image/io.hpp): stb_image against libpng and
// libjpeg-turbo (the system decoders, when xai is built with them) on the shipped photos.
//
// Each benchmark decodes one file from memory into a 3×H×W float image, the whole of
// load_image_from_memory (format detection, xai's checks, the decoder, the float conversion),
// so the figures are what a caller pays. The JPEGs are the photos encoded by xai's own encoder
// (stb_image_write) at quality 90 (4:2:0 chroma) and 95 (4:4:4). The counter `stb_over_system`
// is stb's time over the system decoder's on the same file, measured in the same run (thread
// CPU time, so other processes on a shared machine do not inflate it).
#include <benchmark/benchmark.h>

#include <time.h>

#include <cstdint>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "xai/core/data_dir.hpp"
#include "xai/image/io.hpp"

namespace {

const char* const photos[] = {"chelsea_224.png", "astronaut_224.png", "coffee_224.png"};

std::vector<std::uint8_t> read_photo(const char* name) {
    std::ifstream in(xai::data_directory() / "samples" / "photos" / name, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

/// The photo `photo` (an index into photos) as PNG (format 0, the shipped file) or JPEG at
/// quality 90 (format 1) or 95 (format 2).
std::vector<std::uint8_t> encoded(std::int64_t photo, std::int64_t format) {
    const std::vector<std::uint8_t> png = read_photo(photos[photo]);
    if (format == 0) return png;
    const xai::Image image = xai::load_image_from_memory(png, 3);
    return xai::encode_image(image, xai::ImageFormat::jpeg, {.jpeg_quality = format == 1 ? 90 : 95});
}

double thread_seconds() {
    timespec t{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}

// Arguments: photo (0–2), format (0 PNG, 1 JPEG q90, 2 JPEG q95), decoder (1 stb, 2 system).
void BM_Decode(benchmark::State& state) {
    const auto decoder = static_cast<xai::ImageDecoder>(state.range(2));
    if (decoder == xai::ImageDecoder::system && !xai::has_system_decoders) {
        state.SkipWithError("built without the system decoders (XAI_WITH_SYSTEM_DECODERS=OFF)");
        return;
    }
    const std::vector<std::uint8_t> bytes = encoded(state.range(0), state.range(1));
    const xai::LoadOptions options{.decoder = decoder};
    for (auto _ : state) {
        xai::Image image = xai::load_image_from_memory(bytes, 3, options);
        benchmark::DoNotOptimize(image.data());
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
    state.SetLabel(std::string(photos[state.range(0)]) + (state.range(1) == 0 ? " PNG" : " JPEG"));
}

// Both decoders alternately on the same file; reports stb's CPU time over the system's.
void BM_DecodeRatio(benchmark::State& state) {
    if (!xai::has_system_decoders) {
        state.SkipWithError("built without the system decoders (XAI_WITH_SYSTEM_DECODERS=OFF)");
        return;
    }
    const std::vector<std::uint8_t> bytes = encoded(state.range(0), state.range(1));
    double stb = 0, system = 0;
    for (auto _ : state) {
        double start = thread_seconds();
        xai::Image a = xai::load_image_from_memory(bytes, 3, {.decoder = xai::ImageDecoder::stb});
        stb += thread_seconds() - start;
        start = thread_seconds();
        xai::Image b = xai::load_image_from_memory(bytes, 3, {.decoder = xai::ImageDecoder::system});
        system += thread_seconds() - start;
        benchmark::DoNotOptimize(a.data());
        benchmark::DoNotOptimize(b.data());
    }
    state.counters["stb_over_system"] = system > 0 ? stb / system : 0.0;
    state.SetLabel(std::string(photos[state.range(0)]) + (state.range(1) == 0 ? " PNG" : " JPEG"));
}

}  // namespace

BENCHMARK(BM_Decode)->ArgsProduct({{0, 1, 2}, {0, 1, 2}, {1, 2}})->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_DecodeRatio)->ArgsProduct({{0, 1, 2}, {0, 1, 2}})->Unit(benchmark::kMicrosecond);
