// Tests of the LIME family (include/xai/lime.hpp): explain/lime/lime.hpp, options.hpp,
// explanation.hpp, visualize.hpp and detail/regression.hpp.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>
#include <span>
#include <thread>
#include <vector>

#include "xai/core/explainer.hpp"
#include "xai/core/random.hpp"
#include "xai/core/targets.hpp"
#include "xai/image/normalize.hpp"
#include "xai/lime.hpp"

#include "perturbation_toys.hpp"

#include <Eigen/Dense>

using Catch::Matchers::Contains;

/// True when explain(image, targets) compiles: it must not (one image takes one Target).
template <class E>
concept explains_one_image_for_targets = requires(const E& e, const xai::Image& image, const xai::Targets& targets) {
    e.explain(image, targets);
};

namespace {

/// A black box whose class-0 logit is Σ_s β_s · (mean of superpixel s), class 1 has logit 0.
/// On an all-ones image with baseline 0 the mean of superpixel s is exactly z_s, so the score
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
    return LimeGrid(model, options, kGrid4x4).explain(ones(shape), 0);
}

xai::LimeOptions linear_test_options() {
    xai::LimeOptions options;
    options.num_samples = 20000;
    options.score = xai::ScoreKind::logit;
    options.baseline = xai::Baseline::constant(0.0f);
    options.feature_selection = xai::FeatureSelection::none;
    options.top_labels = 0;  // the target's surrogate only
    return options;
}

}  // namespace

TEST_CASE("LIME refuses a budget too small to fit its surrogate", "[lime][errors]") {
    // 16 superpixels + an intercept need 17 samples. lime itself, given num_samples = 1, fits
    // the image alone: all-zero weights and R² = 1 without a word.
    const xai::ImageShape shape{1, 8, 8};
    xai::LimeOptions options = linear_test_options();
    options.num_samples = 1;
    CHECK_THROWS_AS(explain_linear(shape, options), xai::invalid_argument);
    CHECK_THROWS_WITH(explain_linear(shape, options),
                      Contains("xai::Lime::explain(): num_samples is 1, expected at least 17 to fit a surrogate of 16 "
                               "superpixels and an intercept"));
    options.num_samples = 16;
    CHECK_THROWS_WITH(explain_linear(shape, options), Contains("num_samples is 16, expected at least 17"));
    options.num_samples = 17;
    CHECK(explain_linear(shape, options).surrogate(0).weights.size() == 16);

    // Forward selection of 3 superpixels fits at most 3 columns: 4 samples suffice.
    options.feature_selection = xai::FeatureSelection::forward_selection;
    options.num_features = 3;
    options.num_samples = 3;
    CHECK_THROWS_WITH(explain_linear(shape, options),
                      Contains("num_samples is 3, expected at least 4 to fit a surrogate of 3 selected superpixels"));
    options.num_samples = 4;
    CHECK_NOTHROW(explain_linear(shape, options));
    // lime's 'auto' is forward selection for num_features <= 6 and highest weights (a fit on all
    // superpixels) above.
    options.feature_selection = xai::FeatureSelection::automatic;
    CHECK_NOTHROW(explain_linear(shape, options));
    options.num_features = 7;
    options.num_samples = 8;
    CHECK_THROWS_WITH(explain_linear(shape, options), Contains("num_samples is 8, expected at least 17"));
}

TEST_CASE("LIME refuses a non-finite hide colour when its options are made", "[lime][errors]") {
    // lime's hide_color = v is Baseline::constant(v) or Baseline::color({…}): the baseline
    // refuses NaN and ±Inf itself, so a LimeOptions can never hold one and the mistake shows
    // where it is written, not later inside the model.
    const float nan = std::numeric_limits<float>::quiet_NaN(), inf = std::numeric_limits<float>::infinity();
    CHECK_THROWS_AS(xai::LimeOptions{.baseline = xai::Baseline::color({0.5f, nan, 0.5f})}, xai::invalid_argument);
    CHECK_THROWS_WITH(xai::LimeOptions{.baseline = xai::Baseline::color({0.5f, nan, 0.5f})},
                      Contains("xai::Baseline::color(): per_channel[1] is nan, expected a finite value"));
    CHECK_THROWS_WITH(xai::LimeOptions{.baseline = xai::Baseline::color({inf})},
                      Contains("xai::Baseline::color(): per_channel[0] is inf, expected a finite value"));
    CHECK_THROWS_WITH(xai::LimeOptions{.baseline = xai::Baseline::constant(-inf)},
                      Contains("xai::Baseline::constant(): value is -inf, expected a finite value"));
    // A finite colour goes through to the explanation.
    const xai::ImageShape shape{1, 8, 8};
    xai::LimeOptions options = linear_test_options();
    options.num_samples = 200;
    options.baseline = xai::Baseline::color({0.0f});
    CHECK(explain_linear(shape, options).surrogate(0).r2 > 0.99);
}

TEST_CASE("LIME recovers the coefficients of a model linear in the superpixels", "[lime]") {
    const xai::ImageShape shape{1, 8, 8};
    // Why 1e-3 holds: the data are exactly linear, so the only error is the ridge shrinkage
    // β̂ − β = −α (A + αI)⁻¹ β with A = Z_cᵀ Π Z_c ≈ (Σπ/4) I (independent fair bits). With the
    // default kernel (w = 0.25) a sample with k of 16 superpixels on has π = exp(−(1−√(k/16))²/(2w²))
    // ≈ 0.5 on average, so 20000 samples give Σπ ≈ 10⁴, A ≈ 2500 and |β̂_s − β_s| ≈ |β_s|/2500
    // <= 2e-4 for |β_s| <= 0.5. R² misses 1 only by the shrinkage squared (≈ 1e-7).
    const xai::LimeExplanation e = explain_linear(shape, linear_test_options());
    REQUIRE(e.surrogates.size() == 1);
    REQUIRE(e.surrogates[0].size() == 1);
    const xai::LimeSurrogate& l = e.surrogate(0);
    for (std::size_t s = 0; s < kBeta.size(); ++s) CHECK(l.weights[s] == Approx(kBeta[s]).margin(1e-3));
    CHECK(l.r2 == Approx(1.0).margin(1e-5));
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
    for (std::size_t s = 0; s < kBeta.size(); ++s) CHECK(e0.surrogate(0).weights[s] == Approx(kBeta[s]).margin(1e-6));
    CHECK(e0.surrogate(0).r2 == Approx(1.0).margin(1e-9));
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
        const xai::detail::WeightedLinearFit<double> fit = xai::detail::weighted_ridge(X, y, w, alpha);
        CHECK(fit.intercept == Approx(theta[0]).margin(1e-10));
        for (int j = 0; j < 3; ++j) CHECK(fit.coef[j] == Approx(theta[j + 1]).margin(1e-10));
        const Eigen::VectorXd r = y - Z * theta;
        const double ybar = w.dot(y) / w.sum();
        const double r2 = 1.0 - w.dot(r.cwiseAbs2()) / w.dot((y.array() - ybar).square().matrix());
        CHECK(fit.r2 == Approx(r2).margin(1e-10));
    }
    CHECK_THROWS_AS(xai::detail::weighted_ridge(X, y, w, -1.0), xai::invalid_argument);
    CHECK_THROWS_AS(xai::detail::weighted_ridge(X, y.head(3), w, 1.0), xai::shape_error);
}

TEST_CASE("a strongly non-linear model gives a low R2", "[lime]") {
    const xai::Segmentation grid = xai::grid_segments(8, 8, {0, 4, 4});
    const ParityOfTwoSuperpixels model(grid);
    xai::LimeOptions options;
    options.num_samples = 2000;
    options.score = xai::ScoreKind::logit;
    options.baseline = xai::Baseline::constant(0.0f);
    const xai::Lime<ParityOfTwoSuperpixels, xai::GridSegmenter> lime(model, options, {{0, 4, 4}});
    const auto e = lime.explain(ones({1, 8, 8}), 0);
    // XOR is uncorrelated with each input: the best linear fit explains (almost) nothing.
    const xai::LimeSurrogate& s = e.surrogate(0);
    CHECK(s.r2 < 0.1);
    CHECK(s.model_prediction == 0.0);
    CHECK(std::abs(s.local_prediction - s.model_prediction) > 0.2);
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
    CHECK(ea.surrogate(0).weights == eb.surrogate(0).weights);
    CHECK(ea.surrogate(0).intercept == eb.surrogate(0).intercept);
    CHECK(ea.surrogate(0).r2 == eb.surrogate(0).r2);
    CHECK((ea.raw == eb.raw));
    xai::LimeOptions c = a;
    c.seed = 8;
    const auto ec = explain_linear(shape, c);
    CHECK(ea.surrogate(0).weights != ec.surrogate(0).weights);
}

TEST_CASE("the stability report shows the spread over seeds", "[lime][stability]") {
    const xai::ImageShape shape{1, 8, 8};
    const xai::Segmentation grid = xai::grid_segments(8, 8, {0, 4, 4});
    xai::LimeOptions options = linear_test_options();
    options.num_samples = 200;
    const xai::LimeStabilityOptions stability{.repeats = 4, .top_k = 3, .sign = xai::WeightSign::positive};

    // A linear model with well-separated positive weights: the top 3 (0.5, 0.45, 0.4) never change.
    const LinearInSuperpixels linear(grid, kBeta, shape);
    const auto stable = xai::Lime<LinearInSuperpixels, xai::GridSegmenter>(linear, options, {{0, 4, 4}})
                            .stability(ones(shape), 0, stability);
    REQUIRE(stable.runs.size() == 4);
    REQUIRE(stable.surrogates.size() == 1);
    const auto& s = stable.surrogates[0];
    CHECK(s.target == 0);
    CHECK(s.mean_jaccard == 1.0);
    CHECK(s.min_jaccard == 1.0);
    CHECK(s.top_sets[0] == std::vector<std::size_t>{0, 4, 15});
    double max_std = 0.0;
    for (double v : s.weight_std) max_std = std::max(max_std, v);
    CHECK(max_std > 0.0);    // different samples do move the weights a little…
    CHECK(max_std < 0.02);   // …but not much for an exactly linear model
    CHECK(s.mean_weight[0] == Approx(0.5).margin(0.02));
    const xai::LimeExplanation once =
        xai::Lime<LinearInSuperpixels, xai::GridSegmenter>(linear, options, {{0, 4, 4}}).explain(ones(shape), 0);
    CHECK(stable.runs[0].surrogate(0).weights == once.surrogate(0).weights);

    // Equal true weights: which superpixels make the top 3 is decided by sampling noise.
    const LinearInSuperpixels flat(grid, std::vector<double>(16, 0.1), shape);
    const auto noisy = xai::Lime<LinearInSuperpixels, xai::GridSegmenter>(flat, options, {{0, 4, 4}})
                           .stability(ones(shape), 0, stability);
    CHECK(noisy.surrogates[0].mean_jaccard < 1.0);
    CHECK(noisy.surrogates[0].min_jaccard <= noisy.surrogates[0].mean_jaccard);
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
    using xai::detail::select_features;
    CHECK(select_features(X, y, w, 2, FeatureSelection::forward_selection) == std::vector<std::size_t>{2, 5});
    CHECK(select_features(X, y, w, 3, FeatureSelection::forward_selection) == std::vector<std::size_t>{2, 5, 0});
    CHECK(select_features(X, y, w, 2, FeatureSelection::highest_weights) == std::vector<std::size_t>{2, 5});
    CHECK(select_features(X, y, w, 2, FeatureSelection::automatic) == std::vector<std::size_t>{2, 5});
    CHECK(select_features(X, y, w, 7, FeatureSelection::automatic) ==
          select_features(X, y, w, 7, FeatureSelection::highest_weights));
    CHECK(select_features(X, y, w, 2, FeatureSelection::lasso_path) == std::vector<std::size_t>{2, 5});
    CHECK(select_features(X, y, w, 1, FeatureSelection::lasso_path) == std::vector<std::size_t>{2});
    CHECK(select_features(X, y, w, 3, FeatureSelection::none).size() == 8);
    CHECK(xai::to_string(FeatureSelection::automatic) == "auto");
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
    const Eigen::MatrixXd path = xai::detail::lars_lasso_path(Q, y);
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
    options.baseline = xai::Baseline::constant(0.0f);
    std::vector<std::size_t> progress;
    const auto record = [&](const xai::ProgressReport& p) {
        CHECK(p.total == 200);
        CHECK(p.stage == "samples");
        progress.push_back(p.done);
    };
    const xai::Lime lime(model, options);  // class template argument deduction: Lime<SquareModel, Quickshift>
    const auto e = lime.explain(image, xai::Target::predicted(), record);
    CHECK(e.segmentations[0].count == xai::quickshift(image).count);
    // The predicted class first (logit 0.9·4 = 3.6 is the highest), then the other top labels
    // best first: top_labels 5, clamped to the 3 classes.
    CHECK(e.targets == std::vector<std::size_t>{0});
    REQUIRE(e.surrogates[0].size() == 3);
    CHECK(e.surrogates[0][0].target == 0);
    CHECK(e.surrogates[0][1].target == 2);  // logit 1
    CHECK(e.surrogates[0][2].target == 1);  // logit 0
    const xai::Scores p = xai::softmax(model.forward(xai::as_batch(image)));
    CHECK(e.surrogates[0][0].model_prediction == Approx(p(0, 0)).epsilon(1e-6));
    CHECK(progress.back() == 200);
    CHECK(std::is_sorted(progress.begin(), progress.end()));
    // The superpixel covering the square carries the largest positive weight for class 0.
    const std::int32_t square = e.segmentations[0].labels(12, 12);
    CHECK(e.surrogates[0][0].features.front() == static_cast<std::size_t>(square));
    CHECK(e.surrogates[0][0].weights[static_cast<std::size_t>(square)] > 0.0);
    // The display map peaks on the square: its superpixel has the largest positive weight.
    CHECK(e.map()(12, 12) == 1.0f);
}

TEST_CASE("image and mask, and the overlay picture", "[lime][visualize]") {
    xai::LimeOptions options = linear_test_options();
    options.num_samples = 2000;
    const auto e = explain_linear({3, 8, 8}, options);
    xai::Image image = xt::zeros<float>({3, 8, 8});
    for (std::size_t c = 0; c < 3; ++c)
        for (std::size_t p = 0; p < 64; ++p) image.data()[c * 64 + p] = 0.1f * static_cast<float>(c + 1) + 0.001f * static_cast<float>(p);

    // positive only, 2 features: β0 = 0.5 and β4 = 0.45 (cells (0,0) and (1,0))
    const auto pos =
        xai::lime_image_and_mask(image, e, 0, {.num_features = 2, .sign = xai::WeightSign::positive, .hide_rest = true});
    CHECK(pos.mask(0, 0) == 1);
    CHECK(pos.mask(2, 0) == 1);
    CHECK(pos.mask(7, 7) == 0);
    CHECK(pos.image(0, 0, 0) == image(0, 0, 0));
    CHECK(pos.image(0, 7, 7) == 0.0f);  // hide_rest
    // both signs, 3 features: 0.5, 0.45 (+) and −0.45 (superpixel 8, cell (2,0))
    const auto both = xai::lime_image_and_mask(image, e, 0, {.num_features = 3, .sign = xai::WeightSign::both});
    CHECK(both.mask(4, 0) == -1);
    CHECK(both.image(0, 4, 0) == xt::amax(image)());  // lime paints red for negative
    CHECK(both.image(1, 0, 0) == xt::amax(image)());  // and green for positive
    // min_weight drops the small ones
    const auto strict = xai::lime_image_and_mask(image, e, 0, {.num_features = 16, .min_weight = 0.42});
    CHECK(xt::sum(strict.mask)() == 2 * 4);  // only 0.5 and 0.45 exceed 0.42; 4 pixels each

    const xai::Image overlay = xai::lime_overlay(image, e, 0);
    REQUIRE(overlay.shape(0) == 3);
    CHECK(overlay(0, 1, 1) == 1.0f);  // (1,1) borders another superpixel: outlined in yellow
    CHECK(overlay(2, 1, 1) == 0.0f);
    CHECK(overlay(1, 0, 0) == Approx(0.55f * image(1, 0, 0) + 0.45f * 0.85f));  // tinted green (β0 > 0)
    CHECK(overlay(0, 4, 0) == 1.0f);  // superpixel 8 (β8 < 0) is shown: every pixel of a 2×2 cell is on its outline
    CHECK(overlay(1, 0, 7) == image(1, 0, 7));  // superpixel 3 (β = 0) is not shown

    // negative only, 2 features: β8 = −0.45 (cell (2,0)) and β1 = −0.3 (cell (0,1)), in that order
    const auto neg = xai::lime_image_and_mask(image, e, 0, {.num_features = 2, .sign = xai::WeightSign::negative});
    CHECK(neg.mask(4, 0) == -1);
    CHECK(neg.mask(0, 2) == -1);
    CHECK(neg.mask(0, 0) == 0);
    CHECK(xt::sum(neg.mask)() == -2 * 4);
    CHECK(neg.image(0, 4, 0) == image(0, 4, 0));  // one sign: lime paints nothing
    CHECK(xai::LimeMaskOptions{}.sign == xai::WeightSign::positive);  // lime's positive_only=True
    CHECK(xai::to_string(xai::WeightSign::negative) == "negative");

    CHECK_THROWS_WITH(xai::lime_image_and_mask(image, e, 1, {}), Contains("class 1 was not explained for image 0"));
    CHECK_THROWS_WITH(xai::lime_image_and_mask(image, e, 0, {}, 1), Contains("image_index is 1"));
    CHECK_THROWS_WITH(xai::lime_image_and_mask(image, e, 0, {.sign = static_cast<xai::WeightSign>(7)}),
                      Contains("sign is 7"));
    CHECK_THROWS_AS(xai::lime_overlay(xai::Image(xt::zeros<float>({3, 4, 4})), e, 0), xai::shape_error);
}

TEST_CASE("bad LIME inputs are rejected with the argument named", "[lime][errors]") {
    const xai::ImageShape shape{1, 8, 8};
    const xai::Segmentation grid = xai::grid_segments(8, 8, {0, 4, 4});
    const LinearInSuperpixels model(grid, kBeta, shape);
    xai::LimeOptions zero = linear_test_options();
    zero.num_samples = 0;
    CHECK_THROWS_WITH(LimeGrid(model, zero, {{0, 4, 4}}), Contains("xai::Lime::Lime(): num_samples is 0"));
    xai::LimeOptions no_batch = linear_test_options();
    no_batch.batch_size = 0;
    CHECK_THROWS_WITH(LimeGrid(model, no_batch, {{0, 4, 4}}), Contains("batch_size is 0"));
    xai::LimeOptions bad_width = linear_test_options();
    bad_width.kernel_width = 0.0;
    CHECK_THROWS_WITH(LimeGrid(model, bad_width, {{0, 4, 4}}), Contains("kernel_width"));

    xai::LimeOptions options = linear_test_options();
    options.num_samples = 50;
    options.num_features = 17;
    CHECK_THROWS_WITH(LimeGrid(model, options, {{0, 4, 4}}).explain(ones(shape), 0),
                      Contains("xai::Lime::explain(): num_features is 17 but the segmentation has only 16 "
                               "superpixels"));
    options.num_features = 0;
    const LimeGrid lime(model, options, {{0, 4, 4}});
    CHECK_THROWS_AS(lime.explain(ones({3, 8, 8}), 0), xai::shape_error);
    CHECK_THROWS_WITH(lime.explain(ones({1, 8, 9}), 0), Contains("the model expects 1x8x8"));
    CHECK_THROWS_WITH(lime.explain(ones(shape), 2),
                      Contains("xai::Lime::explain(): target class 2 for image 0 is out of range"));
    CHECK_THROWS_WITH(lime.explain(xai::Image::from_shape({1, 0, 8})), Contains("expected a non-empty C×H×W image"));
    const xai::Batch two = xai::stack({ones(shape), ones(shape)});
    CHECK_THROWS_WITH(lime.explain(two, {0, 1, 0}), Contains("targets has 3 entries"));
    CHECK_THROWS_AS(lime.explain(xai::Batch::from_shape({0, 1, 8, 8})), xai::shape_error);
    xai::Image nan_image = ones(shape);
    nan_image(0, 3, 3) = std::nanf("");
    CHECK_THROWS_AS(lime.explain(nan_image, 0), xai::invalid_argument);
    CHECK_THROWS_WITH(lime.explain_segmented(ones(shape), xai::grid_segments(8, 7, {0, 2, 2}), 0),
                      Contains("xai::Lime::explain_segmented()"));
    CHECK_THROWS_AS(lime.explain_segmented(ones(shape), xai::grid_segments(8, 7, {0, 2, 2}), 0), xai::shape_error);
    xai::LimeOptions colour = linear_test_options();
    colour.num_samples = 20;
    colour.baseline = xai::Baseline::color({0.0f, 0.0f});
    CHECK_THROWS_WITH(LimeGrid(model, colour, {{0, 4, 4}}).explain(ones(shape), 0),
                      Contains("xai::Lime::explain(): the baseline colour has 2 values"));
    CHECK_THROWS_WITH(lime.stability(ones(shape), 0, {.repeats = 1, .top_k = 3}),
                      Contains("xai::Lime::stability(): repeats is 1"));
    CHECK_THROWS_WITH(lime.stability(ones(shape), 0, {.top_k = 0}), Contains("top_k is 0"));
    CHECK_THROWS_WITH(lime.stability(ones(shape), 0, {.sign = static_cast<xai::WeightSign>(3)}), Contains("sign is 3"));
    CHECK_THROWS_WITH(lime.stability(ones({1, 8, 9}), 0), Contains("xai::Lime::stability(): images are 1x8x9"));

    // A model that returns NaN is a model_error.
    class NanModel {
    public:
        xai::Scores forward(const xai::Batch& b) const { return xt::xtensor<float, 2>::from_shape({b.shape(0), 2}) * std::nanf(""); }
        std::size_t num_classes() const { return 2; }
        xai::ImageShape input_shape() const { return {1, 8, 8}; }
    };
    const NanModel nan_model;
    const xai::Lime<NanModel, xai::GridSegmenter> nan_lime(nan_model, options, {{0, 4, 4}});
    CHECK_THROWS_AS(nan_lime.explain(ones(shape), 0), xai::model_error);
}

// ---- the unified explainer API ----------------------------------------------------------------

namespace {

/// A 3×24×24 image of 4×4 blocks of 6 px whose colours depend on `k`, so SLIC finds different
/// superpixels in different images.
xai::Image blocks(int k) {
    xai::Image image = xai::Image::from_shape({3, 24, 24});
    for (std::size_t c = 0; c < 3; ++c)
        for (std::size_t y = 0; y < 24; ++y)
            for (std::size_t x = 0; x < 24; ++x) {
                const std::size_t block = (y / 6) * 4 + x / 6 + static_cast<std::size_t>(k);
                image(c, y, x) = 0.1f + 0.8f * static_cast<float>((block * (c + 3) * 7) % 11) / 11.0f;
            }
    return image;
}

/// Three classes reading different parts of a 3×24×24 image.
toy::FunctionModel three_classes() {
    return toy::FunctionModel({3, 24, 24}, 3, [](const float* image) {
        double top_left = 0.0, bottom_right = 0.0;
        for (std::size_t y = 0; y < 12; ++y)
            for (std::size_t x = 0; x < 12; ++x) {
                top_left += image[y * 24 + x];
                bottom_right += image[576 + (y + 12) * 24 + x + 12];
            }
        return std::vector<float>{static_cast<float>(top_left / 36.0), static_cast<float>(bottom_right / 48.0),
                                  0.5f + image[2 * 576 + 300]};
    });
}

using LimeSlic = xai::Lime<toy::FunctionModel, xai::Slic>;

LimeSlic slic_lime(const toy::FunctionModel& model) {
    xai::LimeOptions options;
    options.num_samples = 150;
    options.batch_size = 40;
    options.seed = 3;
    options.threads = 2;  // two batches in flight per round: progress after every second batch
    return LimeSlic(model, options, xai::Slic{{20}});
}

void require_same_surrogate(const xai::LimeSurrogate& a, const xai::LimeSurrogate& b) {
    CHECK(a.target == b.target);
    CHECK(a.weights == b.weights);
    CHECK(a.features == b.features);
    CHECK(a.intercept == b.intercept);
    CHECK(a.r2 == b.r2);
    CHECK(a.local_prediction == b.local_prediction);
    CHECK(a.model_prediction == b.model_prediction);
}

/// Image `i` of `batch` equals image 0 of `single`, bit for bit, in every field.
void require_same_image(const xai::LimeExplanation& batch, std::size_t i, const xai::LimeExplanation& single) {
    INFO("image " << i);
    CHECK((batch.raw_map(i) == single.raw_map(0)));
    CHECK((batch.map(i) == single.map(0)));
    CHECK(batch.targets[i] == single.targets[0]);
    CHECK(batch.scores[i] == single.scores[0]);
    CHECK((xt::view(batch.logits, i, xt::all()) == xt::view(single.logits, 0, xt::all())));
    CHECK((batch.segmentations[i].labels == single.segmentations[0].labels));
    CHECK(batch.segmentations[i].count == single.segmentations[0].count);
    REQUIRE(batch.surrogates[i].size() == single.surrogates[0].size());
    for (std::size_t c = 0; c < batch.surrogates[i].size(); ++c)
        require_same_surrogate(batch.surrogates[i][c], single.surrogates[0][c]);
}

}  // namespace

TEST_CASE("Lime is an Explainer whose result derives from Explanation", "[lime][api]") {
    STATIC_REQUIRE(xai::Explainer<xai::Lime<toy::FunctionModel>>);
    STATIC_REQUIRE(xai::Explainer<LimeSlic>);
    STATIC_REQUIRE(xai::Explainer<LimeGrid>);
    STATIC_REQUIRE(std::is_same_v<xai::explanation_t<LimeSlic>, xai::LimeExplanation>);
    STATIC_REQUIRE(std::is_base_of_v<xai::Explanation, xai::LimeExplanation>);
    // One image takes one Target; Targets go with a batch (the old explain(image, targets) does not compile).
    STATIC_REQUIRE_FALSE(explains_one_image_for_targets<LimeSlic>);
    // The explainer keeps a reference to the model: a temporary model is refused at compile time.
    STATIC_REQUIRE(std::is_constructible_v<xai::Lime<toy::FunctionModel>, const toy::FunctionModel&>);
    STATIC_REQUIRE_FALSE(std::is_constructible_v<xai::Lime<toy::FunctionModel>, toy::FunctionModel>);
}

TEST_CASE("LIME of an image is LIME of its batch of one, and a batch is its images one at a time", "[lime][api]") {
    const toy::FunctionModel model = three_classes();
    const LimeSlic lime = slic_lime(model);
    const xai::Image a = blocks(0), b = blocks(1);

    const xai::LimeExplanation single_a = lime.explain(a, 1);
    const xai::LimeExplanation as_batch = lime.explain(xai::as_batch(a), {1});
    require_same_image(as_batch, 0, single_a);

    const xai::LimeExplanation single_b = lime.explain(b, 2);
    REQUIRE(single_a.segmentations[0].count != single_b.segmentations[0].count);  // each image its own superpixels
    std::vector<xai::ProgressReport> reports;
    const xai::LimeExplanation both =
        lime.explain(xai::stack({a, b}), {1, 2}, [&](const xai::ProgressReport& p) { reports.push_back(p); });
    REQUIRE(both.size() == 2);
    require_same_image(both, 0, single_a);
    require_same_image(both, 1, single_b);

    // Progress counts samples over the whole batch: 150 per image in batches of 40, reported
    // after each round of two batches.
    std::vector<std::size_t> done;
    for (const auto& r : reports) {
        CHECK(r.total == 300);
        CHECK(r.stage == "samples");
        done.push_back(r.done);
    }
    CHECK(done == std::vector<std::size_t>{80, 150, 230, 300});

    // The core fields: raw = the target's surrogate weight of each pixel's superpixel, maps its
    // display map, scores f_target(x) (= model_prediction), logits of the unperturbed images.
    const xai::Scores logits = model.forward(xai::stack({a, b}));
    CHECK((both.logits == logits));
    CHECK(both.score_kind == xai::ScoreKind::probability);
    CHECK(both.num_samples == 150);
    const xai::Scores p = xai::softmax(logits);
    for (std::size_t i = 0; i < 2; ++i) {
        const std::size_t t = both.targets[i];
        CHECK(t == i + 1);
        CHECK((both.raw_map(i) == both.pixel_weights(t, i)));
        xai::Map positive = both.raw_map(i);
        for (float& v : positive) v = std::max(v, 0.0f);
        CHECK((both.map(i) == xai::normalize_min_max(positive)));
        CHECK(both.scores[i] == static_cast<float>(both.surrogate(t, i).model_prediction));
        CHECK(both.scores[i] == Approx(p(i, t)).epsilon(1e-6));
        const xai::Segmentation& s = both.segmentations[i];
        const std::vector<double>& beta = both.surrogate(t, i).weights;
        for (std::size_t y = 0; y < 24; y += 5)
            for (std::size_t x = 0; x < 24; x += 5)
                CHECK(both.raw_map(i)(y, x) == static_cast<float>(beta[static_cast<std::size_t>(s.labels(y, x))]));
    }

    // explain() is const and gives the same explanation from two threads at once.
    xai::LimeExplanation first, second;
    std::thread other([&] { first = lime.explain(xai::stack({a, b}), {1, 2}); });
    second = lime.explain(xai::stack({a, b}), {1, 2});
    other.join();
    require_same_image(first, 1, single_b);
    require_same_image(second, 1, single_b);
}

TEST_CASE("LIME fits the target's surrogate first, then the other top labels best first", "[lime][api]") {
    const toy::FunctionModel model = three_classes();
    const xai::Image a = blocks(0);
    const xai::Scores p = xai::softmax(model.forward(xai::as_batch(a)));
    std::vector<std::size_t> order{0, 1, 2};
    std::stable_sort(order.begin(), order.end(), [&](std::size_t x, std::size_t y) { return p(0, x) > p(0, y); });
    const LimeSlic lime = slic_lime(model);

    // The predicted class: the top labels in order, the first being the target.
    const auto predicted = lime.explain(a);
    REQUIRE(predicted.surrogates[0].size() == 3);
    CHECK(predicted.targets[0] == order[0]);
    for (std::size_t c = 0; c < 3; ++c) CHECK(predicted.surrogates[0][c].target == order[c]);

    // An explicit target that is not the best: first, then the others best first.
    const std::size_t target = order[2];
    const auto explicit_target = lime.explain(a, target);
    REQUIRE(explicit_target.surrogates[0].size() == 3);
    CHECK(explicit_target.surrogates[0][0].target == target);
    CHECK(explicit_target.surrogates[0][1].target == order[0]);
    CHECK(explicit_target.surrogates[0][2].target == order[1]);
    // Every surrogate is fitted on its own: the same numbers in any order and any company.
    require_same_surrogate(explicit_target.surrogate(order[0]), predicted.surrogate(order[0]));

    // top_labels = 1: the best class beside the target; 0: the target alone.
    xai::LimeOptions one = lime.options();
    one.top_labels = 1;
    const auto with_one = LimeSlic(model, one, xai::Slic{{20}}).explain(a, target);
    REQUIRE(with_one.surrogates[0].size() == 2);
    CHECK(with_one.surrogates[0][1].target == order[0]);
    one.top_labels = 0;
    const auto alone = LimeSlic(model, one, xai::Slic{{20}}).explain(a, target);
    REQUIRE(alone.surrogates[0].size() == 1);
    require_same_surrogate(alone.surrogate(target), explicit_target.surrogate(target));
    CHECK_THROWS_WITH(alone.surrogate(order[0]), Contains("was not explained for image 0"));
    CHECK_THROWS_AS(alone.surrogate(target, 1), xai::shape_error);
    CHECK_THROWS_AS(alone.pixel_weights(target, 1), xai::shape_error);

    // A precomputed segmentation replaces the policy's.
    const xai::Segmentation grid = xai::grid_segments(a, {9});
    const auto segmented = lime.explain_segmented(a, grid, target);
    CHECK((segmented.segmentations[0].labels == grid.labels));
    CHECK(segmented.surrogate(target).weights.size() == grid.count);
}

TEST_CASE("LIME options are aggregates: designated initializers", "[lime][api]") {
    const toy::FunctionModel model = three_classes();
    const xai::Lime lime(model, {.num_samples = 200, .baseline = xai::Baseline::constant(0)});
    CHECK(lime.options().num_samples == 200);
    CHECK(lime.options().baseline.is_constant());
    CHECK(lime.options().top_labels == 5);  // the rest keep lime's defaults
    const xai::LimeOptions defaults;
    CHECK(defaults.baseline.kind() == xai::Baseline::Kind::segment_mean);  // lime's hide_color=None
    const LimeSlic slic(model, {.num_samples = 50, .top_labels = 0, .seed = 9}, xai::Slic{{.n_segments = 10}});
    CHECK(slic.explain(blocks(0)).surrogates[0].size() == 1);
    const xai::LimeStabilityOptions stability{.repeats = 3, .sign = xai::WeightSign::both};
    CHECK(stability.top_k == 5);
    const xai::LimeMaskOptions mask{.num_features = 3, .sign = xai::WeightSign::negative};
    CHECK(mask.min_weight == 0.0);
}

TEST_CASE("LIME's baseline: lime's hide_color as Baseline", "[lime][baseline]") {
    const xai::ImageShape shape{1, 8, 8};
    const xai::Segmentation grid = xai::grid_segments(8, 8, {0, 4, 4});
    const LinearInSuperpixels model(grid, kBeta, shape);
    xai::LimeOptions options = linear_test_options();
    options.num_samples = 300;
    // hide_color = 0 is Baseline::constant(0) or a one-value colour: the same renders, the same numbers.
    const auto constant = LimeGrid(model, options, kGrid4x4).explain(ones(shape), 0);
    options.baseline = xai::Baseline::color({0.0f});
    const auto colour = LimeGrid(model, options, kGrid4x4).explain(ones(shape), 0);
    CHECK(constant.surrogate(0).weights == colour.surrogate(0).weights);
    // hide_color = None (the default): each superpixel's own mean colour. On an image that is
    // constant within each superpixel, hiding changes nothing: the model's score is the same
    // for every sample, so every weight is 0 up to the rounding of the weighted mean of y
    // (about 1e-17), and the display map is flat, hence all zeros.
    options.baseline = xai::Baseline::segment_mean();
    const auto mean = LimeGrid(model, options, kGrid4x4).explain(ones(shape), 0);
    for (double w : mean.surrogate(0).weights) CHECK(std::abs(w) < 1e-12);
    CHECK((mean.maps == xt::zeros<float>({1, 8, 8})));
}

TEST_CASE("LIME stability compares top sets of the chosen WeightSign and reports progress", "[lime][stability]") {
    const xai::ImageShape shape{1, 8, 8};
    const xai::Segmentation grid = xai::grid_segments(8, 8, {0, 4, 4});
    const LinearInSuperpixels linear(grid, kBeta, shape);
    xai::LimeOptions options = linear_test_options();
    options.num_samples = 200;
    const LimeGrid lime(linear, options, kGrid4x4);
    std::vector<std::size_t> done;
    const auto both = lime.stability(ones(shape), 0, {.repeats = 3, .top_k = 3, .sign = xai::WeightSign::both},
                                     [&](const xai::ProgressReport& p) {
                                         CHECK(p.total == 600);
                                         done.push_back(p.done);
                                     });
    CHECK(done.back() == 600);
    CHECK(std::is_sorted(done.begin(), done.end()));
    // By |β|: 0.5 (0), then 0.45 (4) and −0.45 (8).
    auto sorted = [](std::vector<std::size_t> v) {
        std::sort(v.begin(), v.end());
        return v;
    };
    CHECK(sorted(both.surrogates[0].top_sets[0]) == std::vector<std::size_t>{0, 4, 8});
    const auto negative = lime.stability(ones(shape), 0, {.repeats = 2, .top_k = 3, .sign = xai::WeightSign::negative});
    CHECK(negative.surrogates[0].top_sets[0] == std::vector<std::size_t>{8, 1, 11});  // −0.45, −0.3, −0.2
    const auto positive = lime.stability(ones(shape), 0, {.repeats = 2, .top_k = 3});
    CHECK(positive.surrogates[0].top_sets[0] == std::vector<std::size_t>{0, 4, 15});  // 0.5, 0.45, 0.4
    CHECK(positive.surrogates[0].mean_r2 == Approx(1.0).margin(0.01));  // ridge shrinkage with 200 samples: 0.9986
}

// ---- adaptive sample size (LimeOptions::adaptive) -----------------------------------------

TEST_CASE("LIME's coefficient covariance is the sandwich formula and matches the spread over seeds",
          "[lime][adaptive]") {
    // The sandwich G⁻¹ X_cᵀ Π diag(r²) Π X_c G⁻¹ written out with plain matrices.
    Eigen::MatrixXd X(40, 3);
    Eigen::VectorXd y(40), w(40);
    for (int i = 0; i < 40; ++i) {
        X(i, 0) = (i % 2);
        X(i, 1) = ((i / 2) % 2);
        X(i, 2) = ((i * 7 / 5) % 3 == 0);
        y[i] = 0.3 * X(i, 0) - 0.2 * X(i, 1) + 0.5 * X(i, 0) * X(i, 2) + 0.01 * (i % 5);
        w[i] = 0.5 + 0.01 * i;
    }
    const double alpha = 0.7;
    const xai::detail::WeightedLinearFit<double> fit = xai::detail::weighted_ridge<double>(X, y, w, alpha);
    const Eigen::MatrixXd cov = xai::detail::weighted_ridge_covariance<double>(X, y, w, alpha, fit);
    const Eigen::RowVectorXd mean = (w.transpose() * X) / w.sum();
    const Eigen::MatrixXd Xc = X.rowwise() - mean;
    const Eigen::VectorXd r = y - X * fit.coef - Eigen::VectorXd::Constant(40, fit.intercept);
    const Eigen::MatrixXd G = Xc.transpose() * w.asDiagonal() * Xc + alpha * Eigen::MatrixXd::Identity(3, 3);
    const Eigen::VectorXd meat_weights = (w.array() * w.array() * r.array() * r.array()).matrix();
    const Eigen::MatrixXd expected = G.inverse() * (Xc.transpose() * meat_weights.asDiagonal() * Xc) * G.inverse();
    CHECK((cov - expected).cwiseAbs().maxCoeff() < 1e-12);

    // On LIME's samples of a nonlinear model the sandwich standard error describes the spread of
    // β̂ over seeds: the mean predicted SE of β̂₀ (LIME's samples rebuilt here: row i's bits from
    // Rng::stream(seed, i), the kernel of the header) is within 25% of the observed spread.
    const xai::ImageShape shape{1, 8, 8};
    const toy::FunctionModel model(shape, 2, [](const float* x) {
        const double a = x[0], b = x[63], c = x[27];
        return std::vector<float>{static_cast<float>(a + 0.5 * b + 0.8 * a * c), 0.0f};
    });
    xai::LimeOptions o = linear_test_options();
    o.num_samples = 300;
    const std::size_t n = 300, d = 16, seeds = 80;
    const xai::Segmentation grid = xai::grid_segments(8, 8, {0, 4, 4});
    std::vector<double> beta0;
    double predicted = 0.0;
    for (std::uint64_t seed = 0; seed < seeds; ++seed) {
        o.seed = seed;
        beta0.push_back(xai::Lime<toy::FunctionModel, xai::GridSegmenter>(model, o, kGrid4x4).explain(ones(shape), 0).surrogate(0).weights[0]);
        Eigen::MatrixXd Z(n, d);
        Eigen::VectorXd f(n), pi(n);
        xai::Batch one = xai::Batch::from_shape({1, 1, 8, 8});
        for (std::size_t i = 0; i < n; ++i) {
            std::uint64_t bits = i == 0 ? ~std::uint64_t{0} : xai::Rng::stream(seed, i)();
            std::size_t on = 0;
            for (std::size_t s2 = 0; s2 < d; ++s2) {
                Z(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(s2)) = static_cast<double>((bits >> s2) & 1u);
                on += (bits >> s2) & 1u;
            }
            for (std::size_t p = 0; p < 64; ++p) one.data()[p] = static_cast<float>(Z(static_cast<Eigen::Index>(i), grid.labels.data()[p]));
            f[static_cast<Eigen::Index>(i)] = model.forward(one)(0, 0);
            const double distance = on == 0 ? 1.0 : 1.0 - std::sqrt(static_cast<double>(on) / d);
            pi[static_cast<Eigen::Index>(i)] = std::sqrt(std::exp(-distance * distance / (0.25 * 0.25)));
        }
        const auto sample_fit = xai::detail::weighted_ridge<double>(Z, f, pi, 1.0);
        predicted += std::sqrt(xai::detail::weighted_ridge_covariance<double>(Z, f, pi, 1.0, sample_fit)(0, 0)) / seeds;
    }
    double mean0 = 0.0, observed = 0.0;
    for (double b0 : beta0) mean0 += b0 / seeds;
    for (double b0 : beta0) observed += (b0 - mean0) * (b0 - mean0) / (seeds - 1);
    observed = std::sqrt(observed);
    CAPTURE(predicted, observed);
    CHECK(predicted == Approx(observed).epsilon(0.25));
}

TEST_CASE("Adaptive LIME stops when its top-5 is separated, and equals plain LIME on the samples it used",
          "[lime][adaptive]") {
    // kBeta's top 5 positive weights (0.5, 0.45, 0.4, 0.35, 0.3) are separated from the 6th (0.25)
    // by 0.05; a little noise in the model (a nonlinear term) makes the test need more than the
    // first round but far fewer than the ceiling.
    const xai::ImageShape shape{1, 8, 8};
    const xai::Segmentation segments = xai::grid_segments(8, 8, {0, 4, 4});
    const LinearInSuperpixels linear(segments, kBeta, shape);
    xai::LimeOptions o = linear_test_options();
    o.num_samples = 5000;
    o.adaptive = {.enabled = true};
    const xai::LimeExplanation e = LimeGrid(linear, o, kGrid4x4).explain(ones(shape), 0);
    REQUIRE(e.samples_used.size() == 1);
    CHECK(e.converged[0]);
    CHECK(e.samples_used[0] < 5000);
    CHECK(e.selection_z[0] >= xai::detail::normal_quantile(0.95));
    const std::vector<std::size_t> top = xai::detail::lime_top_features(e.surrogate(0), 5, xai::WeightSign::positive);
    CHECK((std::set<std::size_t>(top.begin(), top.end()) == std::set<std::size_t>{0, 4, 7, 13, 15}));
    // The same samples without the test: the same explanation, bit for bit.
    xai::LimeOptions fixed = o;
    fixed.adaptive.enabled = false;
    fixed.num_samples = e.samples_used[0];
    const xai::LimeExplanation plain = LimeGrid(linear, fixed, kGrid4x4).explain(ones(shape), 0);
    CHECK(plain.surrogate(0).weights == e.surrogate(0).weights);
    CHECK(plain.samples_used[0] == e.samples_used[0]);
    CHECK_FALSE(plain.converged[0]);
    CHECK(plain.selection_z[0] == 0.0);
    // Any thread count and batch size: the same stopping point and weights.
    xai::LimeOptions other = o;
    other.threads = 3;
    other.batch_size = 7;
    const xai::LimeExplanation again = LimeGrid(linear, other, kGrid4x4).explain(ones(shape), 0);
    CHECK(again.samples_used[0] == e.samples_used[0]);
    CHECK(again.surrogate(0).weights == e.surrogate(0).weights);
}

TEST_CASE("Adaptive LIME runs to its ceiling when the top-k cannot be separated", "[lime][adaptive]") {
    // Sixteen equal weights: no top-5 is better than the rest, the test never passes.
    const xai::ImageShape shape{1, 8, 8};
    const LinearInSuperpixels equal(xai::grid_segments(8, 8, {0, 4, 4}), std::vector<double>(16, 0.2), shape);
    xai::LimeOptions o = linear_test_options();
    o.num_samples = 600;
    o.ridge_alpha = 1.0;
    o.adaptive = {.enabled = true, .initial_samples = 50};
    std::vector<xai::ProgressReport> seen;
    const xai::LimeExplanation e = LimeGrid(equal, o, kGrid4x4).explain(ones(shape), 0, [&](const xai::ProgressReport& p) {
        seen.push_back(p);
    });
    CHECK_FALSE(e.converged[0]);
    CHECK(e.samples_used[0] == 600);
    CHECK(e.selection_z[0] < xai::detail::normal_quantile(0.95));
    REQUIRE_FALSE(seen.empty());
    CHECK(seen.back().done == 600);
    CHECK(seen.back().total == 600);
    for (std::size_t i = 1; i < seen.size(); ++i) CHECK(seen[i].done >= seen[i - 1].done);
}

TEST_CASE("LIME's adaptive options are checked and the z helpers are right", "[lime][adaptive][errors]") {
    CHECK(xai::detail::normal_quantile(0.95) == Approx(1.6448536269514722).epsilon(1e-12));
    CHECK(xai::detail::normal_quantile(0.5) == Approx(0.0).margin(1e-12));
    CHECK(xai::detail::normal_quantile(0.025) == Approx(-1.959963984540054).epsilon(1e-12));
    // z of a top-1 {0} against {1, 2}: (β0 − βj) / sqrt(C00 + Cjj − 2 C0j)
    Eigen::MatrixXd c(3, 3);
    c << 0.04, 0.01, 0.0, 0.01, 0.09, 0.0, 0.0, 0.0, 0.01;
    const std::vector<double> beta{0.5, 0.2, -0.3};
    const double z01 = 0.3 / std::sqrt(0.04 + 0.09 - 0.02), z02 = 0.8 / std::sqrt(0.05);
    CHECK(xai::detail::top_k_boundary_z(beta, c, {0}, xai::WeightSign::positive) == Approx(std::min(z01, z02)));
    // by |β| (both signs): superpixel 2 ranks by −β₂, so the variance takes + 2 C₀₂ σ₀σ₂ = −2·0
    CHECK(xai::detail::top_k_boundary_z(beta, c, {0, 2}, xai::WeightSign::both) == Approx((0.3 - 0.2) / std::sqrt(0.01 + 0.09)));
    CHECK(xai::detail::top_k_boundary_z(beta, c, {}, xai::WeightSign::positive) == 0.0);
    CHECK(std::isinf(xai::detail::top_k_boundary_z(beta, c, {0, 1, 2}, xai::WeightSign::positive)));

    const xai::ImageShape shape{1, 8, 8};
    const LinearInSuperpixels model(xai::grid_segments(8, 8, {0, 4, 4}), kBeta, shape);
    xai::LimeOptions o = linear_test_options();
    o.adaptive = {.enabled = true, .top_k = 0};
    CHECK_THROWS_WITH(LimeGrid(model, o, kGrid4x4), Contains("xai::Lime::Lime(): adaptive.top_k is 0"));
    o.adaptive = {.enabled = true, .alpha = 0.5};
    CHECK_THROWS_WITH(LimeGrid(model, o, kGrid4x4), Contains("adaptive.alpha is 0.5, expected a level in (0, 0.5)"));
    o.adaptive = {.enabled = true, .sign = static_cast<xai::WeightSign>(4)};
    CHECK_THROWS_WITH(LimeGrid(model, o, kGrid4x4), Contains("adaptive.sign is 4"));
    o.adaptive = {.enabled = false, .alpha = 2.0};  // ignored while off
    CHECK_NOTHROW(LimeGrid(model, o, kGrid4x4));
}

TEST_CASE("LIME of a target function equals LIME of a model whose output is that function", "[lime][targets]") {
    // Three classes, logits from the means of three image regions; the target is the softmax
    // probability of class 1. The reference model outputs that probability as its one logit,
    // explained with ScoreKind::logit (the score as it is).
    const xai::ImageShape shape{1, 8, 8};
    const toy::FunctionModel model(shape, 3, [](const float* image) {
        double top = 0.0, left = 0.0, corner = 0.0;
        for (std::size_t y = 0; y < 8; ++y)
            for (std::size_t x = 0; x < 8; ++x) {
                const double v = image[y * 8 + x];
                top += y < 4 ? v / 32.0 : 0.0;
                left += x < 4 ? v / 32.0 : 0.0;
                corner += (y < 3 && x < 3) ? v / 9.0 : 0.0;
            }
        return std::vector<float>{static_cast<float>(2.0 * top), static_cast<float>(3.0 * left - corner),
                                  static_cast<float>(corner)};
    });
    const auto probability = xai::targets::class_probability(1);
    const toy::FunctionModel reference(shape, 1, [&model, probability](const float* image) {
        xai::Batch one = xai::Batch::from_shape({1, 1, 8, 8});
        std::copy(image, image + 64, one.data());
        const xai::Scores z = model.forward(one);
        return std::vector<float>{static_cast<float>(probability.score(std::span<const float>(z.data(), 3)))};
    });
    xai::Rng rng = xai::Rng::stream(5, 0);
    xai::Image image = xai::Image::from_shape({1, 8, 8});
    for (float& v : image) v = rng.uniform_float();
    xai::LimeOptions options;
    options.num_samples = 200;
    options.top_labels = 0;
    options.baseline = xai::Baseline::constant(0.0f);
    const xai::LimeExplanation f = xai::Lime<toy::FunctionModel, xai::GridSegmenter>(model, options, kGrid4x4)
                                       .explain(image, xai::Target::function(probability));
    options.score = xai::ScoreKind::logit;
    const xai::LimeExplanation r =
        xai::Lime<toy::FunctionModel, xai::GridSegmenter>(reference, options, kGrid4x4).explain(image, 0);
    REQUIRE(f.surrogates.at(0).size() == 1);
    const xai::LimeSurrogate& a = f.surrogates[0][0];
    const xai::LimeSurrogate& b = r.surrogates[0][0];
    CHECK(a.target == 1);  // the function's class
    CHECK(f.targets == std::vector<std::size_t>{1});
    for (std::size_t s = 0; s < 16; ++s) CHECK(a.weights[s] == Approx(b.weights[s]).margin(1e-12));
    CHECK(a.intercept == Approx(b.intercept));
    CHECK(a.r2 == Approx(b.r2));
    CHECK(a.model_prediction == Approx(b.model_prediction));
    CHECK(f.scores[0] == Approx(r.scores[0]));
    CHECK(xt::allclose(f.raw, r.raw));
    // The stability report keeps the function for every run.
    xai::LimeOptions o2;
    o2.num_samples = 200;
    o2.top_labels = 0;
    const xai::LimeStability st = xai::Lime<toy::FunctionModel, xai::GridSegmenter>(model, o2, kGrid4x4)
                                      .stability(image, xai::Target::function(probability), {.repeats = 2});
    CHECK(st.runs[1].surrogates[0][0].model_prediction == Approx(b.model_prediction));
}
