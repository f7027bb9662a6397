#pragma once
// Image files ⇄ C×H×W float images in [0, 1]: loading through stb_image, or through libpng and
// libjpeg-turbo when xai is built with them (the system decoders); saving through
// stb_image_write.
//
// Not part of the umbrella header xai.hpp on purpose: it calls stb, whose implementation comes
// from Debian's libstb.so, which the xai::xai CMake target links (with libpng and libjpeg when
// XAI_WITH_SYSTEM_DECODERS is ON: the target then defines XAI_HAS_SYSTEM_DECODERS=1). A program
// that compiles stb's implementation into itself (STB_IMAGE_IMPLEMENTATION) still links and
// works: its own definitions take precedence and are the same API (tests/consumer proves it).
//
// Loading
//   load_image(path, channels, options)               a file
//   load_image_from_memory(bytes, channels, options)  an encoded buffer (a download, an archive member)
//   channels: 0 = as stored (1–4), 1 = grey, 2 = grey+alpha, 3 = RGB, 4 = RGBA, converted by
//   stb's rule (grey = (77·R + 150·G + 29·B) >> 8, alpha dropped without compositing, grey
//   replicated) whichever decoder decoded the file (image/decode/pixels.hpp).
//   Formats (image/format.hpp): the format is recognised from the file's first bytes before any
//   decoder sees it. By default only PNG, JPEG, BMP and binary PNM are decoded; GIF, TGA, PSD,
//   HDR and PIC, whose stb decoders have public memory-safety reports, only when
//   LoadOptions::formats names them. 8-bit samples become v/255; 16-bit PNG and PNM samples are
//   read at full precision and become v/65535. HDR files go through stb's tone mapping (gamma
//   2.2, scale 1) and are clamped to [0, 1].
//   Decoders (LoadOptions::decoder): PNG and JPEG go to libpng and libjpeg-turbo when xai is
//   built with them (image/decode/png.hpp, jpeg.hpp), to stb otherwise or when asked; the other
//   formats always go to stb, behind the checks of image/stb_guard.hpp. Both give the same
//   pixels for PNG and the same JPEG up to the arithmetic of the IDCT and upsampling
//   (docs/image.md gives the measured difference).
//   Before anything is decoded, the declared width and height are read from the header and an
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
// Errors: io_error for a missing, unreadable, empty, truncated, corrupt, unrecognised or
// not-allowed file (the message names the path and the reason, the decoder's own when a decoder
// refused it); invalid_argument for bad arguments.
//
// Thread safety: load_image and save_image may be called from several threads at once. stb,
// libpng and libjpeg keep no shared state between calls, and each reports its failure to the
// calling thread (stb through a thread_local, image/decode/stb.hpp; libpng and libjpeg through
// the call's own error handler). stb's process-wide settings are honoured, not changed: if the
// program calls stbi_set_flip_vertically_on_load(1) or stbi_flip_vertically_on_write(1), images
// loaded or saved here are flipped too, by the system decoders as well.

#include <algorithm>
#include <cctype>
#include <climits>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include <stb_image.h>
#include <stb_image_write.h>

#include "xai/core/compiled.hpp"
#include "xai/core/error.hpp"
#include "xai/core/tensor.hpp"
#include "xai/image/convert.hpp"
#include "xai/image/decode/stb.hpp"
#include "xai/image/format.hpp"
#include "xai/image/stb_guard.hpp"

#if defined(XAI_HAS_SYSTEM_DECODERS) && XAI_HAS_SYSTEM_DECODERS
#include "xai/image/decode/jpeg.hpp"
#include "xai/image/decode/png.hpp"
#endif

namespace xai {

/// True when this build of xai decodes PNG and JPEG with libpng and libjpeg-turbo (the CMake
/// option XAI_WITH_SYSTEM_DECODERS, which defines XAI_HAS_SYSTEM_DECODERS=1).
#if defined(XAI_HAS_SYSTEM_DECODERS) && XAI_HAS_SYSTEM_DECODERS
inline constexpr bool has_system_decoders = true;
#else
inline constexpr bool has_system_decoders = false;
#endif

/// Which decoder load_image() uses for PNG and JPEG (the other formats are always decoded by stb).
enum class ImageDecoder {
    automatic,  ///< libpng and libjpeg-turbo when xai is built with them, else stb
    stb,        ///< stb_image, behind xai's checks (image/stb_guard.hpp)
    system,     ///< libpng and libjpeg-turbo; invalid_argument when xai is built without them
};

/// Options of load_image() and load_image_from_memory(): what to decode, with what, within
/// which limits. An aggregate: `xai::LoadOptions{.formats = xai::ImageFormats::all()}`.
struct LoadOptions {
    /// The largest width × height accepted, checked from the file's header before decoding.
    /// 100 megapixels (e.g. 12000×8000) is above any camera photo a classifier is fed and
    /// keeps the worst case at 1.2 GB of float RGB.
    std::size_t max_pixels = 100'000'000;
    /// The formats decoded; a file of another format is refused with an io_error before any
    /// decoder sees it. By default PNG, JPEG, BMP and PNM; GIF, TGA, PSD, HDR and PIC only when
    /// named, e.g. `ImageFormats::defaults() | ImageFormat::gif` (their stb decoders have public
    /// memory-safety reports: image/format.hpp, docs/limits.md).
    ImageFormats formats = ImageFormats::defaults();
    /// The decoder for PNG and JPEG.
    ImageDecoder decoder = ImageDecoder::automatic;
};

/// Options of save_image() and encode_image().
struct SaveOptions {
    /// JPEG quality 1–100 (ignored for PNG). 95 is OpenCV's imwrite default.
    int jpeg_quality = 95;
};

namespace detail {

/// "'path'", for messages.
inline std::string describe_file(const std::filesystem::path& path) { return message("'", path.string(), "'"); }

/// Why a format is left out of ImageFormats::defaults(), for the refusal message.
inline const char* why_not_by_default(ImageFormat format) {
    switch (format) {
        case ImageFormat::gif: return "stb's GIF decoder has public memory-safety reports, e.g. CVE-2023-45661";
        case ImageFormat::tga: return "stb's TGA decoder has public memory-safety reports";
        case ImageFormat::psd: return "stb's PSD decoder has public memory-safety reports";
        case ImageFormat::hdr: return "stb's HDR decoder has public memory-safety reports";
        case ImageFormat::pic: return "stb's PIC decoder has public memory-safety reports";
        default: return nullptr;
    }
}

/// Throws io_error when `format` is not in `allowed`, naming the file, the format and the opt-in.
inline void require_allowed(ImageFormat format, ImageFormats allowed, const std::string& source, const char* where) {
    if (allowed.contains(format)) return;
    const char* name = to_string(format);
    const std::string what = format == ImageFormat::tga
                                 ? message(source, " looks like a TGA (it has no magic number; its header fields match)")
                                 : message(source, " is ", format == ImageFormat::hdr ? "an " : "a ", name);
    std::string lower = name;
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
    const char* why = why_not_by_default(format);
    if (why != nullptr && !ImageFormats::defaults().contains(format))
        throw io_error(message(where, ": ", what, ", which is not decoded by default (", why, "); add ImageFormat::",
                               lower, " to LoadOptions::formats to allow it"));
    throw io_error(message(where, ": ", what, ", which LoadOptions::formats (", allowed.to_string(),
                           ") does not allow; add ImageFormat::", lower, " to allow it"));
}

/// Throws invalid_argument for a decoder outside the enum, or the system decoders in a build
/// without them.
inline void require_valid_decoder(ImageDecoder decoder, const char* where) {
    require(decoder == ImageDecoder::automatic || decoder == ImageDecoder::stb || decoder == ImageDecoder::system,
            where, ": LoadOptions::decoder is ", static_cast<int>(decoder), ", expected automatic, stb or system");
    require(decoder != ImageDecoder::system || has_system_decoders, where,
            ": LoadOptions::decoder is ImageDecoder::system, but this build of xai has no system decoders "
            "(configure with -DXAI_WITH_SYSTEM_DECODERS=ON, libpng-dev and libjpeg62-turbo-dev installed)");
}

/// True when a file of `format` goes to libpng or libjpeg-turbo rather than to stb.
inline bool use_system_decoder(ImageFormat format, ImageDecoder decoder) {
    if (format != ImageFormat::png && format != ImageFormat::jpeg) return false;
    return decoder == ImageDecoder::system || (decoder == ImageDecoder::automatic && has_system_decoders);
}

/// Decodes an encoded image held in memory; `source` names it in messages.
inline Image decode_image(const std::uint8_t* bytes, std::size_t size, std::size_t channels,
                          const LoadOptions& options, const std::string& source, const char* where) {
    require(channels <= 4, where, ": channels is ", channels,
            ", expected 0 (as stored), 1 (grey), 2 (grey+alpha), 3 (RGB) or 4 (RGBA)");
    require_valid_decoder(options.decoder, where);
    require<io_error>(size > 0, where, ": ", source, " is empty (0 bytes), expected an image file");
    require<io_error>(size <= static_cast<std::size_t>(INT_MAX), where, ": ", source, " is ", size,
                      " bytes, more than stb can read (2 GiB)");

    // The format from the first bytes, before any decoder reads anything (image/format.hpp).
    const std::optional<ImageFormat> format = detect_image_format({bytes, size});
    if (!format)
        throw io_error(message(where, ": cannot read ", source,
                               ": unknown image type: its first bytes match none of the formats xai reads (PNG, JPEG, "
                               "BMP, binary PNM; GIF, TGA, PSD, HDR, PIC when LoadOptions::formats allows them)"));
    require_allowed(*format, options.formats, source, where);
    require_well_formed(bytes, size, *format, source, where);
#if defined(XAI_HAS_SYSTEM_DECODERS) && XAI_HAS_SYSTEM_DECODERS
    if (use_system_decoder(*format, options.decoder))
        return *format == ImageFormat::png ? libpng::decode(bytes, size, channels, options.max_pixels, source, where)
                                           : libjpeg::decode(bytes, size, channels, options.max_pixels, source, where);
#endif
    return stb_decode(bytes, size, *format, channels, options.max_pixels, source, where);
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
/// 3 RGB, 4 RGBA). Throws io_error for a missing, truncated, corrupt, unrecognised, too large
/// file, or one of a format `options.formats` does not allow.
XAI_LIB_INLINE Image load_image(const std::filesystem::path& path, std::size_t channels = 0,
                               const LoadOptions& options = {});

/// Decodes an image held in memory (the bytes of a PNG, JPEG, … file), as load_image does.
XAI_LIB_INLINE Image load_image_from_memory(std::span<const std::uint8_t> bytes, std::size_t channels = 0,
                                           const LoadOptions& options = {});

/// The image encoded as a PNG or JPEG file's bytes (1–4 channels, clamped to [0, 1], rounded);
/// invalid_argument for another ImageFormat.
XAI_LIB_INLINE std::vector<std::uint8_t> encode_image(const Image& image, ImageFormat format,
                                                     const SaveOptions& options = {});

/// The format save_image picks for a path: PNG for .png, JPEG for .jpg or .jpeg (any case).
XAI_LIB_INLINE ImageFormat image_format_for(const std::filesystem::path& path);

/// Saves a C×H×W image (1–4 channels, values clamped to [0, 1]) as PNG or JPEG by extension.
XAI_LIB_INLINE void save_image(const std::filesystem::path& path, const Image& image, const SaveOptions& options = {});

// The definitions: here in header-only mode, in src/compiled.cpp only in compiled mode
// (core/compiled.hpp), so that a program does not compile the decoders and encoders at -O2.
#if XAI_LIB_DEFINITIONS
XAI_LIB_INLINE Image load_image(const std::filesystem::path& path, std::size_t channels, const LoadOptions& options) {
    const std::vector<std::uint8_t> bytes = detail::read_file_bytes(path, "xai::load_image()");
    return detail::decode_image(bytes.data(), bytes.size(), channels, options, detail::describe_file(path),
                                "xai::load_image()");
}

XAI_LIB_INLINE Image load_image_from_memory(std::span<const std::uint8_t> bytes, std::size_t channels,
                                           const LoadOptions& options) {
    return detail::decode_image(bytes.data(), bytes.size(), channels, options,
                                detail::message("the in-memory image (", bytes.size(), " bytes)"),
                                "xai::load_image_from_memory()");
}

XAI_LIB_INLINE std::vector<std::uint8_t> encode_image(const Image& image, ImageFormat format, const SaveOptions& options) {
    const char* where = "xai::encode_image()";
    detail::require<shape_error>(image.shape(1) <= static_cast<std::size_t>(INT_MAX) / 4 &&
                                     image.shape(2) <= static_cast<std::size_t>(INT_MAX) / 4,
                                 where, ": the image is ", to_string(image_shape(image)), ", too large to encode");
    detail::require(format == ImageFormat::png || format == ImageFormat::jpeg, where, ": format is ", to_string(format),
                    ", expected ImageFormat::png or ImageFormat::jpeg (the formats xai writes)");
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

XAI_LIB_INLINE ImageFormat image_format_for(const std::filesystem::path& path) {
    const std::string ext = detail::lowercase_extension(path);
    if (ext == ".png") return ImageFormat::png;
    if (ext == ".jpg" || ext == ".jpeg") return ImageFormat::jpeg;
    throw invalid_argument(detail::message("xai::save_image(): cannot tell the format of '", path.string(),
                                           "' from its extension, expected .png, .jpg or .jpeg"));
}

XAI_LIB_INLINE void save_image(const std::filesystem::path& path, const Image& image, const SaveOptions& options) {
    const ImageFormat format = image_format_for(path);
    const std::vector<std::uint8_t> bytes = encode_image(image, format, options);
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    detail::require<io_error>(out.is_open(), "xai::save_image(): ", detail::describe_file(path),
                              " cannot be opened for writing");
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    out.close();
    detail::require<io_error>(!out.fail(), "xai::save_image(): writing ", detail::describe_file(path), " failed");
}
#endif

}  // namespace xai
