// Tests of the RISE family (include/xai/rise.hpp: explain/rise.hpp, explain/rise_masks.hpp) and
// the shared masking machinery (include/xai/explain/masking.hpp).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <thread>
#include <type_traits>
#include <vector>

#include "perturbation_toys.hpp"
#include "xai/core/explainer.hpp"
#include "xai/image/normalize.hpp"
#include "xai/rise.hpp"

using Catch::Matchers::Contains;

/// True when explain(image, targets) compiles: it must not (one image takes one Target).
template <class E>
concept explains_one_image_for_targets = requires(const E& e, const xai::Image& image, const xai::Targets& targets) {
    e.explain(image, targets);
};

namespace {

using toy::filled;

double mean_of(const xai::Map& m) { return std::accumulate(m.begin(), m.end(), 0.0) / static_cast<double>(m.size()); }

xai::Map plane(const xai::Maps& maps, std::size_t i) { return xt::view(maps, i, xt::all(), xt::all()); }

}  // namespace

// ---- the mask generator -------------------------------------------------------------------

TEST_CASE("RISE masks upsample like skimage resize(order=1, mode='reflect') and crop inside the grid",
          "[rise][masks]") {
    // s = 2, H = W = 4: cell 2, upsampled 6. Along an axis, grid [1, 0] sampled at
    // x = (u + 0.5)·2/6 − 0.5 = −1/3, 0, 1/3, 2/3, 1, 4/3, mirrored to 1/3, 0, 1/3, 2/3, 1, 2/3:
    // values 2/3, 1, 2/3, 1/3, 0, 1/3 (PyTorch's clamp would give 1 at u = 0 and 0 at u = 5).
    const xai::RiseMaskGenerator gen(4, 4, 2, 0.5);
    CHECK(gen.cell_height() == 2);
    CHECK(gen.upsampled_height() == 6);
    CHECK(gen.upsampled_width() == 6);
    const std::vector<float> axis = {2.0f / 3, 1.0f, 2.0f / 3, 1.0f / 3, 0.0f, 1.0f / 3};

    xai::RiseMaskGenerator::Draw d;
    d.grid = {1, 0, 0, 0};  // only the top-left cell kept: the mask is the outer product axis ⊗ axis
    d.shift_y = 1;
    d.shift_x = 2;
    const xai::Map up = gen.upsampled(d);
    for (std::size_t y = 0; y < 6; ++y)
        for (std::size_t x = 0; x < 6; ++x) REQUIRE(up(y, x) == Approx(axis[y] * axis[x]).margin(1e-6));

    xai::Map crop = xai::Map::from_shape({4, 4});
    gen.render(d, crop.data());
    for (std::size_t y = 0; y < 4; ++y)
        for (std::size_t x = 0; x < 4; ++x) REQUIRE(crop(y, x) == Approx(up(y + 1, x + 2)).margin(1e-6));
}

TEST_CASE("RISE masks: mean ≈ p1 at every pixel, shifts within one cell, crop equals the upsampled window",
          "[rise][masks]") {
    const double p1 = 0.3;
    const xai::RiseMaskGenerator gen(30, 20, 4, p1);  // cells 8×5, upsampled 40×25
    CHECK(gen.cell_height() == 8);
    CHECK(gen.cell_width() == 5);
    const std::size_t n = 3000;
    std::vector<double> mean(30 * 20, 0.0);
    std::vector<int> shift_y_seen(8, 0), shift_x_seen(5, 0);
    for (std::size_t i = 0; i < n; ++i) {
        const auto d = gen.draw(7, i);
        REQUIRE(d.shift_y < gen.cell_height());
        REQUIRE(d.shift_x < gen.cell_width());
        REQUIRE(d.shift_y + 30 <= gen.upsampled_height());
        REQUIRE(d.shift_x + 20 <= gen.upsampled_width());
        ++shift_y_seen[d.shift_y];
        ++shift_x_seen[d.shift_x];
        xai::Map m = xai::Map::from_shape({30, 20});
        gen.render(d, m.data());
        if (i < 20) {
            const xai::Map up = gen.upsampled(d);
            for (std::size_t y = 0; y < 30; ++y)
                for (std::size_t x = 0; x < 20; ++x) REQUIRE(m(y, x) == Approx(up(y + d.shift_y, x + d.shift_x)).margin(1e-6));
        }
        for (std::size_t p = 0; p < m.size(); ++p) {
            REQUIRE(m.data()[p] >= 0.0f);
            REQUIRE(m.data()[p] <= 1.0f);
            mean[p] += m.data()[p] / static_cast<double>(n);
        }
        CHECK((gen.mask(7, i) == m));  // mask() is draw() + render()
    }
    // Every shift occurs: the crop offset is uniform on [0, cell).
    for (int c : shift_y_seen) CHECK(c > 0);
    for (int c : shift_x_seen) CHECK(c > 0);
    // A pixel's value is a convex combination of Bernoulli(p1) bits, sd ≤ sqrt(p1(1−p1)) = 0.458,
    // so its mean over n masks has sd ≤ 0.0084; 5 sd = 0.042. The grand mean is much tighter.
    for (double m : mean) REQUIRE(m == Approx(p1).margin(0.042));
    CHECK(std::accumulate(mean.begin(), mean.end(), 0.0) / static_cast<double>(mean.size()) == Approx(p1).margin(0.01));
}

TEST_CASE("RISE masks with p1 = 1 or s = 1 are constant", "[rise][masks]") {
    const xai::RiseMaskGenerator all(9, 9, 3, 1.0);
    CHECK((all.mask(1, 5) == xt::ones<float>({9, 9})));
    const xai::RiseMaskGenerator single(5, 5, 1, 0.5);
    for (std::uint64_t i = 0; i < 10; ++i) {
        const xai::Map m = single.mask(3, i);
        CHECK(((m == xt::ones<float>({5, 5})) || (m == xt::zeros<float>({5, 5}))));
    }
}

TEST_CASE("RISE mask generator rejects bad parameters", "[rise][masks][errors]") {
    CHECK_THROWS_WITH(xai::RiseMaskGenerator(8, 8, 0, 0.5), Contains("grid_size is 0"));
    CHECK_THROWS_WITH(xai::RiseMaskGenerator(8, 6, 7, 0.5), Contains("larger than the image"));
    CHECK_THROWS_WITH(xai::RiseMaskGenerator(8, 8, 2, 0.0), Contains("keep_probability is 0"));
    CHECK_THROWS_AS(xai::RiseMaskGenerator(8, 8, 2, 1.01), xai::invalid_argument);
}

// ---- the estimator ------------------------------------------------------------------------

TEST_CASE("RISE equals the Monte Carlo sum 1/(N p1) Σ f(I⊙M + B⊙(1−M)) M computed naively", "[rise]") {
    // A nonlinear model, a baseline image and p1 ≠ 0.5: every part of the formula matters.
    const xai::ImageShape shape{2, 9, 11};
    std::vector<float> weights(shape.size());
    for (std::size_t p = 0; p < weights.size(); ++p) weights[p] = std::sin(0.37f * static_cast<float>(p));
    const auto model = toy::linear_model(shape, weights);
    xai::Image image = xai::Image::from_shape({2, 9, 11});
    for (std::size_t p = 0; p < image.size(); ++p) image.data()[p] = 0.5f + 0.5f * std::cos(0.11f * static_cast<float>(p));
    xai::Image base = filled(shape, 0.25f);

    xai::RiseOptions options;
    options.num_masks = 60;
    options.grid_size = 3;
    options.keep_probability = 0.4;
    options.baseline = xai::Baseline::image(base);
    options.seed = 11;
    options.batch_size = 7;
    const xai::Rise rise(model, options);
    const xai::RiseExplanation e = rise.explain(image, 0);

    const xai::RiseMaskGenerator gen(9, 11, 3, 0.4);
    std::vector<double> sum(99, 0.0), sum_sq(99, 0.0);
    for (std::size_t i = 0; i < 60; ++i) {
        const xai::Map m = gen.mask(11, i);
        xai::Image masked = image;
        for (std::size_t c = 0; c < 2; ++c)
            for (std::size_t p = 0; p < 99; ++p)
                masked.data()[c * 99 + p] = image.data()[c * 99 + p] * m.data()[p] + 0.25f * (1.0f - m.data()[p]);
        const xai::Scores logits = model.forward(xai::as_batch(masked));
        const double f = xai::softmax(logits)(0, 0);
        for (std::size_t p = 0; p < 99; ++p) {
            const double x = f * m.data()[p] / 0.4;
            sum[p] += x;
            sum_sq[p] += x * x;
        }
    }
    for (std::size_t p = 0; p < 99; ++p) {
        const double mean = sum[p] / 60.0;
        const double se = std::sqrt((sum_sq[p] - 60.0 * mean * mean) / 59.0 / 60.0);
        REQUIRE(e.raw.data()[p] == Approx(mean).epsilon(1e-5));
        REQUIRE(e.standard_error.data()[p] == Approx(se).epsilon(1e-4).margin(1e-7));
    }
    CHECK(e.masks_used == std::vector<std::size_t>{60});
    CHECK(e.targets == std::vector<std::size_t>{0});
}

TEST_CASE("RISE of a constant model is a constant map equal to its score", "[rise]") {
    // f ≡ c = 0.7. S(p) = c · mean_i M_i(p)/p1 with E[M(p)] = p1, so E[S(p)] = c; the spread of
    // M(p) is at most sqrt(p1(1 − p1)) = 0.5, so SE(p) ≤ c·0.5/(p1·√N) = c/√N = 0.011 (N = 4000).
    // Tolerances: every pixel within 5 of its own reported SEs of c, the reported SE within that
    // bound, and the pixel mean of the map (which averages ≈ 36 cells per mask, sd of a mask's
    // mean ≈ 0.5/6) within c · 5 · (0.5/6)/(0.5·√4000) = 0.0066·c... widened to 0.01·c.
    const xai::ImageShape shape{1, 32, 32};
    const float c = 0.7f;
    const auto model = toy::constant_model(shape, {std::log(0.7f), std::log(0.3f)});
    const xai::Rise rise(model);  // the paper's defaults: N = 4000, s = 7, p1 = 0.5
    const xai::RiseExplanation e = rise.explain(filled(shape, 1.0f), 0);
    const xai::Map s = e.raw_map(), se = plane(e.standard_error, 0);
    const double bound = c / std::sqrt(4000.0);
    for (std::size_t p = 0; p < s.size(); ++p) {
        REQUIRE(se.data()[p] > 0.0f);
        REQUIRE(se.data()[p] <= bound * 1.05);
        REQUIRE(std::abs(s.data()[p] - c) <= 5.0 * se.data()[p]);
    }
    CHECK(mean_of(s) == Approx(c).margin(0.01 * c));
    CHECK(e.masks_used[0] == 4000);
    CHECK_FALSE(e.converged[0]);

    // p1 = 1 keeps every pixel of every mask: the map is exactly c, with zero error.
    xai::RiseOptions keep_all;
    keep_all.keep_probability = 1.0;
    keep_all.num_masks = 50;
    const auto exact = xai::Rise(model, keep_all).explain(filled(shape, 1.0f), 0);
    for (float v : exact.raw) REQUIRE(v == Approx(c).epsilon(1e-6));
    for (float v : exact.standard_error) REQUIRE(v == Approx(0.0).margin(1e-6));
    CHECK(exact.relative_standard_error[0] == Approx(0.0).margin(1e-6));
}

TEST_CASE("RISE maps of all classes of a probability model sum to the mean mask over p1", "[rise]") {
    // Σ_c p_c = 1, so Σ_c S_c(p) = 1/(N p1) Σ_i M_i(p) whatever the model.
    const xai::ImageShape shape{1, 12, 12};
    const auto model = toy::FunctionModel(shape, 3, [](const float* image) {
        return std::vector<float>{3.0f * image[0], image[50] - image[7], std::sin(10.0f * image[100])};
    });
    xai::Image image = xai::Image::from_shape({1, 12, 12});
    for (std::size_t p = 0; p < 144; ++p) image.data()[p] = static_cast<float>(p % 13) / 13.0f;
    xai::RiseOptions options;
    options.num_masks = 200;
    options.grid_size = 4;
    const xai::RiseClassMaps maps = xai::Rise(model, options).explain_classes(image);
    REQUIRE(maps.targets == std::vector<std::size_t>{0, 1, 2});
    REQUIRE(maps.raw.shape(0) == 3);
    const xai::RiseMaskGenerator gen(12, 12, 4, 0.5);
    std::vector<double> mean_mask(144, 0.0);
    for (std::size_t i = 0; i < 200; ++i) {
        const xai::Map m = gen.mask(0, i);
        for (std::size_t p = 0; p < 144; ++p) mean_mask[p] += m.data()[p] / (200.0 * 0.5);
    }
    for (std::size_t p = 0; p < 144; ++p) {
        const double total = maps.raw.data()[p] + maps.raw.data()[144 + p] + maps.raw.data()[288 + p];
        REQUIRE(total == Approx(mean_mask[p]).epsilon(1e-5));
    }
    // Chosen classes give the same maps as the corresponding rows of all classes.
    const xai::RiseClassMaps one = xai::Rise(model, options).explain_classes(image, {2});
    CHECK((plane(one.raw, 0) == plane(maps.raw, 2)));
    CHECK((plane(one.standard_error, 0) == plane(maps.standard_error, 2)));
    // The display maps: each class's map ReLU'd and min-max normalized on its own.
    CHECK((maps.maps == xai::normalize_min_max(xai::Maps(xt::maximum(maps.raw, 0.0f)))));
}

TEST_CASE("RISE of a box-mean model concentrates its mass in the box", "[rise]") {
    // Score = mean intensity of the masked all-ones 64×64 image inside B = [24, 40)², so
    //     E[S(p)] = p1 + (1/(|B| p1)) Σ_{q∈B} cov(M(p), M(q)):
    // p1 everywhere plus a non-negative excess where masks correlate with the box. With s = 8
    // the grid nodes are 72/8 = 9 px apart and a pixel depends on the two nodes around it per
    // axis, so two pixels 18 px apart (2 spacings) along either axis share no node and cov = 0:
    // the expected excess is exactly 0 farther than 18 px from B. Bounds (N = 4000): at least
    // 85% of the positive excess Σ max(S − p1, 0) lies within 18 px of B (the rest is the
    // positive part of the noise; 0.90–0.96 measured over seeds 0–4), every pixel of B exceeds
    // the mean of the far pixels, and that mean is p1 within 0.01 (per-pixel SE there ≈ 0.0066).
    const xai::ImageShape shape{1, 64, 64};
    const auto model = toy::box_mean_model(shape, 24, 40, 24, 40);
    xai::RiseOptions options;
    options.grid_size = 8;
    options.score = xai::ScoreKind::logit;
    const xai::RiseExplanation e = xai::Rise(model, options).explain(filled(shape, 1.0f), 0);
    const xai::Map s = e.raw_map();
    double near = 0.0, total = 0.0, far_sum = 0.0, in_min = 1e9;
    int far_count = 0;
    const auto distance = [](std::size_t v) { return v < 24 ? 24 - v : (v >= 40 ? v - 39 : 0); };
    for (std::size_t y = 0; y < 64; ++y)
        for (std::size_t x = 0; x < 64; ++x) {
            const double excess = std::max(0.0, s(y, x) - 0.5);
            const std::size_t d = std::max(distance(y), distance(x));
            total += excess;
            if (d == 0) in_min = std::min(in_min, static_cast<double>(s(y, x)));
            if (d <= 18) {
                near += excess;
            } else {
                far_sum += s(y, x);
                ++far_count;
            }
        }
    INFO("fraction of the excess within 18 px of the box: " << near / total);
    INFO("min in the box " << in_min << ", mean far from it " << far_sum / far_count);
    CHECK(near / total >= 0.85);
    CHECK(in_min > far_sum / far_count);
    CHECK(far_sum / far_count == Approx(0.5).margin(0.01));
}

// ---- determinism, early stopping, convergence ---------------------------------------------

TEST_CASE("RISE is bit-identical for any thread count and batch size", "[rise][determinism]") {
    const xai::ImageShape shape{3, 20, 24};
    std::vector<float> weights(shape.size());
    for (std::size_t p = 0; p < weights.size(); ++p) weights[p] = std::cos(0.05f * static_cast<float>(p));
    const auto model = toy::linear_model(shape, weights);
    xai::Image image = xai::Image::from_shape({3, 20, 24});
    for (std::size_t p = 0; p < image.size(); ++p) image.data()[p] = static_cast<float>((p * 37) % 101) / 101.0f;
    xai::RiseOptions options;
    options.num_masks = 300;
    options.grid_size = 5;
    options.seed = 99;
    options.check_every = 64;
    options.tolerance = 0.001;  // not reached: every run checks after the same blocks
    auto run = [&](std::size_t threads, std::size_t batch) {
        xai::RiseOptions o = options;
        o.threads = threads;
        o.batch_size = batch;
        return xai::Rise(model, o).explain(image);
    };
    const xai::RiseExplanation reference = run(1, 300);
    for (auto [threads, batch] : {std::pair<std::size_t, std::size_t>{1, 1}, {2, 7}, {3, 64}, {4, 33}, {0, 128}}) {
        const xai::RiseExplanation other = run(threads, batch);
        CHECK((other.raw == reference.raw));
        CHECK((other.maps == reference.maps));
        CHECK((other.standard_error == reference.standard_error));
        CHECK(other.masks_used == reference.masks_used);
    }
    // Early stopping too: the same tolerance stops after the same block whatever the batching.
    options.tolerance = 0.08;
    const auto a = run(1, 5), b = run(3, 50);
    CHECK(a.masks_used == b.masks_used);
    CHECK(a.masks_used[0] < 300);
    CHECK(a.masks_used[0] % 64 == 0);
    CHECK((a.raw == b.raw));
    // explain() is const and may run concurrently on one explainer.
    xai::RiseOptions shared_options = options;
    shared_options.tolerance = 0.0;
    const xai::Rise shared(model, shared_options);
    xai::RiseExplanation first, second;
    std::thread other([&] { first = shared.explain(image); });
    second = shared.explain(image);
    other.join();
    CHECK((first.raw == second.raw));
    CHECK((first.raw == reference.raw));
    // A different seed gives different masks.
    options.tolerance = 0.0;
    options.seed = 100;
    CHECK_FALSE((run(1, 300).raw == reference.raw));
}

TEST_CASE("RISE stops sooner on a smooth model than on a noisy one", "[rise][convergence]") {
    const xai::ImageShape shape{1, 24, 24};
    const auto smooth = toy::box_mean_model(shape, 0, 24, 0, 24);  // mean of the whole masked image
    const auto noisy = toy::noisy_model(shape);
    xai::RiseOptions options;
    options.num_masks = 8000;
    options.grid_size = 4;
    options.score = xai::ScoreKind::logit;
    options.tolerance = 0.02;
    options.check_every = 100;
    const xai::Image image = filled(shape, 1.0f);
    const auto s = xai::Rise(smooth, options).explain(image, 0);
    const auto n = xai::Rise(noisy, options).explain(image, 0);
    INFO("smooth stopped at " << s.masks_used[0] << ", noisy at " << n.masks_used[0]);
    CHECK(s.converged[0]);
    CHECK(s.relative_standard_error[0] <= 0.02);
    CHECK(s.masks_used[0] < 8000);
    CHECK(n.masks_used[0] > 2 * s.masks_used[0]);
    // The reported relative error at the stop is the one computed from the returned maps.
    const xai::Map sm = s.raw_map(), se = plane(s.standard_error, 0);
    const double ratio = std::accumulate(se.begin(), se.end(), 0.0) /
                         std::accumulate(sm.begin(), sm.end(), 0.0, [](double a, float v) { return a + std::abs(v); });
    CHECK(ratio == Approx(s.relative_standard_error[0]).epsilon(1e-4));
}

TEST_CASE("RISE's reported standard error shrinks as 1/sqrt(N)", "[rise][convergence]") {
    const xai::ImageShape shape{1, 24, 24};
    const auto model = toy::box_mean_model(shape, 4, 12, 6, 20);
    xai::RiseOptions options;
    options.grid_size = 4;
    options.score = xai::ScoreKind::logit;
    const xai::Image image = filled(shape, 1.0f);
    std::vector<double> mean_se;
    for (std::size_t n : {500, 2000, 8000}) {
        options.num_masks = n;
        const auto e = xai::Rise(model, options).explain(image, 0);
        mean_se.push_back(mean_of(plane(e.standard_error, 0)));
    }
    // Quadrupling N halves the standard error; the estimate of the spread itself varies by a
    // few percent between runs of 500 masks.
    CHECK(mean_se[0] / mean_se[1] == Approx(2.0).epsilon(0.1));
    CHECK(mean_se[1] / mean_se[2] == Approx(2.0).epsilon(0.1));
}

TEST_CASE("RISE reports progress after every batch, up to the ceiling", "[rise][progress]") {
    const xai::ImageShape shape{1, 8, 8};
    const auto model = toy::constant_model(shape, {0.0f, 1.0f});
    std::vector<xai::ProgressReport> reports;
    xai::RiseOptions options;
    options.num_masks = 50;
    options.grid_size = 2;
    options.batch_size = 16;
    options.check_every = 20;
    const auto record = [&](const xai::ProgressReport& p) { reports.push_back(p); };
    const xai::Batch two = xai::stack({filled(shape, 1.0f), filled(shape, 0.5f)});
    const auto e = xai::Rise(model, options).explain(two, {}, record);
    CHECK(e.targets == std::vector<std::size_t>{1, 1});  // the predicted class
    // Per image: blocks of 20 masks in batches of at most 16: 16, 20, 36, 40, 50.
    const std::vector<std::size_t> expected = {16, 20, 36, 40, 50, 66, 70, 86, 90, 100};
    REQUIRE(reports.size() == expected.size());
    for (std::size_t i = 0; i < reports.size(); ++i) {
        CHECK(reports[i].done == expected[i]);
        CHECK(reports[i].total == 100);
        CHECK(reports[i].stage == "masks");
    }
    // explain_classes takes the callback last too: one image, the ceiling of 50 masks.
    reports.clear();
    xai::Rise(model, options).explain_classes(filled(shape, 1.0f), {0, 1}, record);
    REQUIRE(reports.size() == 5);
    CHECK(reports.back().done == 50);
    CHECK(reports.back().total == 50);
}

// ---- baselines ----------------------------------------------------------------------------

TEST_CASE("Baselines: constant, image, blurred copy, function; shapes are checked", "[rise][masking]") {
    const xai::ImageShape shape{2, 6, 7};
    xai::Image image = xai::Image::from_shape({2, 6, 7});
    for (std::size_t p = 0; p < image.size(); ++p) image.data()[p] = static_cast<float>(p) / 84.0f;
    CHECK((xai::Baseline().for_image(image, "t") == xt::zeros<float>({2, 6, 7})));
    CHECK((xai::Baseline::constant(0.5f).for_image(image, "t") == filled(shape, 0.5f)));
    CHECK((xai::Baseline::blurred().for_image(image, "t") == xai::gaussian_blur(image)));
    const xai::GaussianBlurOptions reflect{2.0, 5, xai::BlurBorder::reflect};
    CHECK((xai::Baseline::blurred(reflect).for_image(image, "t") == xai::gaussian_blur(image, reflect)));
    CHECK((xai::Baseline::from_function([](const xai::Image& i) { return xai::Image(1.0f - i); }).for_image(image, "t") ==
           xai::Image(1.0f - image)));
    CHECK_THROWS_WITH(xai::Baseline::image(filled({1, 6, 7}, 0.0f)).for_image(image, "f()"),
                      Contains("f(): the baseline image has shape [1, 6, 7]"));
    CHECK_THROWS_AS(xai::Baseline::from_function([](const xai::Image&) { return xai::Image(); }).for_image(image, "t"),
                    xai::shape_error);
    CHECK_THROWS_WITH(xai::Baseline::constant(std::nanf("")), Contains("value is nan"));
    xai::Image bad = image;
    bad(0, 0, 0) = INFINITY;
    CHECK_THROWS_AS(xai::Baseline::image(bad), xai::invalid_argument);
    CHECK_THROWS_AS(xai::Baseline::from_function({}), xai::invalid_argument);
    CHECK_THROWS_AS(xai::Baseline::blurred({1.0, 4}), xai::invalid_argument);

    // apply_mask: I where the mask is 1, B where it is 0, the convex mix in between.
    const float in[2] = {1.0f, 0.2f}, base[2] = {0.0f, 0.6f}, mask[1] = {0.25f};
    float out[2];
    xai::detail::apply_mask(in, base, 2, 1, mask, out);
    CHECK(out[0] == Approx(0.25f));
    CHECK(out[1] == Approx(0.2f * 0.25f + 0.6f * 0.75f));
}

// ---- bad input ----------------------------------------------------------------------------

TEST_CASE("RISE rejects bad options and inputs with messages that name them", "[rise][errors]") {
    const xai::ImageShape shape{1, 10, 12};
    const auto model = toy::constant_model(shape, {0.0f, 1.0f});
    auto with = [](auto change) {
        xai::RiseOptions o;
        o.grid_size = 3;
        change(o);
        return o;
    };
    CHECK_THROWS_WITH(xai::Rise(model, with([](auto& o) { o.num_masks = 0; })),
                      Contains("xai::Rise::Rise(): num_masks is 0, expected at least 2"));
    CHECK_THROWS_AS(xai::Rise(model, with([](auto& o) { o.num_masks = 1; })), xai::invalid_argument);
    CHECK_THROWS_WITH(xai::Rise(model, with([](auto& o) { o.grid_size = 0; })), Contains("grid_size is 0"));
    CHECK_THROWS_WITH(xai::Rise(model, with([](auto& o) { o.grid_size = 11; })),
                      Contains("grid_size is 11, larger than the model's input (10x12)"));
    CHECK_THROWS_WITH(xai::Rise(model, with([](auto& o) { o.keep_probability = 0.0; })),
                      Contains("keep_probability is 0, expected a value in (0, 1]"));
    CHECK_THROWS_AS(xai::Rise(model, with([](auto& o) { o.keep_probability = 1.5; })), xai::invalid_argument);
    CHECK_THROWS_AS(xai::Rise(model, with([](auto& o) { o.keep_probability = -0.2; })), xai::invalid_argument);
    CHECK_THROWS_AS(xai::Rise(model, with([](auto& o) { o.keep_probability = std::nan(""); })), xai::invalid_argument);
    CHECK_THROWS_WITH(xai::Rise(model, with([](auto& o) { o.tolerance = -1.0; })), Contains("tolerance is -1"));
    CHECK_THROWS_WITH(xai::Rise(model, with([](auto& o) { o.check_every = 0; })), Contains("check_every is 0"));
    CHECK_THROWS_WITH(xai::Rise(model, with([](auto& o) { o.batch_size = 0; })), Contains("batch_size is 0"));
    // Baseline::segment_mean() needs superpixels, which RISE does not have: refused up front.
    CHECK_THROWS_WITH(xai::Rise(model, with([](auto& o) { o.baseline = xai::Baseline::segment_mean(); })),
                      Contains("xai::Rise::Rise(): baseline is Baseline::segment_mean(), which needs superpixels, "
                               "and this method has none; expected another baseline"));

    const xai::Rise rise(model, with([](auto& o) { o.num_masks = 10; }));
    // Mismatched shapes: the image, the baseline image, the targets.
    CHECK_THROWS_WITH(rise.explain(filled({1, 10, 11}, 1.0f)),
                      Contains("xai::Rise::explain(): images are 1x10x11, the model expects 1x10x12"));
    CHECK_THROWS_WITH(rise.explain(xai::Image::from_shape({1, 0, 12})), Contains("expected a non-empty C×H×W image"));
    CHECK_THROWS_AS(rise.explain(filled({3, 10, 12}, 1.0f)), xai::shape_error);
    CHECK_THROWS_AS(rise.explain(xai::Batch::from_shape({0, 1, 10, 12})), xai::shape_error);
    const xai::Rise with_base(model, with([](auto& o) {
                                  o.num_masks = 10;
                                  o.baseline = xai::Baseline::image(filled({1, 12, 10}, 0.0f));
                              }));
    CHECK_THROWS_AS(with_base.explain(filled(shape, 1.0f)), xai::shape_error);
    const xai::Batch two = xai::stack({filled(shape, 1.0f), filled(shape, 0.0f)});
    CHECK_THROWS_WITH(rise.explain(two, {0, 1, 0}), Contains("targets has 3 entries"));
    CHECK_THROWS_WITH(rise.explain(two, {2}), Contains("target class 2 for image 0 is out of range"));
    CHECK_THROWS_WITH(rise.explain_classes(filled(shape, 1.0f), {0, 5}),
                      Contains("xai::Rise::explain_classes(): target class 5 is out of range"));
    CHECK_THROWS_WITH(rise.explain_classes(filled({1, 10, 11}, 1.0f)),
                      Contains("xai::Rise::explain_classes(): images are"));
    xai::Image nan_image = filled(shape, 1.0f);
    nan_image(0, 3, 3) = std::nanf("");
    CHECK_THROWS_AS(rise.explain(nan_image), xai::invalid_argument);

    // The explainer keeps a pointer to the model: a temporary model is refused at compile time.
    STATIC_REQUIRE(std::is_constructible_v<xai::Rise<toy::FunctionModel>, const toy::FunctionModel&>);
    STATIC_REQUIRE_FALSE(std::is_constructible_v<xai::Rise<toy::FunctionModel>, toy::FunctionModel>);

    // A model that returns non-finite scores for masked images is a model_error.
    const auto broken = toy::FunctionModel(shape, 2, [](const float* image) {
        return std::vector<float>{image[0] < 1.0f ? NAN : 1.0f, 0.0f};
    });
    const xai::Rise rise_broken(broken, with([](auto& o) { o.num_masks = 10; }));
    CHECK_THROWS_AS(rise_broken.explain(filled(shape, 1.0f)), xai::model_error);
}

TEST_CASE("Perturbation batches are capped at max_batch_bytes without changing a result", "[rise][masking][memory]") {
    using xai::detail::batch_within_memory;
    constexpr std::size_t budget = xai::detail::max_batch_bytes;
    REQUIRE(budget == std::size_t{1} << 30);
    // 224×224 RGB: 602,112 bytes an image, so the defaults (32, 100) never bind.
    CHECK(batch_within_memory(32, {3, 224, 224}) == 32);
    CHECK(batch_within_memory(100, {3, 224, 224}, 224 * 224) == 100);
    // 4096×4096 RGB: 201,326,592 bytes an image, 268,435,456 with a mask: 5 and 4 fit in 1 GiB.
    CHECK(batch_within_memory(32, {3, 4096, 4096}) == budget / (3u * 4096 * 4096 * 4));
    CHECK(batch_within_memory(32, {3, 4096, 4096}) == 5);
    CHECK(batch_within_memory(32, {3, 4096, 4096}, 4096 * 4096) == 4);
    // An image larger than the whole budget still goes through, one at a time.
    CHECK(batch_within_memory(32, {3, 16384, 16384}) == 1);
    // Batches built at once on several threads share the budget (LIME: one batch per thread).
    CHECK(batch_within_memory(32, {3, 4096, 4096}, 0, 2) == budget / (3u * 4096 * 4096 * 4) / 2);
    CHECK(batch_within_memory(32, {3, 224, 224}, 0, 4) == 32);
    CHECK(batch_within_memory(32, {3, 4096, 4096}, 0, 256) == 1);
    CHECK(batch_within_memory(1, {1, 8, 8}) == 1);
}

// ---- the unified explainer API ----------------------------------------------------------------

TEST_CASE("Rise is an Explainer: the image form is the batch of one, every core field is filled", "[rise][api]") {
    STATIC_REQUIRE(xai::Explainer<xai::Rise<toy::FunctionModel>>);
    STATIC_REQUIRE(std::is_same_v<xai::explanation_t<xai::Rise<toy::FunctionModel>>, xai::RiseExplanation>);
    STATIC_REQUIRE(std::is_base_of_v<xai::Explanation, xai::RiseExplanation>);
    // One image takes one Target; Targets go with a batch (the old explain(image, targets) does not compile).
    STATIC_REQUIRE_FALSE(explains_one_image_for_targets<xai::Rise<toy::FunctionModel>>);

    const xai::ImageShape shape{2, 12, 10};
    const auto model = toy::FunctionModel(shape, 3, [](const float* image) {
        return std::vector<float>{image[5] + image[130], 2.0f * image[60] - image[200], 0.3f};
    });
    xai::Image a = filled(shape, 0.0f), b = filled(shape, 0.0f);
    for (std::size_t p = 0; p < a.size(); ++p) {
        a.data()[p] = static_cast<float>((p * 7) % 13) / 13.0f;
        b.data()[p] = static_cast<float>((p * 5) % 17) / 17.0f;
    }
    const xai::Rise rise(model, {.num_masks = 120, .grid_size = 3, .seed = 4});

    const xai::RiseExplanation single = rise.explain(a, 1);
    const xai::RiseExplanation batch_of_one = rise.explain(xai::as_batch(a), {1});
    CHECK((single.raw == batch_of_one.raw));
    CHECK((single.maps == batch_of_one.maps));
    CHECK((single.standard_error == batch_of_one.standard_error));
    CHECK((single.logits == batch_of_one.logits));
    CHECK(single.scores == batch_of_one.scores);
    CHECK(single.targets == batch_of_one.targets);
    CHECK(single.masks_used == batch_of_one.masks_used);
    CHECK(single.relative_standard_error == batch_of_one.relative_standard_error);

    // A batch is its images one at a time; the core fields hold what they promise.
    const xai::Batch two = xai::stack({a, b});
    const xai::RiseExplanation e = rise.explain(two, {1, 0});
    CHECK((e.raw_map(0) == single.raw_map()));
    CHECK((e.raw_map(1) == rise.explain(b, 0).raw_map()));
    CHECK(e.size() == 2);
    CHECK(e.targets == std::vector<std::size_t>{1, 0});
    CHECK(e.score_kind == xai::ScoreKind::probability);
    const xai::Scores logits = model.forward(two);
    CHECK((e.logits == logits));
    const xai::Scores p = xai::softmax(logits);
    CHECK(e.scores == std::vector<float>{p(0, 1), p(1, 0)});
    CHECK((e.maps == xai::normalize_min_max(xai::Maps(xt::maximum(e.raw, 0.0f)))));
    CHECK(xt::amin(e.maps)() == 0.0f);
    CHECK(xt::amax(e.maps)() == 1.0f);
    CHECK(e.standard_error.shape() == e.raw.shape());
    CHECK(e.converged == std::vector<bool>{false, false});
}

TEST_CASE("RISE options are aggregates: designated initializers", "[rise][api]") {
    const auto model = toy::constant_model({1, 8, 8}, {0.0f, 1.0f});
    const xai::Rise rise(model, {.num_masks = 500, .grid_size = 5});
    CHECK(rise.options().num_masks == 500);
    CHECK(rise.options().grid_size == 5);
    CHECK(rise.options().keep_probability == 0.5);  // the rest keep the paper's defaults
    CHECK(rise.options().baseline.is_constant());
    const xai::Rise blurred(model,
                            {.num_masks = 20, .grid_size = 2, .baseline = xai::Baseline::blurred(), .tolerance = 0.5});
    CHECK(blurred.explain(filled({1, 8, 8}, 1.0f)).masks_used[0] == 20);
}

TEST_CASE("RISE takes target functions: the mask average of the function's value", "[rise][targets]") {
    // RISE is linear in the score it averages: on a model with logits (z0, z1), raw_output()
    // (z0 + z1) gives the sum of the logit maps of class 0 and class 1 (same masks, same seed),
    // and class_probability(1) gives the map with ScoreKind::probability, class 1.
    const xai::ImageShape shape{1, 6, 6};
    const auto model = toy::FunctionModel(shape, 2, [](const float* x) {
        return std::vector<float>{x[0] + 2.0f * x[7], x[35] - x[14]};
    });
    xai::RiseOptions logit;
    logit.num_masks = 40;
    logit.grid_size = 3;
    logit.seed = 3;
    logit.score = xai::ScoreKind::logit;
    const xai::Image image = filled(shape, 0.8f);
    const xai::Rise rise(model, logit);
    const xai::RiseExplanation a = rise.explain(image, 0), b = rise.explain(image, 1);
    const xai::RiseExplanation sum = rise.explain(image, xai::Target::function(xai::targets::raw_output()));
    for (std::size_t p = 0; p < 36; ++p) CHECK(sum.raw.data()[p] == Approx(a.raw.data()[p] + b.raw.data()[p]).margin(1e-5));
    CHECK(sum.scores[0] == Approx(0.8f + 1.6f + 0.8f - 0.8f));
    xai::RiseOptions probability = logit;
    probability.score = xai::ScoreKind::probability;
    const xai::RiseExplanation p = xai::Rise(model, probability).explain(image, 1);
    const xai::RiseExplanation f = rise.explain(image, xai::Target::function(xai::targets::class_probability(1)));
    for (std::size_t i = 0; i < 36; ++i) CHECK(f.raw.data()[i] == Approx(p.raw.data()[i]).epsilon(1e-5));
    CHECK(f.targets == std::vector<std::size_t>{1});
}

// ---- variance reduction (RiseSampling, RiseControlVariate) ---------------------------------

namespace {

/// A small nonlinear black box on 1×6×6 images: logit 0 = Σ_p w_p x_p + 3·x_a·x_b, logit 1 = 0.
toy::FunctionModel variance_toy() {
    const xai::ImageShape shape{1, 6, 6};
    return toy::FunctionModel(shape, 2, [](const float* x) {
        double sum = 0.0;
        for (std::size_t p = 0; p < 36; ++p) sum += (0.2 + 0.05 * static_cast<double>(p % 7)) * x[p];
        return std::vector<float>{static_cast<float>(sum + 3.0 * x[7] * x[28]), 0.0f};
    });
}

xai::Image variance_toy_image() {
    xai::Image image = xai::Image::from_shape({1, 6, 6});
    for (std::size_t p = 0; p < 36; ++p) image.data()[p] = 0.3f + 0.02f * static_cast<float>(p);
    return image;
}

/// The baseline of the variance tests: not 0, so that the fully masked image's score is not 0.
constexpr float kVarianceBaseline = 0.1f;

/// The exact RISE map E[f(I ⊙ M + B ⊙ (1 − M)) M(λ)] / p1 of the toy for s = 2, p1 = ½, logits
/// and the baseline above: every one of the 16 grids and 9 shifts, equally likely.
std::vector<double> exact_rise_map(const toy::FunctionModel& model, const xai::Image& image) {
    const xai::RiseMaskGenerator gen(6, 6, 2, 0.5);
    std::vector<double> exact(36, 0.0);
    xai::Batch masked = xai::Batch::from_shape({1, 1, 6, 6});
    for (unsigned bits = 0; bits < 16; ++bits)
        for (std::size_t sy = 0; sy < 3; ++sy)
            for (std::size_t sx = 0; sx < 3; ++sx) {
                xai::RiseMaskGenerator::Draw d;
                d.grid = {static_cast<unsigned char>(bits & 1u), static_cast<unsigned char>((bits >> 1) & 1u),
                          static_cast<unsigned char>((bits >> 2) & 1u), static_cast<unsigned char>((bits >> 3) & 1u)};
                d.shift_y = sy;
                d.shift_x = sx;
                xai::Map m = xai::Map::from_shape({6, 6});
                gen.render(d, m.data());
                for (std::size_t p = 0; p < 36; ++p)
                    masked.data()[p] = image.data()[p] * m.data()[p] + kVarianceBaseline * (1.0f - m.data()[p]);
                const double f = model.forward(masked)(0, 0);
                for (std::size_t p = 0; p < 36; ++p) exact[p] += f * m.data()[p] / 0.5 / 144.0;
            }
    return exact;
}

struct VarianceCase {
    const char* name;
    xai::RiseSampling sampling;
    xai::RiseControlVariate control;
};

const std::vector<VarianceCase> kVarianceCases = {
    {"plain", xai::RiseSampling::independent, xai::RiseControlVariate::none},
    {"antithetic", xai::RiseSampling::antithetic, xai::RiseControlVariate::none},
    {"quasi-random", xai::RiseSampling::quasi_random, xai::RiseControlVariate::none},
    {"unmasked score", xai::RiseSampling::independent, xai::RiseControlVariate::unmasked_score},
    {"masked score", xai::RiseSampling::independent, xai::RiseControlVariate::masked_score},
    {"mean score", xai::RiseSampling::independent, xai::RiseControlVariate::mean_score},
    {"antithetic + mean score", xai::RiseSampling::antithetic, xai::RiseControlVariate::mean_score},
    {"quasi-random + unmasked score", xai::RiseSampling::quasi_random, xai::RiseControlVariate::unmasked_score},
};

}  // namespace

TEST_CASE("RISE's variance reductions are unbiased: their mean over seeds is the exact map", "[rise][variance]") {
    // The exact map enumerates every mask; each estimator is run with 300 seeds of 32 masks and
    // its mean over the seeds must lie within 5 standard errors (of that mean) of the exact map
    // at every pixel. The estimators that reduce variance must also have a smaller spread than
    // plain RISE's.
    const toy::FunctionModel model = variance_toy();
    const xai::Image image = variance_toy_image();
    const std::vector<double> exact = exact_rise_map(model, image);
    const std::size_t seeds = 300;
    double plain_spread = 0.0;
    for (const VarianceCase& c : kVarianceCases) {
        INFO(c.name);
        std::vector<double> sum(36, 0.0), sum_sq(36, 0.0);
        for (std::size_t seed = 0; seed < seeds; ++seed) {
            xai::RiseOptions o{.num_masks = 32, .grid_size = 2, .score = xai::ScoreKind::logit,
                               .baseline = xai::Baseline::constant(kVarianceBaseline), .seed = seed,
                               .sampling = c.sampling, .control_variate = c.control};
            o.threads = 1;
            const xai::RiseExplanation e = xai::Rise<toy::FunctionModel>(model, o).explain(image, 0);
            for (std::size_t p = 0; p < 36; ++p) {
                sum[p] += e.raw.data()[p];
                sum_sq[p] += static_cast<double>(e.raw.data()[p]) * e.raw.data()[p];
            }
        }
        double spread = 0.0;
        for (std::size_t p = 0; p < 36; ++p) {
            const double mean = sum[p] / seeds;
            const double sd = std::sqrt(std::max(0.0, sum_sq[p] / seeds - mean * mean));
            spread += sd;
            CHECK(std::abs(mean - exact[p]) <= 5.0 * sd / std::sqrt(static_cast<double>(seeds)) + 1e-6);
        }
        if (c.sampling == xai::RiseSampling::independent && c.control == xai::RiseControlVariate::none) {
            plain_spread = spread;
        } else {
            // the fully masked image scores far below the masks' mean here: a weaker control variate
            const double at_most = c.control == xai::RiseControlVariate::masked_score ? 0.95 : 0.7;
            CAPTURE(spread, plain_spread);
            CHECK(spread < at_most * plain_spread);
        }
    }
}

TEST_CASE("RISE's control variates and pairs equal their formulas computed by brute force", "[rise][variance]") {
    // S = (1/N) Σ_u [(A_u − c_u B_u)/p1 + m c_u] and SE² = U/(U−1) Σ_u (Z_u − m S)² / N², with the
    // masks re-made by the generator and the scores by the model, unit by unit.
    const toy::FunctionModel model = variance_toy();
    const xai::Image image = variance_toy_image();
    const double p1 = 0.4;
    for (const VarianceCase& c : kVarianceCases) {
        INFO(c.name);
        if (c.sampling == xai::RiseSampling::quasi_random) continue;  // the same formulas, other masks
        const xai::RiseOptions o{.num_masks = 40, .grid_size = 3, .keep_probability = p1, .score = xai::ScoreKind::logit,
                                 .baseline = xai::Baseline::constant(kVarianceBaseline), .seed = 11,
                                 .sampling = c.sampling, .control_variate = c.control};
        const xai::RiseExplanation e = xai::Rise<toy::FunctionModel>(model, o).explain(image, 0);
        const xai::RiseMaskGenerator gen(6, 6, 3, p1);
        const std::size_t n = 40, m = c.sampling == xai::RiseSampling::antithetic ? 2 : 1, units = n / m;
        std::vector<std::vector<double>> mask(n, std::vector<double>(36));
        std::vector<double> f(n);
        xai::Batch one = xai::Batch::from_shape({1, 1, 6, 6});
        for (std::size_t i = 0; i < n; ++i) {
            const auto d = m == 2 ? gen.draw_antithetic(11, i / 2, static_cast<unsigned>(i % 2)) : gen.draw(11, i);
            xai::Map mm = xai::Map::from_shape({6, 6});
            gen.render(d, mm.data());
            for (std::size_t p = 0; p < 36; ++p) {
                mask[i][p] = mm.data()[p];
                one.data()[p] = image.data()[p] * mm.data()[p] + kVarianceBaseline * (1.0f - mm.data()[p]);
            }
            f[i] = model.forward(one)(0, 0);
        }
        std::vector<double> F(units, 0.0);
        for (std::size_t i = 0; i < n; ++i) F[i / m] += f[i];
        const double F_total = std::accumulate(F.begin(), F.end(), 0.0);
        xai::Batch whole = xai::as_batch(image);
        const double unmasked = model.forward(whole)(0, 0);
        xai::Batch hidden = xai::Batch::from_shape({1, 1, 6, 6});
        hidden.fill(kVarianceBaseline);
        const double masked = model.forward(hidden)(0, 0);
        auto c_of = [&](std::size_t u) {
            switch (c.control) {
                case xai::RiseControlVariate::none: return 0.0;
                case xai::RiseControlVariate::unmasked_score: return unmasked;
                case xai::RiseControlVariate::masked_score: return masked;
                case xai::RiseControlVariate::mean_score: return (F_total - F[u]) / static_cast<double>(n - m);
            }
            return 0.0;
        };
        const double c_hat = c.control == xai::RiseControlVariate::mean_score ? F_total / n : c_of(0);
        for (std::size_t p = 0; p < 36; ++p) {
            std::vector<double> A(units, 0.0), B(units, 0.0);
            for (std::size_t i = 0; i < n; ++i) {
                A[i / m] += f[i] * mask[i][p];
                B[i / m] += mask[i][p];
            }
            double S = 0.0;
            for (std::size_t u = 0; u < units; ++u) S += (A[u] - c_of(u) * B[u]) / p1 + static_cast<double>(m) * c_of(u);
            S /= n;
            double q = 0.0;
            for (std::size_t u = 0; u < units; ++u) {
                const double z = (A[u] - c_hat * B[u]) / p1 + static_cast<double>(m) * c_hat;
                q += (z - static_cast<double>(m) * S) * (z - static_cast<double>(m) * S);
            }
            const double se = std::sqrt(static_cast<double>(units) / (units - 1.0) * q / (n * n));
            CHECK(e.raw.data()[p] == Approx(S).epsilon(1e-5));
            CHECK(e.standard_error.data()[p] == Approx(se).epsilon(1e-4).margin(1e-6));
        }
    }
}

TEST_CASE("RISE's antithetic pairs and quasi-random masks", "[rise][variance][masks]") {
    // With p1 = ½ the second mask of a pair keeps exactly what the first hides: they add up to 1.
    const xai::RiseMaskGenerator gen(12, 10, 3, 0.5);
    for (std::uint64_t pair = 0; pair < 20; ++pair) {
        const xai::Map a = [&] { xai::Map m = xai::Map::from_shape({12, 10}); gen.render(gen.draw_antithetic(5, pair, 0), m.data()); return m; }();
        const xai::Map b = [&] { xai::Map m = xai::Map::from_shape({12, 10}); gen.render(gen.draw_antithetic(5, pair, 1), m.data()); return m; }();
        CHECK(xt::amax(xt::abs(a + b - 1.0f))() < 1e-6f);
        CHECK((gen.draw_antithetic(5, pair, 0).grid == gen.draw(5, pair).grid));  // the first is an ordinary mask
    }
    // Quasi-random masks: over the 64 masks of a scrambled Sobol' net each cell is kept exactly
    // 32 times (p1 = ½: the first binary digit of each coordinate is balanced), where
    // independent masks miss that by a few.
    const xai::detail::SobolSequence sobol(gen.uniforms_per_draw(), true, 3);
    std::vector<int> kept(9, 0);
    for (std::size_t i = 0; i < 64; ++i) {
        const auto d = gen.draw_from([&](std::size_t k) { return sobol.uniform(i, k); });
        for (std::size_t cell = 0; cell < 9; ++cell) kept[cell] += d.grid[cell];
        CHECK(d.shift_y < gen.cell_height());
        CHECK(d.shift_x < gen.cell_width());
    }
    for (int k : kept) CHECK(k == 32);
    // The direction numbers: every dimension's first 2^m points fall one in each interval of
    // width 2^−m (m = 8), and the first output digits of RISE's 51 dimensions (s = 7) are pairwise
    // distinct over 256 points, so any two cells are kept together in exactly a quarter of them.
    const xai::detail::SobolSequence plain(51, false, 0);
    for (std::size_t d = 0; d < 51; ++d) {
        std::vector<int> strata(256, 0);
        for (std::uint64_t i = 0; i < 256; ++i) ++strata[plain.integer(i, d) >> 24];
        CHECK(std::all_of(strata.begin(), strata.end(), [](int k) { return k == 1; }));
    }
    for (std::size_t a = 0; a < 51; ++a)
        for (std::size_t b = a + 1; b < 51; ++b) {
            int both = 0;
            for (std::uint64_t i = 0; i < 256; ++i) both += (plain.integer(i, a) >> 31) && (plain.integer(i, b) >> 31) ? 1 : 0;
            CHECK(both == 64);
        }
}

TEST_CASE("RISE with variance reduction is bit-identical for any thread count and batch size", "[rise][determinism]") {
    const toy::FunctionModel model = variance_toy();
    const xai::Image image = variance_toy_image();
    for (const VarianceCase& c : kVarianceCases) {
        INFO(c.name);
        xai::RiseOptions o{.num_masks = 60, .grid_size = 3, .score = xai::ScoreKind::logit, .check_every = 20,
                           .batch_size = 7, .seed = 2, .threads = 1, .sampling = c.sampling, .control_variate = c.control};
        const xai::RiseExplanation a = xai::Rise<toy::FunctionModel>(model, o).explain(image, 0);
        o.batch_size = 32;
        o.threads = 3;
        const xai::RiseExplanation b = xai::Rise<toy::FunctionModel>(model, o).explain(image, 0);
        CHECK((a.raw == b.raw));
        CHECK((a.standard_error == b.standard_error));
        o.tolerance = 1e-9;  // never met: every block is checked, the result stays the same
        const xai::RiseExplanation checked = xai::Rise<toy::FunctionModel>(model, o).explain(image, 0);
        CHECK((checked.raw == a.raw));
        o.seed = 3;
        CHECK_FALSE((xai::Rise<toy::FunctionModel>(model, o).explain(image, 0).raw == a.raw));
    }
}

TEST_CASE("RISE's control variate removes a constant model's noise entirely", "[rise][variance]") {
    // f ≡ k: plain RISE's map is k·mean(M)/p1, noisy; with c = the unmasked (= masked = mean)
    // score it is exactly k with zero standard error.
    const toy::FunctionModel constant = toy::constant_model({1, 8, 8}, {1.5f, 0.0f});
    for (xai::RiseControlVariate cv : {xai::RiseControlVariate::unmasked_score, xai::RiseControlVariate::masked_score,
                                       xai::RiseControlVariate::mean_score}) {
        const xai::RiseExplanation e = xai::Rise<toy::FunctionModel>(
            constant, {.num_masks = 50, .grid_size = 3, .score = xai::ScoreKind::logit, .control_variate = cv})
                                             .explain(filled({1, 8, 8}, 1.0f), 0);
        CHECK(xt::amax(xt::abs(e.raw - 1.5f))() < 1e-5f);
        CHECK(xt::amax(e.standard_error)() < 1e-5f);
    }
    const xai::RiseExplanation plain = xai::Rise<toy::FunctionModel>(
        constant, {.num_masks = 50, .grid_size = 3, .score = xai::ScoreKind::logit}).explain(filled({1, 8, 8}, 1.0f), 0);
    CHECK(xt::amax(xt::abs(plain.raw - 1.5f))() > 0.05f);
}

TEST_CASE("RISE refuses variance-reduction options it cannot honour", "[rise][variance][errors]") {
    const toy::FunctionModel model = variance_toy();
    using R = xai::Rise<toy::FunctionModel>;
    CHECK_THROWS_WITH(R(model, {.num_masks = 31, .grid_size = 2, .sampling = xai::RiseSampling::antithetic}),
                      Contains("xai::Rise::Rise(): num_masks is 31, expected an even number with antithetic sampling"));
    CHECK_THROWS_WITH(R(model, {.grid_size = 2, .check_every = 7, .sampling = xai::RiseSampling::antithetic}),
                      Contains("check_every is 7, expected an even number"));
    CHECK_THROWS_WITH(R(model, {.grid_size = 2, .sampling = xai::RiseSampling::quasi_random,
                                .control_variate = xai::RiseControlVariate::mean_score}),
                      Contains("control_variate is mean_score with quasi_random sampling"));
    CHECK_THROWS_WITH(R(model, {.grid_size = 2, .sampling = static_cast<xai::RiseSampling>(9)}), Contains("sampling is 9"));
    CHECK_THROWS_WITH(R(model, {.grid_size = 2, .control_variate = static_cast<xai::RiseControlVariate>(9)}),
                      Contains("control_variate is 9"));
    const toy::FunctionModel big = toy::constant_model({1, 40, 40}, {0.0f, 1.0f});
    CHECK_THROWS_WITH(R(big, {.grid_size = 32, .sampling = xai::RiseSampling::quasi_random}),
                      Contains("grid_size is 32, expected at most 31 with quasi_random sampling"));
    CHECK_NOTHROW(R(big, {.grid_size = 31, .sampling = xai::RiseSampling::quasi_random}));
}
