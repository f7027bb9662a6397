// Compiled twice (tests/CMakeLists.txt): header-only against xai::xai, and in the opt-in
// compiled mode against xai::compiled. Both print the bits of what goes through the code that
// compiled mode moves out of the program (image loading and saving, Sequential<float>'s
// forward and backward passes, the eigen-solver projections); the test `compiled mode: bit
// identical` requires the two outputs to be equal byte for byte.
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <vector>

#include <xai/cam.hpp>
#include <xai/image.hpp>
#include <xai/models/builtin.hpp>

namespace {

// FNV-1a over the bytes of `size` floats: a change in any bit changes the printed line.
std::uint64_t digest(const float* values, std::size_t size) {
    std::uint64_t h = 1469598103934665603ull;
    const auto* bytes = reinterpret_cast<const unsigned char*>(values);
    for (std::size_t i = 0; i < size * sizeof(float); ++i) h = (h ^ bytes[i]) * 1099511628211ull;
    return h;
}

void print(const char* what, const xai::CamResult& r) {
    std::printf("%s: target %zu score %a raw %016llx maps %016llx\n", what, r.targets[0], static_cast<double>(r.scores[0]),
                static_cast<unsigned long long>(digest(r.raw.data(), r.raw.size())),
                static_cast<unsigned long long>(digest(r.maps.data(), r.maps.size())));
}

}  // namespace

int main() {
    const xai::models::Sequential model = xai::models::load_builtin("scenes");
    const xai::Image image = xai::load_image(xai::data_directory() / "samples/scenes/scene_0.png", 1);
    std::printf("image %zux%zux%zu %016llx\n", image.shape(0), image.shape(1), image.shape(2),
                static_cast<unsigned long long>(digest(image.data(), image.size())));
    // GradCam<Sequential> spelled out: clang before 19 cannot deduce through an alias template.
    using GradCam = xai::GradCam<xai::models::Sequential>;
    print("grad-cam", GradCam(model).explain(image));
    print("grad-cam eigen_smooth", GradCam(model, {.eigen_smooth = true}).explain(image));
    print("eigen-cam", xai::EigenCam(model).explain(image));
    print("kpca-cam", xai::KpcaCam(model).explain(image));
    const xai::Image drawn = xai::overlay(image, GradCam(model).explain(image).map());
    const std::vector<std::uint8_t> png = xai::encode_image(drawn, xai::ImageFormat::png);
    const xai::Image back = xai::load_image_from_memory(png, 3);
    std::printf("overlay png %zu bytes, decoded %016llx\n", png.size(),
                static_cast<unsigned long long>(digest(back.data(), back.size())));
}
