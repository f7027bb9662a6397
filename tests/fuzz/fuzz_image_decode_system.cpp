// Fuzz target: xai::load_image_from_memory on arbitrary bytes, through the system decoders
// (libpng and libjpeg-turbo, image/decode/png.hpp and jpeg.hpp) for PNG and JPEG.
//
// Debian's libpng16 and libjpeg62-turbo are linked as they are, not rebuilt with coverage, so
// the fuzzer sees xai's side of them: the header checks before libpng and libjpeg read a byte,
// the pixel budget, the setjmp/longjmp error paths (AddressSanitizer's leak checker sees a
// decoder left unreleased, a stale jump target shows as a crash), the colour handling and the
// channel conversion. What libpng and libjpeg do inside is their own projects' fuzzing's
// business (both are in OSS-Fuzz). The first byte picks the requested channel count (0–5: 5 must
// be refused) and a pixel budget; the rest is the file. Files of other formats are refused
// before any decoder (they are fuzz_image_decode's).
//
// Invariants: only xai::error escapes; a decoded image has 1–4 channels, 1 to the budget's
// pixels, and every value finite in [0, 1].
#include <cstddef>
#include <cstdint>

#include "fuzz_input.hpp"
#include "xai/image/io.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if constexpr (!xai::has_system_decoders) return 0;  // built without them: nothing to fuzz
    fuzz::Input in(data, size);
    const std::uint8_t control = in.byte();
    const std::size_t channels = (control & 0x3F) % 6;
    xai::LoadOptions options{.max_pixels = (control & 0x40) != 0 ? 64u : 1'000'000u,
                             .formats = xai::ImageFormat::png | xai::ImageFormat::jpeg,
                             .decoder = xai::ImageDecoder::system};
    const auto bytes = in.rest();
    fuzz::accepts([&] {
        const xai::Image image = xai::load_image_from_memory(bytes, channels, options);
        fuzz::check(image.dimension() == 3, "rank 3");
        fuzz::check(image.shape(0) >= 1 && image.shape(0) <= 4, "1 to 4 channels");
        fuzz::check(channels == 0 || image.shape(0) == channels, "the requested channel count");
        fuzz::check(image.shape(1) * image.shape(2) <= options.max_pixels, "within the pixel budget");
        fuzz::check(image.size() > 0, "at least one pixel");
        for (float v : image) fuzz::check(v >= 0.0f && v <= 1.0f, "values in [0, 1]");
    });
    return 0;
}
