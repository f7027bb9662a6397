// Tests of the Sobol attribution method (include/xai/explain/sobol.hpp, in the RISE family
// header include/xai/rise.hpp) and of its quasi-Monte-Carlo design
// (include/xai/explain/detail/sobol_sequence.hpp).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <thread>
#include <vector>

#include "perturbation_toys.hpp"
#include "xai/core/explainer.hpp"
#include "xai/rise.hpp"
#include "xai/runtime.hpp"

using Catch::Matchers::Contains;

static_assert(xai::Explainer<xai::SobolAttribution<toy::FunctionModel>>);

namespace {

/// The mean of cell (r, c) of a g×g grid over a 1×H×W image (H, W multiples of g).
double cell_mean(const float* x, std::size_t h, std::size_t w, std::size_t g, std::size_t r, std::size_t c) {
    const std::size_t ch = h / g, cw = w / g;
    double sum = 0.0;
    for (std::size_t y = r * ch; y < (r + 1) * ch; ++y)
        for (std::size_t xx = c * cw; xx < (c + 1) * cw; ++xx) sum += x[y * w + xx];
    return sum / static_cast<double>(ch * cw);
}

/// On an all-ones 1×8×8 image with inpainting towards 0, cell i's mean is exactly the mask value
/// m_i; this model's logit 0 is g(m) for the 2×2 grid's m = (m0, m1, m2, m3).
template <class F>
toy::FunctionModel cell_model(F g) {
    return toy::FunctionModel({1, 8, 8}, 2, [g](const float* x) {
        const double m[4] = {cell_mean(x, 8, 8, 2, 0, 0), cell_mean(x, 8, 8, 2, 0, 1), cell_mean(x, 8, 8, 2, 1, 0),
                             cell_mean(x, 8, 8, 2, 1, 1)};
        return std::vector<float>{static_cast<float>(g(m)), 0.0f};
    });
}

const xai::Image kOnes = toy::filled({1, 8, 8}, 1.0f);

}  // namespace

TEST_CASE("Sobol indices of an additive model are a_i^2 Var(m_i) / Var(f)", "[sobol]") {
    // f = Σ a_i m_i with m_i ~ U(0, 1) independent: Var(f) = Σ a_i² / 12 and the total index of
    // cell i is a_i² (1/12) / Var(f) = a_i² / Σ a_j² (no interactions: total = first order).
    const double a[4] = {2.0, -1.0, 0.5, 0.0};
    const toy::FunctionModel model = cell_model([&](const double* m) { return a[0] * m[0] + a[1] * m[1] + a[2] * m[2] + a[3] * m[3]; });
    const xai::SobolAttribution<toy::FunctionModel> sobol(model, {.grid_size = 2, .designs = 1024});
    const xai::SobolExplanation e = sobol.explain(kOnes, 0);
    const double sum_sq = 4.0 + 1.0 + 0.25;
    for (std::size_t i = 0; i < 4; ++i) CHECK(e.indices.data()[i] == Approx(a[i] * a[i] / sum_sq).margin(0.01));
    CHECK(e.indices.data()[3] == 0.0f);  // f ignores m_3: f(A) = f(C_3) exactly
    CHECK(e.variance[0] == Approx(sum_sq / 12.0).epsilon(0.02));
    CHECK(e.forwards == 1024 * 5);
}

TEST_CASE("Sobol total indices count interactions: f = m0 m1 + m2", "[sobol]") {
    // Var(m0 m1) = 1/9 − 1/16 = 7/144, Var(m2) = 12/144, Var(f) = 19/144. The total index of m0
    // is E[Var(f | m1, m2)] / Var(f) = E[m1²] Var(m0) / Var(f) = (1/36) / (19/144) = 4/19, the
    // same for m1; m2's is 12/19; together 20/19 > 1, the interaction counted twice.
    const toy::FunctionModel model = cell_model([](const double* m) { return m[0] * m[1] + m[2]; });
    const xai::SobolExplanation e =
        xai::SobolAttribution<toy::FunctionModel>(model, {.grid_size = 2, .designs = 2048}).explain(kOnes, 0);
    CHECK(e.indices.data()[0] == Approx(4.0 / 19.0).margin(0.01));
    CHECK(e.indices.data()[1] == Approx(4.0 / 19.0).margin(0.01));
    CHECK(e.indices.data()[2] == Approx(12.0 / 19.0).margin(0.015));
    CHECK(e.indices.data()[3] == 0.0f);
    // The display map is the grid upsampled: its maximum lies in the largest index's quadrant.
    float bottom_left = 0.0f;
    for (std::size_t y = 4; y < 8; ++y)
        for (std::size_t x = 0; x < 4; ++x) bottom_left = std::max(bottom_left, e.maps(0, y, x));
    CHECK(bottom_left == 1.0f);
}

TEST_CASE("Sobol attribution equals Jansen's estimator computed by hand on its design", "[sobol]") {
    // Every perturbed image rebuilt from grid_mask(), scored, and Jansen's formula evaluated.
    const toy::FunctionModel model = cell_model([](const double* m) { return std::exp(m[0]) * m[3] - 0.3 * m[1] * m[1] + m[2]; });
    for (const bool scramble : {true, false}) {
        const xai::SobolAttribution<toy::FunctionModel> sobol(model, {.grid_size = 2, .designs = 16, .scramble = scramble, .seed = 5});
        const xai::SobolExplanation e = sobol.explain(kOnes, 0);
        const auto design = sobol.design();
        std::vector<double> y(sobol.forwards());
        xai::Batch one = xai::Batch::from_shape({1, 1, 8, 8});
        for (std::size_t k = 0; k < y.size(); ++k) {
            const std::vector<float> grid = sobol.grid_mask(k, design);
            for (std::size_t p = 0; p < 64; ++p) one.data()[p] = grid[(p / 8 / 4) * 2 + (p % 8) / 4];
            y[k] = model.forward(one)(0, 0);
        }
        const std::size_t n = 16;
        double mean = 0.0, var = 0.0;
        for (std::size_t j = 0; j < n; ++j) mean += y[j] / n;
        for (std::size_t j = 0; j < n; ++j) var += (y[j] - mean) * (y[j] - mean) / (n - 1);
        for (std::size_t i = 0; i < 4; ++i) {
            double sum = 0.0;
            for (std::size_t j = 0; j < n; ++j) sum += (y[j] - y[(i + 1) * n + j]) * (y[j] - y[(i + 1) * n + j]);
            CHECK(e.indices.data()[i] == Approx(sum / (2.0 * n * var)).epsilon(1e-5));
        }
        CHECK(e.variance[0] == Approx(var).epsilon(1e-9));
        // C_i differs from A only in cell i, which comes from B's column i
        std::size_t differing = 0;
        for (std::size_t j = 0; j < n; ++j) {
            const std::vector<float> aj = sobol.grid_mask(j, design), c2 = sobol.grid_mask(2 * n + j, design);
            CHECK(aj[0] == c2[0]);
            CHECK(aj[2] == c2[2]);
            CHECK(aj[3] == c2[3]);
            differing += aj[1] != c2[1] ? 1 : 0;
        }
        CHECK(differing > n / 2);
        if (!scramble) CHECK(sobol.grid_mask(0, design)[0] == 0.0f);  // the plain sequence starts at 0, as scipy's
    }
}

TEST_CASE("Sobol perturbations: inpainting, cv2.blur's box filter, amplitude", "[sobol]") {
    // cv2.blur(x, (3, 3)) on one row [1 2 3 4 5]: reflect-101 border, so the first pixel averages
    // 2, 1, 2 and the last 4, 5, 4; a single row is reflected onto itself vertically.
    xai::Image row = xai::Image::from_shape({1, 1, 5});
    for (std::size_t x = 0; x < 5; ++x) row(0, 0, x) = static_cast<float>(x + 1);
    const xai::Image blurred3 = xai::detail::box_blur(row, 3);
    CHECK(blurred3(0, 0, 0) == Approx(5.0 / 3.0));
    CHECK(blurred3(0, 0, 2) == Approx(3.0));
    CHECK(blurred3(0, 0, 4) == Approx(13.0 / 3.0));
    // An even size 4 spans −2 … +1 (the anchor at size/2): the first pixel averages 3, 2, 1, 2.
    const xai::Image blurred4 = xai::detail::box_blur(row, 4);
    CHECK(blurred4(0, 0, 0) == Approx(2.0));
    CHECK(blurred4(0, 0, 4) == Approx((3.0 + 4.0 + 5.0 + 4.0) / 4.0));

    // Each perturbation of pixel 0 of an image, read back through a model returning that pixel.
    xai::Image image = xai::Image::from_shape({1, 8, 8});
    for (std::size_t p = 0; p < 64; ++p) image.data()[p] = 0.1f + 0.01f * static_cast<float>(p);
    const toy::FunctionModel pixel0({1, 8, 8}, 2, [](const float* x) { return std::vector<float>{x[0], 0.0f}; });
    const xai::Image box = xai::detail::box_blur(image, 10);
    for (xai::SobolPerturbation p : {xai::SobolPerturbation::inpainting, xai::SobolPerturbation::blurring,
                                     xai::SobolPerturbation::amplitude}) {
        const xai::SobolOptions o{.grid_size = 2, .designs = 4, .perturbation = p,
                                  .baseline = xai::Baseline::constant(0.25f), .amplitude = 2.0};
        const xai::SobolAttribution<toy::FunctionModel> sobol(pixel0, o);
        const auto design = sobol.design();
        // Pixel 0 of each perturbed image as the perturbation's formula gives it, through Jansen's
        // estimator, must give the explainer's indices and variance.
        std::vector<double> y(sobol.forwards());
        for (std::size_t k = 0; k < y.size(); ++k) {
            const double m = sobol.grid_mask(k, design)[0];
            const double x = image.data()[0];
            y[k] = p == xai::SobolPerturbation::inpainting ? x * m + (1.0 - m) * 0.25
                   : p == xai::SobolPerturbation::blurring ? x * m + (1.0 - m) * box.data()[0]
                                                           : x * (m - 0.5) * 2.0;
        }
        const std::vector<double> a(y.begin(), y.begin() + 4), c(y.begin() + 4, y.end());
        double variance = 0.0;
        const std::vector<double> expected = xai::detail::jansen_total_indices(a, c, 4, &variance);
        const xai::SobolExplanation e = sobol.explain(image, 0);
        CHECK(e.variance[0] == Approx(variance).epsilon(1e-4));
        for (std::size_t i = 0; i < 4; ++i) CHECK(e.indices.data()[i] == Approx(expected[i]).margin(1e-5));
        for (std::size_t i = 1; i < 4; ++i) CHECK(e.indices.data()[i] == 0.0f);  // only cell 0 moves pixel 0
    }
}

TEST_CASE("Sobol attribution is an Explainer: deterministic, batch of one, flat model", "[sobol][api]") {
    const toy::FunctionModel model = cell_model([](const double* m) { return m[0] * m[1] + m[2] * m[2]; });
    xai::SobolOptions o{.grid_size = 2, .designs = 8, .batch_size = 5, .threads = 1};
    const xai::SobolExplanation a = xai::SobolAttribution<toy::FunctionModel>(model, o).explain(kOnes, 0);
    o.batch_size = 64;
    o.threads = 3;
    const xai::SobolExplanation b = xai::SobolAttribution<toy::FunctionModel>(model, o).explain(kOnes, 0);
    CHECK((a.indices == b.indices));
    CHECK((a.raw == b.raw));
    CHECK((a.maps == b.maps));
    o.seed = 1;
    CHECK_FALSE((xai::SobolAttribution<toy::FunctionModel>(model, o).explain(kOnes, 0).indices == a.indices));

    // explain(image) is the batch of one; a batch of two is the two images.
    const xai::SobolAttribution<toy::FunctionModel> sobol(model, {.grid_size = 2, .designs = 8});
    xai::Batch two = xai::Batch::from_shape({2, 1, 8, 8});
    std::fill(two.begin(), two.end(), 1.0f);
    const xai::SobolExplanation batch = sobol.explain(two, {0});
    const xai::SobolExplanation single = sobol.explain(kOnes, 0);
    CHECK(batch.indices.shape(0) == 2);
    CHECK(batch.indices.shape(1) == 2);
    CHECK(batch.raw.shape(1) == 8);
    CHECK(batch.maps.shape(1) == 8);
    CHECK((xt::view(batch.indices, 1, xt::all(), xt::all()) == xt::view(single.indices, 0, xt::all(), xt::all())));
    CHECK((xt::view(batch.raw, 1, xt::all(), xt::all()) == xt::view(single.raw, 0, xt::all(), xt::all())));
    // raw is the indices upsampled bicubically (the reference's cv2.resize INTER_CUBIC)
    CHECK((single.raw_map() == xai::resize(xai::Map(xt::view(single.indices, 0, xt::all(), xt::all())), 8, 8,
                                           xai::Interpolation::bicubic)));
    CHECK(single.scores.size() == 1);
    CHECK(single.score_kind == xai::ScoreKind::logit);
    CHECK(single.logits.shape(1) == 2);
    CHECK(single.forwards == 8 * 5);

    // A model whose score never moves: zero variance, zero indices, zero display map (no NaN).
    const toy::FunctionModel flat = toy::constant_model({1, 8, 8}, {1.0f, 2.0f});
    const xai::SobolExplanation z = xai::SobolAttribution<toy::FunctionModel>(flat, {.grid_size = 2, .designs = 4}).explain(kOnes, 0);
    CHECK(z.variance[0] == 0.0);
    CHECK(xt::amax(xt::abs(z.indices))() == 0.0f);
    CHECK(xt::amax(z.maps)() == 0.0f);

    // progress counts forward passes over the batch
    std::size_t last = 0, total = 0;
    sobol.explain(two, {0}, [&](const xai::ProgressReport& p) {
        last = p.done;
        total = p.total;
    });
    CHECK(last == 2 * 40);
    CHECK(total == 2 * 40);
}

TEST_CASE("Sobol attribution refuses bad options with messages that name them", "[sobol][errors]") {
    const toy::FunctionModel model = cell_model([](const double* m) { return m[0]; });
    using S = xai::SobolAttribution<toy::FunctionModel>;
    CHECK_THROWS_WITH(S(model, {.grid_size = 0}), Contains("xai::SobolAttribution::SobolAttribution(): grid_size is 0"));
    CHECK_THROWS_WITH(S(model, {.grid_size = 9}), Contains("grid_size is 9, larger than the model's input (8x8)"));
    CHECK_THROWS_WITH(S(model, {.grid_size = 2, .designs = 24}), Contains("designs is 24, expected a power of two"));
    CHECK_THROWS_WITH(S(model, {.grid_size = 2, .designs = 1}), Contains("designs is 1"));
    CHECK_THROWS_WITH(S(model, {.grid_size = 2, .blur_size = 0}), Contains("blur_size is 0"));
    CHECK_THROWS_WITH(S(model, {.grid_size = 2, .amplitude = std::nan("")}), Contains("amplitude is nan"));
    CHECK_THROWS_WITH(S(model, {.grid_size = 2, .perturbation = static_cast<xai::SobolPerturbation>(5)}),
                      Contains("perturbation is 5"));
    CHECK_THROWS_WITH(S(model, {.grid_size = 2, .baseline = xai::Baseline::segment_mean()}), Contains("segment_mean"));
    CHECK_THROWS_WITH(S(model, {.grid_size = 2, .batch_size = 0}), Contains("batch_size is 0"));
    const toy::FunctionModel big = toy::constant_model({1, 30, 30}, {0.0f, 1.0f});
    CHECK_THROWS_WITH(S(big, {.grid_size = 23}), Contains("grid_size is 23, expected at most 22"));
    const S sobol(model, {.grid_size = 2, .designs = 4});
    CHECK_THROWS_AS(sobol.explain(toy::filled({1, 8, 9}, 1.0f)), xai::shape_error);
    CHECK_THROWS_WITH(sobol.explain(kOnes, 7), Contains("xai::SobolAttribution::explain()"));
}

TEST_CASE("Sobol attribution through the run-time table", "[sobol][runtime]") {
    const toy::FunctionModel model = cell_model([](const double* m) { return m[0] - 2.0 * m[3]; });
    xai::ExplainerSettings settings;
    settings.sobol = {.grid_size = 2, .designs = 16};
    const xai::AnyExplanation any = xai::make_explainer("sobol", model, settings).explain(kOnes, 0);
    const xai::SobolExplanation direct = xai::SobolAttribution<toy::FunctionModel>(model, settings.sobol).explain(kOnes, 0);
    CHECK(xai::method_info("sobol").needs == "Classifier");
    CHECK((any.raw == direct.raw));
    CHECK((any.maps == direct.maps));
    CHECK(any.statistic("variance") == direct.variance[0]);
    CHECK(any.statistic("forwards") == 16 * 5);
    CHECK(any.statistic("logit") == direct.scores[0]);
    settings.sobol.designs = 3;
    CHECK_THROWS_WITH(xai::make_explainer("sobol", model, settings), Contains("designs is 3"));
}
