#pragma once
// Checks that keep known-unsafe inputs away from stb_image (image/decode/stb.hpp decodes with it).
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
//         This check runs for every decoder (libjpeg refuses such a table too, with another
//         message), so that a file gets the same error whichever decoder would have read it.
//   JPEG  a DC coefficient that stb would dequantise with signed overflow, and a scan that uses
//         a Huffman or quantization table the file never defines (stb reads its uninitialised
//         memory): image/decode/stb_jpeg_check.hpp, a dry run of stb's entropy decoder (issue 23).
//   PNM   a header number (width, height, maxval) above 2^31 − 1: stb 2.27 parses it into an
//         int with signed overflow, undefined behaviour (fixed in 2.28). Netpbm allows at most
//         65535 for maxval, and stb refuses sides above 2^24 anyway.
//   PNM   a file that ends before the pixels its header declares: stb 2.27 ignores the short
//         read and returns its uninitialised buffer (values that differ from run to run).
//   PNG   a chunk (before IEND) that declares more bytes than the file holds after its header: stb
//         2.27 grows its IDAT buffer to the declared length before it reads the data, so a
//         150-byte file made it allocate 2 GB (fuzz_image_decode, issue 23's hours of fuzzing);
//         the file is truncated, and both decoders would refuse it after reading it anyway.
//   BMP   a palette image whose pixels refer to entries past the palette (or whose declared pixel
//         offset leaves no room for a palette): stb keeps its palette in an uninitialised stack
//         array and copies whatever the missing entries hold into the picture. Found by reading
//         stb (AddressSanitizer cannot see it); every pixel index is checked as stb reads it.
//
// Two bugs are in a valid path, so they are worked around instead of refused:
//   PNM   16-bit greymaps and pixmaps (maxval > 255) converted to another channel count go
//         through stb's 8-bit conversion, which reads past the 16-bit buffer. The stb backend
//         decodes every format as stored and converts with detail::convert_channels
//         (image/decode/pixels.hpp), which is stb's own conversion written out.
//   PNM   stb 2.27 returns 16-bit samples in the host's byte order, but Netpbm stores them
//         most significant byte first. The stb backend asks stb once how it reads a known 2-byte
//         sample (pnm16_needs_byte_swap) and swaps when it must, so a later stb that fixes this
//         (2.28 does) is not swapped twice.
//   PNG   a palette shorter than the indices that use it (stb, like libpng, accepts the file):
//         stb's palette is an uninitialised stack array too, so the stb backend hands stb a copy
//         whose PLTE chunk is padded with black entries to 256 (pad_png_palettes), which is what
//         libpng shows for such indices (it keeps a zeroed 256-entry palette).
//
// docs/limits.md lists what the checks cover and what they cannot (stb's other decoders).

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "xai/core/error.hpp"
#include "xai/image/format.hpp"

namespace xai::detail {

/// Walks the marker segments of a JPEG stream that starts with the 2-byte SOI marker, as a
/// decoder does (for_each_jpeg_segment: through the entropy-coded data, so that the tables of
/// every scan of a progressive file are seen), and returns false at the first Huffman table whose
/// 16 code counts add up to more than 256; a truncated stream ends the walk (the decoder reports it).
inline bool jpeg_huffman_tables_valid(const std::uint8_t* bytes, std::size_t size) {
    bool valid = true;
    for_each_jpeg_segment(bytes, size, 2, [&](std::uint8_t marker, std::size_t pos) {
        if (marker != 0xC4) return true;
        // As stb: tables follow one another while the declared length is not used up, and a
        // table is read whole even when it overruns the length (bytes past the end read as 0).
        const std::size_t end = pos + 2 + ((std::size_t{bytes[pos + 2]} << 8) | bytes[pos + 3]);
        for (std::size_t table = pos + 4; table < end && table < size;) {
            std::size_t codes = 0;
            for (std::size_t i = table + 1; i <= table + 16 && i < size; ++i) codes += bytes[i];
            if (codes > 256) return valid = false;
            table += 17 + codes;
        }
        return true;
    });
    return valid;
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

/// For a palette BMP, the reason stb would copy uninitialised palette entries into the picture
/// (see the top of this file), or an empty string. Follows stbi__bmp_parse_header and the
/// palette branch of stbi__bmp_load, reading the pixel indices exactly where stb reads them.
inline std::string bmp_palette_problem(const std::uint8_t* bytes, std::size_t size) {
    std::size_t pos = 0;
    const auto get8 = [&]() -> std::uint32_t { return pos < size ? bytes[pos++] : 0u; };
    const auto get16le = [&]() -> std::uint32_t {
        const std::uint32_t z = get8();
        return z + (get8() << 8);
    };
    const auto get32le = [&]() -> std::uint32_t {
        const std::uint32_t z = get16le();
        return z + (get16le() << 16);
    };
    if (get8() != 'B' || get8() != 'M') return {};
    get32le();
    get32le();
    const auto offset = static_cast<std::int32_t>(get32le());
    const auto hsz = static_cast<std::int32_t>(get32le());
    if (offset < 0 || (hsz != 12 && hsz != 40 && hsz != 56 && hsz != 108 && hsz != 124)) return {};  // stb fails
    std::uint32_t width_px = 0, height_raw = 0;
    if (hsz == 12) {
        width_px = get16le();
        height_raw = get16le();
    } else {
        width_px = get32le();
        height_raw = get32le();
    }
    if (get16le() != 1) return {};
    const std::uint32_t bpp = get16le();
    if (bpp >= 16 || (bpp != 1 && bpp != 4 && bpp != 8)) return {};  // no palette, or stb fails ("bad bpp")
    // Compression 1, 2 (RLE) and 4, 5 (JPEG, PNG) stb refuses; 3 (bit fields) needs 16 or 32 bits.
    if (hsz != 12 && get32le() != 0) return {};
    // stb takes the absolute value of the height as an int: -2^31 has none (undefined behaviour).
    if (height_raw == 0x80000000u) return "a BMP height of -2147483648 (a corrupt or malicious file)";
    const std::uint32_t height_px = static_cast<std::uint32_t>(std::abs(static_cast<std::int32_t>(height_raw)));
    if (width_px > (1u << 24) || height_px > (1u << 24)) return {};  // stb: "too large"
    const std::int32_t palette_bytes = offset - 14 - (hsz == 12 ? 24 : hsz);
    const std::int32_t psize = hsz == 12 ? palette_bytes / 3 : palette_bytes >> 2;
    if (psize == 0 || psize > 256) return {};  // stb: "invalid"
    if (psize < 0)
        return message("a palette BMP whose pixel data offset (", offset,
                       ") leaves no room for its palette (a corrupt or malicious file)");
    // The palette, then stb's skip to the pixels (a negative skip moves to the end of the data).
    pos = 14 + static_cast<std::size_t>(hsz) + static_cast<std::size_t>(psize) * (hsz == 12 ? 3 : 4);
    const std::int64_t gap = static_cast<std::int64_t>(offset) - 14 - hsz - psize * (hsz == 12 ? 3 : 4);
    pos = gap < 0 ? size : pos + static_cast<std::size_t>(gap);
    const std::uint32_t row_bytes = bpp == 1 ? (width_px + 7) >> 3 : bpp == 4 ? (width_px + 1) >> 1 : width_px;
    const std::uint32_t pad = (0u - row_bytes) & 3u;
    const auto bad = [&](std::uint32_t index) {
        return message("a BMP pixel uses palette entry ", index, " of a ", psize,
                       "-entry palette (a corrupt or malicious file)");
    };
    for (std::uint32_t j = 0; j < height_px && pos < size; ++j) {
        if (bpp == 1) {
            int bit = 7;
            std::uint32_t v = get8();
            for (std::uint32_t i = 0; i < width_px; ++i) {
                if (((v >> bit) & 1u) >= static_cast<std::uint32_t>(psize)) return bad(1);
                if (i + 1 == width_px) break;
                if (--bit < 0) {
                    bit = 7;
                    v = get8();
                }
            }
        } else {
            for (std::uint32_t i = 0; i < width_px; i += 2) {
                std::uint32_t v = get8(), v2 = 0;
                if (bpp == 4) {
                    v2 = v & 15;
                    v >>= 4;
                }
                if (v >= static_cast<std::uint32_t>(psize)) return bad(v);
                if (i + 1 == width_px) break;
                v = bpp == 8 ? get8() : v2;
                if (v >= static_cast<std::uint32_t>(psize)) return bad(v);
            }
        }
        pos += pad;  // stb's skip; past the end every index reads as 0, which is always present
    }
    return {};
}

/// For a PNG, the first chunk up to IEND whose declared length runs past the end of the file, as
/// a message; an empty string when every chunk fits.
inline std::string png_chunk_problem(const std::uint8_t* bytes, std::size_t size) {
    for (std::size_t pos = 8; pos + 8 <= size;) {
        const std::uint32_t length = (std::uint32_t{bytes[pos]} << 24) | (std::uint32_t{bytes[pos + 1]} << 16) |
                                     (std::uint32_t{bytes[pos + 2]} << 8) | bytes[pos + 3];
        const std::string type(bytes + pos + 4, bytes + pos + 8);
        if (length > size - pos - 8) {
            const bool letters = std::all_of(type.begin(), type.end(), [](char c) {
                return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
            });
            return message("truncated PNG: ", letters ? "its '" + type + "' chunk" : std::string("a chunk"), " declares ",
                           length, " bytes and the file holds ", size - pos - 8, " after the chunk's header");
        }
        if (type == "IEND") break;
        pos += 12 + static_cast<std::size_t>(length);
    }
    return {};
}

/// CRC-32 (ISO-HDLC, PNG's chunk checksum) of `size` bytes, continuing from `crc`.
inline std::uint32_t png_crc32(const std::uint8_t* bytes, std::size_t size, std::uint32_t crc = 0) {
    crc = ~crc;
    for (std::size_t i = 0; i < size; ++i) {
        crc ^= bytes[i];
        for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
    }
    return ~crc;
}

/// For a palette PNG whose PLTE chunk holds fewer than 256 entries, a copy of the file with the
/// palette padded to 256 black entries (so that stb never reads an entry the file did not give);
/// an empty vector when the file needs no copy.
inline std::vector<std::uint8_t> pad_png_palettes(const std::uint8_t* bytes, std::size_t size) {
    const auto be32 = [&](std::size_t at) {
        return (std::uint32_t{bytes[at]} << 24) | (std::uint32_t{bytes[at + 1]} << 16) |
               (std::uint32_t{bytes[at + 2]} << 8) | bytes[at + 3];
    };
    // IHDR first, 13 bytes, colour type 3 (palette) at its byte 9.
    if (size < 8 + 8 + 13 || be32(8) != 13 || std::string(bytes + 12, bytes + 16) != "IHDR" || bytes[16 + 9] != 3)
        return {};
    std::vector<std::uint8_t> out;
    std::size_t copied = 0;  // bytes of the input already in `out`
    for (std::size_t pos = 8; pos + 12 <= size;) {
        const std::uint32_t length = be32(pos);
        if (length > size - pos - 12) break;  // truncated: stb reports it
        if (std::string(bytes + pos + 4, bytes + pos + 8) == "PLTE" && length % 3 == 0 && length < 768) {
            out.insert(out.end(), bytes + copied, bytes + pos);
            const std::uint8_t header[8] = {0, 0, 0x03, 0x00, 'P', 'L', 'T', 'E'};  // 768 bytes
            out.insert(out.end(), header, header + 8);
            const std::size_t data = out.size();
            out.insert(out.end(), bytes + pos + 8, bytes + pos + 8 + length);
            out.resize(data + 768, 0);
            const std::uint32_t crc = png_crc32(out.data() + data - 4, 4 + 768);
            for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<std::uint8_t>(crc >> shift));
            copied = pos + 12 + length;
        }
        pos += 12 + length;
    }
    if (out.empty()) return {};
    out.insert(out.end(), bytes + copied, bytes + size);
    return out;
}

/// Throws io_error when `bytes`, a file of the given format, holds a structure that any decoder
/// must refuse and on which the stb version xai links would misbehave (see the top of this file):
/// run before whichever decoder reads the file, so that both give the same error.
/// `source` names the file, `where` the caller.
inline void require_well_formed(const std::uint8_t* bytes, std::size_t size, ImageFormat format,
                                const std::string& source, const char* where) {
    if (format == ImageFormat::jpeg) {
        const std::size_t soi_end = jpeg_start_of_image_end(bytes, size);
        if (!jpeg_huffman_tables_valid(bytes + soi_end - 2, size - (soi_end - 2)))
            throw io_error(message(where, ": cannot read ", source,
                                   ": a JPEG Huffman table declares more than 256 codes (a corrupt or malicious file)"));
    }
    if (format == ImageFormat::pnm) {
        const PnmHeader header = read_pnm_header(bytes, size);
        if (!header.numbers_fit)
            throw io_error(message(where, ": cannot read ", source,
                                   ": a PNM header number exceeds 2147483647 (a corrupt or malicious file)"));
        if (!pnm_pixels_present(header, bytes[1] == '6', size))
            throw io_error(message(where, ": cannot decode ", source, ": truncated PNM: its header declares ",
                                   header.width, "x", header.height, " pixels (maxval ", header.maxval,
                                   ") and the file ends before them"));
    }
    if (format == ImageFormat::png) {
        const std::string problem = png_chunk_problem(bytes, size);
        if (!problem.empty()) throw io_error(message(where, ": cannot decode ", source, ": ", problem));
    }
    if (format == ImageFormat::bmp) {
        const std::string problem = bmp_palette_problem(bytes, size);
        if (!problem.empty()) throw io_error(message(where, ": cannot decode ", source, ": ", problem));
    }
}

}  // namespace xai::detail
