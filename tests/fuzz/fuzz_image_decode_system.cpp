// Fuzz target: xai::load_image_from_memory on arbitrary bytes, through the system decoders
// (libpng and libjpeg-turbo, image/decode/png.hpp and jpeg.hpp) for PNG and JPEG.
//
// Debian's libpng16 and libjpeg62-turbo are linked as they are, not rebuilt with coverage, so
// the fuzzer sees xai's side of them: the header checks before libpng and libjpeg read a byte,
// the pixel budget, the setjmp/longjmp error paths (AddressSanitizer's leak checker sees a
// decoder left unreleased, a stale jump target shows as a crash), the colour handling and the
// channel conversion. What libpng and libjpeg do inside is their own projects' fuzzing's
// business (both are in OSS-Fuzz). The first byte picks the requested channel count and a pixel
// budget (fuzz_decode.hpp); the rest is the file. Files of other formats are refused
// before any decoder (they are fuzz_image_decode's).
//
// Invariants: only xai::error escapes; a decoded image has 1–4 channels, 1 to the budget's
// pixels, and every value finite in [0, 1].
#include <cstddef>
#include <cstdint>

#include "fuzz_decode.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if constexpr (!xai::has_system_decoders) return 0;  // built without them: nothing to fuzz
    fuzz::DecodeCall call(data, size, xai::ImageDecoder::system);
    call.options.formats = xai::ImageFormat::png | xai::ImageFormat::jpeg;
    call.run();
    return 0;
}
