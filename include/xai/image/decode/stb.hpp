#pragma once
// The stb_image backend of load_image(): every format xai reads, through Debian's libstb
// (stb_image 2.27), behind the checks of image/stb_guard.hpp and image/decode/stb_jpeg_check.hpp.
//
// Channel conversion. Every format is decoded as stored and converted afterwards with
// detail::convert_channels (stb's own rule, written out, so that libpng's output gets the same
// conversion), except two that stb converts in its own way: JPEG, whose grey is the file's luma
// channel Y when the file is YCbCr (stb decodes Y alone; the system JPEG backend does the same),
// and HDR, whose grey is the mean of R, G and B before tone mapping.
//
// Thread safety: stb reports a failure through stbi_failure_reason(), a global that stb declares
// thread_local when compiled as C++11 or C11; Debian's libstb.so is built that way (its
// stbi_failure_reason reads a TLS variable through __tls_get_addr; checked on libstb0
// 0.0~git20220908), so each thread reads its own reason.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <stb_image.h>

#include "xai/core/error.hpp"
#include "xai/core/tensor.hpp"
#include "xai/image/decode/pixels.hpp"
#include "xai/image/decode/stb_jpeg_check.hpp"
#include "xai/image/format.hpp"
#include "xai/image/stb_guard.hpp"

namespace xai::detail {

/// stb's reason for its last failure in this thread.
inline std::string stb_reason() {
    const char* reason = stbi_failure_reason();
    return reason != nullptr && *reason != '\0' ? reason : "no reason given";
}

/// Throws io_error unless width × height is within the pixel budget and not zero: checked from
/// the file's header, before a decoder allocates the image.
inline void require_pixel_budget(std::size_t width, std::size_t height, std::size_t max_pixels,
                                 const std::string& source, const char* where) {
    const std::size_t pixels = width * height;  // both below 2^32
    require<io_error>(pixels <= max_pixels, where, ": ", source, " declares ", width, "x", height, " = ", pixels,
                      " pixels, more than LoadOptions::max_pixels = ", max_pixels, "; refused before decoding");
    require<io_error>(pixels > 0, where, ": ", source, " declares ", width, "x", height,
                      " pixels, an empty image; expected at least one pixel");
}

/// True when this stb returns a 16-bit PNM sample in the host's byte order instead of the
/// value Netpbm stores most significant byte first (stb 2.27 on a little-endian host): asked
/// once, on a 1×1 greymap holding 0x0102.
inline bool pnm16_needs_byte_swap() {
    static const bool swap = [] {
        static constexpr std::uint8_t probe[] = {'P', '5', ' ', '1', ' ', '1', ' ', '6', '5', '5', '3', '5', '\n', 0x01, 0x02};
        int x = 0, y = 0, n = 0;
        std::unique_ptr<stbi_us, void (*)(void*)> data(
            stbi_load_16_from_memory(probe, static_cast<int>(sizeof probe), &x, &y, &n, 0), stbi_image_free);
        return data != nullptr && data.get()[0] != 0x0102;
    }();
    return swap;
}

/// True when stb flips images vertically on load in this thread (the program called
/// stbi_set_flip_vertically_on_load or its per-thread variant), asked on a 1×2 greymap whose
/// top row is 0 and bottom row 255. The system decoders honour the same setting with it.
inline bool stb_flips_on_load() {
    static constexpr std::uint8_t probe[] = {'P', '5', ' ', '1', ' ', '2', ' ', '2', '5', '5', '\n', 0x00, 0xFF};
    int x = 0, y = 0, n = 0;
    std::unique_ptr<stbi_uc, void (*)(void*)> data(
        stbi_load_from_memory(probe, static_cast<int>(sizeof probe), &x, &y, &n, 0), stbi_image_free);
    return data != nullptr && data.get()[0] == 0xFF;
}

/// Decodes an image with stb. `format` is what detect_image_format() found, `channels` 0–4,
/// `size` at most INT_MAX; the checks of require_well_formed() have passed.
inline Image stb_decode(const std::uint8_t* bytes, std::size_t size, ImageFormat format, std::size_t channels,
                        std::size_t max_pixels, const std::string& source, const char* where) {
    // stb's palette is an uninitialised stack array: hand it a copy with a full palette.
    const std::vector<std::uint8_t> padded = format == ImageFormat::png ? pad_png_palettes(bytes, size)
                                                                        : std::vector<std::uint8_t>{};
    if (!padded.empty()) {
        bytes = padded.data();
        size = padded.size();
    }
    const int length = static_cast<int>(size);
    int width = 0, height = 0, stored = 0;
    if (stbi_info_from_memory(bytes, length, &width, &height, &stored) == 0)
        throw io_error(message(where, ": cannot read ", source, ": ", stb_reason(),
                               " (an unsupported format, or a truncated or corrupt header)"));
    require_pixel_budget(static_cast<std::size_t>(width), static_cast<std::size_t>(height), max_pixels, source, where);
    if (format == ImageFormat::jpeg) {
        // After the budget: the dry run visits every block the header declares.
        const stb_jpeg::Verdict verdict = stb_jpeg::check(bytes, size);
        if (verdict.refuse) throw io_error(message(where, ": cannot decode ", source, ": ", verdict.reason));
    }

    const auto fail = [&] {
        return io_error(message(where, ": cannot decode ", source, ": ", stb_reason(), " (a truncated or corrupt file)"));
    };
    int x = 0, y = 0, n = 0;
    if (stbi_is_16_bit_from_memory(bytes, length) != 0) {
        std::unique_ptr<stbi_us, void (*)(void*)> data(stbi_load_16_from_memory(bytes, length, &x, &y, &n, 0),
                                                       stbi_image_free);
        if (!data) throw fail();
        const PixelView<std::uint16_t> pixels{data.get(), static_cast<std::size_t>(x), static_cast<std::size_t>(y),
                                              static_cast<std::size_t>(n)};
        if (format == ImageFormat::pnm && pnm16_needs_byte_swap())
            for (stbi_us *p = data.get(), *end = p + pixels.width * pixels.height * pixels.channels; p != end; ++p)
                *p = static_cast<stbi_us>((*p >> 8) | (*p << 8));
        return to_image(pixels, channels);
    }
    // JPEG: grey from stb's own path (the luma channel of a YCbCr file); HDR: stb's tone mapping
    // with its own channel rule. Everything else as stored.
    const int request = format == ImageFormat::jpeg ? (channels == 1 || channels == 2 ? 1 : 0)
                        : format == ImageFormat::hdr ? static_cast<int>(channels)
                                                     : 0;
    std::unique_ptr<stbi_uc, void (*)(void*)> data(stbi_load_from_memory(bytes, length, &x, &y, &n, request),
                                                   stbi_image_free);
    if (!data) throw fail();
    const PixelView<std::uint8_t> pixels{data.get(), static_cast<std::size_t>(x), static_cast<std::size_t>(y),
                                         static_cast<std::size_t>(request != 0 ? request : n)};
    return to_image(pixels, channels);
}

}  // namespace xai::detail
