// Files for the image I/O tests (test_image, test_image_decoders): a temporary directory removed
// at scope exit, and writing bytes.
#pragma once

#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>
#include <vector>

namespace xai_test {

/// A fresh directory under the system temp directory (named by the process and a counter, so
/// test binaries running at once do not collide), removed at scope exit.
struct TempDir {
    std::filesystem::path path;
    explicit TempDir(const std::string& name) {
        static std::atomic<int> counter{0};
        path = std::filesystem::temp_directory_path() /
               ("xai_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++) + "_" + name);
        std::filesystem::create_directories(path);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }
    std::filesystem::path operator/(const std::string& file) const { return path / file; }
};

/// Writes `bytes` to `path`, replacing it.
inline void write_bytes(const std::filesystem::path& path, const std::vector<std::uint8_t>& bytes) {
    std::ofstream out(path, std::ios::binary);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

/// Appends `v` as 4 bytes, most significant first (PNG's byte order).
inline void put_u32_be(std::vector<std::uint8_t>& out, std::uint32_t v) {
    for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<std::uint8_t>(v >> shift));
}

}  // namespace xai_test
