#pragma once
// xai-explain's images: finding them (--image, a file or a folder), loading them and bringing
// them to the model's input, with a note for each conversion.

#include <algorithm>
#include <cctype>
#include <cstddef>
#include <filesystem>
#include <set>
#include <string>
#include <system_error>
#include <vector>

#include "arguments.hpp"
#include "xai/core/tensor.hpp"
#include "xai/image/io.hpp"
#include "xai/image/resize.hpp"

namespace xai_explain {

inline bool is_image_file(const std::filesystem::path& path) {
    std::string ext = path.extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    static const std::set<std::string> known = {".png", ".jpg", ".jpeg", ".bmp", ".tga", ".gif",
                                                ".psd", ".hdr", ".pic", ".pnm", ".pgm", ".ppm"};
    return known.count(ext) > 0;
}

/// --image: the file, or every image file of the folder in name order; Failure(image) otherwise.
inline std::vector<std::filesystem::path> collect_images(const std::string& spec) {
    std::error_code ec;
    const std::filesystem::path path(spec);
    if (!std::filesystem::exists(path, ec)) throw Failure(ExitCode::image, "image '" + spec + "' does not exist");
    if (!std::filesystem::is_directory(path, ec)) return {path};
    std::vector<std::filesystem::path> files;
    for (const auto& entry : std::filesystem::directory_iterator(path, ec))
        if (entry.is_regular_file() && is_image_file(entry.path())) files.push_back(entry.path());
    if (ec) throw Failure(ExitCode::image, "cannot list the folder '" + spec + "': " + ec.message());
    if (files.empty())
        throw Failure(ExitCode::image, "the folder '" + spec + "' holds no image files (png, jpg, bmp, gif, tga, pnm, ...)");
    std::sort(files.begin(), files.end());
    return files;
}

/// An image as the model takes it, and what was done to it.
struct PreparedImage {
    std::filesystem::path file;
    std::string stem;                 ///< the output files' prefix
    xai::ImageShape stored;           ///< as the file holds it
    xai::Image input;                 ///< the model's C×H×W
    std::vector<std::string> notes;   ///< conversions, for stderr and the summary
};

inline std::string channel_words(std::size_t c) {
    switch (c) {
        case 1: return "grey";
        case 2: return "grey+alpha";
        case 3: return "RGB";
        case 4: return "RGBA";
        default: return std::to_string(c) + " channels";
    }
}

/// Loads `file` and brings it to `expected` (channels by stb's conversion, size by bilinear
/// resizing); Failure(image) when the file cannot be read or converted.
inline PreparedImage prepare_image(const std::filesystem::path& file, const xai::ImageShape& expected) {
    PreparedImage p;
    p.file = file;
    try {
        p.input = xai::load_image(file);
        p.stored = xai::image_shape(p.input);
        if (p.stored.channels != expected.channels) {
            if (expected.channels < 1 || expected.channels > 4)
                throw Failure(ExitCode::image, "the model expects " + std::to_string(expected.channels) +
                                                   " channels; images have 1 to 4");
            p.input = xai::load_image(file, expected.channels);
            p.notes.push_back("converted " + channel_words(p.stored.channels) + " to " + channel_words(expected.channels));
        }
    } catch (const xai::error& e) {
        throw Failure(ExitCode::image, std::string("cannot read image: ") + e.what());
    }
    if (p.stored.height != expected.height || p.stored.width != expected.width) {
        p.input = xai::resize(p.input, expected.height, expected.width, xai::Interpolation::bilinear);
        p.notes.push_back("resized from " + std::to_string(p.stored.height) + "x" + std::to_string(p.stored.width) + " to " +
                          std::to_string(expected.height) + "x" + std::to_string(expected.width) +
                          " (bilinear), the model's input size");
    }
    return p;
}

/// Output prefixes: the file's stem, or its whole name when two files share a stem.
inline void assign_stems(std::vector<PreparedImage>& images) {
    for (PreparedImage& p : images) {
        const std::string stem = p.file.stem().string();
        const bool shared = std::count_if(images.begin(), images.end(), [&](const PreparedImage& q) {
                                return q.file.stem().string() == stem;
                            }) > 1;
        p.stem = shared ? p.file.filename().string() : stem;
        std::replace(p.stem.begin(), p.stem.end(), '.', '_');
    }
}

}  // namespace xai_explain
