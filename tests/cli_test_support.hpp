#pragma once
// What the tests of xai-explain share (test_cli.cpp, test_torch_cli.cpp, test_onnx_cli.cpp): the
// tool called as a function with its output captured, a scratch folder per test case, and files
// read back. Include it after tools/xai-explain/run.hpp.

#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace xai_test {

/// What one run of the tool returned and printed.
struct Outcome {
    int code = -1;
    std::string out, err;
};

/// xai_explain::run(args) with stdout and stderr captured (stderr is not a terminal: no status line).
inline Outcome run_tool(const std::vector<std::string>& args) {
    std::ostringstream out, err;
    Outcome o;
    o.code = xai_explain::run(args, xai_explain::Console{out, err, false});
    o.out = out.str();
    o.err = err.str();
    return o;
}

/// A fresh folder for one test case (ctest runs test cases in parallel processes).
inline std::filesystem::path scratch(const std::string& name) {
    const std::filesystem::path dir =
        std::filesystem::temp_directory_path() / ("xai_test_cli_" + std::to_string(::getpid()) + "_" + name);
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    return dir;
}

inline std::string read_text(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

/// The float32 values of a .npy file after its header (test_cli.cpp checks the header itself).
inline std::vector<float> npy_values(const std::filesystem::path& path) {
    const std::string bytes = read_text(path);
    if (bytes.size() < 10) return {};
    const std::size_t header =
        10 + (static_cast<unsigned char>(bytes[8]) | (static_cast<std::size_t>(static_cast<unsigned char>(bytes[9])) << 8));
    std::vector<float> values((bytes.size() - header) / 4);
    std::memcpy(values.data(), bytes.data() + header, 4 * values.size());
    return values;
}

}  // namespace xai_test
