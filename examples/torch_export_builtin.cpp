// torch_export_builtin: writes a built-in CNN (models/builtin.hpp) as TorchScript, in both forms
// TorchModel loads (docs/torch.md), without Python:
//
//   torch_export_builtin [--model fashion|scenes] [--layer NAME] [--out DIR] [--untrained]
//
// writes, in DIR (default: the current directory),
//   <model>.pt             forward(x) → (logits, activations of the layer), head(a) → logits
//   <model>_features.pt    x → activations of the layer         } the pair form
//   <model>_head.pt        activations → logits                 }
//   <model>_classes.txt    the class names, one per line
// The layer defaults to the one global average pooling reads (CAM's feature layer). The shipped
// trained weights are used; --untrained exports the architecture's seeded initialisation
// instead (for trying the tools before the weights are installed). Then, for instance:
//   torch_gradcam --model scenes.pt --image data/samples/scenes/scene_0.png --channels 1
//                 --size 64 --normalize none --classes scenes_classes.txt --out-size 256
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include "xai/models/torch/builtin.hpp"  // first: LibTorch, with GCC 12's false AVX-512 warnings silenced

#include "xai/data/fashion_mnist.hpp"
#include "xai/models/builtin.hpp"

namespace {

struct Arguments {
    std::string model = "scenes";
    std::string layer;
    std::filesystem::path out = ".";
    bool untrained = false;
};

[[noreturn]] void usage(const char* program, int status) {
    std::fprintf(status == 0 ? stdout : stderr,
                 "usage: %s [--model fashion|scenes] [--layer NAME] [--out DIR] [--untrained]\n"
                 "  --model      the built-in model (default: scenes)\n"
                 "  --layer      the layer whose activations the TorchScript modules expose\n"
                 "               (default: the input of global average pooling)\n"
                 "  --out        the directory to write to (default: .)\n"
                 "  --untrained  export the seeded initialisation instead of the shipped weights\n",
                 program);
    std::exit(status);
}

Arguments parse(int argc, char** argv) {
    Arguments args;
    for (int i = 1; i < argc; ++i) {
        const std::string_view flag = argv[i];
        if (flag == "--help" || flag == "-h") usage(argv[0], 0);
        if (flag == "--untrained") {
            args.untrained = true;
            continue;
        }
        if (i + 1 >= argc) {
            std::fprintf(stderr, "%s: %s needs a value\n", argv[0], argv[i]);
            usage(argv[0], 2);
        }
        const std::string value = argv[++i];
        if (flag == "--model") {
            args.model = value;
        } else if (flag == "--layer") {
            args.layer = value;
        } else if (flag == "--out") {
            args.out = value;
        } else {
            std::fprintf(stderr, "%s: unknown argument %s\n", argv[0], argv[i - 1]);
            usage(argv[0], 2);
        }
    }
    return args;
}

int run(const Arguments& args) {
    const xai::models::Sequential model =
        args.untrained ? xai::models::builtin_architecture(args.model, 1) : xai::models::load_builtin(args.model);
    const std::string layer = args.layer.empty() ? model.feature_layer() : args.layer;
    std::filesystem::create_directories(args.out);
    const std::filesystem::path single = args.out / (args.model + ".pt");
    const std::filesystem::path features = args.out / (args.model + "_features.pt");
    const std::filesystem::path head = args.out / (args.model + "_head.pt");
    const std::filesystem::path classes = args.out / (args.model + "_classes.txt");

    xai::models::to_torchscript(model, layer).save(single.string());
    const auto pair = xai::models::to_torchscript_pair(model, layer);
    pair.first.save(features.string());
    pair.second.save(head.string());
    std::ofstream names(classes);
    for (const std::string_view name : xai::fashion_mnist_classes) names << name << '\n';
    if (!names) throw xai::io_error("torch_export_builtin: cannot write '" + classes.string() + "'");

    const xai::ImageShape s = model.input_shape();
    std::printf("%s model (%s weights), input %zux%zux%zu, layer '%s':\n  %s\n  %s + %s\n  %s\n", args.model.c_str(),
                args.untrained ? "untrained" : "trained", s.channels, s.height, s.width, layer.c_str(),
                single.string().c_str(), features.string().c_str(), head.string().c_str(), classes.string().c_str());
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
