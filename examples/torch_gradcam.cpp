// torch_gradcam: Grad-CAM on a TorchScript classifier, from C++ (docs/torch.md).
//
//   torch_gradcam --model FILE [--head FILE] --image FILE [--classes FILE] [--out overlay.png]
//                 [--size N | --size HxW] [--channels 1|3] [--normalize imagenet|none]
//                 [--layer NAME] [--threads N] [--top K] [--out-size N]
//
// Two forms of model (docs/torch.md shows how to export each from PyTorch):
//   --model single.pt                 forward(x) returns (logits, activations of the layer)
//   --model features.pt --head head.pt features(x) = activations of the layer, head(a) = logits
// The image is resized to --size (default 224×224) and normalized with ImageNet's mean and
// standard deviation (torchvision's models) unless --normalize none. The program prints the
// top classes with their probabilities (names from --classes, one per line, if given), runs
// Grad-CAM (Selvaraju et al. 2017) at the model's layer for the top class, and writes the
// overlay (pytorch-grad-cam's show_cam_on_image) to --out, at the model's input size or, with
// --out-size, enlarged bilinearly (for small inputs such as the 64×64 scenes).
//
// Without a PyTorch model at hand, examples/torch_export_builtin writes the shipped scenes CNN
// in both forms: see docs/torch.md for the two commands.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "xai/torch.hpp"  // first: LibTorch, with GCC 12's false AVX-512 warnings silenced

#include "xai/cam.hpp"
#include "xai/image/io.hpp"
#include "xai/image/overlay.hpp"
#include "xai/image/preprocess.hpp"

namespace {

struct Arguments {
    std::filesystem::path model, head, image, classes, out = "overlay.png";
    std::size_t height = 224, width = 224, channels = 3, top = 5, out_size = 0;
    // LibTorch 1.13 as Debian builds it starts with one intra-op thread: use every core.
    std::size_t threads = std::max(1u, std::thread::hardware_concurrency());
    bool imagenet = true;
    std::string layer = "features";
};

[[noreturn]] void usage(const char* program, int status) {
    std::fprintf(status == 0 ? stdout : stderr,
                 "usage: %s --model FILE [--head FILE] --image FILE [--classes FILE] [--out FILE]\n"
                 "          [--size N|HxW] [--channels 1|3] [--normalize imagenet|none] [--layer NAME]\n"
                 "          [--threads N] [--top K] [--out-size N]\n"
                 "  --model      TorchScript file: (logits, activations) = forward(x), or the features half\n"
                 "  --head       TorchScript file of the head (activations -> logits): the pair form\n"
                 "  --image      the picture to explain (PNG, JPEG, ...)\n"
                 "  --classes    class names, one per line (default: class indices)\n"
                 "  --out        where to write the Grad-CAM overlay (default: overlay.png)\n"
                 "  --size       the model's input size (default: 224)\n"
                 "  --channels   3 for RGB (default), 1 for grey\n"
                 "  --normalize  imagenet (torchvision's mean and std, default) or none\n"
                 "  --layer      the name to report the model's layer by (default: features)\n"
                 "  --threads    LibTorch threads (default: the number of cores)\n"
                 "  --top        how many classes to print (default: 5)\n"
                 "  --out-size   the overlay's side in pixels (default: the model's input size)\n",
                 program);
    std::exit(status);
}

std::size_t parse_count(const char* program, const char* flag, const std::string& value) {
    char* end = nullptr;
    const unsigned long n = std::strtoul(value.c_str(), &end, 10);
    if (end == value.c_str() || *end != '\0') {
        std::fprintf(stderr, "%s: %s '%s' is not a count\n", program, flag, value.c_str());
        usage(program, 2);
    }
    return n;
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
        const std::string value = argv[++i];
        if (flag == "--model") {
            args.model = value;
        } else if (flag == "--head") {
            args.head = value;
        } else if (flag == "--image") {
            args.image = value;
        } else if (flag == "--classes") {
            args.classes = value;
        } else if (flag == "--out") {
            args.out = value;
        } else if (flag == "--size") {
            const std::size_t x = value.find('x');
            args.height = parse_count(argv[0], "--size", value.substr(0, x));
            args.width = x == std::string::npos ? args.height : parse_count(argv[0], "--size", value.substr(x + 1));
        } else if (flag == "--channels") {
            args.channels = parse_count(argv[0], "--channels", value);
        } else if (flag == "--normalize") {
            if (value != "imagenet" && value != "none") {
                std::fprintf(stderr, "%s: --normalize '%s', expected imagenet or none\n", argv[0], value.c_str());
                usage(argv[0], 2);
            }
            args.imagenet = value == "imagenet";
        } else if (flag == "--layer") {
            args.layer = value;
        } else if (flag == "--threads") {
            args.threads = parse_count(argv[0], "--threads", value);
            if (args.threads == 0) {
                std::fprintf(stderr, "%s: --threads 0, expected at least 1\n", argv[0]);
                usage(argv[0], 2);
            }
        } else if (flag == "--top") {
            args.top = parse_count(argv[0], "--top", value);
        } else if (flag == "--out-size") {
            args.out_size = parse_count(argv[0], "--out-size", value);
        } else {
            std::fprintf(stderr, "%s: unknown argument %s\n", argv[0], argv[i - 1]);
            usage(argv[0], 2);
        }
    }
    if (args.model.empty() || args.image.empty()) {
        std::fprintf(stderr, "%s: --model and --image are required\n", argv[0]);
        usage(argv[0], 2);
    }
    return args;
}

std::vector<std::string> read_class_names(const std::filesystem::path& path) {
    std::vector<std::string> names;
    if (path.empty()) return names;
    std::ifstream in(path);
    if (!in) throw xai::io_error("torch_gradcam: cannot read the class names in '" + path.string() + "'");
    for (std::string line; std::getline(in, line);) names.push_back(line);
    return names;
}

int run(const Arguments& args) {
    const xai::Image image = xai::load_image(args.image, args.channels);
    xai::Preprocessing prep;
    prep.height = args.height;
    prep.width = args.width;
    if (!args.imagenet) {
        prep.mean = {0.0f};
        prep.std = {1.0f};
    }
    const xai::Image resized = prep.resize(image);  // what the overlay is drawn on
    const xai::Batch batch = xai::as_batch(prep.normalize(resized));

    xai::models::TorchOptions options;
    options.input_shape = {args.channels, args.height, args.width};
    options.threads = args.threads;
    options.script_layer = args.layer;
    const auto t0 = std::chrono::steady_clock::now();
    const xai::models::TorchModel model = args.head.empty()
                                              ? xai::models::TorchModel::load_torchscript(args.model, options)
                                              : xai::models::TorchModel::load_torchscript_pair(args.model, args.head, options);
    const auto t1 = std::chrono::steady_clock::now();

    const xai::Scores p = xai::softmax(model.forward(batch));
    const std::vector<std::string> names = read_class_names(args.classes);
    std::vector<std::size_t> order(model.num_classes());
    for (std::size_t k = 0; k < order.size(); ++k) order[k] = k;
    const std::size_t top = std::min(args.top, order.size());
    std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(top), order.end(),
                      [&](std::size_t a, std::size_t b) { return p(0, a) > p(0, b); });
    std::printf("%s (%s), %zu classes, layer '%s' %s, loaded in %.0f ms\n", args.model.string().c_str(),
                model.form().c_str(), model.num_classes(), args.layer.c_str(),
                xai::shape_string(model.layer_shape(args.layer)).c_str(),
                std::chrono::duration<double, std::milli>(t1 - t0).count());
    for (std::size_t r = 0; r < top; ++r) {
        const std::size_t k = order[r];
        std::printf("  %zu. class %4zu  %-24s %6.2f%%\n", r + 1, k, k < names.size() ? names[k].c_str() : "",
                    100.0 * p(0, k));
    }

    const xai::GradCam grad_cam(model, {.layer = args.layer});
    const auto t2 = std::chrono::steady_clock::now();
    const xai::CamResult cam = grad_cam.explain(batch, {order.front()});
    const auto t3 = std::chrono::steady_clock::now();
    const xai::Map map = cam.map();
    // overlay() resizes the map to the picture; bilinear enlargement keeps values in [0, 1].
    const xai::Image picture = args.out_size == 0 ? resized : xai::resize(resized, args.out_size, args.out_size);
    xai::save_image(args.out, xai::overlay(picture, map));
    std::printf("Grad-CAM for class %zu in %.1f ms -> %s\n", order.front(),
                std::chrono::duration<double, std::milli>(t3 - t2).count(), args.out.string().c_str());
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        return run(parse(argc, argv));
    } catch (const std::exception& e) {
        std::fprintf(stderr, "%s: %s\n", argv[0], e.what());
        return 1;
    }
}
