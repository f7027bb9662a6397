// Tests of include/xai/explain/lime.hpp, lime_regression.hpp and lime_visualize.hpp.
#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "xai/explain/lime.hpp"
#include "xai/explain/lime_regression.hpp"
#include "xai/explain/lime_visualize.hpp"
#include "xai/image/superpixels.hpp"

#include <Eigen/Dense>

using Catch::Matchers::Contains;

namespace {

/// A black box whose class-0 logit is Σ_s β_s · (mean of superpixel s), class 1 has logit 0.
/// On an all-ones image with hide_color 0 the mean of superpixel s is exactly z_s, so the score
/// is exactly linear in the LIME samples: score = Σ β_s z_s.
class LinearInSuperpixels {
public:
    LinearInSuperpixels(xai::Segmentation segments, std::vector<double> beta, xai::ImageShape shape)
        : segments_(std::move(segments)), beta_(std::move(beta)), shape_(shape) {}

    xai::Scores forward(const xai::Batch& batch) const {
        xai::Scores out = xt::zeros<float>({batch.shape(0), std::size_t{2}});
        const std::size_t pixels = shape_.height * shape_.width;
        const auto sizes = xai::segment_sizes(segments_);
        for (std::size_t i = 0; i < batch.shape(0); ++i) {
            std::vector<double> mean(segments_.count, 0.0);
            for (std::size_t c = 0; c < shape_.channels; ++c)
                for (std::size_t p = 0; p < pixels; ++p)
                    mean[static_cast<std::size_t>(segments_.labels.data()[p])] +=
                        batch.data()[(i * shape_.channels + c) * pixels + p] / static_cast<double>(shape_.channels);
            double score = 0.0;
            for (std::size_t s = 0; s < segments_.count; ++s) score += beta_[s] * mean[s] / static_cast<double>(sizes[s]);
            out(i, 0) = static_cast<float>(score);
        }
        return out;
    }
    std::size_t num_classes() const { return 2; }
    xai::ImageShape input_shape() const { return shape_; }

private:
    xai::Segmentation segments_;
    std::vector<double> beta_;
    xai::ImageShape shape_;
};

/// Class-0 logit = parity of the superpixels holding pixels (0,0) and (7,7) (z0 XOR z15 on a
/// 4×4 grid): no linear function of z fits it. (With only two superpixels the kernel would make
/// XOR look linear: samples with both off have distance 1 and weight e^−8.)
class ParityOfTwoSuperpixels {
public:
    explicit ParityOfTwoSuperpixels(xai::Segmentation segments) : segments_(std::move(segments)) {}
    xai::Scores forward(const xai::Batch& batch) const {
        xai::Scores out = xt::zeros<float>({batch.shape(0), std::size_t{2}});
        const std::size_t w = batch.shape(3);
        for (std::size_t i = 0; i < batch.shape(0); ++i) {
            const bool a = batch(i, 0, 0, 0) > 0.5f, b = batch(i, 0, w - 1, w - 1) > 0.5f;
            out(i, 0) = (a != b) ? 1.0f : 0.0f;
        }
        return out;
    }
    std::size_t num_classes() const { return 2; }
    xai::ImageShape input_shape() const { return {1, 8, 8}; }

private:
    xai::Segmentation segments_;
};

const std::vector<double> kBeta{0.5, -0.3, 0.2, 0.0, 0.45, -0.1, 0.05, 0.3, -0.45, 0.15, 0.25, -0.2, 0.1, 0.35, -0.05, 0.4};

xai::Image ones(xai::ImageShape shape) { return xt::ones<float>({shape.channels, shape.height, shape.width}); }

using LimeGrid = xai::Lime<LinearInSuperpixels, xai::GridSegmenter>;
const xai::GridSegmenter kGrid4x4{{0, 4, 4}};

/// LIME of class 0 of the linear model over a 4×4 grid, on an all-ones image of `shape`.
xai::LimeExplanation explain_linear(const xai::ImageShape& shape, const xai::LimeOptions& options) {
    const LinearInSuperpixels model(xai::grid_segments(shape.height, shape.width, {0, 4, 4}), kBeta, shape);
    return LimeGrid(model, options, kGrid4x4).explain(xai::Image(xt::ones<float>({shape.channels, shape.height, shape.width})), {0});
}

xai::LimeOptions linear_test_options() {
    xai::LimeOptions options;
    options.num_samples = 20000;
    options.score = xai::ScoreKind::logit;
    options.hide_color = xai::HideColor::fixed(0.0f);
    options.feature_selection = xai::FeatureSelection::none;
    return options;
}

}  // namespace

TEST_CASE("LIME recovers the coefficients of a model linear in the superpixels", "[lime]") {
    const xai::ImageShape shape{1, 8, 8};
    // Why 1e-3 holds: the data are exactly linear, so the only error is the ridge shrinkage
    // β̂ − β = −α (A + αI)⁻¹ β with A = Z_cᵀ Π Z_c ≈ (Σπ/4) I (independent fair bits). With the
    // default kernel (w = 0.25) a sample with k of 16 superpixels on has π = exp(−(1−√(k/16))²/(2w²))
    // ≈ 0.5 on average, so 20000 samples give Σπ ≈ 10⁴, A ≈ 2500 and |β̂_s − β_s| ≈ |β_s|/2500
    // <= 2e-4 for |β_s| <= 0.5. R² misses 1 only by the shrinkage squared (≈ 1e-7).
    const xai::LimeExplanation e = explain_linear(shape, linear_test_options());
    REQUIRE(e.labels.size() == 1);
    const xai::LimeLabelExplanation& l = e.for_label(0);
    for (std::size_t s = 0; s < kBeta.size(); ++s) CHECK(l.weights[s] == Approx(kBeta[s]).margin(1e-3));
    CHECK(l.score == Approx(1.0).margin(1e-5));
    CHECK(l.intercept == Approx(0.0).margin(1e-3));
    double total = 0.0;
    for (double b : kBeta) total += b;
    CHECK(l.model_prediction == Approx(total).margin(1e-6));
    CHECK(l.local_prediction == Approx(total).margin(5e-3));
    CHECK(l.features.size() == 16);
    CHECK(std::abs(l.weights[l.features.front()]) >= std::abs(l.weights[l.features.back()]));

    // Without the ridge penalty the surrogate is exact.
    xai::LimeOptions exact = linear_test_options();
    exact.ridge_alpha = 0.0;
    exact.num_samples = 500;
    const auto e0 = explain_linear(shape, exact);
    for (std::size_t s = 0; s < kBeta.size(); ++s) CHECK(e0.labels[0].weights[s] == Approx(kBeta[s]).margin(1e-6));
    CHECK(e0.labels[0].score == Approx(1.0).margin(1e-9));
}

TEST_CASE("weighted ridge matches the closed form with an unpenalised intercept", "[lime][regression]") {
    Eigen::MatrixXd X(7, 3);
    X << 1, 0, 1, 0, 1, 1, 1, 1, 0, 0, 0, 1, 1, 1, 1, 0, 1, 0, 1, 0, 0;
    Eigen::VectorXd y(7), w(7);
    y << 0.9, 0.2, 0.7, 0.1, 1.0, 0.3, 0.5;
    w << 1.0, 0.5, 0.8, 0.3, 0.9, 0.6, 0.4;
    for (double alpha : {0.0, 0.01, 1.0, 5.0}) {
        INFO("alpha " << alpha);
        // θ = (ZᵀWZ + P)⁻¹ ZᵀWy with Z = [1 X], P = diag(0, α, α, α): the textbook form.
        Eigen::MatrixXd Z(7, 4);
        Z << Eigen::VectorXd::Ones(7), X;
        Eigen::MatrixXd P = Eigen::MatrixXd::Identity(4, 4) * alpha;
        P(0, 0) = 0.0;
        const Eigen::VectorXd theta = (Z.transpose() * w.asDiagonal() * Z + P).inverse() * (Z.transpose() * w.asDiagonal() * y);
        const xai::WeightedLinearFit fit = xai::weighted_ridge(X, y, w, alpha);
        CHECK(fit.intercept == Approx(theta[0]).margin(1e-10));
        for (int j = 0; j < 3; ++j) CHECK(fit.coef[j] == Approx(theta[j + 1]).margin(1e-10));
        const Eigen::VectorXd r = y - Z * theta;
        const double ybar = w.dot(y) / w.sum();
        const double r2 = 1.0 - w.dot(r.cwiseAbs2()) / w.dot((y.array() - ybar).square().matrix());
        CHECK(fit.score == Approx(r2).margin(1e-10));
    }
    CHECK_THROWS_AS(xai::weighted_ridge(X, y, w, -1.0), xai::invalid_argument);
    CHECK_THROWS_AS(xai::weighted_ridge(X, y.head(3), w, 1.0), xai::shape_error);
}

TEST_CASE("a strongly non-linear model gives a low R2", "[lime]") {
    const xai::Segmentation grid = xai::grid_segments(8, 8, {0, 4, 4});
    const ParityOfTwoSuperpixels model(grid);
    xai::LimeOptions options;
    options.num_samples = 2000;
    options.score = xai::ScoreKind::logit;
    options.hide_color = xai::HideColor::fixed(0.0f);
    const xai::Lime<ParityOfTwoSuperpixels, xai::GridSegmenter> lime(model, options, {{0, 4, 4}});
    const auto e = lime.explain(ones({1, 8, 8}), {0});
    // XOR is uncorrelated with each input: the best linear fit explains (almost) nothing.
    CHECK(e.labels[0].score < 0.1);
    CHECK(e.labels[0].model_prediction == 0.0);
    CHECK(std::abs(e.labels[0].local_prediction - e.labels[0].model_prediction) > 0.2);
}

TEST_CASE("the same seed gives the same explanation for any threads and batch size", "[lime][determinism]") {
    const xai::ImageShape shape{1, 8, 8};
    xai::LimeOptions a = linear_test_options();
    a.num_samples = 300;
    a.seed = 7;
    a.threads = 1;
    a.batch_size = 300;
    xai::LimeOptions b = a;
    b.threads = 3;
    b.batch_size = 7;
    const auto ea = explain_linear(shape, a);
    const auto eb = explain_linear(shape, b);
    CHECK(ea.labels[0].weights == eb.labels[0].weights);
    CHECK(ea.labels[0].intercept == eb.labels[0].intercept);
    CHECK(ea.labels[0].score == eb.labels[0].score);
    xai::LimeOptions c = a;
    c.seed = 8;
    const auto ec = explain_linear(shape, c);
    CHECK(ea.labels[0].weights != ec.labels[0].weights);
}

TEST_CASE("the stability report shows the spread over seeds", "[lime][stability]") {
    const xai::ImageShape shape{1, 8, 8};
    const xai::Segmentation grid = xai::grid_segments(8, 8, {0, 4, 4});
    xai::LimeOptions options = linear_test_options();
    options.num_samples = 200;
    xai::LimeStabilityOptions stability{4, 3, true};

    // A linear model with well-separated positive weights: the top 3 (0.5, 0.45, 0.4) never change.
    const LinearInSuperpixels linear(grid, kBeta, shape);
    const auto stable = xai::Lime<LinearInSuperpixels, xai::GridSegmenter>(linear, options, {{0, 4, 4}})
                            .stability(ones(shape), stability, {0});
    REQUIRE(stable.runs.size() == 4);
    REQUIRE(stable.labels.size() == 1);
    const auto& s = stable.labels[0];
    CHECK(s.mean_jaccard == 1.0);
    CHECK(s.min_jaccard == 1.0);
    CHECK(s.top_sets[0] == std::vector<std::size_t>{0, 4, 15});
    double max_std = 0.0;
    for (double v : s.weight_std) max_std = std::max(max_std, v);
    CHECK(max_std > 0.0);    // different samples do move the weights a little…
    CHECK(max_std < 0.02);   // …but not much for an exactly linear model
    CHECK(s.mean_weight[0] == Approx(0.5).margin(0.02));
    CHECK(stable.runs[0].labels[0].weights ==
          xai::Lime<LinearInSuperpixels, xai::GridSegmenter>(linear, options, {{0, 4, 4}}).explain(ones(shape), {0}).labels[0].weights);

    // Equal true weights: which superpixels make the top 3 is decided by sampling noise.
    const LinearInSuperpixels flat(grid, std::vector<double>(16, 0.1), shape);
    const auto noisy = xai::Lime<LinearInSuperpixels, xai::GridSegmenter>(flat, options, {{0, 4, 4}})
                           .stability(ones(shape), stability, {0});
    CHECK(noisy.labels[0].mean_jaccard < 1.0);
    CHECK(noisy.labels[0].min_jaccard <= noisy.labels[0].mean_jaccard);
    CHECK(noisy.seeds[0] == options.seed);
    CHECK(noisy.seeds[1] != noisy.seeds[2]);
}

TEST_CASE("feature selection follows lime's methods", "[lime][regression]") {
    // y depends strongly on columns 2 and 5, weakly on 0; 8 binary columns of random bits.
    xai::Rng rng(3);
    Eigen::MatrixXd X(400, 8);
    for (int i = 0; i < 400; ++i)
        for (int j = 0; j < 8; ++j) X(i, j) = static_cast<double>(rng() & 1U);
    Eigen::VectorXd y = 2.0 * X.col(2) - 1.5 * X.col(5) + 0.3 * X.col(0);
    for (int i = 0; i < 400; ++i) y[i] += 0.01 * rng.normal();
    const Eigen::VectorXd w = Eigen::VectorXd::Ones(400);
    using xai::FeatureSelection;
    CHECK(xai::select_features(X, y, w, 2, FeatureSelection::forward_selection) == std::vector<std::size_t>{2, 5});
    CHECK(xai::select_features(X, y, w, 3, FeatureSelection::forward_selection) == std::vector<std::size_t>{2, 5, 0});
    CHECK(xai::select_features(X, y, w, 2, FeatureSelection::highest_weights) == std::vector<std::size_t>{2, 5});
    CHECK(xai::select_features(X, y, w, 2, FeatureSelection::automatic) == std::vector<std::size_t>{2, 5});
    CHECK(xai::select_features(X, y, w, 7, FeatureSelection::automatic) ==
          xai::select_features(X, y, w, 7, FeatureSelection::highest_weights));
    CHECK(xai::select_features(X, y, w, 2, FeatureSelection::lasso_path) == std::vector<std::size_t>{2, 5});
    CHECK(xai::select_features(X, y, w, 1, FeatureSelection::lasso_path) == std::vector<std::size_t>{2});
    CHECK(xai::select_features(X, y, w, 3, FeatureSelection::none).size() == 8);
}

TEST_CASE("the LARS-lasso path has the soft-thresholding knots of an orthonormal design", "[lime][regression]") {
    // For XᵀX = I the lasso solution is β_j(λ) = sign(c_j)(|c_j| − λ)₊ with c = Xᵀy, so the
    // knots are at λ = |c| sorted, and at the t-th knot the t largest |c_j| are active.
    xai::Rng rng(11);
    Eigen::MatrixXd A(30, 4);
    for (int i = 0; i < 30; ++i)
        for (int j = 0; j < 4; ++j) A(i, j) = rng.normal();
    const Eigen::MatrixXd Q = Eigen::HouseholderQR<Eigen::MatrixXd>(A).householderQ() * Eigen::MatrixXd::Identity(30, 4);
    Eigen::VectorXd y(30);
    for (int i = 0; i < 30; ++i) y[i] = rng.normal();
    const Eigen::VectorXd c = Q.transpose() * y;
    std::vector<int> order{0, 1, 2, 3};
    std::sort(order.begin(), order.end(), [&](int a, int b) { return std::abs(c[a]) > std::abs(c[b]); });
    const Eigen::MatrixXd path = xai::lars_lasso_path(Q, y);
    REQUIRE(path.cols() == 5);
    CHECK(path.col(0).isZero());
    for (int t = 1; t <= 4; ++t) {
        const double lambda = t < 4 ? std::abs(c[order[static_cast<std::size_t>(t)]]) : 0.0;
        for (int j = 0; j < 4; ++j) {
            const double expected = std::abs(c[j]) > lambda ? (c[j] > 0 ? 1 : -1) * (std::abs(c[j]) - lambda) : 0.0;
            CHECK(path(j, t) == Approx(expected).margin(1e-9));
        }
    }
}

TEST_CASE("the default explainer uses quick shift, probabilities and the top labels", "[lime]") {
    // A 3×24×24 image with a bright square; the model's logit 0 is the mean of the square.
    class SquareModel {
    public:
        xai::Scores forward(const xai::Batch& batch) const {
            xai::Scores out = xt::zeros<float>({batch.shape(0), std::size_t{3}});
            for (std::size_t i = 0; i < batch.shape(0); ++i) {
                float sum = 0.0f;
                for (std::size_t y = 8; y < 16; ++y)
                    for (std::size_t x = 8; x < 16; ++x) sum += batch(i, 0, y, x);
                out(i, 0) = sum / 16.0f;
                out(i, 2) = 1.0f;
            }
            return out;
        }
        std::size_t num_classes() const { return 3; }
        xai::ImageShape input_shape() const { return {3, 24, 24}; }
    };
    xai::Image image = xt::zeros<float>({3, 24, 24});
    for (std::size_t y = 0; y < 24; ++y)
        for (std::size_t x = 0; x < 24; ++x) {
            const bool in_square = y >= 8 && y < 16 && x >= 8 && x < 16;
            image(0, y, x) = in_square ? 0.9f : 0.1f;
            image(1, y, x) = in_square ? 0.8f : 0.3f;
            image(2, y, x) = 0.2f + 0.01f * static_cast<float>(x);
        }
    const SquareModel model;
    xai::LimeOptions options;
    options.num_samples = 200;
    options.hide_color = xai::HideColor::fixed(0.0f);
    std::vector<std::size_t> progress;
    options.progress = [&](const xai::ProgressReport& p) {
        CHECK(p.total == 200);
        progress.push_back(p.done);
    };
    const xai::Lime lime(model, options);  // class template argument deduction: Lime<SquareModel, Quickshift>
    const auto e = lime.explain(image);
    CHECK(e.segmentation.count == xai::quickshift(image).count);
    REQUIRE(e.labels.size() == 3);  // top_labels 5, clamped to the 3 classes
    CHECK(e.labels[0].label == 0);  // logit 0.9·4 = 3.6 is the highest
    const xai::Scores p = xai::softmax(model.forward(xai::as_batch(image)));
    CHECK(e.labels[0].model_prediction == Approx(p(0, 0)).epsilon(1e-6));
    CHECK(progress.back() == 200);
    CHECK(std::is_sorted(progress.begin(), progress.end()));
    // The superpixel covering the square carries the largest positive weight for class 0.
    const std::int32_t square = e.segmentation.labels(12, 12);
    CHECK(e.labels[0].features.front() == static_cast<std::size_t>(square));
    CHECK(e.labels[0].weights[static_cast<std::size_t>(square)] > 0.0);
}

TEST_CASE("image and mask, and the overlay picture", "[lime][visualize]") {
    xai::LimeOptions options = linear_test_options();
    options.num_samples = 2000;
    const auto e = explain_linear({3, 8, 8}, options);
    xai::Image image = xt::zeros<float>({3, 8, 8});
    for (std::size_t c = 0; c < 3; ++c)
        for (std::size_t p = 0; p < 64; ++p) image.data()[c * 64 + p] = 0.1f * static_cast<float>(c + 1) + 0.001f * static_cast<float>(p);

    // positive only, 2 features: β0 = 0.5 and β4 = 0.45 (cells (0,0) and (1,0))
    const auto pos = xai::lime_image_and_mask(image, e, 0, {2, true, false, 0.0, true});
    CHECK(pos.mask(0, 0) == 1);
    CHECK(pos.mask(2, 0) == 1);
    CHECK(pos.mask(7, 7) == 0);
    CHECK(pos.image(0, 0, 0) == image(0, 0, 0));
    CHECK(pos.image(0, 7, 7) == 0.0f);  // hide_rest
    // both signs, 3 features: 0.5, 0.45 (+) and −0.45 (superpixel 8, cell (2,0))
    const auto both = xai::lime_image_and_mask(image, e, 0, {3, false, false, 0.0, false});
    CHECK(both.mask(4, 0) == -1);
    CHECK(both.image(0, 4, 0) == xt::amax(image)());  // lime paints red for negative
    CHECK(both.image(1, 0, 0) == xt::amax(image)());  // and green for positive
    // min_weight drops the small ones
    const auto strict = xai::lime_image_and_mask(image, e, 0, {16, true, false, 0.42, false});
    CHECK(xt::sum(strict.mask)() == 2 * 4);  // only 0.5 and 0.45 exceed 0.42; 4 pixels each

    const xai::Image overlay = xai::lime_overlay(image, e, 0);
    REQUIRE(overlay.shape(0) == 3);
    CHECK(overlay(0, 1, 1) == 1.0f);  // (1,1) borders another superpixel: outlined in yellow
    CHECK(overlay(2, 1, 1) == 0.0f);
    CHECK(overlay(1, 0, 0) == Approx(0.55f * image(1, 0, 0) + 0.45f * 0.85f));  // tinted green (β0 > 0)
    CHECK(overlay(0, 4, 0) == 1.0f);  // superpixel 8 (β8 < 0) is shown: every pixel of a 2×2 cell is on its outline
    CHECK(overlay(1, 0, 7) == image(1, 0, 7));  // superpixel 3 (β = 0) is not shown

    CHECK_THROWS_WITH(xai::lime_image_and_mask(image, e, 0, {2, true, true, 0.0, false}), Contains("both true"));
    CHECK_THROWS_WITH(xai::lime_image_and_mask(image, e, 1, {}), Contains("was not explained"));
    CHECK_THROWS_AS(xai::lime_overlay(xai::Image(xt::zeros<float>({3, 4, 4})), e, 0), xai::shape_error);
}

TEST_CASE("bad LIME inputs are rejected with the argument named", "[lime][errors]") {
    const xai::ImageShape shape{1, 8, 8};
    const xai::Segmentation grid = xai::grid_segments(8, 8, {0, 4, 4});
    const LinearInSuperpixels model(grid, kBeta, shape);
    xai::LimeOptions zero = linear_test_options();
    zero.num_samples = 0;
    CHECK_THROWS_WITH(LimeGrid(model, zero, {{0, 4, 4}}), Contains("num_samples is 0"));
    xai::LimeOptions no_batch = linear_test_options();
    no_batch.batch_size = 0;
    CHECK_THROWS_WITH(LimeGrid(model, no_batch, {{0, 4, 4}}), Contains("batch_size is 0"));
    xai::LimeOptions bad_width = linear_test_options();
    bad_width.kernel_width = 0.0;
    CHECK_THROWS_WITH(LimeGrid(model, bad_width, {{0, 4, 4}}), Contains("kernel_width"));

    xai::LimeOptions options = linear_test_options();
    options.num_samples = 50;
    options.num_features = 17;
    CHECK_THROWS_WITH(LimeGrid(model, options, {{0, 4, 4}}).explain(ones(shape), {0}),
                      Contains("num_features is 17 but the segmentation has only 16 superpixels"));
    options.num_features = 0;
    const LimeGrid lime(model, options, {{0, 4, 4}});
    CHECK_THROWS_AS(lime.explain(ones({3, 8, 8}), {0}), xai::shape_error);
    CHECK_THROWS_WITH(lime.explain(ones({1, 8, 9}), {0}), Contains("the model expects 1x8x8"));
    CHECK_THROWS_WITH(lime.explain(ones(shape), {2}), Contains("target class 2 is out of range"));
    xai::Image nan_image = ones(shape);
    nan_image(0, 3, 3) = std::nanf("");
    CHECK_THROWS_AS(lime.explain(nan_image, {0}), xai::invalid_argument);
    CHECK_THROWS_AS(lime.explain(ones(shape), xai::grid_segments(8, 7, {0, 2, 2}), {0}), xai::shape_error);
    xai::LimeOptions colour = linear_test_options();
    colour.num_samples = 10;
    colour.hide_color = xai::HideColor::fixed(std::vector<float>{0.0f, 0.0f});
    CHECK_THROWS_WITH(LimeGrid(model, colour, {{0, 4, 4}}).explain(ones(shape), {0}), Contains("hide_color has 2 values"));
    CHECK_THROWS_WITH(lime.stability(ones(shape), {1, 3, true}, {0}), Contains("repeats is 1"));

    // A model that returns NaN is a model_error.
    class NanModel {
    public:
        xai::Scores forward(const xai::Batch& b) const { return xt::xtensor<float, 2>::from_shape({b.shape(0), 2}) * std::nanf(""); }
        std::size_t num_classes() const { return 2; }
        xai::ImageShape input_shape() const { return {1, 8, 8}; }
    };
    const NanModel nan_model;
    const xai::Lime<NanModel, xai::GridSegmenter> nan_lime(nan_model, options, {{0, 4, 4}});
    CHECK_THROWS_AS(nan_lime.explain(ones(shape), {0}), xai::model_error);
}
