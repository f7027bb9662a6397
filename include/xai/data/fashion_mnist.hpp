#pragma once
// Reader for Fashion-MNIST (Xiao, Rasul & Vollgraf 2017) in its gzip-compressed IDX files, as
// Debian's dataset-fashion-mnist installs them in /usr/share/datasets/fashion-mnist.
//
// Needs zlib at link time (ZLIB::ZLIB), so it is not part of the umbrella header.
// Images become an N×1×28×28 Batch with values in [0, 1] (byte / 255), labels 0..9.

#include <array>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <zlib.h>

#include "xai/core/error.hpp"
#include "xai/core/tensor.hpp"

namespace xai {

/// The ten Fashion-MNIST class names, by label.
inline constexpr std::array<std::string_view, 10> fashion_mnist_classes = {
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"};

/// Images with one label each.
struct LabelledImages {
    Batch images;   ///< N×C×H×W (Fashion-MNIST: N×1×28×28, values in [0, 1])
    Labels labels;  ///< one class index per image (Fashion-MNIST: 0..9)
};

/// Which part of Fashion-MNIST: the 60,000 training or the 10,000 test examples.
enum class FashionMnistSplit { train, test };

/// Where the data set is: $XAI_FASHION_MNIST_DIR if set, else Debian's location; nullopt when
/// neither holds the four files.
inline std::optional<std::filesystem::path> find_fashion_mnist() {
    std::vector<std::filesystem::path> candidates;
    if (const char* env = std::getenv("XAI_FASHION_MNIST_DIR")) candidates.emplace_back(env);
    candidates.emplace_back("/usr/share/datasets/fashion-mnist");
    for (const auto& dir : candidates) {
        if (std::filesystem::exists(dir / "train-images-idx3-ubyte.gz") &&
            std::filesystem::exists(dir / "t10k-labels-idx1-ubyte.gz"))
            return dir;
    }
    return std::nullopt;
}

namespace detail {

class GzipFile {
public:
    explicit GzipFile(const std::filesystem::path& path) : path_(path.string()), file_(gzopen(path_.c_str(), "rb")) {
        if (!file_) throw io_error(message("xai::read_idx(): cannot open '", path_, "'"));
    }
    GzipFile(const GzipFile&) = delete;
    GzipFile& operator=(const GzipFile&) = delete;
    ~GzipFile() { gzclose(file_); }

    void read(void* buffer, std::size_t bytes) {
        auto* out = static_cast<unsigned char*>(buffer);
        while (bytes > 0) {
            const unsigned chunk = bytes > (1u << 30) ? (1u << 30) : static_cast<unsigned>(bytes);
            const int got = gzread(file_, out, chunk);
            if (got <= 0) throw io_error(message("xai::read_idx(): '", path_, "' is truncated or corrupt"));
            out += got;
            bytes -= static_cast<std::size_t>(got);
        }
    }

    std::uint32_t read_u32_big_endian() {
        unsigned char b[4];
        read(b, 4);
        return (std::uint32_t{b[0]} << 24) | (std::uint32_t{b[1]} << 16) | (std::uint32_t{b[2]} << 8) | b[3];
    }

    const std::string& path() const { return path_; }

private:
    std::string path_;
    gzFile file_;
};

}  // namespace detail

/// Reads an IDX image file and its IDX label file (gzip-compressed or not), at most `limit`
/// examples (0 = all).
inline LabelledImages read_idx(const std::filesystem::path& images_path, const std::filesystem::path& labels_path,
                               std::size_t limit = 0) {
    detail::GzipFile images(images_path), labels(labels_path);
    const std::uint32_t image_magic = images.read_u32_big_endian();
    detail::require<io_error>(image_magic == 0x803, "xai::read_idx(): '", images.path(),
                              "' is not an IDX image file (magic ", image_magic, ", expected 2051)");
    const std::uint32_t label_magic = labels.read_u32_big_endian();
    detail::require<io_error>(label_magic == 0x801, "xai::read_idx(): '", labels.path(),
                              "' is not an IDX label file (magic ", label_magic, ", expected 2049)");
    const std::size_t count = images.read_u32_big_endian();
    const std::size_t rows = images.read_u32_big_endian();
    const std::size_t cols = images.read_u32_big_endian();
    const std::size_t label_count = labels.read_u32_big_endian();
    detail::require<io_error>(count == label_count, "xai::read_idx(): ", count, " images but ", label_count, " labels");
    detail::require<io_error>(rows > 0 && cols > 0 && rows <= 4096 && cols <= 4096, "xai::read_idx(): '",
                              images.path(), "' declares images of ", rows, "x", cols, ", expected 1..4096 per side");
    const std::size_t n = limit == 0 ? count : std::min(limit, count);

    std::vector<unsigned char> bytes(n * rows * cols);
    images.read(bytes.data(), bytes.size());
    std::vector<unsigned char> label_bytes(n);
    labels.read(label_bytes.data(), label_bytes.size());

    LabelledImages out;
    out.images = Batch::from_shape({n, 1, rows, cols});
    for (std::size_t i = 0; i < bytes.size(); ++i) out.images.data()[i] = static_cast<float>(bytes[i]) / 255.0f;
    out.labels.assign(label_bytes.begin(), label_bytes.end());
    return out;
}

/// The train (60,000) or test (10,000) split of Fashion-MNIST, at most `limit` examples (0 = all).
inline LabelledImages load_fashion_mnist(FashionMnistSplit split, std::size_t limit = 0,
                                         std::optional<std::filesystem::path> directory = std::nullopt) {
    if (!directory) directory = find_fashion_mnist();
    if (!directory)
        throw io_error("xai::load_fashion_mnist(): the data set was not found; install Debian's dataset-fashion-mnist "
                       "or set XAI_FASHION_MNIST_DIR");
    const char* prefix = split == FashionMnistSplit::train ? "train" : "t10k";
    return read_idx(*directory / (std::string(prefix) + "-images-idx3-ubyte.gz"),
                    *directory / (std::string(prefix) + "-labels-idx1-ubyte.gz"), limit);
}

}  // namespace xai
