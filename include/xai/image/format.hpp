#pragma once
// Image file formats: which one a buffer holds, told from its first bytes, and the sets of them
// that load_image() is allowed to decode (LoadOptions::formats, image/io.hpp).
//
// Why an allow-list. stb_image, the decoder behind load_image(), is not presented by its author
// as hardened, and its decoders for the rarer formats have public memory-safety reports that
// the version Debian ships (2.27) still carries or that were found after it: GIF
// (CVE-2023-45661, -45664, -45666, -45667; more against 2.30 in 2026, nothings/stb#1915,
// #1916, #2001), TGA (heap overflows nothings/stb#489, #790, #874), PSD (#314, #315), HDR (#317,
// #318), PIC (#1452, #1859). A caller who feeds load_image() files from strangers should not
// reach those decoders by accident, so by default only PNG, JPEG, BMP and PNM are decoded (the
// formats the project vouches for: PNG and JPEG go to libpng and libjpeg-turbo when xai is built
// with them, the rest through stb behind the checks of stb_guard.hpp), and the others only when
// LoadOptions::formats names them. docs/limits.md lists every format with its status.
//
// The format is decided here, from magic bytes, before any decoder sees the data, and the
// decision is the one stb makes itself: the magic numbers below are stb's own tests (stb tries
// its decoders in turn and each one claims a file by the same bytes), and no two of them share a
// first byte, so a file recognised as X is decoded by stb's X decoder or by none. TGA has no
// magic number; stb recognises it last, by plausible header fields (stbi__tga_test), and so does
// looks_like_tga() below. Every magic byte 1 here is above 1, where a TGA needs its colour-map
// type (0 or 1), so no file recognised by its magic can also pass for a TGA.

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace xai {

/// An image file format. load_image() recognises all of them (and decodes those that
/// LoadOptions::formats allows); encode_image() and save_image() write PNG and JPEG.
enum class ImageFormat : std::uint8_t {
    png,   ///< PNG (8 and 16 bits, grey, RGB, palette, with or without alpha, interlaced or not)
    jpeg,  ///< JPEG (baseline and progressive, 8 bits)
    bmp,   ///< Windows BMP (uncompressed 1–32 bits; no RLE)
    pnm,   ///< binary Netpbm greymap or pixmap (P5, P6; 8 or 16 bits)
    gif,   ///< GIF, first frame (opt-in)
    tga,   ///< Truevision TGA (opt-in; recognised by its header fields, it has no magic number)
    psd,   ///< Photoshop PSD, the composite image (opt-in)
    hdr,   ///< Radiance HDR, tone-mapped (opt-in)
    pic,   ///< Softimage PIC (opt-in)
};

/// The format's usual name ("PNG", "JPEG", "BMP", "PNM", "GIF", "TGA", "PSD", "HDR", "PIC").
constexpr const char* to_string(ImageFormat format) {
    switch (format) {
        case ImageFormat::png: return "PNG";
        case ImageFormat::jpeg: return "JPEG";
        case ImageFormat::bmp: return "BMP";
        case ImageFormat::pnm: return "PNM";
        case ImageFormat::gif: return "GIF";
        case ImageFormat::tga: return "TGA";
        case ImageFormat::psd: return "PSD";
        case ImageFormat::hdr: return "HDR";
        case ImageFormat::pic: return "PIC";
    }
    return "unknown";
}

/// The format named `name`, case-insensitively: one of to_string()'s names, or "jpg" for JPEG
/// (what a command-line flag such as `--allow-format gif` holds); nothing for any other name.
constexpr std::optional<ImageFormat> image_format_from_string(std::string_view name) {
    const auto lower = [](char ch) { return ch >= 'A' && ch <= 'Z' ? static_cast<char>(ch - 'A' + 'a') : ch; };
    const auto equals = [&](std::string_view known) {
        if (name.size() != known.size()) return false;
        for (std::size_t i = 0; i < name.size(); ++i)
            if (lower(name[i]) != lower(known[i])) return false;
        return true;
    };
    if (equals("jpg")) return ImageFormat::jpeg;
    for (int f = 0; f <= static_cast<int>(ImageFormat::pic); ++f)
        if (equals(to_string(static_cast<ImageFormat>(f)))) return static_cast<ImageFormat>(f);
    return std::nullopt;
}

/// A set of image formats: what LoadOptions::formats allows load_image() to decode.
/// Built from ImageFormat values with `|`, e.g. `ImageFormats::defaults() | ImageFormat::gif`.
class ImageFormats {
public:
    /// The empty set.
    constexpr ImageFormats() = default;
    /// The set holding `format` alone (implicit, so a single format reads as a set).
    constexpr ImageFormats(ImageFormat format) : bits_(bit(format)) {}  // NOLINT(google-explicit-constructor)
    /// The set holding `formats`.
    constexpr ImageFormats(std::initializer_list<ImageFormat> formats) {
        for (ImageFormat f : formats) bits_ |= bit(f);
    }

    /// What load_image() decodes by default: PNG, JPEG, BMP and PNM, the formats the project
    /// vouches for (see the top of image/format.hpp).
    static constexpr ImageFormats defaults() {
        return {ImageFormat::png, ImageFormat::jpeg, ImageFormat::bmp, ImageFormat::pnm};
    }
    /// Every format load_image() can decode, the opt-in ones (GIF, TGA, PSD, HDR, PIC) included.
    static constexpr ImageFormats all() {
        return defaults() | ImageFormats{ImageFormat::gif, ImageFormat::tga, ImageFormat::psd, ImageFormat::hdr,
                                         ImageFormat::pic};
    }

    /// True when `format` is in the set.
    constexpr bool contains(ImageFormat format) const { return (bits_ & bit(format)) != 0; }
    /// True when the set holds no format.
    constexpr bool empty() const { return bits_ == 0; }
    /// The union of two sets.
    constexpr ImageFormats operator|(ImageFormats other) const { return from_bits(bits_ | other.bits_); }
    /// Adds the formats of `other` to this set.
    constexpr ImageFormats& operator|=(ImageFormats other) {
        bits_ |= other.bits_;
        return *this;
    }
    /// Two sets are equal when they hold the same formats.
    friend constexpr bool operator==(ImageFormats, ImageFormats) = default;

    /// The names of the formats in the set, comma-separated in ImageFormat order ("PNG, JPEG"),
    /// or "none".
    std::string to_string() const {
        std::string out;
        for (int f = 0; f <= static_cast<int>(ImageFormat::pic); ++f)
            if (contains(static_cast<ImageFormat>(f))) {
                if (!out.empty()) out += ", ";
                out += xai::to_string(static_cast<ImageFormat>(f));
            }
        return out.empty() ? "none" : out;
    }

private:
    static constexpr std::uint16_t bit(ImageFormat f) {
        return static_cast<std::uint16_t>(1u << static_cast<unsigned>(f));
    }
    static constexpr ImageFormats from_bits(std::uint16_t bits) {
        ImageFormats set;
        set.bits_ = bits;
        return set;
    }
    std::uint16_t bits_ = 0;
};

/// The union of two formats, as a set (so `ImageFormat::png | ImageFormat::jpeg` is an ImageFormats).
constexpr ImageFormats operator|(ImageFormat a, ImageFormat b) { return ImageFormats(a) | b; }

namespace detail {

/// The byte at `i`, or 0 past the end (as stb's reader returns).
constexpr std::uint8_t byte_at(std::span<const std::uint8_t> bytes, std::size_t i) {
    return i < bytes.size() ? bytes[i] : std::uint8_t{0};
}

inline bool starts_with(std::span<const std::uint8_t> bytes, std::size_t at, const char* text) {
    for (std::size_t i = 0; text[i] != '\0'; ++i)
        if (byte_at(bytes, at + i) != static_cast<std::uint8_t>(text[i]) || at + i >= bytes.size()) return false;
    return true;
}

/// stb's TGA test (stbi__tga_test): colour-map type 0 or 1, an image type that goes with it, a
/// plausible colour-map entry size, non-zero width and height, a plausible pixel size.
inline bool looks_like_tga(std::span<const std::uint8_t> bytes) {
    const std::uint8_t colour_map = byte_at(bytes, 1), type = byte_at(bytes, 2);
    const auto entry_size_ok = [](std::uint8_t bits) {
        return bits == 8 || bits == 15 || bits == 16 || bits == 24 || bits == 32;
    };
    if (colour_map > 1) return false;
    if (colour_map == 1) {
        if (type != 1 && type != 9) return false;
        if (!entry_size_ok(byte_at(bytes, 7))) return false;
    } else if (type != 2 && type != 3 && type != 10 && type != 11) {
        return false;
    }
    const unsigned width = byte_at(bytes, 12) | (byte_at(bytes, 13) << 8u);
    const unsigned height = byte_at(bytes, 14) | (byte_at(bytes, 15) << 8u);
    if (width < 1 || height < 1) return false;
    const std::uint8_t bits = byte_at(bytes, 16);
    if (colour_map == 1 && bits != 8 && bits != 16) return false;
    return entry_size_ok(bits);
}

/// The offset just past the SOI marker when `bytes` starts a JPEG stream as stb recognises it
/// (0xFF, any number of 0xFF fill bytes, then 0xD8), else 0.
inline std::size_t jpeg_start_of_image_end(const std::uint8_t* bytes, std::size_t size) {
    if (size == 0 || bytes[0] != 0xFF) return 0;
    std::size_t i = 1;
    while (i < size && bytes[i] == 0xFF) ++i;
    return i < size && bytes[i] == 0xD8 ? i + 1 : 0;
}

/// Walks the marker segments of a JPEG stream from offset `pos` as a decoder does: bytes between
/// segments (entropy-coded data) are skipped up to the next marker, fill bytes (0xFF 0xFF) and the
/// markers without a length (stuffing 0xFF00, TEM, RST0–RST7) are stepped over, and every other
/// marker is passed to `visit(marker, offset)` (`offset` at its 0xFF, its 2-byte length within
/// the buffer), which returns false to stop the walk. The walk also ends at EOI and at a marker
/// whose length field is past the end (a truncated stream: the decoder reports it).
template <class Visit>
void for_each_jpeg_segment(const std::uint8_t* bytes, std::size_t size, std::size_t pos, Visit visit) {
    while (pos + 1 < size) {
        if (bytes[pos] != 0xFF) {  // entropy-coded data, or junk between segments
            ++pos;
            continue;
        }
        const std::uint8_t marker = bytes[pos + 1];
        if (marker == 0xFF) {  // fill byte
            ++pos;
            continue;
        }
        if (marker == 0x00 || marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) {  // stuffing, TEM, RSTn
            pos += 2;
            continue;
        }
        if (marker == 0xD9 || pos + 4 > size) return;  // EOI or truncated
        if (!visit(marker, pos)) return;
        pos += 2 + ((std::size_t{bytes[pos + 2]} << 8) | bytes[pos + 3]);
    }
}

}  // namespace detail

/// The format of an encoded image, told from its first bytes as stb_image tells it (see the top
/// of image/format.hpp), or nothing when they match no format load_image() reads. Only binary
/// PNM (P5, P6) is recognised: stb reads no other Netpbm variant.
inline std::optional<ImageFormat> detect_image_format(std::span<const std::uint8_t> bytes) {
    using detail::starts_with;
    if (starts_with(bytes, 0, "\x89PNG\r\n\x1a\n")) return ImageFormat::png;
    if (detail::jpeg_start_of_image_end(bytes.data(), bytes.size()) != 0) return ImageFormat::jpeg;
    if (starts_with(bytes, 0, "BM")) return ImageFormat::bmp;
    if (starts_with(bytes, 0, "P5") || starts_with(bytes, 0, "P6")) return ImageFormat::pnm;
    if (starts_with(bytes, 0, "GIF87a") || starts_with(bytes, 0, "GIF89a")) return ImageFormat::gif;
    if (starts_with(bytes, 0, "8BPS")) return ImageFormat::psd;
    if (starts_with(bytes, 0, "#?RADIANCE\n") || starts_with(bytes, 0, "#?RGBE\n")) return ImageFormat::hdr;
    if (starts_with(bytes, 0, "\x53\x80\xF6\x34") && starts_with(bytes, 88, "PICT")) return ImageFormat::pic;
    if (detail::looks_like_tga(bytes)) return ImageFormat::tga;
    return std::nullopt;
}

}  // namespace xai
