// Fuzz target: xai::load_image_from_memory on arbitrary bytes, through the stb backend (stb_image
// behind xai's checks: image/stb_guard.hpp, image/decode/stb_jpeg_check.hpp).
//
// stb_image's implementation is compiled into this target (instead of linking Debian's
// libstb.so) so that the fuzzer sees coverage inside the decoders and the sanitizers check them;
// the code is the same stb that libstb.so is built from. The first byte picks the requested
// channel count, a pixel budget (fuzz_decode.hpp), and whether the opt-in formats (GIF, TGA,
// PSD, HDR, PIC) are allowed; the rest is the file. fuzz_image_decode_system fuzzes the
// libpng / libjpeg-turbo backend.
//
// Invariants: only xai::error escapes; a decoded image has 1–4 channels, 1 to the budget's
// pixels, and every value finite in [0, 1].
#include <cstddef>
#include <cstdint>

#include "fuzz_decode.hpp"

// stb's implementation section, after io.hpp has included its declarations. stb is third-party
// code: its warnings are not ours to fix (the sanitizers still check it), with one exception.
// A PNG whose first IDAT chunk is empty (legal: the PNG specification lets the compressed
// stream be split anywhere, IDAT chunks of length 0 included) makes stb call
// memcpy(NULL, p, 0) (stbi__getn, stb_image.h:1663, before it has allocated the IDAT buffer):
// undefined by the letter of the C standard, a no-op in every C library, and no bug in the
// decoded image (test_reliability decodes such a PNG). And a JPEG whose entropy-coded data ends
// (a marker) in the middle of a code makes stb's bit reader count its bits below zero; its next
// refill then shifts by more than 31 (stbi__grow_buffer_unsafe, stb_image.h:2065; reported as
// nothings/stb#1293 and fixed after v2.27, the version Debian ships). The bits count goes
// negative only after the reader has met the marker, and from then on it shifts in the value 0,
// which is 0 whatever the count: no wrong pixel, no memory access depends on it (ASan still
// checks every access; test_reliability decodes such a JPEG through Debian's libstb). UBSan's
// nonnull-attribute and shift-exponent checks are off inside stb's code only, so that these two
// known, harmless reports do not stop the fuzzer there. Signed overflow stays checked: the one
// fuzzing found in stb's JPEG DC prediction (issue 23) is refused before stb decodes.
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Weverything"
#pragma clang attribute push(__attribute__((no_sanitize("nonnull-attribute", "shift-exponent"))), apply_to = function)
#define STB_IMAGE_IMPLEMENTATION
#include <stb_image.h>
#pragma clang attribute pop
#pragma clang diagnostic pop

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz::DecodeCall call(data, size, xai::ImageDecoder::stb);
    // Bit 7 of the first byte allows the opt-in formats too.
    if ((call.control & 0x80) != 0) call.options.formats = xai::ImageFormats::all();
    call.run();
    return 0;
}
