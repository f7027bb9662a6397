#pragma once
// A dry run of stb_image 2.27's JPEG decoder over a file's markers and entropy-coded data, to
// refuse, before stb decodes it, a file on which stb would compute a DC coefficient with signed
// overflow or read a table the file never defined.
//
// The overflow (found by fuzz_image_decode, issue 23: UBSan, stb_image.h:2197). stb predicts
// each block's DC coefficient from the previous block's, `dc = dc_pred + diff`, and dequantises
// it as `dc * dequant[0]` in int. In a valid 8-bit JPEG the quantised DC coefficient stays within
// ±2047 (ITU-T T.81 F.1.2.1: 8-bit samples give coefficients of at most 11 bits), but nothing in
// stb keeps a corrupt file there: a scan whose differences keep the same sign walks `dc` past
// 2^31 / dequant[0] within a few thousand blocks, and the multiplication overflows (undefined
// behaviour; in practice a wrapped value and a wrong pixel, but the compiler owes nothing).
// Progressive files have the same product as `dc * (1 << succ_low)`. The prediction itself,
// `dc_pred + diff`, can overflow too in a long enough scan.
//
// Why a dry run and not a simpler bound. Whether `dc` leaves the range depends on every
// difference decoded so far, and finding each block's difference means decoding every Huffman
// code before it, AC codes included. A static bound (largest DC category × blocks between
// restarts × largest quantiser) refuses ordinary photos: a 2048×2048 image at quality 75 already
// reaches it. So this file decodes the entropy-coded data exactly as stb does — its bit reader
// (stbi__grow_buffer_unsafe, with its handling of markers and of data that ends early), its
// Huffman decoder with the fast lookup tables built the same way (stbi__build_huffman,
// stbi__build_fast_ac: the fast AC path consumes bits without the check the slow path makes, so
// a simpler decoder would stop where stb goes on), its restart handling — without the IDCT,
// upsampling and colour conversion, and refuses the file at the first DC value stb could not
// compute. The functions below are stb's, line for line, in the same order, under their stb
// names; where stb would fail on its own, the dry run stops and lets stb fail.
//
// Undefined tables. stb allocates its decoder state with malloc and does not clear it, so a
// scan that uses a Huffman table, or a quantization table, that no DHT or DQT segment defined
// reads uninitialised memory, and the picture then holds leftover heap bytes. Valid files define
// every table before the scan that uses it (T.81 B.2.4), so such a file is refused as well.
//
// Where the dry run may disagree with stb. Only scans that change a DC prediction are decoded
// (sequential scans, and progressive first DC scans); after any scan the next marker is found by
// skipping to the first marker that is neither byte stuffing nor a restart marker. When stb goes
// on after a scan, that is the marker stb reads next: stb's bit reader stops at the first such
// marker, and if it ends a scan before it, stb fails unless the next 0xFF it meets starts that
// marker. When stb fails after a scan, the dry run may still read further and refuse the file for
// what it finds there, so the caller gets an io_error either way. fuzz_image_decode runs stb under
// UndefinedBehaviorSanitizer behind this check, which is how a disagreement would show.

#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>

namespace xai::detail::stb_jpeg {

/// What the dry run concluded.
struct Verdict {
    bool refuse = false;  ///< true: stb must not see the file
    std::string reason;   ///< why, for the io_error message
};

/// stbi__context over a memory buffer: get8 returns 0 past the end without moving, skip may
/// move past the end.
struct Reader {
    const std::uint8_t* data;
    std::size_t size;
    std::size_t pos = 0;

    std::uint8_t get8() { return pos < size ? data[pos++] : std::uint8_t{0}; }
    int get16be() {
        const int z = get8();
        return (z << 8) + get8();
    }
    bool at_eof() const { return pos >= size; }
    void skip(int n) {
        if (n == 0) return;
        if (n < 0) {
            pos = size;
            return;
        }
        pos += static_cast<std::size_t>(n);
    }
};

constexpr int fast_bits = 9;  // stb's FAST_BITS
constexpr std::uint8_t marker_none = 0xFF;

/// stbi__huffman, plus whether a DHT segment has defined it.
struct Huffman {
    bool defined = false;
    std::array<std::uint8_t, 1 << fast_bits> fast{};
    std::array<std::uint16_t, 256> code{};
    std::array<std::uint8_t, 256> values{};
    std::array<std::uint8_t, 257> size{};
    std::array<std::uint32_t, 18> maxcode{};
    std::array<int, 17> delta{};
};

constexpr std::array<std::uint8_t, 64 + 15> dezigzag = {
    0,  1,  8,  16, 9,  2,  3,  10, 17, 24, 32, 25, 18, 11, 4,  5,  12, 19, 26, 33, 40, 48, 41, 34, 27, 20,
    13, 6,  7,  14, 21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59, 52, 45,
    38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63};

constexpr std::array<std::uint32_t, 17> bmask = {0,   1,    3,    7,    15,   31,    63,    127,  255,
                                                 511, 1023, 2047, 4095, 8191, 16383, 32767, 65535};
constexpr std::array<int, 16> jbias = {0,    -1,    -3,    -7,    -15,   -31,   -63,    -127,
                                       -255, -511, -1023, -2047, -4095, -8191, -16383, -32767};

constexpr std::uint32_t lrot(std::uint32_t x, int y) { return (x << y) | (x >> (-y & 31)); }

/// The state of stb's JPEG decoder that decides which bits it reads and what it predicts.
class DryRun {
public:
    DryRun(const std::uint8_t* bytes, std::size_t size) : s_{bytes, size} {}

    /// Runs stbi__decode_jpeg_image's loop over the whole file.
    Verdict run() {
        if (!decode_header()) return {};
        int m = get_marker();
        while (m != 0xD9) {  // EOI
            if (m == 0xDA) {  // SOS
                if (!process_scan_header()) return verdict_;
                const std::size_t data_start = s_.pos;
                if (!scan()) return verdict_;
                // The marker stb reads after the scan (see the top of this file).
                s_.pos = data_start;
                marker_ = next_marker_after_scan();
                if (marker_ == marker_none) return {};  // no marker before the end: stb fails
            } else if (m == 0xDC) {  // DNL
                const int ld = s_.get16be();
                const int nl = s_.get16be();
                if (ld != 4 || nl != img_y_) return {};
            } else if (!process_marker(m)) {
                return verdict_;
            }
            m = get_marker();
        }
        if (progressive_)  // stbi__jpeg_finish dequantises every component with its table
            for (int i = 0; i < img_n_; ++i)
                if (!dequant_defined_[static_cast<std::size_t>(comp_[i].tq)])
                    return refuse("a component uses quantization table " + std::to_string(comp_[i].tq) +
                                  ", which the file never defines (stb would read uninitialised memory)");
        return {};
    }

private:
    struct Component {
        int id = 0, h = 1, v = 1, tq = 0, hd = 0, ha = 0, x = 0, y = 0;
        long long dc_pred = 0;
    };

    Verdict refuse(std::string reason) {
        verdict_ = {true, std::move(reason)};
        return verdict_;
    }
    bool fail_refusing(std::string reason) {
        refuse(std::move(reason));
        return false;
    }

    // ---- stbi__get_marker, stbi__decode_jpeg_header, stbi__process_marker ----------------------

    int get_marker() {
        if (marker_ != marker_none) {
            const int x = marker_;
            marker_ = marker_none;
            return x;
        }
        int x = s_.get8();
        if (x != 0xFF) return marker_none;
        while (x == 0xFF) x = s_.get8();
        return x;
    }

    bool decode_header() {
        marker_ = marker_none;
        int m = get_marker();
        if (m != 0xD8) return false;
        m = get_marker();
        while (m != 0xC0 && m != 0xC1 && m != 0xC2) {
            if (!process_marker(m)) return false;
            m = get_marker();
            while (m == marker_none) {
                if (s_.at_eof()) return false;
                m = get_marker();
            }
        }
        progressive_ = m == 0xC2;
        return process_frame_header();
    }

    bool process_marker(int m) {
        int length = 0;
        switch (m) {
            case marker_none: return false;
            case 0xDD:  // DRI
                if (s_.get16be() != 4) return false;
                restart_interval_ = s_.get16be();
                return true;
            case 0xDB:  // DQT
                length = s_.get16be() - 2;
                while (length > 0) {
                    const int q = s_.get8();
                    const int p = q >> 4, t = q & 15;
                    if ((p != 0 && p != 1) || t > 3) return false;
                    for (int i = 0; i < 64; ++i) {
                        const int value = p != 0 ? s_.get16be() : s_.get8();
                        if (i == 0) dc_quant_[static_cast<std::size_t>(t)] = value;  // dezigzag[0] is 0
                    }
                    dequant_defined_[static_cast<std::size_t>(t)] = true;
                    length -= p != 0 ? 129 : 65;
                }
                return length == 0;
            case 0xC4:  // DHT
                length = s_.get16be() - 2;
                while (length > 0) {
                    const int q = s_.get8();
                    const int tc = q >> 4, th = q & 15;
                    if (tc > 1 || th > 3) return false;
                    std::array<int, 16> sizes{};
                    int n = 0;
                    for (int& count : sizes) {
                        count = s_.get8();
                        n += count;
                    }
                    if (n > 256)  // stb writes past its tables (stb_guard.hpp refuses these first)
                        return fail_refusing("a JPEG Huffman table declares more than 256 codes");
                    length -= 17;
                    Huffman& table = tc == 0 ? huff_dc_[static_cast<std::size_t>(th)] : huff_ac_[static_cast<std::size_t>(th)];
                    if (!build_huffman(table, sizes)) return false;
                    for (int i = 0; i < n; ++i) table.values[static_cast<std::size_t>(i)] = s_.get8();
                    if (tc != 0) build_fast_ac(fast_ac_[static_cast<std::size_t>(th)], table);
                    length -= n;
                }
                return length == 0;
            default: break;
        }
        if ((m >= 0xE0 && m <= 0xEF) || m == 0xFE) {  // APPn, COM: stb reads or skips all L − 2 bytes
            length = s_.get16be();
            if (length < 2) return false;
            s_.skip(length - 2);
            return true;
        }
        return false;  // "unknown marker"
    }

    bool process_frame_header() {
        const int lf = s_.get16be();
        if (lf < 11) return false;
        if (s_.get8() != 8) return false;
        img_y_ = s_.get16be();
        if (img_y_ == 0) return false;
        img_x_ = s_.get16be();
        if (img_x_ == 0) return false;
        img_n_ = s_.get8();
        if (img_n_ != 3 && img_n_ != 1 && img_n_ != 4) return false;
        if (lf != 8 + 3 * img_n_) return false;
        for (int i = 0; i < img_n_; ++i) {
            Component& c = comp_[i];
            c.id = s_.get8();
            const int q = s_.get8();
            c.h = q >> 4;
            c.v = q & 15;
            c.tq = s_.get8();
            if (c.h == 0 || c.h > 4 || c.v == 0 || c.v > 4 || c.tq > 3) return false;
        }
        // stbi__mad3sizes_valid(img_x, img_y, img_n, 0)
        const long long pixels = static_cast<long long>(img_x_) * img_y_;
        if (pixels > std::numeric_limits<int>::max() || pixels * img_n_ > std::numeric_limits<int>::max()) return false;
        int h_max = 1, v_max = 1;
        for (int i = 0; i < img_n_; ++i) {
            h_max = std::max(h_max, comp_[i].h);
            v_max = std::max(v_max, comp_[i].v);
        }
        for (int i = 0; i < img_n_; ++i)
            if (h_max % comp_[i].h != 0 || v_max % comp_[i].v != 0) return false;
        mcu_x_ = (img_x_ + h_max * 8 - 1) / (h_max * 8);
        mcu_y_ = (img_y_ + v_max * 8 - 1) / (v_max * 8);
        for (int i = 0; i < img_n_; ++i) {
            comp_[i].x = (img_x_ * comp_[i].h + h_max - 1) / h_max;
            comp_[i].y = (img_y_ * comp_[i].v + v_max - 1) / v_max;
        }
        return true;
    }

    bool process_scan_header() {
        const int ls = s_.get16be();
        scan_n_ = s_.get8();
        if (scan_n_ < 1 || scan_n_ > 4 || scan_n_ > img_n_) return false;
        if (ls != 6 + 2 * scan_n_) return false;
        for (int i = 0; i < scan_n_; ++i) {
            const int id = s_.get8(), q = s_.get8();
            int which = 0;
            while (which < img_n_ && comp_[which].id != id) ++which;
            if (which == img_n_) return false;
            comp_[which].hd = q >> 4;
            comp_[which].ha = q & 15;
            if (comp_[which].hd > 3 || comp_[which].ha > 3) return false;
            order_[i] = which;
        }
        spec_start_ = s_.get8();
        spec_end_ = s_.get8();
        const int aa = s_.get8();
        succ_high_ = aa >> 4;
        succ_low_ = aa & 15;
        if (progressive_) {
            if (spec_start_ > 63 || spec_end_ > 63 || spec_start_ > spec_end_ || succ_high_ > 13 || succ_low_ > 13)
                return false;
        } else {
            if (spec_start_ != 0 || succ_high_ != 0 || succ_low_ != 0) return false;
            spec_end_ = 63;
        }
        // The tables the scan's blocks will read (stbi__parse_entropy_coded_data).
        const bool dc_scan = !progressive_ || spec_start_ == 0;
        for (int i = 0; i < scan_n_; ++i) {
            const Component& c = comp_[order_[i]];
            if (dc_scan && (!progressive_ || succ_high_ == 0) && !huff_dc_[static_cast<std::size_t>(c.hd)].defined)
                return fail_refusing(undefined("Huffman table", "DC", c.hd));
            if ((!progressive_ || (!dc_scan && scan_n_ == 1)) && !huff_ac_[static_cast<std::size_t>(c.ha)].defined)
                return fail_refusing(undefined("Huffman table", "AC", c.ha));
            if (!progressive_ && !dequant_defined_[static_cast<std::size_t>(c.tq)])
                return fail_refusing(undefined("quantization table", "", c.tq));
        }
        return true;
    }

    static std::string undefined(const char* what, const char* kind, int index) {
        return std::string("a scan uses ") + (*kind != '\0' ? std::string(kind) + " " : "") + what + " " +
               std::to_string(index) + ", which the file never defines (stb would read uninitialised memory)";
    }

    // ---- stbi__build_huffman, stbi__build_fast_ac -------------------------------------------

    static bool build_huffman(Huffman& h, const std::array<int, 16>& count) {
        int k = 0;
        for (int i = 0; i < 16; ++i)
            for (int j = 0; j < count[static_cast<std::size_t>(i)]; ++j)
                h.size[static_cast<std::size_t>(k++)] = static_cast<std::uint8_t>(i + 1);
        h.size[static_cast<std::size_t>(k)] = 0;
        std::uint32_t code = 0;
        k = 0;
        int j = 1;
        for (; j <= 16; ++j) {
            h.delta[static_cast<std::size_t>(j)] = static_cast<int>(static_cast<std::uint32_t>(k) - code);
            if (h.size[static_cast<std::size_t>(k)] == j) {
                while (h.size[static_cast<std::size_t>(k)] == j) h.code[static_cast<std::size_t>(k++)] = static_cast<std::uint16_t>(code++);
                if (code - 1 >= (1u << j)) return false;
            }
            h.maxcode[static_cast<std::size_t>(j)] = code << (16 - j);
            code <<= 1;
        }
        h.maxcode[static_cast<std::size_t>(j)] = 0xFFFFFFFFu;
        h.fast.fill(255);
        for (int i = 0; i < k; ++i) {
            const int s = h.size[static_cast<std::size_t>(i)];
            if (s <= fast_bits) {
                const int c = h.code[static_cast<std::size_t>(i)] << (fast_bits - s);
                const int m = 1 << (fast_bits - s);
                for (int f = 0; f < m; ++f) h.fast[static_cast<std::size_t>(c + f)] = static_cast<std::uint8_t>(i);
            }
        }
        h.defined = true;
        return true;
    }

    static void build_fast_ac(std::array<std::int16_t, 1 << fast_bits>& fast_ac, const Huffman& h) {
        for (int i = 0; i < (1 << fast_bits); ++i) {
            const std::uint8_t fast = h.fast[static_cast<std::size_t>(i)];
            fast_ac[static_cast<std::size_t>(i)] = 0;
            if (fast < 255) {
                const int rs = h.values[fast];
                const int run = (rs >> 4) & 15, magbits = rs & 15, len = h.size[fast];
                if (magbits != 0 && len + magbits <= fast_bits) {
                    int k = ((i << len) & ((1 << fast_bits) - 1)) >> (fast_bits - magbits);
                    const int m = 1 << (magbits - 1);
                    if (k < m) k -= (1 << magbits) - 1;  // stb: k += (~0U << magbits) + 1
                    if (k >= -128 && k <= 127)
                        fast_ac[static_cast<std::size_t>(i)] = static_cast<std::int16_t>(k * 256 + run * 16 + len + magbits);
                }
            }
        }
    }

    // ---- the bit reader: stbi__grow_buffer_unsafe, stbi__jpeg_huff_decode, … -----------------

    void grow_buffer_unsafe() {
        do {
            const std::uint32_t b = nomore_ ? 0u : s_.get8();
            if (b == 0xFF) {
                int c = s_.get8();
                while (c == 0xFF) c = s_.get8();
                if (c != 0) {
                    marker_ = static_cast<std::uint8_t>(c);
                    nomore_ = true;
                    return;
                }
            }
            // After a marker stb's bit count can be negative (nothings/stb#1293) and the shift
            // then exceeds 31, but b is 0 there: shifting in nothing is what stb's code does.
            const int shift = 24 - code_bits_;
            if (shift < 32) code_buffer_ |= b << shift;
            code_bits_ += 8;
        } while (code_bits_ <= 24);
    }

    int huff_decode(const Huffman& h) {
        if (code_bits_ < 16) grow_buffer_unsafe();
        int c = static_cast<int>((code_buffer_ >> (32 - fast_bits)) & ((1u << fast_bits) - 1));
        int k = h.fast[static_cast<std::size_t>(c)];
        if (k < 255) {
            const int s = h.size[static_cast<std::size_t>(k)];
            if (s > code_bits_) return -1;
            code_buffer_ <<= s;
            code_bits_ -= s;
            return h.values[static_cast<std::size_t>(k)];
        }
        const std::uint32_t temp = code_buffer_ >> 16;
        for (k = fast_bits + 1;; ++k)
            if (temp < h.maxcode[static_cast<std::size_t>(k)]) break;
        if (k == 17) {
            code_bits_ -= 16;
            return -1;
        }
        if (k > code_bits_) return -1;
        c = static_cast<int>(((code_buffer_ >> (32 - k)) & bmask[static_cast<std::size_t>(k)]) +
                             static_cast<std::uint32_t>(h.delta[static_cast<std::size_t>(k)]));
        if (c < 0 || c > 255) return -2;  // cannot happen with canonical codes; refused if it does
        code_bits_ -= k;
        code_buffer_ <<= k;
        return h.values[static_cast<std::size_t>(c)];
    }

    int extend_receive(int n) {
        if (code_bits_ < n) grow_buffer_unsafe();
        const int sgn = static_cast<int>(code_buffer_ >> 31);
        std::uint32_t k = lrot(code_buffer_, n);
        code_buffer_ = k & ~bmask[static_cast<std::size_t>(n)];
        k &= bmask[static_cast<std::size_t>(n)];
        code_bits_ -= n;
        return static_cast<int>(k) + (jbias[static_cast<std::size_t>(n)] & (sgn - 1));
    }

    // ---- stbi__jpeg_reset, stbi__jpeg_decode_block, stbi__jpeg_decode_block_prog_dc -----------

    void reset() {
        code_bits_ = 0;
        code_buffer_ = 0;
        nomore_ = false;
        for (Component& c : comp_) c.dc_pred = 0;
        marker_ = marker_none;
        todo_ = restart_interval_ != 0 ? restart_interval_ : 0x7FFFFFFF;
    }

    /// Adds `diff` to component b's prediction and checks what stb then computes with it;
    /// `scale` is dequant[0] (sequential) or 1 << succ_low (progressive).
    bool predict(int b, int diff, long long scale, const char* product) {
        Component& c = comp_[b];
        const long long dc = c.dc_pred + diff;
        constexpr long long lo = std::numeric_limits<int>::min(), hi = std::numeric_limits<int>::max();
        if (dc < lo || dc > hi || dc * scale < lo || dc * scale > hi)
            return fail_refusing("a JPEG DC coefficient accumulates to " + std::to_string(dc) + ", and " + product +
                                 " would overflow in stb's decoder (a corrupt or malicious file)");
        c.dc_pred = dc;
        return true;
    }

    bool decode_block(int b) {
        const Component& comp = comp_[b];
        if (code_bits_ < 16) grow_buffer_unsafe();
        const int t = huff_decode(huff_dc_[static_cast<std::size_t>(comp.hd)]);
        if (t == -2) return fail_refusing("a JPEG Huffman code stb would decode out of its table");
        if (t < 0 || t > 15) return false;
        const int diff = t != 0 ? extend_receive(t) : 0;
        if (!predict(b, diff, dc_quant_[static_cast<std::size_t>(comp.tq)], "its dequantisation (dc * dequant[0])"))
            return false;
        const Huffman& hac = huff_ac_[static_cast<std::size_t>(comp.ha)];
        const auto& fac = fast_ac_[static_cast<std::size_t>(comp.ha)];
        int k = 1;
        do {
            if (code_bits_ < 16) grow_buffer_unsafe();
            const int c = static_cast<int>((code_buffer_ >> (32 - fast_bits)) & ((1u << fast_bits) - 1));
            const int r = fac[static_cast<std::size_t>(c)];
            if (r != 0) {  // fast-AC path
                k += (r >> 4) & 15;
                const int s = r & 15;
                code_buffer_ <<= s;
                code_bits_ -= s;
                ++k;  // the coefficient's value cannot overflow: |r >> 8| ≤ 128, dequant ≤ 65535
            } else {
                const int rs = huff_decode(hac);
                if (rs == -2) return fail_refusing("a JPEG Huffman code stb would decode out of its table");
                if (rs < 0) return false;
                const int s = rs & 15, run = rs >> 4;
                if (s == 0) {
                    if (rs != 0xF0) break;  // end of block
                    k += 16;
                } else {
                    k += run;
                    ++k;
                    extend_receive(s);  // |value| ≤ 32767, times dequant ≤ 65535: below 2^31
                }
            }
        } while (k < 64);
        return true;
    }

    bool decode_block_prog_dc(int b) {
        if (spec_end_ != 0) return false;
        if (code_bits_ < 16) grow_buffer_unsafe();
        const int t = huff_decode(huff_dc_[static_cast<std::size_t>(comp_[b].hd)]);
        if (t == -2) return fail_refusing("a JPEG Huffman code stb would decode out of its table");
        if (t < 0 || t > 15) return false;
        const int diff = t != 0 ? extend_receive(t) : 0;
        return predict(b, diff, 1LL << succ_low_, "dc * (1 << succ_low)");
    }

    /// After each MCU: stb counts down the restart interval and expects a restart marker.
    /// Returns false when stb ends the scan there.
    bool restart_countdown() {
        if (--todo_ <= 0) {
            if (code_bits_ < 24) grow_buffer_unsafe();
            if (marker_ < 0xD0 || marker_ > 0xD7) return false;
            reset();
        }
        return true;
    }

    /// stbi__parse_entropy_coded_data for the scans that change a DC prediction; returns false
    /// when the dry run stops (stb fails, or the file is refused: see verdict_).
    bool scan() {
        reset();
        if (progressive_ && (spec_start_ != 0 || succ_high_ != 0)) return true;  // no DC prediction
        const auto block = [&](int n) { return progressive_ ? decode_block_prog_dc(n) : decode_block(n); };
        if (scan_n_ == 1) {
            const int n = order_[0];
            const int w = (comp_[n].x + 7) >> 3, h = (comp_[n].y + 7) >> 3;
            for (int j = 0; j < h; ++j)
                for (int i = 0; i < w; ++i) {
                    if (!block(n)) return false;
                    if (!restart_countdown()) return true;
                }
            return true;
        }
        for (int j = 0; j < mcu_y_; ++j)
            for (int i = 0; i < mcu_x_; ++i) {
                for (int k = 0; k < scan_n_; ++k) {
                    const int n = order_[k];
                    for (int y = 0; y < comp_[n].v; ++y)
                        for (int x = 0; x < comp_[n].h; ++x)
                            if (!block(n)) return false;
                }
                if (!restart_countdown()) return true;
            }
        return true;
    }

    /// From the start of a scan's entropy-coded data, the first marker that is neither byte
    /// stuffing (0xFF 0x00) nor a restart marker; the reader is left just past it.
    std::uint8_t next_marker_after_scan() {
        while (s_.pos < s_.size) {
            if (s_.data[s_.pos++] != 0xFF) continue;
            while (s_.pos < s_.size && s_.data[s_.pos] == 0xFF) ++s_.pos;  // fill bytes
            if (s_.pos >= s_.size) break;
            const std::uint8_t m = s_.data[s_.pos++];
            if (m != 0x00 && (m < 0xD0 || m > 0xD7)) return m;
        }
        return marker_none;
    }

    Reader s_;
    Verdict verdict_;
    std::array<Huffman, 4> huff_dc_{}, huff_ac_{};
    std::array<std::array<std::int16_t, 1 << fast_bits>, 4> fast_ac_{};
    std::array<int, 4> dc_quant_{};
    std::array<bool, 4> dequant_defined_{};
    std::array<Component, 4> comp_{};
    std::array<int, 4> order_{};
    int img_x_ = 0, img_y_ = 0, img_n_ = 0, mcu_x_ = 0, mcu_y_ = 0;
    int scan_n_ = 0, spec_start_ = 0, spec_end_ = 0, succ_high_ = 0, succ_low_ = 0;
    int restart_interval_ = 0, todo_ = 0;
    bool progressive_ = false;
    std::uint32_t code_buffer_ = 0;
    int code_bits_ = 0;
    std::uint8_t marker_ = marker_none;
    bool nomore_ = false;
};

/// Runs the dry run over a JPEG stream (from its first byte) and says whether stb may decode it.
inline Verdict check(const std::uint8_t* bytes, std::size_t size) { return DryRun(bytes, size).run(); }

}  // namespace xai::detail::stb_jpeg
