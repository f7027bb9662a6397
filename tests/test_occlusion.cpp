// Tests of the occlusion family (include/xai/occlusion.hpp: explain/occlusion.hpp).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <type_traits>
#include <vector>

#include "perturbation_toys.hpp"
#include "xai/core/explainer.hpp"
#include "xai/image/normalize.hpp"
#include "xai/occlusion.hpp"

using Catch::Matchers::Contains;

/// True when explain(image, targets) compiles: it must not (one image takes one Target).
template <class E>
concept explains_one_image_for_targets = requires(const E& e, const xai::Image& image, const xai::Targets& targets) {
    e.explain(image, targets);
};

namespace {

using toy::filled;

xai::OcclusionOptions options_for(std::size_t window, std::size_t stride) {
    xai::OcclusionOptions o;
    o.window = window;
    o.stride = stride;
    o.score = xai::ScoreKind::logit;
    return o;
}

}  // namespace

TEST_CASE("Occlusion by hand: 2×2 window, stride 1, on a 3×3 linear model", "[occlusion]") {
    // Logit = Σ w_p x_p with w = 1…9 (row-major) and x ≡ 1; the window replaces its pixels by 0,
    // so its drop is the sum of its weights: windows at (0,0) 1+2+4+5 = 12, (0,1) 16, (1,0) 24,
    // (1,1) 28. Each pixel averages the windows covering it: corners 12, 16, 24, 28; edges
    // (12+16)/2 = 14, (12+24)/2 = 18, (16+28)/2 = 22, (24+28)/2 = 26; centre 80/4 = 20.
    const xai::ImageShape shape{1, 3, 3};
    const auto model = toy::linear_model(shape, {1, 2, 3, 4, 5, 6, 7, 8, 9});
    const xai::Occlusion occlusion(model, options_for(2, 1));
    const xai::OcclusionExplanation e = occlusion.explain(filled(shape, 1.0f), 0);
    const std::vector<float> expected = {12, 14, 16, 18, 20, 22, 24, 26, 28};
    for (std::size_t p = 0; p < 9; ++p) CHECK(e.raw.data()[p] == Approx(expected[p]));
    CHECK(e.windows == 4);
    CHECK(e.scores == std::vector<float>{45.0f});
    CHECK(e.targets == std::vector<std::size_t>{0});
    // The display map: min-max normalized (all drops are positive), 12 → 0 and 28 → 1.
    for (std::size_t p = 0; p < 9; ++p) CHECK(e.maps.data()[p] == Approx((expected[p] - 12.0f) / 16.0f));
}

TEST_CASE("Occlusion by hand: Captum's cut-off last window and a constant baseline", "[occlusion]") {
    // 2×5 image, window 2, stride 2: columns start at 0, 2 and ⌈(5−2)/2⌉·2 = 4 (a 2×1 window cut
    // off by the border), one row of windows. With x ≡ 1 and baseline 0.5, a window's drop is
    // half the sum of its weights: [0,2): (1+2+10+20)/2 = 16.5, [2,4): (3+4+30+40)/2 = 38.5,
    // [4,5): (5+50)/2 = 27.5. Each pixel is covered by exactly one window.
    const xai::ImageShape shape{1, 2, 5};
    const auto model = toy::linear_model(shape, {1, 2, 3, 4, 5, 10, 20, 30, 40, 50});
    auto options = options_for(2, 2);
    options.baseline = xai::Baseline::constant(0.5f);
    const auto e = xai::Occlusion(model, options).explain(filled(shape, 1.0f), 0);
    const std::vector<float> row = {16.5f, 16.5f, 38.5f, 38.5f, 27.5f};
    for (std::size_t y = 0; y < 2; ++y)
        for (std::size_t x = 0; x < 5; ++x) CHECK(e.raw(0, y, x) == Approx(row[x]));
    CHECK(e.windows == 3);
    CHECK(xai::detail::window_starts(5, 2, 2) == std::vector<std::size_t>{0, 2, 4});
    CHECK(xai::detail::window_starts(7, 3, 2) == std::vector<std::size_t>{0, 2, 4});
    CHECK(xai::detail::window_starts(8, 3, 2) == std::vector<std::size_t>{0, 2, 4, 6});
    CHECK(xai::detail::window_starts(4, 4, 9) == std::vector<std::size_t>{0});
}

TEST_CASE("Occlusion uses the baseline image and the probability by default", "[occlusion]") {
    // Two classes with logits (a, 0), a = Σ w x: the probability of class 0 is σ(a). With a
    // baseline image B the window's pixels become B, and the drop is σ(a(I)) − σ(a(I_j)).
    const xai::ImageShape shape{2, 2, 2};
    const std::vector<float> w = {0.5f, -1.0f, 2.0f, 0.25f, 1.0f, 1.5f, -0.5f, 0.75f};
    const auto model = toy::linear_model(shape, w);
    xai::Image image = filled(shape, 0.0f), base = filled(shape, 0.0f);
    for (std::size_t p = 0; p < 8; ++p) {
        image.data()[p] = 0.1f * static_cast<float>(p + 1);
        base.data()[p] = 0.3f;
    }
    xai::OcclusionOptions options;
    options.window = 1;
    options.stride = 1;
    options.baseline = xai::Baseline::image(base);
    const auto e = xai::Occlusion(model, options).explain(image, 0);
    const auto sigmoid = [](double a) { return 1.0 / (1.0 + std::exp(-a)); };
    double a = 0.0;
    for (std::size_t p = 0; p < 8; ++p) a += w[p] * image.data()[p];
    for (std::size_t p = 0; p < 4; ++p) {
        // A 1×1 window replaces pixel p in both channels (p and p + 4).
        const double occluded = a + w[p] * (0.3 - image.data()[p]) + w[p + 4] * (0.3 - image.data()[p + 4]);
        CHECK(e.raw.data()[p] == Approx(sigmoid(a) - sigmoid(occluded)).epsilon(1e-4));
    }
    CHECK(e.scores[0] == Approx(sigmoid(a)).epsilon(1e-5));
}

TEST_CASE("Occlusion of a box-mean model puts all its mass next to the box", "[occlusion]") {
    // Logit = mean of B = [12, 20)² of a 32×32 all-ones image; a window's drop is |W ∩ B| / |B|.
    // Exact bounds: a pixel farther than window − 1 = 3 px from B is only covered by windows
    // that miss B, so its value is exactly 0 (all the mass is within 3 px of B); every pixel of B
    // is ≥ every pixel outside B, and the maximum is inside B.
    const xai::ImageShape shape{1, 32, 32};
    const auto model = toy::box_mean_model(shape, 12, 20, 12, 20);
    const auto e = xai::Occlusion(model, options_for(4, 2)).explain(filled(shape, 1.0f), 0);
    float in_min = 1e9f, out_max = -1e9f;
    const auto distance = [](std::size_t v) { return v < 12 ? 12 - v : (v >= 20 ? v - 19 : 0); };
    for (std::size_t y = 0; y < 32; ++y)
        for (std::size_t x = 0; x < 32; ++x) {
            const float v = e.raw(0, y, x);
            REQUIRE(v >= 0.0f);
            const std::size_t d = std::max(distance(y), distance(x));
            if (d == 0) in_min = std::min(in_min, v);
            else out_max = std::max(out_max, v);
            if (d > 3) REQUIRE(v == 0.0f);
        }
    CHECK(in_min >= out_max);
    CHECK(in_min > 0.0f);
    // A window fully inside B drops the score by 16/64 = 0.25; the centre of B sees only those.
    CHECK(e.raw(0, 15, 15) == Approx(0.25f));
}

TEST_CASE("Occlusion is identical for any batch size and thread count", "[occlusion][determinism]") {
    const xai::ImageShape shape{3, 17, 13};
    std::vector<float> w(shape.size());
    for (std::size_t p = 0; p < w.size(); ++p) w[p] = std::sin(0.3f * static_cast<float>(p));
    const auto model = toy::linear_model(shape, w);
    xai::Image image = filled(shape, 0.0f);
    for (std::size_t p = 0; p < image.size(); ++p) image.data()[p] = static_cast<float>((p * 13) % 29) / 29.0f;
    auto run = [&](std::size_t batch, std::size_t threads) {
        xai::OcclusionOptions o;
        o.window = 5;
        o.stride = 3;
        o.batch_size = batch;
        o.threads = threads;
        o.baseline = xai::Baseline::blurred({2.0, 5, xai::BlurBorder::reflect});
        return xai::Occlusion(model, o).explain(image);
    };
    const auto reference = run(1, 1);
    CHECK(reference.windows == 5 * 4);  // rows start 0, 3, …, 12; columns 0, 3, 6, 9
    for (auto [batch, threads] : {std::pair<std::size_t, std::size_t>{4, 2}, {7, 3}, {30, 0}, {100, 1}})
        CHECK((run(batch, threads).raw == reference.raw));
}

TEST_CASE("Occlusion explains a batch with one target per image and reports progress", "[occlusion][progress]") {
    const xai::ImageShape shape{1, 6, 6};
    const auto model = toy::FunctionModel(shape, 3, [](const float* image) {
        return std::vector<float>{image[0], 2.0f * image[35], image[14] + image[21]};
    });
    const xai::Batch two = xai::stack({filled(shape, 1.0f), filled(shape, 0.5f)});
    std::vector<std::size_t> done;
    auto options = options_for(3, 3);
    options.batch_size = 3;
    const auto record = [&](const xai::ProgressReport& p) {
        done.push_back(p.done);
        CHECK(p.total == 8);
        CHECK(p.stage == "windows");
    };
    const auto e = xai::Occlusion(model, options).explain(two, {0, 2}, record);
    CHECK(done == std::vector<std::size_t>{3, 4, 7, 8});
    CHECK(e.targets == std::vector<std::size_t>{0, 2});
    // Image 0, class 0 reads pixel (0,0): only the top-left window drops it, by 1.
    CHECK(e.raw(0, 0, 0) == Approx(1.0f));
    CHECK(e.raw(0, 5, 5) == Approx(0.0f));
    // Image 1, class 2 reads pixels (2,2) and (3,3), each 0.5, in different windows.
    CHECK(e.raw(1, 2, 2) == Approx(0.5f));
    CHECK(e.raw(1, 3, 3) == Approx(0.5f));
    CHECK(e.raw(1, 0, 5) == Approx(0.0f));
    // Empty targets: the predicted class. Logits (1, 2, 2) and (0.5, 1, 1): ties go to the
    // lowest index, class 1.
    CHECK(xai::Occlusion(model, options_for(3, 3)).explain(two).targets == std::vector<std::size_t>{1, 1});
    // The image form reports progress for its one image.
    done.clear();
    xai::Occlusion(model, options).explain(filled(shape, 1.0f), 0, [&](const xai::ProgressReport& p) {
        done.push_back(p.done);
        CHECK(p.total == 4);
    });
    CHECK(done == std::vector<std::size_t>{3, 4});
}

TEST_CASE("Occlusion rejects bad options and inputs with messages that name them", "[occlusion][errors]") {
    const xai::ImageShape shape{1, 8, 10};
    const auto model = toy::constant_model(shape, {0.0f, 1.0f});
    CHECK_THROWS_WITH(xai::Occlusion(model, options_for(0, 1)), Contains("xai::Occlusion::Occlusion(): window is 0"));
    CHECK_THROWS_WITH(xai::Occlusion(model, options_for(3, 0)), Contains("stride is 0"));
    CHECK_THROWS_WITH(xai::Occlusion(model, options_for(9, 2)), Contains("window is 9, larger than the model's input (8x10)"));
    CHECK_THROWS_WITH(xai::Occlusion(model, options_for(3, 4)), Contains("stride is 4, larger than the window (3)"));
    auto zero_batch = options_for(3, 2);
    zero_batch.batch_size = 0;
    CHECK_THROWS_WITH(xai::Occlusion(model, zero_batch), Contains("batch_size is 0"));
    // Baseline::segment_mean() needs superpixels, which occlusion does not have: refused up front.
    auto segment_mean = options_for(3, 2);
    segment_mean.baseline = xai::Baseline::segment_mean();
    CHECK_THROWS_WITH(xai::Occlusion(model, segment_mean),
                      Contains("xai::Occlusion::Occlusion(): baseline is Baseline::segment_mean(), which needs "
                               "superpixels, and this method has none; expected another baseline"));

    const xai::Occlusion occlusion(model, options_for(3, 2));
    CHECK_THROWS_WITH(occlusion.explain(filled({1, 8, 9}, 1.0f)),
                      Contains("xai::Occlusion::explain(): images are 1x8x9, the model expects 1x8x10"));
    CHECK_THROWS_WITH(occlusion.explain(xai::Image::from_shape({1, 8, 0})),
                      Contains("expected a non-empty C×H×W image"));
    xai::Image nan_image = filled(shape, 1.0f);
    nan_image(0, 2, 2) = std::nanf("");
    CHECK_THROWS_AS(occlusion.explain(nan_image), xai::invalid_argument);
    CHECK_THROWS_AS(occlusion.explain(xai::Batch::from_shape({0, 1, 8, 10})), xai::shape_error);
    const xai::Batch two = xai::stack({filled(shape, 1.0f), filled(shape, 0.0f)});
    CHECK_THROWS_WITH(occlusion.explain(two, {1, 1, 1}), Contains("targets has 3 entries"));
    CHECK_THROWS_WITH(occlusion.explain(two, {7}), Contains("target class 7 for image 0 is out of range"));
    auto with_base = options_for(3, 2);
    with_base.baseline = xai::Baseline::image(filled({1, 10, 8}, 0.0f));
    CHECK_THROWS_AS(xai::Occlusion(model, with_base).explain(filled(shape, 1.0f)), xai::shape_error);
    STATIC_REQUIRE(std::is_constructible_v<xai::Occlusion<toy::FunctionModel>, const toy::FunctionModel&>);
    STATIC_REQUIRE_FALSE(std::is_constructible_v<xai::Occlusion<toy::FunctionModel>, toy::FunctionModel>);
    const auto broken = toy::FunctionModel(shape, 2, [](const float* image) {
        return std::vector<float>{image[0] < 1.0f ? INFINITY : 1.0f, 0.0f};
    });
    CHECK_THROWS_AS(xai::Occlusion(broken, options_for(3, 2)).explain(filled(shape, 1.0f)), xai::model_error);
}

// ---- the unified explainer API ----------------------------------------------------------------

TEST_CASE("Occlusion is an Explainer: the image form is the batch of one, every core field is filled",
          "[occlusion][api]") {
    STATIC_REQUIRE(xai::Explainer<xai::Occlusion<toy::FunctionModel>>);
    STATIC_REQUIRE(std::is_same_v<xai::explanation_t<xai::Occlusion<toy::FunctionModel>>, xai::OcclusionExplanation>);
    STATIC_REQUIRE(std::is_base_of_v<xai::Explanation, xai::OcclusionExplanation>);
    // One image takes one Target; Targets go with a batch (the old explain(image, targets) does not compile).
    STATIC_REQUIRE_FALSE(explains_one_image_for_targets<xai::Occlusion<toy::FunctionModel>>);

    const xai::ImageShape shape{1, 9, 9};
    std::vector<float> w(shape.size());
    // Signed weights: some windows raise the score, so some drops are negative.
    for (std::size_t p = 0; p < w.size(); ++p) w[p] = std::sin(0.7f * static_cast<float>(p));
    const auto model = toy::linear_model(shape, w);
    xai::Image a = filled(shape, 0.0f), b = filled(shape, 0.0f);
    for (std::size_t p = 0; p < a.size(); ++p) {
        a.data()[p] = static_cast<float>((p * 7) % 13) / 13.0f;
        b.data()[p] = static_cast<float>((p * 5) % 17) / 17.0f;
    }
    const xai::Occlusion occlusion(model, {.window = 3, .stride = 2});

    const xai::OcclusionExplanation single = occlusion.explain(a, 0);
    const xai::OcclusionExplanation batch_of_one = occlusion.explain(xai::as_batch(a), {0});
    CHECK((single.raw == batch_of_one.raw));
    CHECK((single.maps == batch_of_one.maps));
    CHECK((single.logits == batch_of_one.logits));
    CHECK(single.scores == batch_of_one.scores);
    CHECK(single.targets == batch_of_one.targets);
    CHECK(single.windows == batch_of_one.windows);

    const xai::Batch two = xai::stack({a, b});
    const xai::OcclusionExplanation e = occlusion.explain(two, {0, 1});
    CHECK((e.raw_map(0) == single.raw_map()));
    CHECK((e.raw_map(1) == occlusion.explain(b, 1).raw_map()));
    CHECK(e.size() == 2);
    CHECK(e.score_kind == xai::ScoreKind::probability);
    const xai::Scores logits = model.forward(two);
    CHECK((e.logits == logits));
    const xai::Scores p = xai::softmax(logits);
    CHECK(e.scores == std::vector<float>{p(0, 0), p(1, 1)});
    // maps: ReLU of the signed drops, min-max normalized per image.
    CHECK(xt::amin(e.raw)() < 0.0f);
    CHECK((e.maps == xai::normalize_min_max(xai::Maps(xt::maximum(e.raw, 0.0f)))));
    CHECK(e.windows == 16);  // starts 0, 2, 4, 6 along each axis
}

TEST_CASE("Occlusion options are aggregates: designated initializers", "[occlusion][api]") {
    const auto model = toy::constant_model({1, 8, 8}, {0.0f, 1.0f});
    const xai::Occlusion occ(model, {.window = 5, .stride = 2});
    CHECK(occ.options().window == 5);
    CHECK(occ.options().stride == 2);
    CHECK(occ.options().score == xai::ScoreKind::probability);  // the rest keep their defaults
    CHECK(occ.options().batch_size == 32);
    const xai::Occlusion grey(model,
                              {.window = 4, .stride = 4, .baseline = xai::Baseline::constant(0.5f), .threads = 1});
    CHECK(grey.explain(filled({1, 8, 8}, 1.0f)).windows == 4);
}

TEST_CASE("Occlusion takes target functions: their value replaces the class score", "[occlusion][targets]") {
    // The hand-computed 3×3 linear case above (logit 0 = Σ w_p x_p, logit 1 = 0): raw_output()
    // is logit 0 + logit 1, so it gives the same drops 12 … 28 and the score 45; class_logit(0)
    // is the class index with ScoreKind::logit.
    const xai::ImageShape shape{1, 3, 3};
    const auto model = toy::linear_model(shape, {1, 2, 3, 4, 5, 6, 7, 8, 9});
    const xai::Occlusion occlusion(model, options_for(2, 1));
    const xai::OcclusionExplanation e =
        occlusion.explain(filled(shape, 1.0f), xai::Target::function(xai::targets::raw_output()));
    const std::vector<float> expected = {12, 14, 16, 18, 20, 22, 24, 26, 28};
    for (std::size_t p = 0; p < 9; ++p) CHECK(e.raw.data()[p] == Approx(expected[p]));
    CHECK(e.scores == std::vector<float>{45.0f});
    CHECK(e.targets == std::vector<std::size_t>{0});  // no class of its own: the predicted one
    // class_probability(0) is Occlusion with the probability score, class 0.
    auto probability = options_for(2, 1);
    probability.score = xai::ScoreKind::probability;
    const xai::OcclusionExplanation p = occlusion.explain(filled(shape, 1.0f), xai::Target::function(xai::targets::class_probability(0)));
    const xai::OcclusionExplanation q = xai::Occlusion(model, probability).explain(filled(shape, 1.0f), 0);
    for (std::size_t i = 0; i < 9; ++i) CHECK(p.raw.data()[i] == Approx(q.raw.data()[i]).epsilon(1e-5));
}

// ---- coarse to fine (OcclusionOptions::coarse_levels) -------------------------------------

namespace {

/// Pearson's correlation of two maps.
double pearson(const xai::Map& a, const xai::Map& b) {
    const auto n = static_cast<double>(a.size());
    double ma = 0.0, mb = 0.0;
    for (std::size_t i = 0; i < a.size(); ++i) {
        ma += a.data()[i] / n;
        mb += b.data()[i] / n;
    }
    double sab = 0.0, saa = 0.0, sbb = 0.0;
    for (std::size_t i = 0; i < a.size(); ++i) {
        const double x = a.data()[i] - ma, y = b.data()[i] - mb;
        sab += x * y;
        saa += x * x;
        sbb += y * y;
    }
    return sab / std::sqrt(saa * sbb);
}

}  // namespace

TEST_CASE("Coarse-to-fine occlusion interpolates drops that are bilinear in the window position exactly",
          "[occlusion][coarse]") {
    // Logit = Σ w_p x_p with w linear in (y, x) and x ≡ 1, baseline 0: a window's drop is the sum
    // of w over it, 9 · w(centre), linear in the window's start — bilinear interpolation between
    // evaluated windows is then exact, and with a huge threshold only the coarse lattice (every
    // 4th start, and the last) is evaluated. 13×13, window 3, stride 2: starts 0, 2, …, 10 (no
    // window cut by the border), 6 per axis; lattice {0, 4, 5}: 9 windows of 36.
    const xai::ImageShape shape{1, 13, 13};
    std::vector<float> weights(169);
    for (std::size_t y = 0; y < 13; ++y)
        for (std::size_t x = 0; x < 13; ++x) weights[y * 13 + x] = 0.5f + 0.25f * static_cast<float>(y) - 0.125f * static_cast<float>(x);
    const toy::FunctionModel model = toy::linear_model(shape, weights);
    xai::OcclusionOptions o = options_for(3, 2);
    const xai::OcclusionExplanation full = xai::Occlusion<toy::FunctionModel>(model, o).explain(filled(shape, 1.0f), 0);
    o.coarse_levels = 2;
    o.refine_threshold = 1e9;
    const xai::OcclusionExplanation coarse = xai::Occlusion<toy::FunctionModel>(model, o).explain(filled(shape, 1.0f), 0);
    CHECK(full.windows == 36);
    CHECK(full.windows_evaluated[0] == 36);
    CHECK(coarse.windows == 36);
    CHECK(coarse.windows_evaluated[0] == 9);
    CHECK(xt::amax(xt::abs(coarse.raw - full.raw))() < 1e-4f);
}

TEST_CASE("Coarse-to-fine occlusion refines where the coarse map changes", "[occlusion][coarse]") {
    // A box-mean model: drops are 0 away from the box and change around it. With threshold 0.05
    // the windows far from the box are interpolated (as 0, exactly right), those near it
    // evaluated; the map keeps Pearson ≥ 0.999 with the full one for a fraction of the windows.
    const xai::ImageShape shape{1, 48, 48};
    const toy::FunctionModel model = toy::box_mean_model(shape, 10, 20, 28, 36);
    xai::OcclusionOptions o = options_for(5, 1);
    const xai::Image image = filled(shape, 1.0f);
    const xai::OcclusionExplanation full = xai::Occlusion<toy::FunctionModel>(model, o).explain(image, 0);
    o.coarse_levels = 3;
    o.refine_threshold = 0.05;
    const xai::OcclusionExplanation coarse = xai::Occlusion<toy::FunctionModel>(model, o).explain(image, 0);
    CHECK(full.windows == 44 * 44);
    CAPTURE(coarse.windows_evaluated[0]);
    CHECK(coarse.windows_evaluated[0] < full.windows / 3);
    CHECK(pearson(full.raw_map(), coarse.raw_map()) >= 0.999);
    // Evaluated windows keep their exact drops: the box's centre pixel is covered by windows that
    // all overlap the box, all evaluated (the coarse drops there differ), so its value is exact.
    CHECK(coarse.raw(0, 15, 32) == Approx(full.raw(0, 15, 32)).epsilon(1e-6));
    // A flat model: nothing changes, only the coarse lattice is evaluated and the map is zero.
    const toy::FunctionModel flat = toy::constant_model(shape, {0.3f, 0.1f});
    const xai::OcclusionExplanation nothing = xai::Occlusion<toy::FunctionModel>(flat, o).explain(image, 0);
    CHECK(nothing.windows_evaluated[0] == 7 * 7);  // starts 0, 8, …, 40 and 43 along each axis
    CHECK(xt::amax(xt::abs(nothing.raw))() == 0.0f);
}

TEST_CASE("Coarse-to-fine occlusion is identical for any batch size and thread count", "[occlusion][coarse][determinism]") {
    const xai::ImageShape shape{1, 30, 30};
    const toy::FunctionModel model = toy::box_mean_model(shape, 5, 12, 14, 25);
    xai::OcclusionOptions o = options_for(4, 2);
    o.coarse_levels = 2;
    o.batch_size = 3;
    o.threads = 1;
    const xai::OcclusionExplanation a = xai::Occlusion<toy::FunctionModel>(model, o).explain(filled(shape, 0.7f), 0);
    o.batch_size = 64;
    o.threads = 3;
    const xai::OcclusionExplanation b = xai::Occlusion<toy::FunctionModel>(model, o).explain(filled(shape, 0.7f), 0);
    CHECK((a.raw == b.raw));
    CHECK(a.windows_evaluated == b.windows_evaluated);
    std::size_t last = 0;
    xai::Occlusion<toy::FunctionModel>(model, o).explain(filled(shape, 0.7f), 0, [&](const xai::ProgressReport& p) {
        CHECK(p.done >= last);
        last = p.done;
        CHECK(p.total == a.windows);
    });
    CHECK(last == a.windows);
    o.refine_threshold = -1.0;
    CHECK_THROWS_WITH(xai::Occlusion<toy::FunctionModel>(model, o),
                      Contains("xai::Occlusion::Occlusion(): refine_threshold is -1, expected a finite value >= 0"));
}
