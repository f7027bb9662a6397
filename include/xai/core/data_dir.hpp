#pragma once
// Where xai's shipped data (model weights, sample images) is found.
//
// Order: the environment variable XAI_DATA_DIR, then the directory compiled in through the
// CMake target (XAI_DEFAULT_DATA_DIR: data/ of the source tree for in-tree builds,
// <prefix>/share/xai for an installed package).

#include <cstdlib>
#include <filesystem>

#include "xai/core/error.hpp"

namespace xai {

/// The data directory (see above); throws io_error when none is configured or it does not exist.
inline std::filesystem::path data_directory() {
    if (const char* env = std::getenv("XAI_DATA_DIR"); env != nullptr && *env != '\0') {
        if (std::filesystem::is_directory(env)) return env;
        throw io_error(detail::message("xai::data_directory(): XAI_DATA_DIR='", env, "' is not a directory"));
    }
#ifdef XAI_DEFAULT_DATA_DIR
    if (std::filesystem::is_directory(XAI_DEFAULT_DATA_DIR)) return XAI_DEFAULT_DATA_DIR;
    throw io_error(detail::message("xai::data_directory(): the configured data directory '", XAI_DEFAULT_DATA_DIR,
                                   "' does not exist; set XAI_DATA_DIR"));
#else
    throw io_error("xai::data_directory(): no data directory configured; set XAI_DATA_DIR");
#endif
}

}  // namespace xai
