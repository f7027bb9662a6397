#pragma once
// xai-explain's records: the JSON of each image (its entry of summary.json, also written as
// <stem>.json beside its outputs) and of the run, written with nlohmann-json (Debian's
// nlohmann-json3-dev; objects keep their insertion order, NaN and infinities become null), and
// what resuming a run needs: the settings' fingerprint and the test that a record is complete.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include <nlohmann/json.hpp>

#include "arguments.hpp"
#include "write_file.hpp"
#include "xai/core/tensor.hpp"
#include "xai/image/framing.hpp"

namespace xai_explain {

using Json = nlohmann::ordered_json;

inline Json shape_json(const xai::ImageShape& s) { return Json::array({s.channels, s.height, s.width}); }

inline Json framing_json(const xai::Framing& f) {
    const xai::PixelSpan rows = f.rows(), cols = f.columns();
    return Json{{"photo", {f.photo_height, f.photo_width}},
                {"resized", {f.resized_height, f.resized_width}},
                {"top", f.top},
                {"left", f.left},
                {"input", {f.height, f.width}},
                {"photo_rows", {rows.begin, rows.end}},
                {"photo_columns", {cols.begin, cols.end}}};
}

inline xai::Framing framing_from_json(const Json& j) {
    xai::Framing f;
    f.photo_height = j.at("photo").at(0);
    f.photo_width = j.at("photo").at(1);
    f.resized_height = j.at("resized").at(0);
    f.resized_width = j.at("resized").at(1);
    f.top = j.at("top");
    f.left = j.at("left");
    f.height = j.at("input").at(0);
    f.width = j.at("input").at(1);
    return f;
}

/// A short hex digest (64-bit FNV-1a) of the settings and the model: records made with other
/// settings are not resumed.
inline std::string fingerprint(const Json& settings, const Json& model) {
    const std::string text = settings.dump() + model.dump();
    std::uint64_t h = 1469598103934665603ull;
    for (const unsigned char c : text) h = (h ^ c) * 1099511628211ull;
    char buffer[20];
    std::snprintf(buffer, sizeof buffer, "%016llx", static_cast<unsigned long long>(h));
    return buffer;
}

/// The files a record lists (outputs of the image), for resuming.
inline std::vector<std::string> record_files(const Json& record) {
    std::vector<std::string> files;
    if (record.contains("gallery")) files.push_back(record["gallery"]);
    for (const Json& m : record.value("methods", Json::array())) {
        for (const char* key : {"overlay", "map", "picture", "concepts_picture"})
            if (m.contains(key)) files.push_back(m[key]);
        if (m.contains("extra_maps"))
            for (const auto& [name, path] : m["extra_maps"].items()) files.push_back(path);
    }
    return files;
}

/// True when `record` lists every output `wanted` asks for: the gallery, and for each map method
/// its picture and its map (the influence method writes both always).
inline bool lists_outputs(const Json& record, const Outputs& wanted) {
    if (wanted.gallery && !record.contains("gallery")) return false;
    for (const Json& m : record.value("methods", Json::array()))
        if (m.value("method", "") != influence_method && ((wanted.png && !m.contains("overlay")) || (wanted.npy && !m.contains("map"))))
            return false;
    return true;
}

/// The record of a finished image at `path` if it can be resumed (see the header): made with
/// the same settings, without failure, listing the outputs `wanted` asks for, all of which exist.
inline std::optional<Json> resumable_record(const std::filesystem::path& path, const std::string& print, const Outputs& wanted) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec)) return std::nullopt;
    std::ifstream in(path);
    const Json record = Json::parse(in, nullptr, false);
    if (record.is_discarded() || !record.is_object() || record.value("fingerprint", "") != print) return std::nullopt;
    if (record.contains("error") || !lists_outputs(record, wanted)) return std::nullopt;
    for (const Json& m : record.value("methods", Json::array()))
        if (m.contains("error")) return std::nullopt;
    for (const std::string& file : record_files(record))
        if (!std::filesystem::is_regular_file(file, ec)) return std::nullopt;
    return record;
}

inline void make_folder(const std::filesystem::path& dir) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec || !std::filesystem::is_directory(dir))
        throw Failure(ExitCode::failure, "cannot create the output folder '" + dir.string() + "'" +
                                             (ec ? ": " + ec.message() : std::string()));
}

/// One line of a message: LibTorch and OpenCV errors may carry a traceback after the first line.
inline std::string first_line(const std::string& text) { return text.substr(0, text.find('\n')); }

}  // namespace xai_explain
