// Tests of the Shapley family (include/xai/shapley.hpp): KernelSHAP and Shapley value sampling
// over superpixels, against Shapley values computed by brute force over every coalition, and the
// efficiency axiom.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "perturbation_toys.hpp"
#include "xai/core/explainer.hpp"
#include "xai/core/random.hpp"
#include "xai/image/grid_segments.hpp"
#include "xai/shapley.hpp"

using Catch::Matchers::Contains;
using toy::FunctionModel;

static_assert(xai::Explainer<xai::KernelShap<FunctionModel, xai::GridSegmenter>>);
static_assert(xai::Explainer<xai::ShapleySampling<FunctionModel, xai::GridSegmenter>>);

namespace {

/// The mean of channel 0 over each cell of a rows×cols grid of an H×W image (row-major cells).
std::vector<double> cell_means(const float* image, std::size_t h, std::size_t w, std::size_t rows, std::size_t cols) {
    std::vector<double> out(rows * cols, 0.0);
    for (std::size_t y = 0; y < h; ++y)
        for (std::size_t x = 0; x < w; ++x) out[(y * rows / h) * cols + x * cols / w] += image[y * w + x];
    for (double& v : out) v /= static_cast<double>(h * w / (rows * cols));
    return out;
}

/// Logit 0 = a non-additive function of the four quadrant means (interactions, a max); logit 1 = 0.
FunctionModel interacting_model() {
    return FunctionModel({1, 4, 4}, 2, [](const float* image) {
        const std::vector<double> q = cell_means(image, 4, 4, 2, 2);
        const double f = 3.0 * q[0] * q[1] + 2.0 * q[2] + std::max(q[3], 0.5 * q[0]) - q[1] * q[2] * q[3];
        return std::vector<float>{static_cast<float>(f), 0.0f};
    });
}

/// Logit 0 = Σ_s w_s · mean of cell s of a 6×6 grid over a 12×12 image (additive); logit 1 = 0.
FunctionModel additive_model(const std::vector<double>& weights) {
    return FunctionModel({1, 12, 12}, 2, [weights](const float* image) {
        const std::vector<double> q = cell_means(image, 12, 12, 6, 6);
        double f = 0.0;
        for (std::size_t s = 0; s < q.size(); ++s) f += weights[s] * q[s];
        return std::vector<float>{static_cast<float>(f), 0.0f};
    });
}

xai::Image random_image(std::size_t h, std::size_t w, std::uint64_t seed) {
    xai::Image image = xai::Image::from_shape({1, h, w});
    xai::Rng rng(seed);
    for (float& v : image) v = 0.2f + 0.8f * rng.uniform_float();
    return image;
}

/// Exact Shapley values of class 0 by the subset formula, v(S) = the model on the image with the
/// cells outside S set to 0.
std::vector<double> brute_force_shapley(const FunctionModel& model, const xai::Image& image, std::size_t rows,
                                        std::size_t cols) {
    const std::size_t d = rows * cols, h = image.shape(1), w = image.shape(2);
    const xai::Segmentation grid = xai::grid_segments(h, w, {.rows = rows, .cols = cols});
    std::vector<double> v(std::size_t{1} << d);
    for (std::size_t mask = 0; mask < v.size(); ++mask) {
        xai::Batch b = xai::Batch::from_shape({1, 1, h, w});
        for (std::size_t p = 0; p < h * w; ++p)
            b.data()[p] = (mask >> static_cast<std::size_t>(grid.labels.data()[p])) & 1U ? image.data()[p] : 0.0f;
        v[mask] = model.forward(b)(0, 0);
    }
    std::vector<double> factorial(d + 1, 1.0);
    for (std::size_t j = 1; j <= d; ++j) factorial[j] = factorial[j - 1] * static_cast<double>(j);
    std::vector<double> phi(d, 0.0);
    for (std::size_t i = 0; i < d; ++i)
        for (std::size_t mask = 0; mask < v.size(); ++mask) {
            if ((mask >> i) & 1U) continue;
            const auto size = static_cast<std::size_t>(__builtin_popcountll(mask));
            phi[i] += factorial[size] * factorial[d - size - 1] / factorial[d] * (v[mask | (std::size_t{1} << i)] - v[mask]);
        }
    return phi;
}

}  // namespace

TEST_CASE("KernelSHAP with every coalition is the exact Shapley value; efficiency holds", "[shapley][kernel_shap]") {
    const FunctionModel model = interacting_model();
    const xai::Image image = random_image(4, 4, 3);
    const std::vector<double> exact = brute_force_shapley(model, image, 2, 2);
    const xai::KernelShap<FunctionModel, xai::GridSegmenter> shap(
        model, {.baseline = xai::Baseline::constant(0.0f), .score = xai::ScoreKind::logit}, {{0, 2, 2}});
    const xai::ShapleyExplanation e = shap.explain(image, xai::Target(0));
    REQUIRE(e.values[0].size() == 4);
    CHECK(e.evaluations[0] == 16);
    for (std::size_t s = 0; s < 4; ++s) CHECK(e.values[0][s] == Approx(exact[s]).margin(1e-5));
    double sum = 0.0;
    for (double p : exact) sum += p;
    CHECK(e.value_sums[0] == Approx(sum).margin(1e-5));
    CHECK(e.efficiency_error[0] < 1e-9);
    CHECK(e.scores[0] == Approx(e.logits(0, 0)));
    // raw holds each pixel's superpixel's value.
    CHECK(e.raw(0, 0, 0) == Approx(e.values[0][0]).margin(1e-6));
    CHECK(e.raw(0, 3, 3) == Approx(e.values[0][3]).margin(1e-6));
    CHECK(e.baseline_scores[0] == Approx(0.0));
    // Shapley value sampling converges to the same values; every order telescopes exactly.
    const xai::ShapleySampling<FunctionModel, xai::GridSegmenter> sampling(
        model, {.permutations = 3000, .baseline = xai::Baseline::constant(0.0f), .score = xai::ScoreKind::logit},
        {{0, 2, 2}});
    const xai::ShapleyExplanation s = sampling.explain(image, xai::Target(0));
    CHECK(s.evaluations[0] == 2 + 3000 * 3);
    for (std::size_t i = 0; i < 4; ++i) CHECK(s.values[0][i] == Approx(exact[i]).margin(0.02 * std::abs(sum) + 1e-3));
    CHECK(s.efficiency_error[0] < 1e-9);
}

TEST_CASE("On an additive model both estimators give w_s · (mean_s(x) − mean_s(baseline)) from few samples",
          "[shapley][kernel_shap][sampling]") {
    std::vector<double> weights(36);
    for (std::size_t s = 0; s < 36; ++s) weights[s] = std::sin(static_cast<double>(s)) * 2.0;
    const FunctionModel model = additive_model(weights);
    const xai::Image image = random_image(12, 12, 5);
    const std::vector<double> q = cell_means(image.data(), 12, 12, 6, 6);
    const xai::GridSegmenter grid{{0, 6, 6}};
    const xai::Baseline zero = xai::Baseline::constant(0.0f);
    const xai::ShapleyExplanation kernel =
        xai::KernelShap<FunctionModel, xai::GridSegmenter>(model, {.num_samples = 200, .baseline = zero,
                                                                   .score = xai::ScoreKind::logit}, grid)
            .explain(image, xai::Target(0));
    CHECK(kernel.evaluations[0] == 200);  // sampled: 2^36 coalitions do not fit
    const xai::ShapleyExplanation sampled =
        xai::ShapleySampling<FunctionModel, xai::GridSegmenter>(model, {.permutations = 2, .baseline = zero,
                                                                        .score = xai::ScoreKind::logit}, grid)
            .explain(image, xai::Target(0));
    for (std::size_t s = 0; s < 36; ++s) {
        CHECK(kernel.values[0][s] == Approx(weights[s] * q[s]).margin(1e-4));
        CHECK(sampled.values[0][s] == Approx(weights[s] * q[s]).margin(1e-4));
    }
    CHECK(kernel.efficiency_error[0] < 1e-9);
    CHECK(sampled.efficiency_error[0] < 1e-9);
}

TEST_CASE("Sampled KernelSHAP approaches the exact values as the budget grows; batches change nothing",
          "[shapley][kernel_shap]") {
    // 8 cells (2×4 grid) of an interacting model: 256 coalitions; budgets below sample.
    const FunctionModel model({1, 4, 8}, 2, [](const float* image) {
        const std::vector<double> q = cell_means(image, 4, 8, 2, 4);
        double f = 0.0;
        for (std::size_t s = 0; s + 1 < 8; ++s) f += q[s] * q[s + 1] * static_cast<double>(s + 1);
        return std::vector<float>{static_cast<float>(f), 0.0f};
    });
    const xai::Image image = random_image(4, 8, 9);
    const std::vector<double> exact = brute_force_shapley(model, image, 2, 4);
    const xai::GridSegmenter grid{{0, 2, 4}};
    const auto error = [&](std::size_t budget) {
        const xai::ShapleyExplanation e =
            xai::KernelShap<FunctionModel, xai::GridSegmenter>(
                model, {.num_samples = budget, .baseline = xai::Baseline::constant(0.0f), .score = xai::ScoreKind::logit},
                grid)
                .explain(image, xai::Target(0));
        double worst = 0.0;
        for (std::size_t s = 0; s < 8; ++s) worst = std::max(worst, std::abs(e.values[0][s] - exact[s]));
        return worst;
    };
    const double small = error(40), large = error(250), full = error(256);
    CHECK(large < small);
    CHECK(full < 1e-5);
    // A batch explains each image as alone, for any batch size.
    const xai::Batch two = xt::stack(xt::xtuple(image, random_image(4, 8, 10)));
    const xai::KernelShap<FunctionModel, xai::GridSegmenter> shap(
        model, {.num_samples = 60, .score = xai::ScoreKind::logit, .batch_size = 7, .threads = 1}, grid);
    const xai::ShapleyExplanation both = shap.explain(two, {0, 0});
    const xai::ShapleyExplanation second = xai::KernelShap<FunctionModel, xai::GridSegmenter>(
        model, {.num_samples = 60, .score = xai::ScoreKind::logit}, grid).explain(xai::image_at(two, 1), xai::Target(0));
    CHECK(both.values[1] == second.values[0]);
}

TEST_CASE("The Shapley explainers refuse bad options and inputs", "[shapley][errors]") {
    const FunctionModel model = interacting_model();
    using Kernel = xai::KernelShap<FunctionModel, xai::GridSegmenter>;
    using Sampling = xai::ShapleySampling<FunctionModel, xai::GridSegmenter>;
    CHECK_THROWS_WITH(Kernel(model, {.num_samples = 2}), Contains("xai::KernelShap::KernelShap(): num_samples is 2"));
    CHECK_THROWS_WITH(Kernel(model, {.batch_size = 0}), Contains("batch_size is 0"));
    CHECK_THROWS_WITH(Sampling(model, {.permutations = 0}), Contains("xai::ShapleySampling::ShapleySampling(): permutations is 0"));
    xai::Image bad = random_image(4, 4, 1);
    bad.data()[2] = std::nanf("");
    CHECK_THROWS_AS(Kernel(model).explain(bad), xai::invalid_argument);
    CHECK_THROWS_AS(Sampling(model).explain(random_image(5, 4, 1)), xai::shape_error);
    CHECK_THROWS_WITH(Kernel(model).explain(random_image(4, 4, 1), xai::Target(2)), Contains("class 2"));
}
