#pragma once
// What every decoder backend of load_image() hands back (interleaved 8- or 16-bit samples as
// stored in the file), and the channel conversion applied to it afterwards, the same for every
// backend: stb's own rule (stbi__convert_format and stbi__convert_format16), written out here so
// that libpng's output is converted exactly as stb converts its own.

#include <cstddef>
#include <cstdint>
#include <vector>

#include "xai/core/tensor.hpp"
#include "xai/image/convert.hpp"

namespace xai::detail {

/// Decoded interleaved pixels, row by row from the top, `channels` (1–4) samples per pixel;
/// the samples belong to the decoder.
template <class Sample>
struct PixelView {
    const Sample* samples;
    std::size_t width, height, channels;
};

/// The samples of `pixels` converted to `to` channels (1–4) by stb's rule: grey is
/// (77·R + 150·G + 29·B) >> 8, a missing alpha is fully opaque, grey is replicated into RGB,
/// alpha is dropped without compositing. `Sample` is std::uint8_t or std::uint16_t.
template <class Sample>
std::vector<Sample> convert_channels(PixelView<Sample> pixels, std::size_t to) {
    constexpr Sample opaque = static_cast<Sample>(~Sample{0});
    const std::size_t from = pixels.channels, count = pixels.width * pixels.height;
    std::vector<Sample> out(count * to);
    const auto grey = [](const Sample* p) {
        // 77 + 150 + 29 = 256, so the weighted sum fits in 32 bits for 16-bit samples too.
        return static_cast<Sample>((std::uint32_t{p[0]} * 77 + std::uint32_t{p[1]} * 150 + std::uint32_t{p[2]} * 29) >> 8);
    };
    const bool colour = from >= 3;
    for (std::size_t i = 0; i < count; ++i) {
        const Sample* src = pixels.samples + i * from;
        Sample* dst = out.data() + i * to;
        const Sample alpha = from == 2 ? src[1] : from == 4 ? src[3] : opaque;
        if (to <= 2) {
            dst[0] = colour ? grey(src) : src[0];
        } else {
            dst[0] = src[0];
            dst[1] = colour ? src[1] : src[0];
            dst[2] = colour ? src[2] : src[0];
        }
        if (to == 2 || to == 4) dst[to - 1] = alpha;
    }
    return out;
}

/// `pixels` as a C×H×W float image in [0, 1] (sample / 255 or / 65535) of `channels` channels,
/// 0 meaning as decoded.
template <class Sample>
Image to_image(PixelView<Sample> pixels, std::size_t channels) {
    constexpr float max_value = sizeof(Sample) == 1 ? 255.0f : 65535.0f;
    if (channels == 0 || channels == pixels.channels)
        return planar_from_interleaved(pixels.samples, pixels.height, pixels.width, pixels.channels, max_value);
    const std::vector<Sample> converted = convert_channels(pixels, channels);
    return planar_from_interleaved(converted.data(), pixels.height, pixels.width, channels, max_value);
}

}  // namespace xai::detail
