#pragma once
// xai-explain's images: finding them (--image: files, and folders searched recursively), where
// each one's outputs go, and bringing a photo to the model's input with the library's
// torchvision-style pipeline (xai::Preprocessing: centre crop or squash, then normalization),
// with a note for each conversion. The photo itself is kept for the pictures: maps are drawn
// back on it at its own size (xai::overlay_on_photo).

#include <algorithm>
#include <cctype>
#include <cstddef>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <system_error>
#include <vector>

#include "arguments.hpp"
#include "models.hpp"
#include "records.hpp"
#include "xai/core/tensor.hpp"
#include "xai/image/framing.hpp"
#include "xai/image/io.hpp"
#include "xai/image/preprocess.hpp"

namespace xai_explain {

inline bool is_image_file(const std::filesystem::path& path) {
    std::string ext = path.extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    static const std::set<std::string> known = {".png", ".jpg", ".jpeg", ".bmp", ".tga", ".gif",
                                                ".psd", ".hdr", ".pic", ".pnm", ".pgm", ".ppm"};
    return known.count(ext) > 0;
}

/// One image to explain and where its outputs go.
struct Job {
    std::filesystem::path file;     ///< the image file
    std::filesystem::path out_dir;  ///< --out, and the image's subfolder under its --image folder
    std::string stem;               ///< the output files' prefix
    bool in_folder = false;         ///< found in an --image folder (not named on the command line)
};

/// --image, every spec in order: a file, or every image file under a folder, recursively, in
/// path order; outputs of a folder's images go to the same subfolders of --out. Failure(image)
/// for a path that does not exist or a folder that holds no image file.
inline std::vector<Job> collect_jobs(const std::vector<std::string>& specs, const std::filesystem::path& out) {
    std::vector<Job> jobs;
    for (const std::string& spec : specs) {
        std::error_code ec;
        const std::filesystem::path path(spec);
        if (!std::filesystem::exists(path, ec)) throw Failure(ExitCode::image, "image '" + spec + "' does not exist");
        if (!std::filesystem::is_directory(path, ec)) {
            jobs.push_back({path, out, path.stem().string(), false});
            continue;
        }
        std::vector<std::filesystem::path> files;
        const auto options = std::filesystem::directory_options::skip_permission_denied;
        for (auto it = std::filesystem::recursive_directory_iterator(path, options, ec);
             !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec))
            if (it->is_regular_file(ec) && is_image_file(it->path())) files.push_back(it->path());
        if (ec) throw Failure(ExitCode::image, "cannot list the folder '" + spec + "': " + ec.message());
        if (files.empty())
            throw Failure(ExitCode::image, "the folder '" + spec + "' holds no image files (png, jpg, bmp, gif, tga, pnm, ...)");
        std::sort(files.begin(), files.end());
        for (const std::filesystem::path& file : files) {
            const std::filesystem::path sub = file.parent_path().lexically_relative(path);
            jobs.push_back({file, sub.empty() || sub == "." ? out : out / sub, file.stem().string(), true});
        }
    }
    // Output prefixes: the file's stem, or its whole name (dots as '_') when two files of the
    // same output folder share a stem.
    std::map<std::pair<std::filesystem::path, std::string>, std::size_t> count;
    for (const Job& j : jobs) ++count[{j.out_dir, j.stem}];
    for (Job& j : jobs)
        if (count[{j.out_dir, j.stem}] > 1) {
            j.stem = j.file.filename().string();
            std::replace(j.stem.begin(), j.stem.end(), '.', '_');
        }
    return jobs;
}

/// An image as the model takes it, the photo it came from, and what was done to it.
struct PreparedImage {
    xai::ImageShape stored;          ///< as the file holds it
    xai::Image photo;                ///< the photo as shown: grey or RGB (alpha dropped), its own size
    xai::Framing framing;            ///< where the input lies in the photo
    xai::Image input;                ///< the model's C×H×W, normalized when the model wants it
    std::vector<std::string> notes;  ///< conversions, for stderr and the summary
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

inline std::string size_words(std::size_t h, std::size_t w) { return std::to_string(h) + "x" + std::to_string(w); }

/// Loads `file` with `load` (the formats, decoder and pixel budget of --allow-format, --decoder
/// and --max-pixels) and brings it to the model's input (see the header): channels by stb's
/// conversion, size by info.preprocessing (an image already of the input's size is taken as it
/// is), then normalization. xai::io_error when the file cannot be read.
inline PreparedImage prepare_image(const std::filesystem::path& file, const xai::ImageShape& expected, const ModelInfo& info,
                                   const xai::LoadOptions& load = {}) {
    PreparedImage p;
    xai::Image decoded = xai::load_image(file, 0, load);
    p.stored = xai::image_shape(decoded);
    // Shown as grey or RGB: an alpha channel is dropped, not composited (load_image's rule).
    const std::size_t shown = p.stored.channels <= 2 ? 1 : 3;
    p.photo = p.stored.channels == shown ? std::move(decoded) : xai::load_image(file, shown, load);
    xai::Image pixels = p.photo;
    if (p.stored.channels != expected.channels) {
        xai::detail::require(expected.channels >= 1 && expected.channels <= 4, "xai-explain: the model expects ",
                             expected.channels, " channels; images have 1 to 4");
        if (shown != expected.channels) pixels = xai::load_image(file, expected.channels, load);
        p.notes.push_back("converted " + channel_words(p.stored.channels) + " to " + channel_words(expected.channels));
    }
    const std::size_t h = p.stored.height, w = p.stored.width;
    if (h == expected.height && w == expected.width) {
        p.framing = xai::squash_framing(h, w, h, w);  // already the input's size: taken as it is
    } else {
        const xai::Preprocessing& prep = info.preprocessing;
        p.framing = prep.framing(h, w);
        pixels = prep.resize(pixels);
        const xai::Framing& f = p.framing;
        if (prep.fit == xai::Fit::squash)
            p.notes.push_back("resized from " + size_words(h, w) + " to " + size_words(expected.height, expected.width) +
                              " (squashed), the model's input size");
        else
            p.notes.push_back("resized from " + size_words(h, w) + " to " + size_words(f.resized_height, f.resized_width) +
                              " and cropped to the centre " + size_words(f.height, f.width) + ", the model's input size");
    }
    p.input = info.normalize ? info.preprocessing.normalize(pixels) : std::move(pixels);
    return p;
}

/// Why an image could not be read, for stderr and the summary: the library's message (its first
/// line), and for a format left out by default the flag that allows it ("(use --allow-format gif)").
inline std::string read_failure(const xai::error& e) {
    std::string reason = "cannot read image: " + first_line(e.what());
    const std::string opt_in = "add ImageFormat::";
    const std::size_t at = reason.find(opt_in);
    if (reason.find("not decoded by default") != std::string::npos && at != std::string::npos) {
        const std::size_t begin = at + opt_in.size();
        std::size_t end = begin;
        while (end < reason.size() && std::islower(static_cast<unsigned char>(reason[end])) != 0) ++end;
        reason += " (use --allow-format " + reason.substr(begin, end - begin) + ")";
    }
    return reason;
}

}  // namespace xai_explain
