// What the two image-decoding fuzz targets share (fuzz_image_decode: stb; fuzz_image_decode_system:
// libpng and libjpeg-turbo): how the fuzzer's bytes describe one load_image_from_memory call,
// and the invariants every decoded image must hold.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "fuzz_input.hpp"
#include "xai/image/io.hpp"

namespace fuzz {

/// One load_image_from_memory call. The first byte picks the requested channel count (bits 0–5,
/// mod 6: 5 must be refused) and the pixel budget (bit 6: 64 pixels, else 1 MP, which keeps a
/// declared-large image within libFuzzer's 2 GB RSS limit: stb's 16-bit buffer plus the float
/// copy; a tiny budget exercises the refusal path on ordinary files); bit 7 is the target's
/// own. The rest is the file.
struct DecodeCall {
    std::uint8_t control = 0;
    std::size_t channels = 0;
    xai::LoadOptions options{};
    std::span<const std::uint8_t> file{};

    DecodeCall(const std::uint8_t* data, std::size_t size, xai::ImageDecoder decoder) {
        Input in(data, size);
        control = in.byte();
        channels = (control & 0x3F) % 6;
        options.max_pixels = (control & 0x40) != 0 ? 64u : 1'000'000u;
        options.decoder = decoder;
        file = in.rest();
    }

    /// Decodes the file. Only xai::error may escape; a decoded image has 1–4 channels (the
    /// requested number when one was), 1 to the budget's pixels, and every value in [0, 1].
    void run() const {
        accepts([&] {
            const xai::Image image = xai::load_image_from_memory(file, channels, options);
            check(image.dimension() == 3, "rank 3");
            check(image.shape(0) >= 1 && image.shape(0) <= 4, "1 to 4 channels");
            check(channels == 0 || image.shape(0) == channels, "the requested channel count");
            check(image.shape(1) * image.shape(2) <= options.max_pixels, "within the pixel budget");
            check(image.size() > 0, "at least one pixel");
            for (float v : image) check(v >= 0.0f && v <= 1.0f, "values in [0, 1]");
        });
    }
};

}  // namespace fuzz
