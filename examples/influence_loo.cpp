// Influence functions validated by leave-one-out retraining (Koh & Liang 2017, Fig. 2), the
// self-influence label-checking experiment (§5.4), and the pictures of docs/methods/influence.md.
//
//   influence_loo [--out DIR] [--tests N]
//
// 1. Binary L2 logistic regression, T-shirt/top vs Shirt (Fashion-MNIST, 14×14, 1,000 training
//    images, λ = 0.01), s_test by conjugate gradients; multinomial over T-shirt/top, Pullover,
//    Coat, Shirt (7×7, 800 images), s_test exact. For N test images each, the 100 training
//    images of largest |predicted change| are removed one at a time and the model retrained
//    (Newton, warm-started from θ̂, to ‖∇F‖ ≤ 1e-10); the predicted change −I_up,loss/n is
//    compared with the actual change of the test loss (Pearson r).
// 2. Flip 10% of the binary training labels, retrain, and check training examples in order of
//    self-influence, of training loss, and at random: fraction of flips found after checking
//    10%, 20%, 30%.
// 3. Writes DIR/influence_loo.png (predicted vs actual) and DIR/influence_top.png (the most
//    helpful and harmful training images for three test images). DIR defaults to docs/images.
// 4. The built-in CNN ("fashion", when its weights are installed): its last layer retrained to
//    convergence on the frozen global-average-pooled features of 1,000 training images (10
//    classes), then the same leave-one-out experiment, the last layer retrained each time.
//    Influence through the CNN restricted to {fc.weight, fc.bias} equals that of logistic
//    regression on the features (tests/test_influence.cpp checks it), which is how it is
//    computed here: each Hessian-vector product then costs a pass over 128-dimensional features
//    instead of the whole network's R-operator.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <numeric>
#include <string>
#include <vector>

#include "xai/data/fashion_mnist.hpp"
#include "xai/explain/influence.hpp"
#include "xai/image/io.hpp"
#include "xai/image/resize.hpp"
#include "xai/models/builtin.hpp"
#include "xai/models/logistic_regression.hpp"

#include <stb_easy_font.h>

using xai::models::LogisticRegression;

namespace {

// ---- a tiny RGB canvas: rectangles, lines, dots, text (stb_easy_font) and grey images ----------

struct Color {
    float r, g, b;
};

class Canvas {
public:
    Canvas(std::size_t width, std::size_t height) : pixels_(xt::ones<float>({std::size_t{3}, height, width})) {}

    void set(long x, long y, Color c) {
        if (x < 0 || y < 0 || x >= static_cast<long>(width()) || y >= static_cast<long>(height())) return;
        pixels_(0, static_cast<std::size_t>(y), static_cast<std::size_t>(x)) = c.r;
        pixels_(1, static_cast<std::size_t>(y), static_cast<std::size_t>(x)) = c.g;
        pixels_(2, static_cast<std::size_t>(y), static_cast<std::size_t>(x)) = c.b;
    }
    void fill(long x0, long y0, long x1, long y1, Color c) {
        for (long y = y0; y < y1; ++y)
            for (long x = x0; x < x1; ++x) set(x, y, c);
    }
    void line(double x0, double y0, double x1, double y1, Color c) {
        const int steps = static_cast<int>(std::max(std::abs(x1 - x0), std::abs(y1 - y0))) + 1;
        for (int k = 0; k <= steps; ++k) {
            const double t = static_cast<double>(k) / steps;
            set(std::lround(x0 + t * (x1 - x0)), std::lround(y0 + t * (y1 - y0)), c);
        }
    }
    void dot(double x, double y, Color c) { fill(std::lround(x) - 2, std::lround(y) - 2, std::lround(x) + 3, std::lround(y) + 3, c); }
    /// Text with its top-left corner at (x, y), stb_easy_font's glyphs scaled by `scale`.
    void text(double x, double y, const std::string& s, Color c, int scale = 2) {
        std::vector<char> buffer(s.begin(), s.end());
        buffer.push_back('\0');
        std::vector<char> vertices(s.size() * 400 + 400);
        unsigned char rgba[4] = {0, 0, 0, 255};
        const int quads = stb_easy_font_print(0, 0, buffer.data(), rgba, vertices.data(), static_cast<int>(vertices.size()));
        for (int q = 0; q < quads; ++q) {
            float corner[4][2];
            for (int v = 0; v < 4; ++v) std::memcpy(corner[v], vertices.data() + (q * 4 + v) * 16, 2 * sizeof(float));
            fill(std::lround(x + scale * corner[0][0]), std::lround(y + scale * corner[0][1]), std::lround(x + scale * corner[2][0]),
                 std::lround(y + scale * corner[2][1]), c);
        }
    }
    /// A grey image (1×h×w in [0, 1]) enlarged `zoom` times, with a border of width 2.
    void image(const xai::Image& img, long x0, long y0, int zoom, Color border) {
        const long h = static_cast<long>(img.shape(1)), w = static_cast<long>(img.shape(2));
        fill(x0 - 2, y0 - 2, x0 + w * zoom + 2, y0 + h * zoom + 2, border);
        for (long y = 0; y < h * zoom; ++y)
            for (long x = 0; x < w * zoom; ++x) {
                const float v = 1.0f - img(0, static_cast<std::size_t>(y / zoom), static_cast<std::size_t>(x / zoom));
                set(x0 + x, y0 + y, {v, v, v});
            }
    }
    std::size_t width() const { return pixels_.shape(2); }
    std::size_t height() const { return pixels_.shape(1); }
    const xai::Image& pixels() const { return pixels_; }

private:
    xai::Image pixels_;
};

constexpr Color black{0, 0, 0}, grey{0.6f, 0.6f, 0.6f}, blue{0.12f, 0.35f, 0.75f}, orange{0.9f, 0.45f, 0.05f},
    green{0.1f, 0.6f, 0.2f}, red{0.8f, 0.1f, 0.1f};

// ---- data ------------------------------------------------------------------------------------

struct Subset {
    xai::Batch images;       // as the model sees them
    xai::Batch originals;    // 28×28, for pictures
    xai::Labels labels;
    std::vector<std::size_t> classes;  // original class of label k
};

Subset subset(const xai::LabelledImages& data, const std::vector<std::size_t>& classes, std::size_t count, std::size_t side) {
    std::vector<xai::Image> images;
    Subset out;
    out.classes = classes;
    for (std::size_t i = 0; i < data.labels.size() && images.size() < count; ++i) {
        const auto it = std::find(classes.begin(), classes.end(), data.labels[i]);
        if (it == classes.end()) continue;
        images.push_back(xai::image_at(data.images, i));
        out.labels.push_back(static_cast<std::size_t>(it - classes.begin()));
    }
    out.originals = xai::stack(images);
    out.images = xai::resize(out.originals, side, side);
    return out;
}

Subset without(const Subset& s, std::size_t removed) {
    const std::size_t n = s.labels.size(), stride = s.images.size() / n;
    Subset out;
    out.images = xai::Batch::from_shape({n - 1, s.images.shape(1), s.images.shape(2), s.images.shape(3)});
    std::copy(s.images.data(), s.images.data() + removed * stride, out.images.data());
    std::copy(s.images.data() + (removed + 1) * stride, s.images.data() + n * stride, out.images.data() + removed * stride);
    out.labels = s.labels;
    out.labels.erase(out.labels.begin() + static_cast<std::ptrdiff_t>(removed));
    return out;
}

double pearson(const std::vector<double>& a, const std::vector<double>& b) {
    const double n = static_cast<double>(a.size());
    const double ma = std::accumulate(a.begin(), a.end(), 0.0) / n, mb = std::accumulate(b.begin(), b.end(), 0.0) / n;
    double sab = 0, saa = 0, sbb = 0;
    for (std::size_t i = 0; i < a.size(); ++i) {
        sab += (a[i] - ma) * (b[i] - mb);
        saa += (a[i] - ma) * (a[i] - ma);
        sbb += (b[i] - mb) * (b[i] - mb);
    }
    return sab / std::sqrt(saa * sbb);
}

struct LooResult {
    std::vector<double> predicted, actual;
    std::vector<double> r_per_test;
};

/// Leave-one-out retraining for the 100 most influential training points of each test image.
template <class Solver>
LooResult leave_one_out(const LogisticRegression& model, const Subset& train, const Subset& test, std::size_t tests,
                        Solver solver, const char* name) {
    const xai::Influence<LogisticRegression, Solver> influence(model, train.images, train.labels, {}, solver);
    LooResult out;
    for (std::size_t t = 0; t < tests; ++t) {
        const auto start = std::chrono::steady_clock::now();
        const xai::Image image = xai::image_at(test.images, t);
        const std::size_t label = test.labels[t];
        const xai::InfluenceExplanation e = influence.explain(image, label);
        const Eigen::VectorXd predicted = xai::predicted_loss_change_on_removal(e.influence, train.labels.size());
        std::vector<std::size_t> order(static_cast<std::size_t>(predicted.size()));
        std::iota(order.begin(), order.end(), std::size_t{0});
        std::partial_sort(order.begin(), order.begin() + 100, order.end(), [&](std::size_t a, std::size_t b) {
            return std::abs(predicted(static_cast<Eigen::Index>(a))) > std::abs(predicted(static_cast<Eigen::Index>(b)));
        });
        std::vector<double> p, a;
        for (std::size_t k = 0; k < 100; ++k) {
            const Subset rest = without(train, order[k]);
            LogisticRegression retrained = model;
            const auto report = retrained.fit(rest.images, rest.labels);
            if (!report.converged) std::cerr << "warning: retraining stopped at gradient norm " << report.gradient_norm << "\n";
            p.push_back(predicted(static_cast<Eigen::Index>(order[k])));
            a.push_back(retrained.per_example_losses(xai::as_batch(image), {label})(0) - e.test_loss);
        }
        const double r = pearson(p, a);
        out.r_per_test.push_back(r);
        out.predicted.insert(out.predicted.end(), p.begin(), p.end());
        out.actual.insert(out.actual.end(), a.begin(), a.end());
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        std::printf("%s test image %zu: Pearson r = %.4f (s_test %s, %zu iterations; %.1f s with retraining)\n", name, t, r,
                    e.solve.solver.c_str(), e.solve.iterations, seconds);
    }
    std::printf("%s: pooled Pearson r over %zu removals = %.4f\n", name, out.predicted.size(), pearson(out.predicted, out.actual));
    return out;
}

/// One panel of the scatter plot: predicted (x) against actual (y), with the diagonal.
void scatter(Canvas& canvas, long x0, long y0, long size, const LooResult& loo, const std::string& title, Color color) {
    double lo = 0, hi = 0;
    for (std::size_t i = 0; i < loo.actual.size(); ++i)
        lo = std::min({lo, loo.actual[i], loo.predicted[i]}), hi = std::max({hi, loo.actual[i], loo.predicted[i]});
    const double pad = 0.05 * (hi - lo);
    lo -= pad, hi += pad;
    auto px = [&](double v) { return static_cast<double>(x0) + (v - lo) / (hi - lo) * static_cast<double>(size); };
    auto py = [&](double v) { return static_cast<double>(y0 + size) - (v - lo) / (hi - lo) * static_cast<double>(size); };
    canvas.line(static_cast<double>(x0), static_cast<double>(y0), static_cast<double>(x0), static_cast<double>(y0 + size), black);
    canvas.line(static_cast<double>(x0), static_cast<double>(y0 + size), static_cast<double>(x0 + size), static_cast<double>(y0 + size), black);
    canvas.line(px(lo), py(lo), px(hi), py(hi), grey);
    canvas.line(px(0), py(lo), px(0), py(hi), grey);
    canvas.line(px(lo), py(0), px(hi), py(0), grey);
    for (std::size_t i = 0; i < loo.actual.size(); ++i) canvas.dot(px(loo.predicted[i]), py(loo.actual[i]), color);
    char label[96];
    std::snprintf(label, sizeof label, "r = %.4f (%zu removals)", pearson(loo.predicted, loo.actual), loo.actual.size());
    canvas.text(static_cast<double>(x0 + 10), static_cast<double>(y0 + 8), title, black);
    canvas.text(static_cast<double>(x0 + 10), static_cast<double>(y0 + 30), label, black);
    char range[64];
    std::snprintf(range, sizeof range, "%.3f", lo);
    canvas.text(static_cast<double>(x0 - 4), static_cast<double>(y0 + size + 8), range, black, 1);
    std::snprintf(range, sizeof range, "%.3f", hi);
    canvas.text(static_cast<double>(x0 + size - 30), static_cast<double>(y0 + size + 8), range, black, 1);
    canvas.text(static_cast<double>(x0 + size / 2 - 282), static_cast<double>(y0 + size + 22),
                "predicted change in test loss (-I_up,loss / n)", black);
    canvas.text(static_cast<double>(x0 - 62), static_cast<double>(y0 + size / 2), "actual", black);
}

}  // namespace

int main(int argc, char** argv) try {
    std::filesystem::path out_dir = "docs/images";
    std::size_t tests = 5;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg == "--out" && i + 1 < argc) out_dir = argv[++i];
        else if (arg == "--tests" && i + 1 < argc) tests = std::stoul(argv[++i]);
        else {
            std::cerr << "usage: influence_loo [--out DIR] [--tests N]\n";
            return 2;
        }
    }
    std::filesystem::create_directories(out_dir);
    const xai::LabelledImages train_all = xai::load_fashion_mnist(xai::FashionMnistSplit::train, 8000);
    const xai::LabelledImages test_all = xai::load_fashion_mnist(xai::FashionMnistSplit::test, 2000);

    // ---- 1. leave-one-out retraining -----------------------------------------------------------
    const Subset binary_train = subset(train_all, {0, 6}, 1000, 14), binary_test = subset(test_all, {0, 6}, std::max<std::size_t>(tests, 3), 14);
    LogisticRegression binary = LogisticRegression::binary({1, 14, 14}, 0.01);
    auto report = binary.fit(binary_train.images, binary_train.labels);
    std::printf("binary: %s, %zu iterations, gradient norm %.2e\n", report.solver.c_str(), report.iterations, report.gradient_norm);
    const LooResult binary_loo = leave_one_out(binary, binary_train, binary_test, tests, xai::ConjugateGradientSolver{}, "binary");

    const Subset multi_train = subset(train_all, {0, 2, 4, 6}, 800, 7), multi_test = subset(test_all, {0, 2, 4, 6}, tests, 7);
    LogisticRegression multinomial = LogisticRegression::multinomial({1, 7, 7}, 4, 0.01);
    report = multinomial.fit(multi_train.images, multi_train.labels);
    std::printf("multinomial: %s, %zu iterations, gradient norm %.2e\n", report.solver.c_str(), report.iterations,
                report.gradient_norm);
    const LooResult multi_loo = leave_one_out(multinomial, multi_train, multi_test, tests, xai::ExactSolver{}, "multinomial");

    Canvas plot(1450, 720);
    scatter(plot, 110, 40, 560, binary_loo, "binary LR, T-shirt/top vs Shirt (CG)", blue);
    scatter(plot, 800, 40, 560, multi_loo, "multinomial LR, 4 classes (exact)", orange);
    xai::save_image(out_dir / "influence_loo.png", plot.pixels());

    // ---- 2. self-influence finds flipped labels -------------------------------------------------
    Subset flipped_train = binary_train;
    const std::size_t n = flipped_train.labels.size();
    std::vector<bool> flipped(n, false);
    xai::Rng rng = xai::Rng::stream(2017, 0);
    std::size_t flips = 0;
    while (flips < n / 10) {
        const auto i = static_cast<std::size_t>(rng.uniform_index(n));
        if (flipped[i]) continue;
        flipped[i] = true;
        flipped_train.labels[i] = 1 - flipped_train.labels[i];
        ++flips;
    }
    LogisticRegression noisy = LogisticRegression::binary({1, 14, 14}, 0.01);
    noisy.fit(flipped_train.images, flipped_train.labels);
    const xai::Influence<LogisticRegression, xai::ExactSolver> noisy_influence(noisy, flipped_train.images, flipped_train.labels);
    const std::vector<std::size_t> by_influence = xai::review_order(noisy_influence.self_influence());
    const Eigen::VectorXd losses = noisy.per_example_losses(flipped_train.images, flipped_train.labels);
    const std::vector<std::size_t> by_loss = xai::most_harmful(losses, n);
    std::printf("flipped %zu of %zu labels; fraction found after checking:\n", flips, n);
    for (const double checked : {0.1, 0.2, 0.3}) {
        const auto k = static_cast<std::ptrdiff_t>(checked * static_cast<double>(n));
        auto found = [&](const std::vector<std::size_t>& order) {
            return static_cast<double>(std::count_if(order.begin(), order.begin() + k, [&](std::size_t i) { return flipped[i]; })) /
                   static_cast<double>(flips);
        };
        std::printf("  %2.0f%%: self-influence %.3f, training loss %.3f, random %.3f (expected)\n", 100 * checked,
                    found(by_influence), found(by_loss), checked);
    }

    // ---- 3. the most helpful and harmful training images -----------------------------------------
    const xai::Influence<LogisticRegression> influence(binary, binary_train.images, binary_train.labels);
    const int zoom = 3;
    const long cell = 28 * zoom + 14;
    const std::size_t shown = 5, rows = 3;
    Canvas top(static_cast<std::size_t>(40 + cell * static_cast<long>(1 + 2 * shown) + 40), static_cast<std::size_t>(50 + rows * (cell + 40)));
    top.text(40 + cell + 10, 10, "most helpful (green)", green);
    top.text(40 + cell * static_cast<long>(1 + shown) + 10, 10, "most harmful (red)", red);
    for (std::size_t r = 0; r < rows; ++r) {
        const long y = 50 + static_cast<long>(r) * (cell + 40);
        const std::size_t label = binary_test.labels[r];
        const xai::InfluenceExplanation e = influence.explain(xai::image_at(binary_test.images, r), label);
        top.image(xai::image_at(binary_test.originals, r), 40, y, zoom, black);
        top.text(40, y + 28 * zoom + 6, std::string("test: ") + std::string(xai::fashion_mnist_classes[binary_test.classes[label]]), black, 1);
        for (std::size_t k = 0; k < shown; ++k) {
            const std::size_t h = e.helpful[k], b = e.harmful[k];
            const long xh = 40 + cell * static_cast<long>(1 + k), xb = 40 + cell * static_cast<long>(1 + shown + k);
            top.image(xai::image_at(binary_train.originals, h), xh + 10, y, zoom, green);
            top.image(xai::image_at(binary_train.originals, b), xb + 10, y, zoom, red);
            top.text(xh + 10, y + 28 * zoom + 6, std::string(xai::fashion_mnist_classes[binary_train.classes[binary_train.labels[h]]]), black, 1);
            top.text(xb + 10, y + 28 * zoom + 6, std::string(xai::fashion_mnist_classes[binary_train.classes[binary_train.labels[b]]]), black, 1);
        }
    }
    xai::save_image(out_dir / "influence_top.png", top.pixels());
    std::printf("wrote %s and %s\n", (out_dir / "influence_loo.png").c_str(), (out_dir / "influence_top.png").c_str());

    // ---- 4. the built-in CNN's last layer --------------------------------------------------------
    xai::models::Sequential cnn;
    try {
        cnn = xai::models::load_builtin("fashion");
    } catch (const xai::io_error& e) {
        std::printf("built-in CNN: skipped (%s)\n", e.what());
        return 0;
    }
    std::vector<std::size_t> all(10);
    std::iota(all.begin(), all.end(), std::size_t{0});
    const Subset cnn_train = subset(train_all, all, 1000, 28), cnn_test = subset(test_all, all, tests, 28);
    auto gap_features = [&](const xai::Batch& images) {
        const xai::Batch maps = cnn.forward_features(images).features;
        xai::Batch f = xai::Batch::from_shape({maps.shape(0), maps.shape(1), 1, 1});
        const std::size_t plane = maps.shape(2) * maps.shape(3);
        for (std::size_t k = 0; k < f.size(); ++k) {
            double sum = 0.0;
            for (std::size_t j = 0; j < plane; ++j) sum += maps.data()[k * plane + j];
            f.data()[k] = static_cast<float>(sum / static_cast<double>(plane));
        }
        return f;
    };
    Subset feature_train{gap_features(cnn_train.images), {}, cnn_train.labels, all};
    Subset feature_test{gap_features(cnn_test.images), {}, cnn_test.labels, all};
    const double lambda = cnn.l2_regularization() > 0.0 ? cnn.l2_regularization() : 0.01;
    LogisticRegression head = LogisticRegression::multinomial({feature_train.images.shape(1), 1, 1}, 10, lambda);
    {  // warm start from the trained network's last layer
        const auto blocks = cnn.parameter_blocks();
        const auto fc = std::find_if(blocks.begin(), blocks.end(), [](const xai::ParameterBlock& b) { return b.name == "fc.weight"; });
        head.set_parameters(cnn.parameters().segment(static_cast<Eigen::Index>(fc->offset),
                                                     static_cast<Eigen::Index>(head.num_parameters())));
    }
    report = head.fit(feature_train.images, feature_train.labels);
    std::printf("built-in CNN, last layer on frozen features (lambda %g): %s, %zu iterations, gradient norm %.2e\n", lambda,
                report.solver.c_str(), report.iterations, report.gradient_norm);
    const LooResult cnn_loo = leave_one_out(head, feature_train, feature_test, tests, xai::ConjugateGradientSolver{},
                                            "built-in CNN last layer");
    (void)cnn_loo;
    return 0;
} catch (const std::exception& e) {
    std::cerr << "influence_loo: " << e.what() << "\n";
    return 1;
}
