// Uses the installed xai: the umbrella header and image I/O (which links Debian's libstb).
#include <cstdio>
#include <filesystem>

#include <xai/xai.hpp>

int consumer_own_stb_roundtrip(const char* path);

int main() {
    const xai::Scores logits = {{0.0f, 2.0f, 1.0f}};
    const auto predicted = xai::resolve_targets({}, logits, "consumer");
    if (predicted.at(0) != 1) return 1;

    const auto dir = std::filesystem::temp_directory_path();
    if (consumer_own_stb_roundtrip((dir / "xai_consumer_own.png").c_str()) != 10) return 2;

    std::puts("consumer: OK");
    return 0;
}
