// overlay_map: draws a coarse saliency map over a photo, the way Grad-CAM pictures are made.
//
//   overlay_map [--image PATH] [--out PATH] [--colormap jet|viridis|turbo] [--image-weight W]
//
// Loads the image (default: chelsea_224.png from the shipped samples, found through
// xai::data_directory()), builds a 7×7 map — the resolution of a ResNet's last convolutional
// layer at 224×224 — holding a smooth bump, upsamples it bilinearly to the image size
// (PyTorch's align_corners=False convention), normalizes it to [0, 1], blends it over the image
// as pytorch-grad-cam's show_cam_on_image does, and writes the picture (PNG or JPEG by
// extension; default overlay.png).
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <string>
#include <string_view>

#include "xai/core/data_dir.hpp"
#include "xai/image/colormap.hpp"
#include "xai/image/io.hpp"
#include "xai/image/normalize.hpp"
#include "xai/image/overlay.hpp"
#include "xai/image/resize.hpp"

namespace {

struct Arguments {
    std::filesystem::path image;
    std::filesystem::path out = "overlay.png";
    xai::OverlayOptions overlay;
};

[[noreturn]] void usage(const char* program, int status) {
    std::fprintf(status == 0 ? stdout : stderr,
                 "usage: %s [--image PATH] [--out PATH] [--colormap jet|viridis|turbo] [--image-weight W]\n"
                 "  --image         the photo (default: samples/photos/chelsea_224.png in the data directory)\n"
                 "  --out           where to write the picture, .png or .jpg (default: overlay.png)\n"
                 "  --colormap      the heatmap's colours (default: jet, as pytorch-grad-cam)\n"
                 "  --image-weight  weight of the photo in the blend, 0 to 1 (default: 0.5)\n",
                 program);
    std::exit(status);
}

Arguments parse(int argc, char** argv) {
    Arguments args;
    for (int i = 1; i < argc; ++i) {
        const std::string_view flag = argv[i];
        if (flag == "--help" || flag == "-h") usage(argv[0], 0);
        if (i + 1 >= argc) {
            std::fprintf(stderr, "%s: %s needs a value\n", argv[0], argv[i]);
            usage(argv[0], 2);
        }
        const char* value = argv[++i];
        if (flag == "--image") {
            args.image = value;
        } else if (flag == "--out") {
            args.out = value;
        } else if (flag == "--colormap") {
            args.overlay.colormap = xai::colormap_from_string(value);
        } else if (flag == "--image-weight") {
            char* end = nullptr;
            args.overlay.image_weight = std::strtod(value, &end);
            if (end == value || *end != '\0') {
                std::fprintf(stderr, "%s: --image-weight '%s' is not a number\n", argv[0], value);
                usage(argv[0], 2);
            }
        } else {
            std::fprintf(stderr, "%s: unknown argument %s\n", argv[0], argv[i - 1]);
            usage(argv[0], 2);
        }
    }
    if (args.image.empty()) args.image = xai::data_directory() / "samples/photos/chelsea_224.png";
    return args;
}

/// A 7×7 map with a smooth bump slightly above the centre, as a class-activation map might look.
xai::Map coarse_bump() {
    xai::Map map = xai::Map::from_shape({7, 7});
    for (std::size_t y = 0; y < 7; ++y)
        for (std::size_t x = 0; x < 7; ++x) {
            const double dy = static_cast<double>(y) - 2.6, dx = static_cast<double>(x) - 3.4;
            map(y, x) = static_cast<float>(std::exp(-(dy * dy + dx * dx) / (2.0 * 1.4 * 1.4)));
        }
    return map;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        const Arguments args = parse(argc, argv);
        const xai::Image image = xai::load_image(args.image, 3);
        const xai::Map coarse = coarse_bump();
        const xai::Map upsampled = xai::resize(coarse, image.shape(1), image.shape(2), xai::Interpolation::bilinear);
        const xai::Map saliency = xai::normalize_min_max(upsampled);
        const xai::Image picture = xai::overlay(image, saliency, args.overlay);
        xai::save_image(args.out, picture);
        std::printf("overlay_map: %s (%zux%zu, %s) -> %s\n", args.image.string().c_str(), image.shape(2),
                    image.shape(1), std::string(xai::to_string(args.overlay.colormap)).c_str(), args.out.string().c_str());
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "overlay_map: %s\n", e.what());
        return 1;
    }
}
