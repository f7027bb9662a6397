#pragma once
// Mini-batch training of the built-in CNN: Adam or SGD with momentum on the objective
// (1/n) Σ L(z_i, θ) + (λ/2)‖θ‖² of models/sequential.hpp, with a cosine learning-rate schedule.
//
//   Adam (Kingma & Ba 2015, Algorithm 1):  m ← β₁m + (1−β₁)g,  v ← β₂v + (1−β₂)g²,
//       θ ← θ − α_t · m̂ / (√v̂ + ε)  with m̂ = m/(1−β₁ᵗ), v̂ = v/(1−β₂ᵗ);
//       defaults α = 1e-3, β₁ = 0.9, β₂ = 0.999, ε = 1e-8 (the paper's).
//   SGD with momentum (PyTorch's form, Sutskever et al. 2013):  b ← μb + g,  θ ← θ − α_t b; μ = 0.9.
//   Cosine schedule (Loshchilov & Hutter 2017, without restarts): α_t = α · ½(1 + cos(π t / T))
//       over the T steps of the whole run; off gives a constant α.
//
// Checkpoints (TrainingOptions::checkpoint_directory): the weights after every
// checkpoint_every-th epoch, with the mean learning rate of the steps since the previous one, for
// TracIn (Pruthi et al. 2020), which weighs each checkpoint's gradients by that step size.
//
// Reproducible: epoch e visits the examples in the order of a Fisher–Yates shuffle drawn from
// Rng::stream(seed, e), gradients are deterministic for any thread count (sequential.hpp) and
// the updates are element-wise, so the same options give the same parameters bit for bit
// whatever the number of threads.

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <iomanip>
#include <numeric>
#include <span>
#include <string_view>
#include <vector>

#include "xai/core/ceil_div.hpp"
#include "xai/core/error.hpp"
#include "xai/core/parallel.hpp"
#include "xai/core/progress.hpp"
#include "xai/core/random.hpp"
#include "xai/core/scores.hpp"
#include "xai/core/tensor.hpp"
#include "xai/models/sequential.hpp"

namespace xai::models {

/// The optimizer of train(): Adam (Kingma & Ba 2015) or SGD with momentum (PyTorch's form).
enum class Optimizer { adam, sgd_momentum };

/// The optimizer's name: "adam" or "sgd_momentum".
inline std::string_view to_string(Optimizer o) { return o == Optimizer::adam ? "adam" : "sgd_momentum"; }

/// Options of train(); the optimizer defaults are the Adam paper's (Kingma & Ba 2015).
struct TrainingOptions {
    Optimizer optimizer = Optimizer::adam;  ///< Adam or SGD with momentum
    double learning_rate = 1e-3;  ///< α (Adam's default; use about 0.05 for SGD with momentum)
    double momentum = 0.9;        ///< μ of SGD with momentum
    double beta1 = 0.9;           ///< Adam
    double beta2 = 0.999;         ///< Adam
    double epsilon = 1e-8;        ///< Adam
    bool cosine_schedule = true;  ///< decay α to 0 along a half cosine over the run
    std::size_t epochs = 10;      ///< the run ends after epoch epochs − 1 (counted from 0)
    /// Resume a run at this epoch (from 0) with the model's current weights: the shuffles and
    /// the learning-rate schedule continue as in an uninterrupted run; the optimizer's moments
    /// restart from zero (with Adam's bias correction counted from the restart).
    std::size_t first_epoch = 0;
    std::size_t batch_size = 64;  ///< examples per mini-batch (the last of an epoch may be smaller)
    std::uint64_t seed = 0;       ///< shuffling (and whatever the batch source draws from it)
    std::size_t threads = 1;      ///< threads over each mini-batch (0 = all)
    /// Where to write checkpoints (empty: none): after every `checkpoint_every`-th epoch and the
    /// last, `epoch_<e>.xaiw` (the model's weights file) and a line of `checkpoints.tsv` (epoch,
    /// mean learning rate since the previous checkpoint, file name). TracIn (Pruthi et al. 2020,
    /// explain/influence/tracin.hpp) traces training through them; read_checkpoints() reads them.
    std::filesystem::path checkpoint_directory = {};
    /// Epochs between checkpoints (counted from the run's epoch 0).
    std::size_t checkpoint_every = 1;
};

/// A checkpoint written by train(): its epoch, the mean learning rate of the optimizer steps since
/// the previous checkpoint (TracIn's η_k) and its weights file.
struct CheckpointRecord {
    std::size_t epoch = 0;                ///< the epoch after which it was written (from 0)
    double learning_rate = 0.0;           ///< mean step size since the previous checkpoint
    std::filesystem::path weights;        ///< the weights file (models/sequential.hpp format)
};

/// The checkpoints listed in `directory`/checkpoints.tsv, in the order they were written;
/// io_error when the index is missing or malformed.
inline std::vector<CheckpointRecord> read_checkpoints(const std::filesystem::path& directory) {
    std::ifstream in(directory / "checkpoints.tsv");
    if (!in) throw io_error(detail::message("xai::models::read_checkpoints(): cannot read '", (directory / "checkpoints.tsv").string(), "'"));
    std::vector<CheckpointRecord> out;
    std::string line;
    while (std::getline(in, line)) {
        if (line.empty() || line[0] == '#') continue;
        std::istringstream fields(line);
        CheckpointRecord r;
        std::string file;
        if (!(fields >> r.epoch >> r.learning_rate >> file))
            throw io_error(detail::message("xai::models::read_checkpoints(): malformed line '", line, "' in '",
                                           (directory / "checkpoints.tsv").string(), "'"));
        r.weights = directory / file;
        out.push_back(std::move(r));
    }
    return out;
}

/// A mini-batch: images and one label each, or images and a loss of their outputs.
struct TrainingBatch {
    Batch images;   ///< N×C×H×W, the model's input shape
    Labels labels;  ///< one class index per image (the cross-entropy); empty when `loss` is set
    /// Another loss than the cross-entropy with one label per image (e.g. the per-pixel
    /// cross-entropy of models/segmentation.hpp); empty: the labels' cross-entropy.
    OutputLoss loss{};
};

/// Builds the mini-batch of the given example indices for an epoch (lets a caller generate or
/// augment examples on the fly, reproducibly from (seed, epoch, index)).
using BatchSource = std::function<TrainingBatch(std::size_t epoch, std::span<const std::size_t> indices)>;

/// What one epoch did.
struct EpochReport {
    std::size_t epoch = 0;        ///< from 0
    double mean_objective = 0.0;  ///< mean of the mini-batch objectives during the epoch
    double learning_rate = 0.0;   ///< α at the end of the epoch
    double seconds = 0.0;         ///< wall-clock time of the epoch
};

/// The images of `source` at `indices`, with their labels.
inline TrainingBatch gather(const Batch& images, const Labels& labels, std::span<const std::size_t> indices) {
    const std::size_t d = images.size() / images.shape(0);
    TrainingBatch out{Batch::from_shape({indices.size(), images.shape(1), images.shape(2), images.shape(3)}), {}, {}};
    out.labels.reserve(indices.size());
    for (std::size_t i = 0; i < indices.size(); ++i) {
        std::copy(images.data() + indices[i] * d, images.data() + (indices[i] + 1) * d, out.images.data() + i * d);
        out.labels.push_back(labels[indices[i]]);
    }
    return out;
}

/// Trains `model` on `examples` examples served by `source`; calls on_epoch after each epoch and
/// `progress` after each mini-batch with the examples done in the current epoch.
template <class Scalar>
std::vector<EpochReport> train(BasicSequential<Scalar>& model, std::size_t examples, const BatchSource& source,
                               const TrainingOptions& options, const std::function<void(const EpochReport&)>& on_epoch = {},
                               const Progress& progress = {}) {
    constexpr const char* where = "xai::models::train()";
    detail::require<model_error>(!model.empty(), where, ": the model is empty (no layers)");
    detail::require(examples > 0, where, ": examples is 0, expected at least one training example");
    detail::require(options.batch_size > 0, where, ": batch_size is 0, expected at least 1");
    detail::require(options.epochs > 0, where, ": epochs is 0, expected at least 1");
    detail::require(options.first_epoch < options.epochs, where, ": first_epoch is ", options.first_epoch,
                    ", expected less than epochs (", options.epochs, ")");
    detail::require(std::isfinite(options.learning_rate) && options.learning_rate > 0, where, ": learning_rate is ",
                    options.learning_rate, ", expected a finite value > 0");
    detail::require(options.beta1 >= 0 && options.beta1 < 1 && options.beta2 >= 0 && options.beta2 < 1 &&
                        options.momentum >= 0 && options.momentum < 1 && options.epsilon > 0,
                    where, ": beta1, beta2 and momentum must be in [0, 1) and epsilon > 0");
    detail::require(static_cast<bool>(source), where, ": source is an empty function, expected a BatchSource");

    const std::size_t p = model.num_parameters();
    const std::size_t steps_per_epoch = xai::detail::ceil_div(examples, options.batch_size);
    const double total_steps = static_cast<double>(steps_per_epoch * options.epochs);
    std::vector<Scalar> gradient(p), first(p, Scalar(0)), second(p, Scalar(0));
    std::vector<std::size_t> order(examples);
    std::vector<EpochReport> reports;
    const std::size_t saved_threads = model.num_threads();
    model.set_num_threads(options.threads);
    detail::require(options.checkpoint_every > 0, where, ": checkpoint_every is 0, expected at least 1");
    std::ofstream checkpoint_index;
    if (!options.checkpoint_directory.empty()) {
        std::filesystem::create_directories(options.checkpoint_directory);
        checkpoint_index.open(options.checkpoint_directory / "checkpoints.tsv",
                              options.first_epoch > 0 ? std::ios::app : std::ios::trunc);
        if (!checkpoint_index)
            throw io_error(detail::message(where, ": cannot write '", (options.checkpoint_directory / "checkpoints.tsv").string(), "'"));
        if (options.first_epoch == 0) checkpoint_index << "# epoch\tmean learning rate since the previous checkpoint\tweights\n";
    }
    double rate_sum = 0.0;            // step sizes since the last checkpoint
    std::size_t rate_steps = 0;
    std::size_t step = options.first_epoch * steps_per_epoch;  // along the schedule
    std::size_t optimizer_steps = 0;                            // since the moments were zero
    auto rate_at = [&](std::size_t s) {
        if (!options.cosine_schedule) return options.learning_rate;
        return options.learning_rate * 0.5 * (1.0 + std::cos(3.141592653589793 * static_cast<double>(s) / total_steps));
    };
    try {
        for (std::size_t epoch = options.first_epoch; epoch < options.epochs; ++epoch) {
            const auto start = std::chrono::steady_clock::now();
            std::iota(order.begin(), order.end(), std::size_t{0});
            Rng rng = Rng::stream(options.seed, epoch);
            for (std::size_t i = examples; i > 1; --i) std::swap(order[i - 1], order[rng.uniform_index(i)]);
            double objective_sum = 0.0;
            for (std::size_t b = 0; b < steps_per_epoch; ++b) {
                const std::size_t begin = b * options.batch_size, end = std::min(examples, begin + options.batch_size);
                const TrainingBatch batch = source(epoch, std::span<const std::size_t>(order.data() + begin, end - begin));
                objective_sum += batch.loss ? model.objective_gradient(batch.images, batch.loss, gradient)
                                            : model.objective_gradient(batch.images, batch.labels, gradient);
                const double rate = rate_at(step);
                rate_sum += rate;
                ++rate_steps;
                ++step;
                ++optimizer_steps;
                std::span<Scalar> theta = model.parameter_values();
                if (options.optimizer == Optimizer::adam) {
                    const double c1 = 1.0 - std::pow(options.beta1, static_cast<double>(optimizer_steps));
                    const double c2 = 1.0 - std::pow(options.beta2, static_cast<double>(optimizer_steps));
                    const auto b1 = static_cast<Scalar>(options.beta1), b2 = static_cast<Scalar>(options.beta2);
                    const auto step_size = static_cast<Scalar>(rate / c1);
                    const auto sqrt_c2 = static_cast<Scalar>(std::sqrt(c2)), eps = static_cast<Scalar>(options.epsilon);
                    for (std::size_t j = 0; j < p; ++j) {
                        first[j] = b1 * first[j] + (Scalar(1) - b1) * gradient[j];
                        second[j] = b2 * second[j] + (Scalar(1) - b2) * gradient[j] * gradient[j];
                        // m̂ / (√v̂ + ε) = (m / c1) / (√v / √c2 + ε)
                        theta[j] -= step_size * first[j] / (std::sqrt(second[j]) / sqrt_c2 + eps);
                    }
                } else {
                    const auto mu = static_cast<Scalar>(options.momentum), r = static_cast<Scalar>(rate);
                    for (std::size_t j = 0; j < p; ++j) {
                        first[j] = mu * first[j] + gradient[j];
                        theta[j] -= r * first[j];
                    }
                }
                xai::detail::report(progress, end, examples, "examples");
            }
            EpochReport report{epoch, objective_sum / static_cast<double>(steps_per_epoch), rate_at(step),
                               std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count()};
            reports.push_back(report);
            if (checkpoint_index.is_open() && ((epoch + 1) % options.checkpoint_every == 0 || epoch + 1 == options.epochs)) {
                const std::string file = "epoch_" + std::to_string(epoch) + ".xaiw";
                model.save(options.checkpoint_directory / file);
                checkpoint_index << epoch << '\t' << std::setprecision(17) << rate_sum / static_cast<double>(rate_steps) << '\t'
                                 << file << '\n'
                                 << std::flush;
                rate_sum = 0.0;
                rate_steps = 0;
            }
            if (on_epoch) on_epoch(report);
        }
    } catch (...) {
        model.set_num_threads(saved_threads);
        throw;
    }
    model.set_num_threads(saved_threads);
    return reports;
}

/// Trains on a fixed labelled set (see the general overload).
template <class Scalar>
std::vector<EpochReport> train(BasicSequential<Scalar>& model, const Batch& images, const Labels& labels,
                               const TrainingOptions& options, const std::function<void(const EpochReport&)>& on_epoch = {},
                               const Progress& progress = {}) {
    detail::require<shape_error>(images.shape(0) == labels.size(), "xai::models::train(): ", images.shape(0),
                                 " images but ", labels.size(), " labels");
    return train(model, labels.size(),
                 [&](std::size_t, std::span<const std::size_t> indices) { return gather(images, labels, indices); },
                 options, on_epoch, progress);
}

/// The fraction of `images` whose arg-max logit equals the label, evaluated `batch_size` at a time.
template <Classifier Model>
double accuracy(const Model& model, const Batch& images, const Labels& labels, std::size_t batch_size = 256) {
    detail::require<shape_error>(images.shape(0) == labels.size() && !labels.empty(), "xai::models::accuracy(): ",
                                 images.shape(0), " images and ", labels.size(), " labels, expected as many, at least one");
    detail::require(batch_size > 0, "xai::models::accuracy(): batch_size is 0, expected at least 1");
    std::size_t correct = 0;
    std::vector<std::size_t> indices;
    for (std::size_t begin = 0; begin < labels.size(); begin += batch_size) {
        const std::size_t end = std::min(labels.size(), begin + batch_size);
        indices.resize(end - begin);
        std::iota(indices.begin(), indices.end(), begin);
        const TrainingBatch batch = gather(images, labels, indices);
        const std::vector<std::size_t> predicted = argmax_rows(model.forward(batch.images));
        for (std::size_t i = 0; i < predicted.size(); ++i) correct += predicted[i] == batch.labels[i] ? 1 : 0;
    }
    return static_cast<double>(correct) / static_cast<double>(labels.size());
}

}  // namespace xai::models
