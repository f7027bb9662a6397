// Trains the built-in models on Fashion-MNIST (Debian's dataset-fashion-mnist) and writes the
// sample images shipped in data/samples/.
//
//   train_fashion_mnist --model fashion --epochs 15 --threads 2 --output data/models/fashion.xaiw
//   train_fashion_mnist --model scenes  --epochs 12 --threads 2 --output data/models/scenes.xaiw
//   train_fashion_mnist --model scenes  --cue-rate 0.9 --output data/models/scenes_biased.xaiw
//   train_fashion_mnist --samples data/samples
//
// "fashion" is the GAP-CNN on 28×28 items, trained with random horizontal flips and shifts of
// up to 2 pixels; "scenes" is the GAP-CNN on 64×64 scenes (data/scenes.hpp), a fresh scene of
// every training item each epoch. Accuracy is printed after every epoch: on the 10,000 test
// images, or on the fixed held-out set of 10,000 scenes made from the test split (scene i
// shows test item i, SceneOptions seed 1). The weights are saved after every epoch.
//
// --cue-rate R trains the biased scenes model of docs/bias.md: every training scene carries the
// spurious cue of data/scenes.hpp (SpuriousCue{.probability = 1, .rate = R}), whose code is the
// label's with probability R. Its accuracy is then printed on the held-out scenes with a cue that
// is independent of the class (rate 0: the test condition), and on their first 2,000 with the
// training cue (rate R) and without any cue.

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "xai/data/fashion_mnist.hpp"
#include "xai/data/scenes.hpp"
#include "xai/image/io.hpp"
#include "xai/models/builtin.hpp"
#include "xai/models/training.hpp"

namespace {

struct Arguments {
    std::string model = "fashion";
    std::size_t epochs = 15;
    std::size_t threads = 2;
    std::uint64_t seed = 1;
    std::string output;
    std::optional<std::filesystem::path> data;
    std::size_t batch = 64;
    double learning_rate = 1e-3;
    double l2 = 1e-4;
    std::size_t limit = 0;
    std::string samples;
    std::string init;             // resume from these weights...
    std::size_t first_epoch = 0;  // ...at this epoch (from 0) of the same schedule
    double cue_rate = -1.0;       // < 0: no spurious cue; else every training scene has one at this rate
};

constexpr std::uint64_t held_out_scene_seed = 1;

void usage() {
    std::cout << "usage: train_fashion_mnist [--model fashion|scenes] [--epochs N] [--threads N] [--seed N]\n"
                 "                           [--output FILE] [--data DIR] [--batch N] [--lr X] [--l2 X] [--limit N]\n"
                 "                           [--init FILE --first-epoch N]   (resume an interrupted run)\n"
                 "                           [--cue-rate R]   (scenes with a spurious cue agreeing with the label at rate R)\n"
                 "       train_fashion_mnist --samples DIR   (writes DIR/fashion and DIR/scenes)\n";
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
        if (flag == "--model") a.model = value;
        else if (flag == "--epochs") a.epochs = std::stoul(value);
        else if (flag == "--threads") a.threads = std::stoul(value);
        else if (flag == "--seed") a.seed = std::stoull(value);
        else if (flag == "--output") a.output = value;
        else if (flag == "--data") a.data = value;
        else if (flag == "--batch") a.batch = std::stoul(value);
        else if (flag == "--lr") a.learning_rate = std::stod(value);
        else if (flag == "--l2") a.l2 = std::stod(value);
        else if (flag == "--limit") a.limit = std::stoul(value);
        else if (flag == "--samples") a.samples = value;
        else if (flag == "--init") a.init = value;
        else if (flag == "--first-epoch") a.first_epoch = std::stoul(value);
        else if (flag == "--cue-rate") a.cue_rate = std::stod(value);
        else throw std::invalid_argument("unknown option " + flag);
    }
    if (a.model != "fashion" && a.model != "scenes") throw std::invalid_argument("--model must be fashion or scenes");
    if (a.cue_rate >= 0.0 && a.model != "scenes") throw std::invalid_argument("--cue-rate needs --model scenes");
    if (a.cue_rate > 1.0) throw std::invalid_argument("--cue-rate must be in [0, 1]");
    if (a.output.empty()) a.output = a.model + ".xaiw";
    return a;
}

/// Random horizontal flip and shift by up to 2 pixels (zero fill), from Rng::stream(seed, unit).
void augment(float* image, std::size_t h, std::size_t w, xai::Rng rng) {
    const bool flip = rng.bernoulli(0.5);
    const auto dy = static_cast<std::ptrdiff_t>(rng.uniform_index(5)) - 2;
    const auto dx = static_cast<std::ptrdiff_t>(rng.uniform_index(5)) - 2;
    std::vector<float> source(image, image + h * w);
    for (std::size_t y = 0; y < h; ++y)
        for (std::size_t x = 0; x < w; ++x) {
            const std::ptrdiff_t sy = static_cast<std::ptrdiff_t>(y) - dy;
            std::ptrdiff_t sx = static_cast<std::ptrdiff_t>(x) - dx;
            if (flip) sx = static_cast<std::ptrdiff_t>(w) - 1 - sx;
            const bool inside = sy >= 0 && sy < static_cast<std::ptrdiff_t>(h) && sx >= 0 && sx < static_cast<std::ptrdiff_t>(w);
            image[y * w + x] = inside ? source[static_cast<std::size_t>(sy) * w + static_cast<std::size_t>(sx)] : 0.0f;
        }
}

void write_png(const std::filesystem::path& path, const float* values, std::size_t h, std::size_t w) {
    xai::Image image = xai::Image::from_shape({1, h, w});
    std::copy(values, values + h * w, image.begin());
    xai::save_image(path, image);
}

std::string json_string(std::string_view s) {
    std::string out = "\"";
    for (char c : s) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
    }
    return out + "\"";
}

/// 16 test items (the first of each class, then the second of classes 0–5) and the first 16
/// held-out scenes, with their labels and ground truth in JSON.
void write_samples(const Arguments& a) {
    const xai::LabelledImages test = xai::load_fashion_mnist(xai::FashionMnistSplit::test, 0, a.data);
    const std::filesystem::path root = a.samples;
    std::filesystem::create_directories(root / "fashion");
    std::filesystem::create_directories(root / "scenes");

    std::vector<std::size_t> chosen;
    for (std::size_t round = 0; round < 2 && chosen.size() < 16; ++round)
        for (std::size_t c = 0; c < 10 && chosen.size() < 16; ++c) {
            std::size_t seen = 0;
            for (std::size_t i = 0; i < test.labels.size(); ++i)
                if (test.labels[i] == c && seen++ == round) {
                    chosen.push_back(i);
                    break;
                }
        }
    std::ofstream fashion_json(root / "fashion" / "labels.json");
    fashion_json << "{\n  \"source\": \"Fashion-MNIST test split (Xiao, Rasul & Vollgraf 2017), images 28x28 grey\",\n"
                 << "  \"images\": [\n";
    for (std::size_t k = 0; k < chosen.size(); ++k) {
        const std::size_t i = chosen[k];
        const std::string file = "fashion_" + std::to_string(k) + ".png";
        write_png(root / "fashion" / file, test.images.data() + i * 784, 28, 28);
        fashion_json << "    {\"file\": " << json_string(file) << ", \"test_index\": " << i << ", \"label\": " << test.labels[i]
                     << ", \"class\": " << json_string(xai::fashion_mnist_classes[test.labels[i]]) << "}"
                     << (k + 1 < chosen.size() ? "," : "") << "\n";
    }
    fashion_json << "  ]\n}\n";

    xai::SceneOptions options;
    options.seed = held_out_scene_seed;
    const xai::SceneSet scenes = xai::make_scenes(test.images, test.labels, 0, 16, options);
    std::ofstream scenes_json(root / "scenes" / "ground_truth.json");
    scenes_json << "{\n  \"source\": \"held-out scenes 0-15: xai::make_scenes(Fashion-MNIST test split, first index 0, "
                   "SceneOptions{} with seed 1)\",\n  \"box\": \"half-open [top, bottom) x [left, right) in pixels\",\n"
                << "  \"scenes\": [\n";
    const std::size_t S = options.canvas_size;
    for (std::size_t k = 0; k < 16; ++k) {
        const std::string file = "scene_" + std::to_string(k) + ".png";
        const std::string mask_file = "scene_" + std::to_string(k) + "_mask.png";
        write_png(root / "scenes" / file, scenes.images.data() + k * S * S, S, S);
        std::vector<float> mask(S * S);
        for (std::size_t i = 0; i < S * S; ++i) mask[i] = scenes.masks.data()[k * S * S + i] ? 1.0f : 0.0f;
        write_png(root / "scenes" / mask_file, mask.data(), S, S);
        const xai::SceneBox& b = scenes.boxes[k];
        scenes_json << "    {\"file\": " << json_string(file) << ", \"mask\": " << json_string(mask_file)
                    << ", \"scene_index\": " << k << ", \"test_index\": " << scenes.item_indices[k]
                    << ", \"label\": " << scenes.labels[k]
                    << ", \"class\": " << json_string(xai::fashion_mnist_classes[scenes.labels[k]]) << ", \"box\": {\"top\": "
                    << b.top << ", \"left\": " << b.left << ", \"bottom\": " << b.bottom << ", \"right\": " << b.right << "}}"
                    << (k + 1 < 16 ? "," : "") << "\n";
    }
    scenes_json << "  ]\n}\n";
    std::cout << "wrote " << chosen.size() << " fashion samples and 16 scenes to " << root << "\n";
}

int run(const Arguments& a) {
    if (!a.samples.empty()) {
        write_samples(a);
        return 0;
    }
    std::cout << "reading Fashion-MNIST...\n";
    const xai::LabelledImages train = xai::load_fashion_mnist(xai::FashionMnistSplit::train, a.limit, a.data);
    const xai::LabelledImages test = xai::load_fashion_mnist(xai::FashionMnistSplit::test, 0, a.data);

    xai::models::Sequential model = xai::models::builtin_architecture(a.model, a.seed);
    if (!a.init.empty()) model.load_parameters(a.init);  // refuses another architecture
    model.set_l2_regularization(a.l2);
    model.set_num_threads(a.threads);
    std::cout << model.describe() << "\n" << model.num_parameters() << " parameters\n";

    xai::models::TrainingOptions options;
    options.epochs = a.epochs;
    options.first_epoch = a.first_epoch;
    options.batch_size = a.batch;
    options.learning_rate = a.learning_rate;
    options.seed = a.seed;
    options.threads = a.threads;

    const std::size_t n = train.labels.size();
    xai::SceneOptions scene_options;
    scene_options.seed = a.seed;
    if (a.cue_rate >= 0.0) scene_options.cue = {.probability = 1.0, .rate = a.cue_rate};
    xai::Batch eval_images = test.images;
    xai::Labels eval_labels = test.labels;
    // The biased model's other two conditions: the first 2,000 held-out scenes with the training
    // cue (rate R) and without a cue.
    std::vector<std::pair<std::string, xai::SceneSet>> cue_conditions;
    xai::models::BatchSource source;
    if (a.model == "fashion") {
        source = [&](std::size_t epoch, std::span<const std::size_t> indices) {
            xai::models::TrainingBatch batch = xai::models::gather(train.images, train.labels, indices);
            for (std::size_t i = 0; i < indices.size(); ++i)
                augment(batch.images.data() + i * 784, 28, 28,
                        xai::Rng::stream(a.seed + 0x9e3779b97f4a7c15ULL, epoch * n + indices[i]));
            return batch;
        };
    } else {
        xai::SceneOptions held_out = scene_options;
        held_out.seed = held_out_scene_seed;
        if (a.cue_rate >= 0.0) {
            held_out.cue.rate = 0.0;  // the test condition: the cue is independent of the class
            xai::SceneOptions training_cue = held_out, no_cue = held_out;
            training_cue.cue.rate = a.cue_rate;
            no_cue.cue.probability = 0.0;
            cue_conditions.emplace_back("training cue (rate " + std::to_string(a.cue_rate) + ")",
                                        xai::make_scenes(test.images, test.labels, 0, 2000, training_cue, a.threads));
            cue_conditions.emplace_back("no cue", xai::make_scenes(test.images, test.labels, 0, 2000, no_cue, a.threads));
        }
        xai::SceneSet scenes = xai::make_scenes(test.images, test.labels, 0, test.labels.size(), held_out, a.threads);
        eval_images = std::move(scenes.images);
        source = [&](std::size_t epoch, std::span<const std::size_t> indices) {
            std::vector<std::size_t> scene_indices(indices.begin(), indices.end());
            for (std::size_t& i : scene_indices) i += epoch * n;  // a fresh scene of item i each epoch
            xai::SceneSet set = xai::make_scenes(train.images, train.labels, scene_indices, scene_options);
            return xai::models::TrainingBatch{std::move(set.images), std::move(set.labels), {}};
        };
    }
    xai::models::train(model, n, source, options, [&](const xai::models::EpochReport& r) {
        const double acc = xai::models::accuracy(model, eval_images, eval_labels);
        std::cout << "epoch " << r.epoch + 1 << "/" << a.epochs << "  objective " << r.mean_objective << "  lr "
                  << r.learning_rate << "  " << r.seconds << " s  test accuracy " << acc;
        for (const auto& [name, set] : cue_conditions)
            std::cout << "  |  " << name << " " << xai::models::accuracy(model, set.images, set.labels);
        std::cout << std::endl;
        model.save(a.output);
    });
    const double final_accuracy = xai::models::accuracy(model, eval_images, eval_labels);
    std::cout << "final test accuracy " << final_accuracy << " (" << eval_labels.size() << " "
              << (a.model == "fashion" ? "test images" : "held-out scenes")
              << (cue_conditions.empty() ? "" : " with a cue independent of the class") << "); weights in " << a.output
              << "\n";
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        return run(parse(argc, argv));
    } catch (const std::exception& e) {
        std::cerr << "train_fashion_mnist: " << e.what() << "\n";
        usage();
        return 1;
    }
}
