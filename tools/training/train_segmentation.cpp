// Trains the built-in segmentation network (models/builtin.hpp, builtin_segmentation_architecture)
// on the scenes generator's exact masks (data/scenes.hpp): every pixel of the item is labelled
// with the item's class, every other pixel (clutter included) with background (class 10).
//
//   train_segmentation --encoder data/models/scenes.xaiw --epochs 6 --threads 2 --output segmentation.xaiw
//   train_segmentation --init segmentation.xaiw --first-epoch 3 --epochs 6 ...     (resume a run)
//
// The encoder (conv1–conv4) starts from the trained "scenes" classifier when --encoder is given
// (transfer learning: it already finds the item and tells the classes apart); the decoder
// (conv5, conv6) starts from the architecture's initialiser. Adam with a cosine schedule on the
// per-pixel cross-entropy (models/segmentation.hpp), batches of 32, λ = 1e-4. Each epoch shows
// --scenes fresh training scenes (scene index epoch·60000 + i of training item i mod 60000). After
// every epoch the mean IoU and the pixel accuracy are printed on held-out scenes (the first
// --eval-scenes scenes of the Fashion-MNIST test split, SceneOptions seed 1: the classifier's
// held-out set) and the weights are saved. docs/models.md records the runs.

#include <cstdint>
#include <cstdlib>
#include <iomanip>
#include <iostream>
#include <numeric>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "xai/data/fashion_mnist.hpp"
#include "xai/data/scenes.hpp"
#include "xai/models/builtin.hpp"
#include "xai/models/segmentation.hpp"
#include "xai/models/training.hpp"

namespace {

struct Arguments {
    std::size_t epochs = 6;
    std::size_t first_epoch = 0;
    std::size_t threads = 2;
    std::size_t scenes = 60000;
    std::size_t eval_scenes = 2000;
    std::size_t batch = 32;
    std::uint64_t seed = 1;
    double learning_rate = 1e-3;
    double l2 = 1e-4;
    std::string encoder;
    std::string init;
    std::string output = "segmentation.xaiw";
    std::optional<std::filesystem::path> data;
};

constexpr std::uint64_t held_out_scene_seed = 1;  // the classifier's held-out scenes (train_fashion_mnist)

void usage() {
    std::cout << "usage: train_segmentation [--encoder scenes.xaiw] [--init FILE --first-epoch N] [--epochs N]\n"
                 "                          [--scenes N] [--eval-scenes N] [--threads N] [--seed N] [--batch N]\n"
                 "                          [--lr X] [--l2 X] [--data DIR] [--output FILE]\n";
}

Arguments parse(int argc, char** argv) {
    Arguments a;
    for (int i = 1; i < argc; ++i) {
        const std::string flag = argv[i];
        if (flag == "--help" || flag == "-h") {
            usage();
            std::exit(0);
        }
        if (i + 1 >= argc) throw std::invalid_argument("missing value after " + flag);
        const std::string value = argv[++i];
        if (flag == "--epochs") a.epochs = std::stoul(value);
        else if (flag == "--first-epoch") a.first_epoch = std::stoul(value);
        else if (flag == "--threads") a.threads = std::stoul(value);
        else if (flag == "--scenes") a.scenes = std::stoul(value);
        else if (flag == "--eval-scenes") a.eval_scenes = std::stoul(value);
        else if (flag == "--batch") a.batch = std::stoul(value);
        else if (flag == "--seed") a.seed = std::stoull(value);
        else if (flag == "--lr") a.learning_rate = std::stod(value);
        else if (flag == "--l2") a.l2 = std::stod(value);
        else if (flag == "--encoder") a.encoder = value;
        else if (flag == "--init") a.init = value;
        else if (flag == "--output") a.output = value;
        else if (flag == "--data") a.data = value;
        else throw std::invalid_argument("unknown option " + flag);
    }
    return a;
}

/// Copies every parameter block of `from` whose name and size `to` also has (the encoder).
std::size_t copy_matching_blocks(const xai::models::Sequential& from, xai::models::Sequential& to) {
    std::size_t copied = 0;
    const auto source = from.parameter_values();
    auto target = to.parameter_values();
    for (const xai::ParameterBlock& b : from.parameter_blocks())
        for (const xai::ParameterBlock& t : to.parameter_blocks())
            if (t.name == b.name && t.size == b.size) {
                std::copy_n(source.begin() + static_cast<std::ptrdiff_t>(b.offset), b.size,
                            target.begin() + static_cast<std::ptrdiff_t>(t.offset));
                ++copied;
            }
    return copied;
}

int run(const Arguments& a) {
    namespace m = xai::models;
    std::cout << "reading Fashion-MNIST...\n";
    const xai::LabelledImages train = xai::load_fashion_mnist(xai::FashionMnistSplit::train, 0, a.data);
    const xai::LabelledImages test = xai::load_fashion_mnist(xai::FashionMnistSplit::test, 0, a.data);

    m::Sequential model = m::builtin_segmentation_architecture(a.seed);
    if (!a.encoder.empty())
        std::cout << "encoder: " << copy_matching_blocks(m::load(a.encoder), model) << " parameter blocks from "
                  << a.encoder << "\n";
    if (!a.init.empty()) model.load_parameters(a.init);
    model.set_l2_regularization(a.l2);
    model.set_num_threads(a.threads);
    std::cout << model.describe() << "\n" << model.num_parameters() << " parameters\n";

    xai::SceneOptions held_out;
    held_out.seed = held_out_scene_seed;
    const xai::SceneSet eval = xai::make_scenes(test.images, test.labels, 0, a.eval_scenes, held_out, a.threads);
    const m::PixelLabels eval_truth = m::pixel_labels(eval.masks, eval.labels, m::segmentation_background);

    m::TrainingOptions options;
    options.epochs = a.epochs;
    options.first_epoch = a.first_epoch;
    options.batch_size = a.batch;
    options.learning_rate = a.learning_rate;
    options.seed = a.seed;
    options.threads = a.threads;
    const xai::SceneOptions scene_options{.seed = a.seed};
    const std::size_t items = train.labels.size();
    const m::BatchSource source = [&](std::size_t epoch, std::span<const std::size_t> indices) {
        std::vector<std::size_t> scene_indices(indices.begin(), indices.end());
        for (std::size_t& i : scene_indices) i = epoch * items + i % items;  // a fresh scene each epoch
        xai::SceneSet set = xai::make_scenes(train.images, train.labels, scene_indices, scene_options);
        m::OutputLoss loss = m::pixel_cross_entropy(m::pixel_labels(set.masks, set.labels, m::segmentation_background),
                                                    m::segmentation_classes);
        return m::TrainingBatch{std::move(set.images), {}, std::move(loss)};
    };
    auto report = [&](const char* when) {
        const m::SegmentationScore s = m::evaluate_segmentation(model, eval.images, eval_truth);
        std::cout << when << " mean IoU " << std::fixed << std::setprecision(4) << s.mean_iou << "  pixel accuracy "
                  << s.pixel_accuracy << "  IoU per class";
        for (double v : s.iou) std::cout << ' ' << std::setprecision(3) << v;
        std::cout << std::defaultfloat << std::endl;
    };
    m::train(model, a.scenes, source, options, [&](const m::EpochReport& r) {
        std::cout << "epoch " << r.epoch + 1 << "/" << a.epochs << "  objective " << r.mean_objective << "  lr "
                  << r.learning_rate << "  " << r.seconds << " s" << std::endl;
        model.save(a.output);
        report("  held-out");
    });
    report("final");
    std::cout << "weights in " << a.output << "\n";
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        return run(parse(argc, argv));
    } catch (const std::exception& e) {
        std::cerr << "train_segmentation: " << e.what() << "\n";
        usage();
        return 1;
    }
}
