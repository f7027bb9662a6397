#pragma once
// The .xaiw weights format of the built-in CNN: a header that describes the architecture
// completely (so a file rebuilds its model), the parameter tensors' names and shapes, the
// float32 data, and a CRC-32 of everything. docs/models.md lists it byte by byte:
//
//   magic    8 bytes  "XAIW" 0x0D 0x0A 0x1A 0x0A (PNG-style: catches text-mode mangling)
//   version  u32      1
//   input    u32 ×3   channels, height, width
//   classes  u32      number of outputs of the last layer
//   l2       f64      λ of the training objective (BasicSequential::l2_regularization())
//   layers   u32 L, then L records: u8 kind (LayerKind), u8 name length n, n name bytes,
//                     u32 units, u32 kernel, u32 stride, u32 padding
//   tensors  u32 T, then T records: u8 name length n, n name bytes, u8 rank r (1..4), u32 × r extents
//   data     the T tensors' values, in record order, row-major, float32
//   crc      u32      CRC-32 (IEEE 802.3, as zlib's crc32) of every byte before it
//
// Every integer and float is little-endian whatever the host. Reading checks the magic, the
// version, each count and extent against the bytes the file really has BEFORE allocating, the
// total size and the checksum; any failure is an io_error that names the file and the problem.

#include <array>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <string>
#include <vector>

#include "xai/core/error.hpp"
#include "xai/core/tensor.hpp"
#include "xai/models/sequential/layers.hpp"

namespace xai::models {

/// One named parameter tensor ("conv1.weight", O×C×k×k).
struct NamedTensor {
    std::string name;                ///< e.g. "conv1.weight", "fc.bias"
    std::vector<std::size_t> shape;  ///< the extents, PyTorch's layout (rank 1 to 4)
    std::vector<float> values;       ///< the values, row-major
};

/// The content of a .xaiw file.
struct WeightsFile {
    ImageShape input;                   ///< the model's input shape, C×H×W
    std::size_t num_classes = 0;        ///< outputs of the last layer
    double l2_regularization = 0.0;     ///< λ of the training objective
    std::vector<LayerSpec> layers;      ///< the architecture, first layer to last
    std::vector<NamedTensor> tensors;   ///< the parameter tensors, in file order
};

/// The first 8 bytes of a .xaiw file: "XAIW" 0x0D 0x0A 0x1A 0x0A (PNG-style).
inline constexpr std::array<unsigned char, 8> weights_magic = {'X', 'A', 'I', 'W', 0x0D, 0x0A, 0x1A, 0x0A};
/// The format version this code reads and writes.
inline constexpr std::uint32_t weights_version = 1;

namespace detail {

using xai::detail::message;
using xai::detail::require;

/// CRC-32 with the reflected IEEE polynomial 0xEDB88320 (the checksum of zlib, PNG and gzip).
inline std::uint32_t crc32(const unsigned char* data, std::size_t size) {
    static const std::array<std::uint32_t, 256> table = [] {
        std::array<std::uint32_t, 256> t{};
        for (std::uint32_t i = 0; i < 256; ++i) {
            std::uint32_t c = i;
            for (int k = 0; k < 8; ++k) c = (c & 1u) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            t[i] = c;
        }
        return t;
    }();
    std::uint32_t crc = 0xFFFFFFFFu;
    for (std::size_t i = 0; i < size; ++i) crc = table[(crc ^ data[i]) & 0xFFu] ^ (crc >> 8);
    return crc ^ 0xFFFFFFFFu;
}

class ByteWriter {
public:
    void u8(std::uint8_t v) { bytes_.push_back(v); }
    void u32(std::uint32_t v) {
        for (int i = 0; i < 4; ++i) bytes_.push_back(static_cast<unsigned char>((v >> (8 * i)) & 0xFFu));
    }
    void f32(float v) { u32(std::bit_cast<std::uint32_t>(v)); }
    void f64(double v) {
        const auto bits = std::bit_cast<std::uint64_t>(v);
        u32(static_cast<std::uint32_t>(bits & 0xFFFFFFFFu));
        u32(static_cast<std::uint32_t>(bits >> 32));
    }
    void raw(const void* data, std::size_t n) {
        const auto* p = static_cast<const unsigned char*>(data);
        bytes_.insert(bytes_.end(), p, p + n);
    }
    std::vector<unsigned char>& bytes() { return bytes_; }

private:
    std::vector<unsigned char> bytes_;
};

class ByteReader {
public:
    ByteReader(const std::vector<unsigned char>& bytes, std::size_t end, std::string file)
        : bytes_(bytes), end_(end), file_(std::move(file)) {}

    std::size_t remaining() const { return end_ - pos_; }
    void need(std::size_t n, const char* what) const {
        if (n > remaining())
            throw io_error(message("xai::models::load(): '", file_, "' is truncated: ", what, " needs ", n,
                                   " more bytes, the file has ", remaining()));
    }
    std::uint8_t u8(const char* what) {
        need(1, what);
        return bytes_[pos_++];
    }
    std::uint32_t u32(const char* what) {
        need(4, what);
        std::uint32_t v = 0;
        for (int i = 0; i < 4; ++i) v |= static_cast<std::uint32_t>(bytes_[pos_ + i]) << (8 * i);
        pos_ += 4;
        return v;
    }
    double f64(const char* what) {
        const std::uint64_t low = u32(what), high = u32(what);
        return std::bit_cast<double>(low | (high << 32));
    }
    float f32() {
        std::uint32_t v = 0;
        for (int i = 0; i < 4; ++i) v |= static_cast<std::uint32_t>(bytes_[pos_ + i]) << (8 * i);
        pos_ += 4;
        return std::bit_cast<float>(v);
    }
    std::string text(std::size_t n, const char* what) {
        need(n, what);
        std::string s(reinterpret_cast<const char*>(bytes_.data() + pos_), n);
        pos_ += n;
        return s;
    }

private:
    const std::vector<unsigned char>& bytes_;
    std::size_t end_;
    std::size_t pos_ = 0;
    std::string file_;
};

inline std::uint32_t checked_u32(std::size_t v, const char* what) {
    require<invalid_argument>(v <= std::numeric_limits<std::uint32_t>::max(), "xai::models::save(): ", what, " = ", v,
                              " does not fit the format's 32-bit field");
    return static_cast<std::uint32_t>(v);
}

}  // namespace detail

/// Writes `file` to `path` in the .xaiw format (see the top of this header).
inline void write_weights_file(const WeightsFile& file, const std::filesystem::path& path) {
    detail::ByteWriter out;
    out.raw(weights_magic.data(), weights_magic.size());
    out.u32(weights_version);
    out.u32(detail::checked_u32(file.input.channels, "input channels"));
    out.u32(detail::checked_u32(file.input.height, "input height"));
    out.u32(detail::checked_u32(file.input.width, "input width"));
    out.u32(detail::checked_u32(file.num_classes, "classes"));
    out.f64(file.l2_regularization);
    out.u32(detail::checked_u32(file.layers.size(), "layer count"));
    for (const LayerSpec& l : file.layers) {
        detail::require(!l.name.empty() && l.name.size() <= 255, "xai::models::save(): layer name '", l.name,
                        "' has ", l.name.size(), " bytes, expected 1..255");
        out.u8(static_cast<std::uint8_t>(l.kind));
        out.u8(static_cast<std::uint8_t>(l.name.size()));
        out.raw(l.name.data(), l.name.size());
        out.u32(detail::checked_u32(l.units, "units"));
        out.u32(detail::checked_u32(l.kernel, "kernel"));
        out.u32(detail::checked_u32(l.stride, "stride"));
        out.u32(detail::checked_u32(l.padding, "padding"));
    }
    out.u32(detail::checked_u32(file.tensors.size(), "tensor count"));
    for (const NamedTensor& t : file.tensors) {
        detail::require(!t.name.empty() && t.name.size() <= 255, "xai::models::save(): tensor name '", t.name,
                        "' has ", t.name.size(), " bytes, expected 1..255");
        detail::require(!t.shape.empty() && t.shape.size() <= 4, "xai::models::save(): tensor '", t.name, "' has rank ",
                        t.shape.size(), ", expected 1..4");
        std::size_t count = 1;
        for (std::size_t e : t.shape) count *= e;
        detail::require(count == t.values.size(), "xai::models::save(): tensor '", t.name, "' has shape ",
                        shape_string(t.shape), " but ", t.values.size(), " values");
        out.u8(static_cast<std::uint8_t>(t.name.size()));
        out.raw(t.name.data(), t.name.size());
        out.u8(static_cast<std::uint8_t>(t.shape.size()));
        for (std::size_t e : t.shape) out.u32(detail::checked_u32(e, "tensor extent"));
    }
    for (const NamedTensor& t : file.tensors)
        for (float v : t.values) out.f32(v);
    const std::uint32_t crc = detail::crc32(out.bytes().data(), out.bytes().size());
    out.u32(crc);

    std::ofstream stream(path, std::ios::binary | std::ios::trunc);
    if (!stream) throw io_error(detail::message("xai::models::save(): cannot open '", path.string(), "' for writing"));
    stream.write(reinterpret_cast<const char*>(out.bytes().data()), static_cast<std::streamsize>(out.bytes().size()));
    stream.close();
    if (!stream) throw io_error(detail::message("xai::models::save(): writing '", path.string(), "' failed"));
}

/// Reads a .xaiw file; throws io_error for a missing, foreign, truncated, oversized or corrupt file.
inline WeightsFile read_weights_file(const std::filesystem::path& path) {
    const std::string name = path.string();
    std::ifstream stream(path, std::ios::binary);
    if (!stream) throw io_error(detail::message("xai::models::load(): cannot open '", name, "'"));
    // Reading the whole file allocates its real size, never a size the file merely declares.
    std::vector<unsigned char> bytes((std::istreambuf_iterator<char>(stream)), std::istreambuf_iterator<char>());
    if (bytes.size() < weights_magic.size() ||
        !std::equal(weights_magic.begin(), weights_magic.end(), bytes.begin()))
        throw io_error(detail::message("xai::models::load(): '", name,
                                       "' is not an xai weights file (expected the magic bytes \"XAIW\\r\\n\\x1a\\n\")"));
    if (bytes.size() < weights_magic.size() + 8)
        throw io_error(detail::message("xai::models::load(): '", name, "' is truncated: ", bytes.size(),
                                       " bytes, shorter than the header"));
    detail::ByteReader in(bytes, bytes.size() - 4, name);  // the last 4 bytes are the CRC
    in.text(weights_magic.size(), "the magic");
    const std::uint32_t version = in.u32("the version");
    if (version != weights_version)
        throw io_error(detail::message("xai::models::load(): '", name, "' has format version ", version,
                                       ", this build reads version ", weights_version));
    WeightsFile file;
    file.input.channels = in.u32("the input shape");
    file.input.height = in.u32("the input shape");
    file.input.width = in.u32("the input shape");
    file.num_classes = in.u32("the class count");
    file.l2_regularization = in.f64("the L2 regularization");
    if (!std::isfinite(file.l2_regularization) || file.l2_regularization < 0.0)
        throw io_error(detail::message("xai::models::load(): '", name, "' has L2 regularization ",
                                       file.l2_regularization, ", expected a finite value >= 0"));
    const std::uint32_t layer_count = in.u32("the layer count");
    // A layer record has at least 19 bytes; a count the file cannot hold is rejected before allocating.
    in.need(std::size_t{layer_count} * 19, "the layer records");
    file.layers.reserve(layer_count);
    for (std::uint32_t i = 0; i < layer_count; ++i) {
        LayerSpec spec;
        const std::uint8_t kind = in.u8("a layer record");
        if (kind < 1 || kind > 7)
            throw io_error(detail::message("xai::models::load(): '", name, "': layer ", i, " has unknown kind ",
                                           int{kind}, ", expected 1..7"));
        spec.kind = static_cast<LayerKind>(kind);
        spec.name = in.text(in.u8("a layer name"), "a layer name");
        spec.units = in.u32("a layer record");
        spec.kernel = in.u32("a layer record");
        spec.stride = in.u32("a layer record");
        spec.padding = in.u32("a layer record");
        file.layers.push_back(std::move(spec));
    }
    const std::uint32_t tensor_count = in.u32("the tensor count");
    in.need(std::size_t{tensor_count} * 7, "the tensor records");  // at least 7 bytes each
    file.tensors.resize(tensor_count);
    std::size_t total_values = 0;
    for (NamedTensor& t : file.tensors) {
        t.name = in.text(in.u8("a tensor name"), "a tensor name");
        const std::uint8_t rank = in.u8("a tensor rank");
        if (rank < 1 || rank > 4)
            throw io_error(detail::message("xai::models::load(): '", name, "': tensor '", t.name, "' has rank ",
                                           int{rank}, ", expected 1..4"));
        std::size_t count = 1;
        for (std::uint8_t r = 0; r < rank; ++r) {
            const std::size_t extent = in.u32("a tensor shape");
            t.shape.push_back(extent);
            count *= extent;  // at most (2^32)^4: checked against the file size below before any use
            if (count > bytes.size()) count = bytes.size() + 1;
        }
        total_values += count;
        if (total_values > bytes.size()) total_values = bytes.size() + 1;
    }
    if (total_values * 4 != in.remaining())
        throw io_error(detail::message("xai::models::load(): '", name, "' is ",
                                       total_values * 4 > in.remaining() ? "truncated" : "oversized",
                                       ": its tensors declare ", total_values * 4, " bytes of data, the file has ",
                                       in.remaining()));
    std::uint32_t stored_crc = 0;
    for (int i = 0; i < 4; ++i) stored_crc |= static_cast<std::uint32_t>(bytes[bytes.size() - 4 + i]) << (8 * i);
    if (stored_crc != detail::crc32(bytes.data(), bytes.size() - 4))
        throw io_error(detail::message("xai::models::load(): '", name,
                                       "' is corrupt: its CRC-32 does not match its content"));
    for (NamedTensor& t : file.tensors) {
        std::size_t count = 1;
        for (std::size_t e : t.shape) count *= e;
        t.values.resize(count);
        for (float& v : t.values) v = in.f32();
    }
    return file;
}

}  // namespace xai::models
