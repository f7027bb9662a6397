// xai-influence: which training images does a classifier find suspicious? Ranks a training set
// by self-influence (Koh & Liang 2017, §5.4) — or by influence on one test image — and writes a
// gallery of the top suspects with their training label and the network's predicted class.
//
//   xai-influence [--train N] [--top K] [--out FILE] [--threads N] [--quiet]
//   xai-influence --test-index I [--train N] [--top K] [--out FILE]
//   xai-influence --flip FRACTION [--seed S] [--train N]
//
// The model is the built-in fashion CNN (models::load_builtin("fashion")); the training set the
// first N images (default all 60,000) of Fashion-MNIST's training split (Debian's
// dataset-fashion-mnist). Influence is taken through the network's last layer with the features
// frozen (Koh & Liang's route for their Inception network, §5.1): the CNN maps every image to its
// 128 global-average-pooled features, the last layer (multinomial logistic regression on them,
// 1,290 parameters = {fc.weight, fc.bias}, the network's λ = 1e-4) is refitted to convergence
// from the shipped weights (Newton, ‖∇F‖ ≤ 1e-10), and the exact solver factorizes its Hessian:
// self-influence I_up,loss(z_i, z_i) = −∇L_iᵀ H⁻¹ ∇L_i for every training image, most negative
// first. The gallery shows, for each suspect, its rank, index, training label, the full
// network's prediction and its self-influence.
//
// --flip FRACTION: flips that fraction of the training labels (each to a uniformly drawn other
// class, Rng::stream(seed, 0)), refits the last layer on them, and reports the fraction of the
// flipped labels found after checking 10%, 20% and 30% of the training set in the order of
// self-influence, of training loss and at random. The CNN's features stay those trained on the
// true labels: this measures what the last layer's influence finds, not a network trained on
// noisy labels.
//
// Progress goes to stderr (one line per stage; redrawn in place on a terminal).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <numeric>
#include <stdexcept>
#include <string>
#include <vector>

#include <unistd.h>

#include "canvas.hpp"
#include "xai/data/fashion_mnist.hpp"
#include "xai/image/io.hpp"
#include "xai/influence.hpp"
#include "xai/models/builtin.hpp"
#include "xai/models/logistic_regression.hpp"

using xai::models::LogisticRegression;

namespace {

struct Arguments {
    std::size_t train = 0;  // 0 = all
    std::size_t top = 32;
    std::filesystem::path out = "influence_suspects.png";
    std::size_t threads = 0;
    bool quiet = false;
    long test_index = -1;
    double flip = 0.0;
    std::uint64_t seed = 0;
};

void usage(std::ostream& out) {
    out << "usage: xai-influence [--train N] [--top K] [--out FILE] [--threads N] [--quiet]\n"
           "       xai-influence --test-index I [--train N] [--top K] [--out FILE]\n"
           "       xai-influence --flip FRACTION [--seed S] [--train N]\n"
           "Ranks Fashion-MNIST's training images by self-influence (or by influence on test image I) through the\n"
           "built-in fashion CNN's last layer and writes a gallery of the top K (default 32) with their labels and\n"
           "the network's prediction; --flip measures how many flipped labels self-influence and training loss find.\n";
}

/// `value` of `flag` as a non-negative integer, all of it.
std::size_t whole_number(const std::string& flag, const std::string& value) {
    std::size_t used = 0;
    unsigned long long v = 0;
    try {
        if (!value.empty() && value[0] != '-' && value[0] != '+') v = std::stoull(value, &used);
    } catch (const std::exception&) {
        used = 0;
    }
    if (used == 0 || used != value.size()) throw std::invalid_argument(flag + " is '" + value + "', expected a whole number >= 0");
    return static_cast<std::size_t>(v);
}

/// `value` of `flag` as a finite number, all of it.
double real_number(const std::string& flag, const std::string& value) {
    std::size_t used = 0;
    double v = 0.0;
    try {
        v = std::stod(value, &used);
    } catch (const std::exception&) {
        used = 0;
    }
    if (used == 0 || used != value.size() || !std::isfinite(v)) throw std::invalid_argument(flag + " is '" + value + "', expected a number");
    return v;
}

Arguments parse(int argc, char** argv) {
    Arguments a;
    for (int i = 1; i < argc; ++i) {
        const std::string flag = argv[i];
        if (flag == "--help" || flag == "-h") {
            usage(std::cout);
            std::exit(0);
        }
        if (flag == "--quiet") {
            a.quiet = true;
            continue;
        }
        if (i + 1 >= argc) throw std::invalid_argument("missing value after " + flag);
        const std::string value = argv[++i];
        if (flag == "--train") a.train = whole_number(flag, value);
        else if (flag == "--top") a.top = whole_number(flag, value);
        else if (flag == "--out") a.out = value;
        else if (flag == "--threads") a.threads = whole_number(flag, value);
        else if (flag == "--test-index") a.test_index = static_cast<long>(whole_number(flag, value));
        else if (flag == "--flip") a.flip = real_number(flag, value);
        else if (flag == "--seed") a.seed = whole_number(flag, value);
        else throw std::invalid_argument("unknown option " + flag);
    }
    if (a.top == 0) throw std::invalid_argument("--top must be at least 1");
    if (!(a.flip >= 0.0 && a.flip < 1.0)) throw std::invalid_argument("--flip must be in [0, 1)");
    if (a.flip > 0.0 && a.test_index >= 0) throw std::invalid_argument("--flip and --test-index cannot be combined");
    return a;
}

/// Progress on stderr: one line per stage, redrawn in place on a terminal.
class Progress {
public:
    explicit Progress(bool enabled) : enabled_(enabled), terminal_(isatty(STDERR_FILENO) != 0) {}
    xai::Progress callback(std::string label) {
        if (!enabled_) return {};
        return [this, label](const xai::ProgressReport& p) {
            const std::size_t percent = p.total ? p.done * 100 / p.total : 100;
            if (terminal_) {
                std::fprintf(stderr, "\r  %s: %s %zu/%zu (%zu%%)   ", label.c_str(), std::string(p.stage).c_str(), p.done, p.total, percent);
                if (p.done == p.total) std::fprintf(stderr, "\n");
            } else if (percent / 10 != last_ / 10 || p.done == p.total) {
                std::fprintf(stderr, "  %s: %s %zu/%zu (%zu%%)\n", label.c_str(), std::string(p.stage).c_str(), p.done, p.total, percent);
            }
            last_ = percent;
        };
    }
    void say(const std::string& text) const {
        if (enabled_) std::fprintf(stderr, "%s\n", text.c_str());
    }

private:
    bool enabled_, terminal_;
    std::size_t last_ = 1000;
};

/// The pooled final features of `images` (N×128×1×1) and the network's predictions.
std::pair<xai::Batch, std::vector<std::size_t>> features_of(const xai::models::Sequential& cnn, const xai::Batch& images,
                                                            const xai::Progress& progress) {
    xai::FeatureOutput f = xai::pooled_features(cnn, images, 256, progress);
    return {std::move(f.features), xai::argmax_rows(f.scores)};
}

/// The network's last layer as logistic regression on the features, refitted from the shipped fc.
LogisticRegression fit_head(const xai::models::Sequential& cnn, const xai::Batch& features, const xai::Labels& labels,
                            const Progress& log) {
    LogisticRegression head = LogisticRegression::multinomial({features.shape(1), 1, 1}, cnn.num_classes(), cnn.l2_regularization());
    for (const auto& b : cnn.parameter_blocks())
        if (b.name == "fc.weight")
            head.set_parameters(cnn.parameters().segment(static_cast<Eigen::Index>(b.offset), static_cast<Eigen::Index>(head.num_parameters())));
    const auto start = std::chrono::steady_clock::now();
    const auto report = head.fit(features, labels);
    log.say("  last layer refitted (lambda " + xai::detail::message(cnn.l2_regularization()) + "): " + report.solver + ", " +
            std::to_string(report.iterations) + " iterations, gradient norm " + xai::detail::message(report.gradient_norm) + ", " +
            xai::detail::message(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count()) + " s");
    if (!report.converged) throw std::runtime_error("the last layer did not converge (gradient norm " + xai::detail::message(report.gradient_norm) + ")");
    return head;
}

/// The gallery: `shown` training images in a grid of 8 columns, each with rank, index, label,
/// prediction and score; `title` above, and the explained test image (`query`) first when given.
void write_gallery(const std::filesystem::path& path, const std::string& title, const xai::Batch& images,
                   const xai::Labels& labels, const std::vector<std::size_t>& predicted, const std::vector<std::size_t>& shown,
                   const Eigen::VectorXd& scores, const char* score_name, const xai::Image* query = nullptr) {
    using namespace xai_tools;
    const long zoom = 3, columns = 8, cell_w = 124, cell_h = 28 * zoom + 52;
    const long top = query ? 36 + cell_h : 36;  // the grid starts below the test image's row
    const long rows = (static_cast<long>(shown.size()) + columns - 1) / columns;
    Canvas canvas(static_cast<std::size_t>(20 + columns * cell_w), static_cast<std::size_t>(top + 4 + rows * cell_h));
    canvas.text(10, 12, title, black, 1);
    if (query) {
        canvas.image(*query, 14, 38, static_cast<int>(zoom), blue);
        canvas.text(12, 38 + 28 * zoom + 8, "the test image", blue, 1);
    }
    for (std::size_t k = 0; k < shown.size(); ++k) {
        const std::size_t i = shown[k];
        const long x = 12 + static_cast<long>(k % columns) * cell_w, y = top + static_cast<long>(k / columns) * cell_h;
        const bool disagree = predicted[i] != labels[i];
        canvas.image(xai::image_at(images, i), x + 2, y + 2, static_cast<int>(zoom), disagree ? red : grey);
        const long t = y + 28 * zoom + 8;
        canvas.text(static_cast<double>(x), static_cast<double>(t), "#" + std::to_string(k + 1) + "  i=" + std::to_string(i), black, 1);
        canvas.text(static_cast<double>(x), static_cast<double>(t + 10), "label: " + std::string(xai::fashion_mnist_classes[labels[i]]), black, 1);
        canvas.text(static_cast<double>(x), static_cast<double>(t + 20), "pred:  " + std::string(xai::fashion_mnist_classes[predicted[i]]),
                    disagree ? red : black, 1);
        char value[48];
        std::snprintf(value, sizeof value, "%s %.3g", score_name, scores(static_cast<Eigen::Index>(i)));
        canvas.text(static_cast<double>(x), static_cast<double>(t + 30), value, grey, 1);
    }
    if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path());
    xai::save_image(path, canvas.pixels());
}

int run(const Arguments& a) {
    const Progress log(!a.quiet);
    xai::models::Sequential cnn = xai::models::load_builtin("fashion");
    cnn.set_num_threads(a.threads);
    const xai::LabelledImages train = xai::load_fashion_mnist(xai::FashionMnistSplit::train, a.train);
    const std::size_t n = train.labels.size();
    xai::LabelledImages test;  // checked before the long passes
    if (a.test_index >= 0) {
        test = xai::load_fashion_mnist(xai::FashionMnistSplit::test);
        if (static_cast<std::size_t>(a.test_index) >= test.labels.size())
            throw std::invalid_argument("--test-index is " + std::to_string(a.test_index) + ", expected below " + std::to_string(test.labels.size()));
    }
    log.say("xai-influence: " + std::to_string(n) + " Fashion-MNIST training images, built-in fashion CNN");
    Progress progress(!a.quiet);
    auto [features, predicted] = features_of(cnn, train.images, progress.callback("features"));
    const xai::InfluenceOptions options{.threads = a.threads, .top_k = a.top};

    if (a.flip > 0.0) {  // ---- flipped labels at known places ------------------------------------
        xai::Labels labels = train.labels;
        std::vector<bool> flipped(n, false);
        xai::Rng rng = xai::Rng::stream(a.seed, 0);
        const auto flips = static_cast<std::size_t>(a.flip * static_cast<double>(n));
        if (flips == 0) throw std::invalid_argument("--flip " + xai::detail::message(a.flip) + " flips no label of " + std::to_string(n));
        for (std::size_t done = 0; done < flips;) {
            const auto i = static_cast<std::size_t>(rng.uniform_index(n));
            if (flipped[i]) continue;
            flipped[i] = true;
            labels[i] = (labels[i] + 1 + static_cast<std::size_t>(rng.uniform_index(9))) % 10;
            ++done;
        }
        const LogisticRegression head = fit_head(cnn, features, labels, log);
        const xai::Influence<LogisticRegression, xai::ExactSolver> influence(head, features, labels, options, {},
                                                                             progress.callback("setup"));
        const std::vector<std::size_t> by_influence = xai::review_order(influence.self_influence(progress.callback("self-influence")));
        const std::vector<std::size_t> by_loss = xai::most_harmful(head.per_example_losses(features, labels), n);
        std::printf("flipped %zu of %zu labels (%.0f%%, seed %llu); fraction of the flips found after checking:\n", flips, n,
                    100 * a.flip, static_cast<unsigned long long>(a.seed));
        std::printf("| checked | self-influence | training loss | random (expected) |\n| --- | --- | --- | --- |\n");
        for (const double checked : {0.1, 0.2, 0.3}) {
            const auto k = static_cast<std::ptrdiff_t>(checked * static_cast<double>(n));
            auto found = [&](const std::vector<std::size_t>& order) {
                return static_cast<double>(std::count_if(order.begin(), order.begin() + k, [&](std::size_t i) { return flipped[i]; })) /
                       static_cast<double>(flips);
            };
            std::printf("| %.0f%% | %.3f | %.3f | %.3f |\n", 100 * checked, found(by_influence), found(by_loss), checked);
        }
        return 0;
    }

    const LogisticRegression head = fit_head(cnn, features, train.labels, log);
    const xai::Influence<LogisticRegression, xai::ExactSolver> influence(head, features, train.labels, options, {},
                                                                         progress.callback("setup"));
    if (a.test_index >= 0) {  // ---- influence on one test image ----------------------------------------
        const auto t = static_cast<std::size_t>(a.test_index);
        const xai::Batch image = xt::view(test.images, xt::range(t, t + 1));
        auto [test_features, test_predicted] = features_of(cnn, image, {});
        const xai::InfluenceExplanation e = influence.explain(test_features, {test.labels[t]}, progress.callback("influence"));
        std::vector<std::size_t> shown = e.helpful[0];
        shown.resize(std::min(shown.size(), a.top / 2));
        std::vector<std::size_t> harmful = e.harmful[0];
        harmful.resize(std::min(harmful.size(), a.top - shown.size()));
        shown.insert(shown.end(), harmful.begin(), harmful.end());
        const std::string title = "test image " + std::to_string(t) + " (" + std::string(xai::fashion_mnist_classes[test.labels[t]]) +
                                  ", predicted " + std::string(xai::fashion_mnist_classes[test_predicted[0]]) +
                                  "): most helpful, then most harmful training images";
        const xai::Image query = xai::image_at(test.images, t);
        write_gallery(a.out, title, train.images, train.labels, predicted, shown, Eigen::VectorXd(e.influence.col(0)), "I_up,loss", &query);
        std::printf("rank\tindex\tlabel\tpredicted\tI_up,loss\n");
        for (std::size_t k = 0; k < shown.size(); ++k)
            std::printf("%zu\t%zu\t%s\t%s\t%.6g\n", k + 1, shown[k], std::string(xai::fashion_mnist_classes[train.labels[shown[k]]]).c_str(),
                        std::string(xai::fashion_mnist_classes[predicted[shown[k]]]).c_str(), e.influence(static_cast<Eigen::Index>(shown[k]), 0));
        std::printf("wrote %s\n", a.out.c_str());
        return 0;
    }

    // ---- self-influence ---------------------------------------------------------------------------
    const Eigen::VectorXd self = influence.self_influence(progress.callback("self-influence"));
    std::vector<std::size_t> order = xai::review_order(self);
    order.resize(std::min(order.size(), a.top));
    const std::size_t disagreeing = static_cast<std::size_t>(
        std::count_if(order.begin(), order.end(), [&](std::size_t i) { return predicted[i] != train.labels[i]; }));
    write_gallery(a.out,
                  "Fashion-MNIST training images of most negative self-influence (built-in CNN, last layer), " +
                      std::to_string(n) + " ranked; red: the network disagrees with the label",
                  train.images, train.labels, predicted, order, self, "self-infl.");
    std::printf("rank\tindex\tlabel\tpredicted\tself-influence\n");
    for (std::size_t k = 0; k < order.size(); ++k)
        std::printf("%zu\t%zu\t%s\t%s\t%.6g\n", k + 1, order[k], std::string(xai::fashion_mnist_classes[train.labels[order[k]]]).c_str(),
                    std::string(xai::fashion_mnist_classes[predicted[order[k]]]).c_str(), self(static_cast<Eigen::Index>(order[k])));
    std::printf("%zu of the top %zu are predicted otherwise than labelled; wrote %s\n", disagreeing, order.size(), a.out.c_str());
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        return run(parse(argc, argv));
    } catch (const std::invalid_argument& e) {
        std::cerr << "xai-influence: " << e.what() << "\n";
        usage(std::cerr);
        return 2;
    } catch (const std::exception& e) {
        std::cerr << "xai-influence: " << e.what() << "\n";
        return 1;
    }
}
