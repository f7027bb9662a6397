// Uses the installed xai: the umbrella header and image I/O (whose stb implementation comes from
// Debian's libstb through xai::xai), in a program that also compiles stb into itself
// (own_stb.cpp). It must link without duplicate symbols, and both must read each other's files.
#include <cstdio>
#include <filesystem>

#include <xai/image/io.hpp>
#include <xai/xai.hpp>

int consumer_own_stb_roundtrip(const char* path);
int consumer_own_stb_first_pixel(const char* path);

namespace {

int fail(int code, const char* what) {
    std::fprintf(stderr, "consumer: %s\n", what);
    return code;
}

}  // namespace

int main() {
    const xai::Scores logits = {{0.0f, 2.0f, 1.0f}};
    const auto predicted = xai::resolve_targets({}, logits, "consumer");
    if (predicted.at(0) != 1) return fail(1, "resolve_targets picked the wrong class");

    const auto dir = std::filesystem::temp_directory_path();
    const auto own = dir / "xai_consumer_own.png";
    const auto saved = dir / "xai_consumer_xai.png";

    // The program's own stb writes a 2×2 grey PNG (first pixel 10) and reads it back.
    if (consumer_own_stb_roundtrip(own.c_str()) != 10) return fail(2, "own stb round trip failed");

    // xai reads the file the program's stb wrote...
    const xai::Image grey = xai::load_image(own);
    if (grey.shape(0) != 1 || grey.shape(1) != 2 || grey(0, 0, 0) != 10.0f / 255.0f)
        return fail(3, "xai::load_image did not read the program's PNG");

    // ...and the program's stb reads the file xai wrote: an overlay built through the umbrella header.
    const xai::Map map = xai::normalize_min_max(xai::Map{{0.0f, 1.0f}, {2.0f, 3.0f}});
    const xai::Image picture = xai::overlay(grey, xai::resize(map, 2, 2));
    xai::save_image(saved, picture);
    const xai::PixelsU8 bytes = xai::to_hwc_u8(picture);
    if (consumer_own_stb_first_pixel(saved.c_str()) != bytes(0, 0, 0)) return fail(4, "own stb misread xai's PNG");

    // Errors from stb surface as xai::io_error naming the file.
    try {
        xai::load_image(dir / "xai_consumer_missing.png");
        return fail(5, "a missing file was not reported");
    } catch (const xai::io_error&) {
    }

    std::filesystem::remove(own);
    std::filesystem::remove(saved);
    std::puts("consumer: OK");
    return 0;
}
