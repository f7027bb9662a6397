// Fuzz target: the .xaiw weights-file loader (xai::models::load) on arbitrary files.
//
// A file's last four bytes are a CRC-32 of the rest, which random mutations almost never keep
// right; so when the first byte is odd the target appends the correct CRC to the remaining
// bytes, and the fuzzer reaches the header, layer and tensor parsing and the model
// reconstruction behind the checksum. When it is even the bytes are the file as they are.
//
// Invariants: only xai::error escapes (an io_error for every bad file); the loader never
// allocates more than the file's size justifies (libFuzzer's malloc limit catches it); a
// file that loads saves and reloads to the same architecture and the same parameters bit for
// bit, and a model with a small input gives finite logits on a zero image.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "fuzz_input.hpp"
#include "xai/models/sequential.hpp"

namespace {

std::filesystem::path scratch(const char* suffix) {
    return std::filesystem::temp_directory_path() /
           ("xai_fuzz_weights_" + std::to_string(::getpid()) + suffix + ".xaiw");
}

void write_bytes(const std::filesystem::path& path, const std::vector<unsigned char>& bytes) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz::Input in(data, size);
    const bool fix_crc = in.flag();
    const auto rest = in.rest();
    std::vector<unsigned char> bytes(rest.begin(), rest.end());
    if (fix_crc) {
        const std::uint32_t crc = xai::models::detail::crc32(bytes.data(), bytes.size());
        for (int i = 0; i < 4; ++i) bytes.push_back(static_cast<unsigned char>((crc >> (8 * i)) & 0xFFu));
    }
    const std::filesystem::path path = scratch("");
    write_bytes(path, bytes);

    fuzz::accepts([&] {
        const xai::models::Sequential model = xai::models::load(path);
        // Round trip: what loads must save and load back unchanged.
        const std::filesystem::path copy = scratch("_copy");
        model.save(copy);
        const xai::models::Sequential again = xai::models::load(copy);
        std::filesystem::remove(copy);
        fuzz::check(again.describe() == model.describe(), "the architecture survives a round trip");
        const auto a = model.parameter_values(), b = again.parameter_values();
        fuzz::check(a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size_bytes()) == 0,
                    "the parameters survive a round trip bit for bit");
        fuzz::check(again.l2_regularization() == model.l2_regularization(), "lambda survives a round trip");

        // Run a model whose input is small enough to evaluate cheaply (a file may legitimately
        // describe a model for 10000×10000 images; running it is the caller's decision).
        const xai::ImageShape shape = model.input_shape();
        std::size_t work = shape.size();
        for (const auto& layer : model.layers()) work += layer.output.size() + xai::models::detail::columns_size(layer);
        if (work <= (std::size_t{1} << 16) && model.num_parameters() <= (std::size_t{1} << 16)) {
            const xai::Batch zeros = xt::zeros<float>({std::size_t{1}, shape.channels, shape.height, shape.width});
            fuzz::accepts([&] {  // finite parameters can still overflow to Inf: a model_error
                const xai::Scores s = model.forward(zeros);
                fuzz::check(s.shape(0) == 1 && s.shape(1) == model.num_classes(), "scores are 1×K");
                fuzz::check(xai::all_finite(s), "forward() returns finite logits or throws");
            });
        }
    });
    std::filesystem::remove(path);
    return 0;
}
