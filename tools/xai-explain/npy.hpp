#pragma once
// NumPy .npy files of float32 maps, the format xai-explain writes its raw maps in (docs/cli.md).
//
// Format version 1.0 (numpy/lib/format.py, NEP 1): the magic "\x93NUMPY", the version bytes
// 1 and 0, the header length as a little-endian uint16, then the header, an ASCII Python dict
//   {'descr': '<f4', 'fortran_order': False, 'shape': (H, W), }
// padded with spaces and ended by '\n' so that the data starts at a multiple of 64 bytes (what
// numpy writes since 1.24; older versions padded to 16, and every version reads either), then
// the H·W values as little-endian IEEE-754 float32 in C (row-major) order.
// In Python: numpy.load("photo_gradcam.npy") returns the H×W float32 array.

#include <bit>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "write_file.hpp"
#include "xai/core/error.hpp"
#include "xai/core/tensor.hpp"

namespace xai_explain {

static_assert(std::endian::native == std::endian::little, "the .npy writer stores '<f4' by copying native floats");

/// The bytes of a .npy v1.0 file holding `values` with the given shape (C order, '<f4').
inline std::vector<char> encode_npy(const float* values, const std::vector<std::size_t>& shape) {
    std::string dims;
    std::size_t count = 1;
    for (std::size_t extent : shape) {
        dims += std::to_string(extent) + ", ";
        count *= extent;
    }
    if (shape.size() > 1) dims.erase(dims.size() - 2);  // (H, W); a 1-tuple keeps its comma: (N,)
    else if (!dims.empty()) dims.pop_back();
    std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + dims + "), }";
    const std::size_t preamble = 10;  // magic (6) + version (2) + header length (2)
    const std::size_t total = (preamble + header.size() + 1 + 63) / 64 * 64;
    header.append(total - preamble - header.size() - 1, ' ');
    header += '\n';

    std::vector<char> bytes(total + count * sizeof(float));
    const char magic[] = "\x93NUMPY\x01\x00";
    std::memcpy(bytes.data(), magic, 8);
    const auto length = static_cast<std::uint16_t>(header.size());
    bytes[8] = static_cast<char>(length & 0xFF);
    bytes[9] = static_cast<char>(length >> 8);
    std::memcpy(bytes.data() + preamble, header.data(), header.size());
    if (count > 0) std::memcpy(bytes.data() + total, values, count * sizeof(float));
    return bytes;
}

/// Writes `values` with the given shape (C order) to `path` as .npy (write_file.hpp: Failure
/// naming the file when it cannot be written).
inline void save_npy(const std::filesystem::path& path, const float* values, const std::vector<std::size_t>& shape) {
    const std::vector<char> bytes = encode_npy(values, shape);
    write_file(path, bytes.data(), bytes.size());
}

/// Writes an H×W map to `path` as .npy.
inline void save_npy(const std::filesystem::path& path, const xai::Map& map) {
    save_npy(path, map.data(), {map.shape(0), map.shape(1)});
}

}  // namespace xai_explain
