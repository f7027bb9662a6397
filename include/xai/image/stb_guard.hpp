#pragma once
// Checks that keep known-unsafe inputs away from stb_image (image/io.hpp decodes with it).
//
// stb_image is not hardened against malicious files, and the version xai builds against
// (Debian's libstb, stb_image v2.27) has out-of-bounds reads and writes that fuzzing
// (tests/fuzz/fuzz_image_decode.cpp, with stb compiled under AddressSanitizer) reaches with a
// few hundred bytes. Each check below refuses, before stb sees the bytes, one structure that
// triggers such a bug, and names the file and the structure in an io_error. A check never
// refuses a file that follows its format's specification: each structure it refuses is one
// that the specification forbids and that stb would misread.
//
//   JPEG  a Huffman table (DHT segment) declares more than 256 codes; ITU-T T.81 §B.2.4.2
//         allows at most 256 symbols. stb 2.27 writes the code lengths past its 257-entry array
//         (stbi__build_huffman) and the symbols past its 255-entry value table (fixed in 2.28).
//         stb accepts any number of 0xFF fill bytes before the SOI marker, and so does the check.
//   PNM   a header number (width, height, maxval) above 2^31 − 1: stb 2.27 parses it into an
//         int with signed overflow, undefined behaviour (fixed in 2.28). Netpbm allows at most
//         65535 for maxval, and stb refuses sides above 2^24 anyway.
//   PNM   a file that ends before the pixels its header declares: stb 2.27 ignores the short
//         read and returns its uninitialised buffer (values that differ from run to run).
//
// Two bugs are in a valid path, so they are worked around instead of refused:
//   PNM   16-bit greymaps and pixmaps (maxval > 255) converted to another channel count go
//         through stb's 8-bit conversion, which reads past the 16-bit buffer. io.hpp decodes
//         them as stored and converts with convert_channels_16() below, which is stb's own
//         16-bit conversion (stbi__convert_format16) written out.
//   PNM   stb 2.27 returns 16-bit samples in the host's byte order, but Netpbm stores them
//         most significant byte first. io.hpp asks stb once how it reads a known 2-byte sample
//         (pnm16_needs_byte_swap) and swaps when it must, so a later stb that fixes this
//         (2.28 does) is not swapped twice.
//
// docs/limits.md lists what the checks cover and what they cannot (stb's other decoders).

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "xai/core/error.hpp"

namespace xai::detail {

/// Walks the marker segments of a JPEG stream that starts with the 2-byte SOI marker and returns
/// false at the first Huffman table whose 16 code counts add up to more than 256. Entropy-coded data is
/// skipped byte by byte up to the next marker (0xFF not followed by 0x00 or a restart marker),
/// as a decoder does; a truncated stream ends the walk (stb reports it).
inline bool jpeg_huffman_tables_valid(const std::uint8_t* bytes, std::size_t size) {
    std::size_t pos = 2;
    while (pos + 1 < size) {
        if (bytes[pos] != 0xFF) {  // entropy-coded data between markers
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
        if (marker == 0xD9 || pos + 4 > size) return true;  // EOI or truncated
        const std::size_t length = (static_cast<std::size_t>(bytes[pos + 2]) << 8) | bytes[pos + 3];
        const std::size_t begin = pos + 4, end = pos + 2 + length;
        if (marker == 0xC4) {
            // As stb: tables follow one another while the declared length is not used up, and a
            // table is read whole even when it overruns the length (bytes past the end read as 0).
            for (std::size_t table = begin; table < end && table < size;) {
                std::size_t codes = 0;
                for (std::size_t i = table + 1; i <= table + 16 && i < size; ++i) codes += bytes[i];
                if (codes > 256) return false;
                table += 17 + codes;
            }
        }
        pos = end;
    }
    return true;
}

/// The offset just past the SOI marker when `bytes` is a JPEG stream as stb recognises it (0xFF
/// fill bytes, then 0xD8), else 0.
inline std::size_t jpeg_start_of_image_end(const std::uint8_t* bytes, std::size_t size) {
    if (size == 0 || bytes[0] != 0xFF) return 0;
    std::size_t i = 1;
    while (i < size && bytes[i] == 0xFF) ++i;
    return i < size && bytes[i] == 0xD8 ? i + 1 : 0;
}

/// True for a binary PNM (P5 greymap, P6 pixmap): the files stb reads with its PNM loader.
inline bool is_binary_pnm(const std::uint8_t* bytes, std::size_t size) {
    return size >= 2 && bytes[0] == 'P' && (bytes[1] == '5' || bytes[1] == '6');
}

/// The header of a binary PNM as stb parses it: 'P5' or 'P6', then width, height and maxval,
/// each after whitespace and '#' comments, as decimal digits; the pixels start one byte after
/// maxval's last digit (the single whitespace byte the format requires).
struct PnmHeader {
    bool numbers_fit = true;  ///< false when a number exceeds 2^31 − 1 (the others are then unset)
    std::uint64_t width = 0, height = 0, maxval = 0;
    std::size_t data_offset = 0;
};

inline PnmHeader read_pnm_header(const std::uint8_t* bytes, std::size_t size) {
    const auto space = [](std::uint8_t c) { return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'; };
    PnmHeader header;
    std::uint64_t* fields[3] = {&header.width, &header.height, &header.maxval};
    std::size_t pos = 2;
    for (std::uint64_t* field : fields) {
        for (;;) {
            while (pos < size && space(bytes[pos])) ++pos;
            if (pos >= size || bytes[pos] != '#') break;
            while (pos < size && bytes[pos] != '\n' && bytes[pos] != '\r') ++pos;
        }
        for (; pos < size && bytes[pos] >= '0' && bytes[pos] <= '9'; ++pos) {
            *field = *field * 10 + (bytes[pos] - '0');
            if (*field > 0x7FFFFFFFu) {
                header.numbers_fit = false;
                return header;
            }
        }
    }
    header.data_offset = pos + 1;
    return header;
}

/// True when a binary PNM holds every pixel byte its header declares. stb 2.27 does not check
/// (stbi__pnm_load ignores stbi__getn's failure) and returns its uninitialised buffer for a
/// truncated file: pixels that change from run to run.
inline bool pnm_pixels_present(const PnmHeader& header, bool colour, std::size_t size) {
    if (header.maxval == 0 || header.maxval > 65535) return true;  // stb refuses these itself
    const std::uint64_t pixels = header.width * header.height;  // < 2^62: both below 2^31
    if (pixels > size) return false;
    const std::uint64_t bytes = pixels * (colour ? 3u : 1u) * (header.maxval > 255 ? 2u : 1u);
    return header.data_offset <= size && bytes <= size - header.data_offset;
}

/// stb's 16-bit channel conversion (stbi__convert_format16) of `pixels` interleaved samples of
/// `from` channels into `to` channels: grey is (77·R + 150·G + 29·B) >> 8, a missing alpha is
/// 0xFFFF, grey is replicated into RGB.
inline std::vector<std::uint16_t> convert_channels_16(const std::uint16_t* data, std::size_t pixels, int from, int to) {
    std::vector<std::uint16_t> out(pixels * static_cast<std::size_t>(to));
    const auto grey = [](const std::uint16_t* p) {
        return static_cast<std::uint16_t>((p[0] * 77 + p[1] * 150 + p[2] * 29) >> 8);
    };
    for (std::size_t i = 0; i < pixels; ++i) {
        const std::uint16_t* src = data + i * static_cast<std::size_t>(from);
        std::uint16_t* dst = out.data() + i * static_cast<std::size_t>(to);
        const bool colour = from >= 3;
        const std::uint16_t y = colour ? grey(src) : src[0];
        const std::uint16_t alpha = from == 2 ? src[1] : from == 4 ? src[3] : std::uint16_t{0xFFFF};
        if (to <= 2) {
            dst[0] = y;
        } else {
            dst[0] = src[0];
            dst[1] = colour ? src[1] : src[0];
            dst[2] = colour ? src[2] : src[0];
        }
        if (to == 2 || to == 4) dst[to - 1] = alpha;
    }
    return out;
}

/// Throws io_error when `bytes` holds a structure that the stb_image version xai links
/// mishandles (see the top of this file). `source` names the file, `where` the caller.
inline void require_safe_for_stb(const std::uint8_t* bytes, std::size_t size, const std::string& source,
                                 const char* where) {
    const std::size_t soi_end = jpeg_start_of_image_end(bytes, size);
    if (soi_end != 0 && !jpeg_huffman_tables_valid(bytes + soi_end - 2, size - (soi_end - 2)))
        throw io_error(message(where, ": cannot read ", source,
                               ": a JPEG Huffman table declares more than 256 codes (a corrupt or malicious file)"));
    if (is_binary_pnm(bytes, size)) {
        const PnmHeader header = read_pnm_header(bytes, size);
        if (!header.numbers_fit)
            throw io_error(message(where, ": cannot read ", source,
                                   ": a PNM header number exceeds 2147483647 (a corrupt or malicious file)"));
        if (!pnm_pixels_present(header, bytes[1] == '6', size))
            throw io_error(message(where, ": cannot decode ", source, ": truncated PNM: its header declares ",
                                   header.width, "x", header.height, " pixels (maxval ", header.maxval,
                                   ") and the file ends before them"));
    }
}

}  // namespace xai::detail
