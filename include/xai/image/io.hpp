#pragma once
// Image files ⇄ C×H×W float images in [0, 1], through stb_image and stb_image_write.
//
// Not part of the umbrella header xai.hpp on purpose: it calls stb, whose implementation comes
// from Debian's libstb.so, which the xai::xai CMake target links. A program that compiles
// stb's implementation into itself (STB_IMAGE_IMPLEMENTATION) still links and works: its own
// definitions take precedence and are the same API (tests/consumer proves it).
//
// Loading
//   load_image(path, channels)               a file
//   load_image_from_memory(bytes, channels)  an encoded buffer (a download, an archive member)
//   channels: 0 = as stored (1–4), 1 = grey, 2 = grey+alpha, 3 = RGB, 4 = RGBA; stb converts
//   (grey = (77·R + 150·G + 29·B) >> 8, alpha dropped without compositing, grey replicated).
//   Formats: whatever stb_image reads (PNG, JPEG baseline and progressive, BMP, GIF first frame,
//   TGA, PSD composite, HDR, PIC, PNM). 8-bit samples become v/255; 16-bit PNG and PNM samples
//   are read at full precision and become v/65535. HDR files go through stb's tone mapping
//   (gamma 2.2, scale 1) and are clamped to [0, 1].
//   Before anything is decoded, the declared width and height are read with stbi_info and an
//   image over LoadOptions::max_pixels (default 100 megapixels, 1.2 GB as float RGB) is refused,
//   so a tiny file that declares 100000×100000 cannot exhaust memory.
//
// Saving
//   save_image(path, image)   PNG for .png, JPEG for .jpg/.jpeg (case-insensitive)
//   encode_image(image, fmt)  the same bytes in memory
//   Images of 1–4 channels; values are clamped to [0, 1] and rounded to the nearest byte;
//   NaN or Inf is refused with invalid_argument (it would otherwise become arbitrary bytes).
//   JPEG ignores an alpha channel.
//
// Errors: io_error for a missing, unreadable, empty, truncated, corrupt or unsupported file
// (the message names the path and stb's reason); invalid_argument for bad arguments.
//
// Thread safety: load_image and save_image may be called from several threads at once.
// stb's decoders and encoders keep no shared state, and stb reports a failure through
// stbi_failure_reason(), a global that stb declares thread_local when compiled as C++11 or C11;
// Debian's libstb.so is built that way (its stbi_failure_reason reads a TLS variable through
// __tls_get_addr; checked on libstb0 0.0~git20220908), so each thread reads its own reason.
// A program that compiles its own stb with STBI_NO_THREAD_LOCALS, or as C89, replaces that
// symbol with a shared global: decoding stays correct, but the reason quoted in an error
// message may then come from another thread's failure.
// stb's process-wide settings are honoured, not changed: if the program calls
// stbi_set_flip_vertically_on_load(1) or stbi_flip_vertically_on_write(1), images loaded or
// saved here are flipped too.

#include <algorithm>
#include <cctype>
#include <climits>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include <stb_image.h>
#include <stb_image_write.h>

#include "xai/core/error.hpp"
#include "xai/core/tensor.hpp"
#include "xai/image/convert.hpp"
#include "xai/image/stb_guard.hpp"

namespace xai {

/// Options of load_image() and load_image_from_memory(): limits that protect against hostile files.
struct LoadOptions {
    /// The largest width × height accepted, checked from the file's header before decoding.
    /// 100 megapixels (e.g. 12000×8000) is above any camera photo a classifier is fed and
    /// keeps the worst case at 1.2 GB of float RGB.
    std::size_t max_pixels = 100'000'000;
};

/// The file formats encode_image() writes.
enum class ImageFormat { png, jpeg };

/// Options of save_image() and encode_image().
struct SaveOptions {
    /// JPEG quality 1–100 (ignored for PNG). 95 is OpenCV's imwrite default.
    int jpeg_quality = 95;
};

namespace detail {

inline std::string stb_reason() {
    const char* reason = stbi_failure_reason();
    return reason != nullptr && *reason != '\0' ? reason : "no reason given";
}

/// "'path'", for messages.
inline std::string describe_file(const std::filesystem::path& path) { return message("'", path.string(), "'"); }

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

/// Decodes an encoded image held in memory; `source` names it in messages.
inline Image decode_image(const std::uint8_t* bytes, std::size_t size, std::size_t channels,
                          const LoadOptions& options, const std::string& source, const char* where) {
    require(channels <= 4, where, ": channels is ", channels,
            ", expected 0 (as stored), 1 (grey), 2 (grey+alpha), 3 (RGB) or 4 (RGBA)");
    require<io_error>(size > 0, where, ": ", source, " is empty (0 bytes), expected an image file");
    require<io_error>(size <= static_cast<std::size_t>(INT_MAX), where, ": ", source, " is ", size,
                      " bytes, more than stb can read (2 GiB)");
    const int length = static_cast<int>(size);

    require_safe_for_stb(bytes, size, source, where);  // before stb reads anything, even the header
    int width = 0, height = 0, stored = 0;
    if (stbi_info_from_memory(bytes, length, &width, &height, &stored) == 0)
        throw io_error(message(where, ": cannot read ", source, ": ", stb_reason(),
                               " (an unsupported format, or a truncated or corrupt header)"));
    const std::size_t pixels = static_cast<std::size_t>(width) * static_cast<std::size_t>(height);
    require<io_error>(pixels <= options.max_pixels, where, ": ", source, " declares ", width, "x", height, " = ",
                      pixels, " pixels, more than LoadOptions::max_pixels = ", options.max_pixels,
                      "; refused before decoding");

    const int desired = static_cast<int>(channels);
    int x = 0, y = 0, n = 0;
    const auto fail = [&] {
        return io_error(message(where, ": cannot decode ", source, ": ", stb_reason(),
                                " (a truncated or corrupt file)"));
    };
    require<io_error>(pixels > 0, where, ": ", source, " declares ", width, "x", height,
                      " pixels, an empty image; expected at least one pixel");
    if (stbi_is_16_bit_from_memory(bytes, length) != 0) {
        // A 16-bit PNM is decoded as stored, put in Netpbm's byte order and its channels
        // converted here (stb_guard.hpp).
        const bool convert_here = is_binary_pnm(bytes, size);
        std::unique_ptr<stbi_us, void (*)(void*)> data(
            stbi_load_16_from_memory(bytes, length, &x, &y, &n, convert_here ? 0 : desired), stbi_image_free);
        if (!data) throw fail();
        const auto c = static_cast<std::size_t>(desired != 0 ? desired : n);
        const auto h = static_cast<std::size_t>(y), w = static_cast<std::size_t>(x);
        if (convert_here && pnm16_needs_byte_swap())
            for (stbi_us* p = data.get(), *end = p + h * w * static_cast<std::size_t>(n); p != end; ++p)
                *p = static_cast<stbi_us>((*p >> 8) | (*p << 8));
        if (convert_here && desired != 0 && desired != n)
            return planar_from_interleaved(convert_channels_16(data.get(), h * w, n, desired).data(), h, w, c, 65535.0f);
        return planar_from_interleaved(data.get(), h, w, c, 65535.0f);
    }
    std::unique_ptr<stbi_uc, void (*)(void*)> data(stbi_load_from_memory(bytes, length, &x, &y, &n, desired),
                                                   stbi_image_free);
    if (!data) throw fail();
    const auto c = static_cast<std::size_t>(desired != 0 ? desired : n);
    return planar_from_interleaved(data.get(), static_cast<std::size_t>(y), static_cast<std::size_t>(x), c, 255.0f);
}

inline std::vector<std::uint8_t> read_file_bytes(const std::filesystem::path& path, const char* where) {
    std::error_code ec;
    const auto status = std::filesystem::status(path, ec);
    require<io_error>(!ec || ec == std::errc::no_such_file_or_directory, where, ": cannot access ",
                      describe_file(path), ": ", ec.message());
    require<io_error>(std::filesystem::exists(status), where, ": ", describe_file(path), " does not exist");
    require<io_error>(!std::filesystem::is_directory(status), where, ": ", describe_file(path),
                      " is a directory, expected an image file");
    std::ifstream in(path, std::ios::binary | std::ios::ate);
    require<io_error>(in.is_open(), where, ": ", describe_file(path), " cannot be opened for reading");
    const std::streamoff end = in.tellg();
    require<io_error>(end >= 0, where, ": cannot determine the size of ", describe_file(path));
    require<io_error>(static_cast<std::uintmax_t>(end) <= static_cast<std::uintmax_t>(INT_MAX), where, ": ",
                      describe_file(path), " is ", end, " bytes, more than stb can read (2 GiB)");
    std::vector<std::uint8_t> bytes(static_cast<std::size_t>(end));
    in.seekg(0);
    in.read(reinterpret_cast<char*>(bytes.data()), end);
    require<io_error>(in.gcount() == end, where, ": reading ", describe_file(path), " failed after ", in.gcount(),
                      " of ", end, " bytes");
    return bytes;
}

inline std::string lowercase_extension(const std::filesystem::path& path) {
    std::string ext = path.extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
    return ext;
}

/// stb_image_write's output callback: appends the encoded bytes to a std::vector.
inline void append_to_vector(void* context, void* data, int size) {
    auto* out = static_cast<std::vector<std::uint8_t>*>(context);
    const auto* bytes = static_cast<const std::uint8_t*>(data);
    out->insert(out->end(), bytes, bytes + size);
}

}  // namespace detail

/// Loads an image file as C×H×W float in [0, 1] (channels: 0 = as stored, 1 grey, 2 grey+alpha,
/// 3 RGB, 4 RGBA). Throws io_error for a missing, truncated, corrupt, unsupported or too large file.
inline Image load_image(const std::filesystem::path& path, std::size_t channels = 0, const LoadOptions& options = {}) {
    const std::vector<std::uint8_t> bytes = detail::read_file_bytes(path, "xai::load_image()");
    return detail::decode_image(bytes.data(), bytes.size(), channels, options, detail::describe_file(path),
                                "xai::load_image()");
}

/// Decodes an image held in memory (the bytes of a PNG, JPEG, … file), as load_image does.
inline Image load_image_from_memory(std::span<const std::uint8_t> bytes, std::size_t channels = 0,
                                    const LoadOptions& options = {}) {
    return detail::decode_image(bytes.data(), bytes.size(), channels, options,
                                detail::message("the in-memory image (", bytes.size(), " bytes)"),
                                "xai::load_image_from_memory()");
}

/// The image encoded as a PNG or JPEG file's bytes (1–4 channels, clamped to [0, 1], rounded).
inline std::vector<std::uint8_t> encode_image(const Image& image, ImageFormat format, const SaveOptions& options = {}) {
    const char* where = "xai::encode_image()";
    detail::require<shape_error>(image.shape(1) <= static_cast<std::size_t>(INT_MAX) / 4 &&
                                     image.shape(2) <= static_cast<std::size_t>(INT_MAX) / 4,
                                 where, ": the image is ", to_string(image_shape(image)), ", too large to encode");
    detail::require(options.jpeg_quality >= 1 && options.jpeg_quality <= 100, where, ": jpeg_quality is ",
                    options.jpeg_quality, ", expected 1 to 100");
    const PixelsU8 pixels = to_hwc_u8(image, Rounding::nearest);  // checks shape and finiteness
    const int w = static_cast<int>(pixels.shape(1)), h = static_cast<int>(pixels.shape(0));
    const int c = static_cast<int>(pixels.shape(2));
    std::vector<std::uint8_t> out;
    const int ok = format == ImageFormat::png
                       ? stbi_write_png_to_func(detail::append_to_vector, &out, w, h, c, pixels.data(), w * c)
                       : stbi_write_jpg_to_func(detail::append_to_vector, &out, w, h, c, pixels.data(),
                                                options.jpeg_quality);
    detail::require<io_error>(ok != 0, where, ": stb could not encode the ", to_string(image_shape(image)), " image");
    return out;
}

/// The format save_image picks for a path: PNG for .png, JPEG for .jpg or .jpeg (any case).
inline ImageFormat image_format_for(const std::filesystem::path& path) {
    const std::string ext = detail::lowercase_extension(path);
    if (ext == ".png") return ImageFormat::png;
    if (ext == ".jpg" || ext == ".jpeg") return ImageFormat::jpeg;
    throw invalid_argument(detail::message("xai::save_image(): cannot tell the format of '", path.string(),
                                           "' from its extension, expected .png, .jpg or .jpeg"));
}

/// Saves a C×H×W image (1–4 channels, values clamped to [0, 1]) as PNG or JPEG by extension.
inline void save_image(const std::filesystem::path& path, const Image& image, const SaveOptions& options = {}) {
    const ImageFormat format = image_format_for(path);
    const std::vector<std::uint8_t> bytes = encode_image(image, format, options);
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    detail::require<io_error>(out.is_open(), "xai::save_image(): ", detail::describe_file(path),
                              " cannot be opened for writing");
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    out.close();
    detail::require<io_error>(!out.fail(), "xai::save_image(): writing ", detail::describe_file(path), " failed");
}

}  // namespace xai
