// Tests of include/xai/metrics: deletion/insertion, pointing games, confidence change, rank
// correlation and the model randomization test, on hand-made maps and models with known answers.
#include <catch2/catch.hpp>

#include <cmath>
#include <concepts>
#include <limits>
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "xai/cam.hpp"
#include "xai/core/random.hpp"
#include "xai/metrics.hpp"
#include "xai/models/sequential.hpp"

using Catch::Matchers::Contains;

namespace {

/// A two-class model whose class-0 probability is a given function f(image) in [0, 1]:
/// logits [log(f + ε), log(1 − f + ε)], so p₀ = (f + ε) / (1 + 2ε) ≈ f.
class ProbabilityModel {
public:
    using Function = std::function<double(const float* image)>;
    ProbabilityModel(xai::ImageShape shape, Function f) : shape_(shape), f_(std::move(f)) {}

    xai::Scores forward(const xai::Batch& batch) const {
        const std::size_t n = batch.shape(0);
        xai::Scores out = xai::Scores::from_shape({n, 2});
        for (std::size_t i = 0; i < n; ++i) {
            const double f = f_(batch.data() + i * shape_.size());
            out(i, 0) = static_cast<float>(std::log(f + epsilon));
            out(i, 1) = static_cast<float>(std::log(1.0 - f + epsilon));
        }
        return out;
    }
    std::size_t num_classes() const { return 2; }
    xai::ImageShape input_shape() const { return shape_; }

    static constexpr double epsilon = 1e-6;

private:
    xai::ImageShape shape_;
    Function f_;
};

/// The score is the fraction of the pixels of a known region that are not 0 (clamped to [0,1]
/// and averaged, so on an image of ones it is the fraction of unmasked region pixels).
ProbabilityModel region_model(std::size_t height, std::size_t width, const xai::RegionMask& region) {
    return ProbabilityModel({1, height, width}, [region, height, width](const float* image) {
        double sum = 0.0, count = 0.0;
        for (std::size_t p = 0; p < height * width; ++p)
            if (region.data()[p]) {
                sum += std::clamp(static_cast<double>(image[p]), 0.0, 1.0);
                count += 1.0;
            }
        return sum / count;
    });
}

xai::Batch ones_batch(std::size_t n, std::size_t channels, std::size_t height, std::size_t width) {
    return xt::ones<float>({n, channels, height, width});
}

xai::Maps as_maps(const xai::Map& map) {
    xai::Maps maps = xai::Maps::from_shape({1, map.shape(0), map.shape(1)});
    std::copy(map.begin(), map.end(), maps.begin());
    return maps;
}

xai::Map indicator(const xai::RegionMask& region) { return xt::cast<float>(region); }

xai::Map random_map(std::size_t height, std::size_t width, std::uint64_t seed) {
    xai::Rng rng = xai::Rng::stream(seed, 0);
    xai::Map map = xai::Map::from_shape({height, width});
    for (float& v : map) v = rng.uniform_float();
    return map;
}

double p_of(double f) { return (f + ProbabilityModel::epsilon) / (1.0 + 2.0 * ProbabilityModel::epsilon); }

}  // namespace

// ---- deletion and insertion ---------------------------------------------------------------

TEST_CASE("trapezoid_auc of hand-computed curves", "[metrics][deletion]") {
    const std::vector<double> x{0.0, 0.25, 0.5, 0.75, 1.0};
    const std::vector<float> y{1.0f, 0.5f, 0.5f, 0.0f, 0.0f};
    // 0.25 · ((1 + .5)/2 + (.5 + .5)/2 + (.5 + 0)/2 + 0) = 0.25 · 1.5
    CHECK(xai::trapezoid_auc(x, y) == Approx(0.375));
    // The reference's auc(arr) = (Σ arr − arr₀/2 − arr_S/2) / S for evenly spaced steps.
    CHECK(xai::trapezoid_auc(x, y) == Approx((2.0 - 0.5 - 0.0) / 4.0));
    // Uneven spacing (a last, shorter step): widths .4, .4, .2.
    const std::vector<double> xu{0.0, 0.4, 0.8, 1.0};
    const std::vector<float> yu{1.0f, 1.0f, 0.0f, 0.0f};
    CHECK(xai::trapezoid_auc(xu, yu) == Approx(0.4 + 0.2));
    CHECK_THROWS_AS(xai::trapezoid_auc(std::vector<double>{0.0}, std::vector<float>{1.0f}), xai::shape_error);
    CHECK_THROWS_WITH(xai::trapezoid_auc(std::vector<double>{0.5, 0.0}, std::vector<float>{1.0f, 1.0f}),
                      Contains("non-decreasing"));
}

TEST_CASE("deletion: the ideal order beats a random order, which beats the worst order", "[metrics][deletion]") {
    // 8×8 image of ones; the model's score is the fraction of the 16 pixels of a 4×4 region
    // still present. 4 pixels per step: 16 steps.
    const xai::RegionMask region = xai::box_mask(8, 8, {2, 3, 6, 7});
    const ProbabilityModel model = region_model(8, 8, region);
    const xai::Batch image = ones_batch(1, 1, 8, 8);
    xai::CausalMetricOptions options;
    options.pixels_per_step = 4;

    const xai::Map ideal = indicator(region);
    const xai::CausalCurves best = xai::deletion(model, image, as_maps(ideal), {0}, options);
    REQUIRE(best.fractions.size() == 17);
    CHECK(best.fractions[1] == Approx(4.0 / 64.0));
    // f: 1, .75, .5, .25, 0, …, 0 → AUC = (1/16) · (1/2 + .75 + .5 + .25) = 0.125.
    CHECK(best.scores(0, 0) == Approx(p_of(1.0)));
    CHECK(best.scores(0, 2) == Approx(p_of(0.5)));
    CHECK(best.scores(0, 16) == Approx(p_of(0.0)).margin(1e-6));
    CHECK(best.auc[0] == Approx(0.125).margin(1e-5));
    CHECK(best.mean_auc == best.auc[0]);

    const xai::CausalCurves worst = xai::deletion(model, image, as_maps(1.0f - ideal), {0}, options);
    // f = 1 for 12 steps, then .75, .5, .25, 0 → (13 + 1.5 − 0.5) / 16 = 0.875.
    CHECK(worst.auc[0] == Approx(0.875).margin(1e-5));

    const xai::CausalCurves random = xai::deletion(model, image, as_maps(random_map(8, 8, 3)), {0}, options);
    CHECK(best.auc[0] < random.auc[0]);
    CHECK(random.auc[0] < worst.auc[0]);
    CHECK(random.auc[0] > 0.2);
    CHECK(random.auc[0] < 0.8);
}

TEST_CASE("insertion: reveals the ideal order first, over a blurred or constant start", "[metrics][insertion]") {
    const xai::RegionMask region = xai::box_mask(8, 8, {2, 3, 6, 7});
    const ProbabilityModel model = region_model(8, 8, region);
    const xai::Batch image = ones_batch(1, 1, 8, 8);
    const xai::Map ideal = indicator(region);

    xai::CausalMetricOptions options;
    options.pixels_per_step = 4;
    options.insertion_baseline = xai::Baseline::constant(0.0f);
    const xai::CausalCurves best = xai::insertion(model, image, as_maps(ideal), {0}, options);
    // f: 0, .25, .5, .75, 1, …, 1 → 1 − 0.125.
    CHECK(best.auc[0] == Approx(0.875).margin(1e-5));
    const xai::CausalCurves worst = xai::insertion(model, image, as_maps(1.0f - ideal), {0}, options);
    CHECK(worst.auc[0] == Approx(0.125).margin(1e-5));

    // The default start is the image blurred with gkern(11, 5) and zero padding; the last
    // step is the image itself.
    const xai::CausalCurves blurred = xai::insertion(model, image, as_maps(ideal), {0});
    REQUIRE(blurred.fractions.size() == 9);  // default: one image row (8 pixels) per step
    const xai::Batch start = xai::gaussian_blur(image);
    CHECK(blurred.scores(0, 0) == Approx(xai::softmax(model.forward(start))(0, 0)));
    CHECK(blurred.scores(0, 8) == Approx(p_of(1.0)));
    CHECK(blurred.scores(0, 0) < 1.0f);
}

TEST_CASE("deletion: default step is one image row, and the last short step gets its true width",
          "[metrics][deletion]") {
    const xai::RegionMask region = xai::box_mask(3, 5, {0, 0, 3, 5});
    const ProbabilityModel model = region_model(3, 5, region);
    const xai::Batch image = ones_batch(1, 1, 3, 5);
    const xai::Map map = random_map(3, 5, 1);
    const xai::CausalCurves rows = xai::deletion(model, image, as_maps(map), {0});
    REQUIRE(rows.fractions.size() == 4);
    CHECK(rows.fractions[1] == Approx(5.0 / 15.0));
    // Every pixel is in the region: f = 1 − x, so the AUC is exactly 1/2 whatever the order.
    CHECK(rows.auc[0] == Approx(0.5).margin(1e-5));

    xai::CausalMetricOptions options;
    options.pixels_per_step = 4;  // 15 pixels: steps of 4, 4, 4, 3
    const xai::CausalCurves uneven = xai::deletion(model, image, as_maps(map), {0}, options);
    REQUIRE(uneven.fractions.size() == 5);
    CHECK(uneven.fractions[3] == Approx(12.0 / 15.0));
    CHECK(uneven.fractions[4] == 1.0);
    CHECK(uneven.auc[0] == Approx(0.5).margin(1e-5));
}

TEST_CASE("deletion: identical for any batch size and thread count, and reports progress", "[metrics][deletion]") {
    const xai::RegionMask region = xai::box_mask(6, 6, {1, 1, 4, 5});
    const ProbabilityModel model = region_model(6, 6, region);
    xai::Batch images = ones_batch(3, 1, 6, 6);
    images(1, 0, 2, 2) = 0.5f;
    xai::Maps maps = xai::Maps::from_shape({3, 6, 6});
    for (std::size_t i = 0; i < 3; ++i) xt::view(maps, i) = random_map(6, 6, 10 + i);

    xai::CausalMetricOptions serial;
    serial.batch_size = 1;
    serial.threads = 1;
    xai::CausalMetricOptions parallel;
    parallel.batch_size = 5;
    parallel.threads = 2;
    std::size_t last_done = 0, last_total = 0, calls = 0;
    const xai::Progress progress = [&](const xai::ProgressReport& p) {
        CHECK(p.done > last_done);
        last_done = p.done;
        last_total = p.total;
        ++calls;
    };
    const xai::CausalCurves a = xai::deletion(model, images, maps, {0}, serial);
    const xai::CausalCurves b = xai::deletion(model, images, maps, {0}, parallel, progress);
    CHECK((a.scores == b.scores));
    CHECK(a.auc == b.auc);
    // "As large as possible" is one batch, not none (regression: the chunk count wrapped to 0).
    xai::CausalMetricOptions huge;
    huge.batch_size = std::numeric_limits<std::size_t>::max();
    CHECK((xai::deletion(model, images, maps, {0}, huge).scores == a.scores));
    CHECK(last_total == 3 * 7);
    CHECK(last_done == last_total);
    CHECK(calls >= 2);
}

TEST_CASE("deletion and insertion take explanation functions in batch and image form", "[metrics][deletion]") {
    const xai::RegionMask region = xai::box_mask(6, 6, {1, 1, 4, 4});
    const ProbabilityModel model = region_model(6, 6, region);
    const xai::Batch images = ones_batch(2, 1, 6, 6);
    const xai::Map ideal = indicator(region);
    xai::Maps maps = xai::Maps::from_shape({2, 6, 6});
    xt::view(maps, 0) = ideal;
    xt::view(maps, 1) = ideal;

    std::vector<std::size_t> seen;
    auto batch_form = [&](const xai::Batch& b, const std::vector<std::size_t>& targets) {
        seen = targets;
        xai::Maps out = xai::Maps::from_shape({b.shape(0), 6, 6});
        for (std::size_t i = 0; i < b.shape(0); ++i) xt::view(out, i) = ideal;
        return out;
    };
    auto image_form = [&](const xai::Image&, std::size_t) { return ideal; };
    const xai::CausalCurves direct = xai::deletion(model, images, maps);
    const xai::CausalCurves from_batch = xai::deletion(model, images, batch_form);
    const xai::CausalCurves from_image = xai::deletion(model, images, image_form);
    CHECK((direct.scores == from_batch.scores));
    CHECK((direct.scores == from_image.scores));
    // Targets default to the prediction on the unperturbed image: class 0 (p ≈ 1).
    CHECK(seen == std::vector<std::size_t>{0, 0});
    CHECK(direct.targets == std::vector<std::size_t>{0, 0});
    // An explicit target is scored instead: class 1 rises as the region is deleted.
    const xai::CausalCurves other = xai::deletion(model, images, maps, {1});
    CHECK(other.scores(0, 6) > other.scores(0, 0));
    const xai::CausalCurves ins = xai::insertion(model, images, batch_form, {1});
    CHECK(seen == std::vector<std::size_t>{1, 1});
    CHECK(ins.mode == xai::CausalMode::insertion);
}

TEST_CASE("deletion and insertion refuse bad input", "[metrics][deletion][errors]") {
    const xai::RegionMask region = xai::box_mask(4, 4, {0, 0, 2, 2});
    const ProbabilityModel model = region_model(4, 4, region);
    const xai::Batch images = ones_batch(2, 1, 4, 4);
    const xai::Maps maps = xt::zeros<float>({2, 4, 4});

    const xai::Maps wrong_size = xt::zeros<float>({2, 4, 5});
    CHECK_THROWS_AS(xai::deletion(model, images, wrong_size), xai::shape_error);
    CHECK_THROWS_WITH(xai::deletion(model, images, wrong_size), Contains("xai::deletion(): maps has shape [2, 4, 5]"));
    const xai::Maps wrong_count = xt::zeros<float>({1, 4, 4});
    CHECK_THROWS_AS(xai::insertion(model, images, wrong_count), xai::shape_error);

    xai::Maps nan_map = maps;
    nan_map(1, 2, 2) = std::nanf("");
    CHECK_THROWS_AS(xai::deletion(model, images, nan_map), xai::invalid_argument);
    CHECK_THROWS_WITH(xai::insertion(model, images, nan_map), Contains("NaN or Inf"));

    xai::CausalMetricOptions zero_step;
    zero_step.pixels_per_step = 0;
    CHECK_THROWS_WITH(xai::deletion(model, images, maps, {}, zero_step), Contains("pixels_per_step is 0"));
    xai::CausalMetricOptions zero_batch;
    zero_batch.batch_size = 0;
    CHECK_THROWS_WITH(xai::deletion(model, images, maps, {}, zero_batch), Contains("batch_size is 0"));
    // A bad blur is refused where the baseline is made; a baseline that needs superpixels, by the metric.
    CHECK_THROWS_WITH(xai::Baseline::blurred({5.0, 4}), Contains("kernel_size"));
    xai::CausalMetricOptions superpixel_baseline;
    superpixel_baseline.insertion_baseline = xai::Baseline::segment_mean();
    CHECK_THROWS_AS(xai::insertion(model, images, maps, {}, superpixel_baseline), xai::invalid_argument);
    CHECK_THROWS_WITH(xai::insertion(model, images, maps, {}, superpixel_baseline), Contains("segment_mean"));

    CHECK_THROWS_WITH(xai::deletion(model, images, maps, {7}), Contains("out of range"));
    const xai::Batch wrong_images = ones_batch(2, 1, 5, 4);
    CHECK_THROWS_AS(xai::deletion(model, wrong_images, maps), xai::shape_error);
    const xai::Batch no_images = ones_batch(0, 1, 4, 4);
    CHECK_THROWS_AS(xai::deletion(model, no_images, maps), xai::shape_error);

    auto wrong_function = [](const xai::Image&, std::size_t) { return xai::Map(xt::zeros<float>({3, 3})); };
    CHECK_THROWS_WITH(xai::deletion(model, images, wrong_function), Contains("returned a map of shape [3, 3]"));

    const ProbabilityModel broken({1, 4, 4}, [](const float*) { return std::nan(""); });
    CHECK_THROWS_AS(xai::deletion(broken, images, maps, {0}), xai::model_error);
}

// ---- pointing game and energy-based pointing game ------------------------------------------

TEST_CASE("a map equal to the ground-truth region hits and has all its energy inside", "[metrics][pointing]") {
    const xai::RegionMask region = xai::box_mask(64, 64, {10, 20, 30, 50});
    const xai::Map map = indicator(region);
    const xai::PointingResult r = xai::pointing_game(map, region);
    CHECK(r.hit == 1.0);
    CHECK(r.maxima == region.size() - std::count(region.begin(), region.end(), false));
    CHECK(r.row == 10);
    CHECK(r.column == 20);
    CHECK(xai::energy_pointing_game(map, region) == 1.0);
}

TEST_CASE("pointing game: a peak outside misses, within the scaled tolerance hits", "[metrics][pointing]") {
    // τ = 15 · 64 / 224 = 4.2857 pixels at 64×64; the region's right edge is column 49.
    const xai::RegionMask region = xai::box_mask(64, 64, {10, 20, 30, 50});
    CHECK(xai::pointing_tolerance(64, 64) == Approx(15.0 * 64.0 / 224.0));
    CHECK(xai::pointing_tolerance(224, 224) == Approx(15.0));
    CHECK(xai::pointing_tolerance(32, 128) == Approx(15.0 * 64.0 / 224.0));  // √(32·128) = 64

    auto peak_at = [](std::size_t y, std::size_t x) {
        xai::Map m = xt::zeros<float>({64, 64});
        m(y, x) = 1.0f;
        return m;
    };
    CHECK(xai::pointing_game(peak_at(20, 53), region).hit == 1.0);  // 4 pixels right of the edge
    CHECK(xai::pointing_game(peak_at(20, 54), region).hit == 0.0);  // 5 pixels: outside τ
    CHECK(xai::pointing_game(peak_at(60, 5), region).hit == 0.0);
    // Diagonal: (3, 3) from the corner (29, 49) is 4.24 < 4.2857; (3, 4) is 5 > τ.
    CHECK(xai::pointing_game(peak_at(32, 52), region).hit == 1.0);
    CHECK(xai::pointing_game(peak_at(32, 53), region).hit == 0.0);
    // Strict inequality: at 224×224, τ = 15 and a distance of exactly 15 misses.
    const xai::RegionMask big = xai::box_mask(224, 224, {100, 100, 101, 101});
    xai::Map at15 = xt::zeros<float>({224, 224});
    at15(100, 115) = 1.0f;
    CHECK(xai::pointing_game(at15, big).hit == 0.0);
    at15(100, 115) = 0.0f;
    at15(100, 114) = 1.0f;
    CHECK(xai::pointing_game(at15, big).hit == 1.0);
    // Tolerance 0: only a point inside counts.
    xai::PointingGameOptions exact;
    exact.tolerance = 0.0;
    CHECK(xai::pointing_game(peak_at(20, 50), region, exact).hit == 0.0);
    CHECK(xai::pointing_game(peak_at(20, 49), region, exact).hit == 1.0);
}

TEST_CASE("pointing game: tied maxima score the fraction that hits", "[metrics][pointing]") {
    const xai::RegionMask region = xai::box_mask(10, 10, {5, 5, 6, 6});
    xai::PointingGameOptions exact;
    exact.tolerance = 0.0;
    const xai::Map flat = xt::zeros<float>({10, 10});
    const xai::PointingResult r = xai::pointing_game(flat, region, exact);
    CHECK(r.maxima == 100);
    CHECK(r.hit == Approx(0.01));
    CHECK(r.row == 0);
    CHECK(r.column == 0);
    xai::Map two = xt::zeros<float>({10, 10});
    two(5, 5) = 2.0f;
    two(0, 0) = 2.0f;
    CHECK(xai::pointing_game(two, region, exact).hit == 0.5);

    // Accuracy over a set is the mean score.
    xai::Maps maps = xt::zeros<float>({2, 10, 10});
    maps(0, 5, 5) = 1.0f;
    maps(1, 0, 0) = 1.0f;
    xai::RegionMasks regions = xai::RegionMasks::from_shape({2, 10, 10});
    xt::view(regions, 0) = region;
    xt::view(regions, 1) = region;
    const xai::PointingGameResult all = xai::pointing_game(maps, regions);
    CHECK(all.accuracy == 0.5);
    CHECK(all.tolerance == Approx(15.0 * 10.0 / 224.0));
}

TEST_CASE("energy-based pointing game: share of the positive mass inside", "[metrics][pointing]") {
    xai::Map map = {{1.0f, 2.0f}, {3.0f, -4.0f}};
    xai::RegionMask top = {{true, true}, {false, false}};
    CHECK(xai::energy_pointing_game(map, top) == Approx(3.0 / 6.0));  // the −4 carries no energy
    xai::RegionMask corner = {{false, false}, {false, true}};
    CHECK(xai::energy_pointing_game(map, corner) == 0.0);
    // A uniform map scores the region's share of the image; a map without positive mass, 0.
    const xai::RegionMask region = xai::box_mask(8, 8, {0, 0, 2, 8});
    CHECK(xai::energy_pointing_game(xai::Map(xt::ones<float>({8, 8})), region) == Approx(0.25));
    CHECK(xai::energy_pointing_game(xai::Map(xt::zeros<float>({8, 8})), region) == 0.0);
    CHECK(xai::energy_pointing_game(xai::Map(-xt::ones<float>({8, 8})), region) == 0.0);
}

TEST_CASE("pointing games take explanation functions", "[metrics][pointing]") {
    const xai::RegionMask region = xai::box_mask(6, 6, {1, 1, 3, 3});
    const ProbabilityModel model = region_model(6, 6, region);
    const xai::Batch images = ones_batch(2, 1, 6, 6);
    xai::RegionMasks regions = xai::RegionMasks::from_shape({2, 6, 6});
    xt::view(regions, 0) = region;
    xt::view(regions, 1) = region;
    auto explain = [&](const xai::Image&, std::size_t) { return indicator(region); };
    xai::PointingGameOptions exact;
    exact.tolerance = 0.0;
    CHECK(xai::pointing_game(model, images, explain, regions, {}, exact).accuracy == 1.0);
    CHECK(xai::energy_pointing_game(model, images, explain, regions).mean == 1.0);
}

TEST_CASE("pointing games refuse bad input", "[metrics][pointing][errors]") {
    const xai::RegionMask region = xai::box_mask(8, 8, {0, 0, 2, 2});
    const xai::Map map = xt::ones<float>({8, 8});
    const xai::RegionMask empty = xt::zeros<bool>({8, 8});
    CHECK_THROWS_AS(xai::pointing_game(map, empty), xai::invalid_argument);
    CHECK_THROWS_WITH(xai::energy_pointing_game(map, empty), Contains("regions[0] is empty"));
    const xai::RegionMask smaller = xt::ones<bool>({8, 7});
    CHECK_THROWS_AS(xai::pointing_game(map, smaller), xai::shape_error);
    CHECK_THROWS_WITH(xai::energy_pointing_game(map, smaller), Contains("expected the maps' shape [1, 8, 8]"));
    xai::Map inf = map;
    inf(3, 3) = INFINITY;
    CHECK_THROWS_WITH(xai::pointing_game(inf, region), Contains("NaN or Inf"));
    CHECK_THROWS_AS(xai::energy_pointing_game(inf, region), xai::invalid_argument);
    const xai::Map none = xt::zeros<float>({0, 0});
    const xai::RegionMask none_region = xt::zeros<bool>({0, 0});
    CHECK_THROWS_AS(xai::pointing_game(none, none_region), xai::shape_error);
    xai::PointingGameOptions negative;
    negative.tolerance = -1.0;
    CHECK_THROWS_WITH(xai::pointing_game(map, region, negative), Contains("tolerance is -1"));
    xai::PointingGameOptions no_scale;
    no_scale.reference_size = 0.0;
    CHECK_THROWS_WITH(xai::pointing_game(map, region, no_scale), Contains("reference_size"));
    CHECK_THROWS_WITH(xai::box_mask(8, 8, {2, 2, 2, 5}), Contains("is empty"));
    CHECK_THROWS_WITH(xai::box_mask(8, 8, {0, 0, 9, 5}), Contains("leaves the 8×8 image"));
}

// ---- average drop and increase in confidence -----------------------------------------------

namespace {
/// p₀ = σ(x₀₀ + x₀₁ − x₁₀ − x₁₁) on 1×2×2 images: the top row is evidence for class 0, the
/// bottom row against it.
class RowModel {
public:
    xai::Scores forward(const xai::Batch& batch) const {
        xai::Scores out = xt::zeros<float>({batch.shape(0), std::size_t{2}});
        for (std::size_t i = 0; i < batch.shape(0); ++i) {
            const float* x = batch.data() + 4 * i;
            out(i, 0) = x[0] + x[1] - x[2] - x[3];
        }
        return out;
    }
    std::size_t num_classes() const { return 2; }
    xai::ImageShape input_shape() const { return {1, 2, 2}; }
};
double sigmoid(double a) { return 1.0 / (1.0 + std::exp(-a)); }
}  // namespace

TEST_CASE("average drop and increase in confidence against hand-computed values", "[metrics][confidence]") {
    const RowModel model;
    const xai::Batch images = ones_batch(2, 1, 2, 2);  // Y = σ(0) = 0.5 for class 0
    xai::Maps maps = xt::zeros<float>({2, 2, 2});
    maps(0, 0, 0) = maps(0, 0, 1) = 1.0f;  // keeps the evidence for: O = σ(2), an increase
    maps(1, 1, 0) = maps(1, 1, 1) = 1.0f;  // keeps the evidence against: O = σ(−2), a drop
    const xai::ConfidenceResult r = xai::confidence_change(model, images, maps, {0});
    CHECK(r.original[0] == Approx(0.5));
    CHECK(r.explained[0] == Approx(sigmoid(2.0)));
    CHECK(r.explained[1] == Approx(sigmoid(-2.0)));
    CHECK(r.drop[0] == 0.0);
    CHECK(r.drop[1] == Approx((0.5 - sigmoid(-2.0)) / 0.5));
    CHECK(r.average_drop == Approx(100.0 * (0.5 - sigmoid(-2.0)) / 0.5 / 2.0));
    CHECK(r.increase_in_confidence == 50.0);
    // pytorch-grad-cam's CamMultImageConfidenceChange: O − Y.
    CHECK(r.change[0] == Approx(sigmoid(2.0) - 0.5));
    CHECK(r.change[1] == Approx(sigmoid(-2.0) - 0.5));
    CHECK(r.mean_change == Approx((r.change[0] + r.change[1]) / 2.0));
    CHECK(r.mean_change == Approx(0.0).margin(1e-6));  // σ(2) + σ(−2) = 1 = 2 · 0.5

    // Maps are min-max normalized first: 3·map + 7 gives the same result...
    const xai::Maps scaled = 3.0f * maps + 7.0f;
    const xai::ConfidenceResult same = xai::confidence_change(model, images, scaled, {0});
    CHECK(same.explained == r.explained);
    // ...unless normalization is turned off: the image is then multiplied by 7 and 10.
    xai::ConfidenceOptions raw;
    raw.normalize = false;
    const xai::ConfidenceResult unnormalized = xai::confidence_change(model, images, scaled, {0}, raw);
    CHECK(unnormalized.explained[0] == Approx(sigmoid(20.0 - 14.0)));
    // A flat map becomes zeros: a black image, σ(0).
    const xai::Maps flat = xt::ones<float>({2, 2, 2});
    CHECK(xai::confidence_change(model, images, flat, {0}).explained[0] == Approx(0.5));
    // Explanation function form and batch size / threads do not change anything.
    xai::ConfidenceOptions small;
    small.batch_size = 1;
    small.threads = 2;
    auto explain = [&](const xai::Batch&, const std::vector<std::size_t>&) { return maps; };
    const xai::ConfidenceResult f = xai::confidence_change(model, images, explain, {0}, small);
    CHECK(f.explained == r.explained);
    CHECK(f.average_drop == r.average_drop);
    xai::ConfidenceOptions huge;
    huge.batch_size = std::numeric_limits<std::size_t>::max();
    CHECK(xai::confidence_change(model, images, explain, {0}, huge).explained == r.explained);
}

TEST_CASE("confidence change refuses bad input", "[metrics][confidence][errors]") {
    const RowModel model;
    const xai::Batch images = ones_batch(2, 1, 2, 2);
    const xai::Maps wrong = xt::ones<float>({2, 3, 2});
    CHECK_THROWS_AS(xai::confidence_change(model, images, wrong), xai::shape_error);
    CHECK_THROWS_WITH(xai::confidence_change(model, images, wrong), Contains("xai::confidence_change(): maps has shape"));
    xai::Maps nan = xt::ones<float>({2, 2, 2});
    nan(0, 0, 0) = std::nanf("");
    CHECK_THROWS_AS(xai::confidence_change(model, images, nan), xai::invalid_argument);
    xai::ConfidenceOptions zero;
    zero.batch_size = 0;
    CHECK_THROWS_WITH(xai::confidence_change(model, images, xai::Maps(xt::ones<float>({2, 2, 2})), {}, zero),
                      Contains("batch_size is 0"));
}

// ---- Spearman and the model randomization test ---------------------------------------------

TEST_CASE("Spearman's rank correlation averages ties", "[metrics][sanity]") {
    const std::vector<float> a{1, 2, 2, 3}, b{1, 3, 2, 2};
    // ranks (1, 2.5, 2.5, 4) and (1, 4, 2.5, 2.5): ρ = 2.25 / 4.5 (the d² shortcut would give 0.55).
    CHECK(xai::average_ranks(a) == std::vector<double>{1.0, 2.5, 2.5, 4.0});
    CHECK(xai::spearman_correlation(a, b) == Approx(0.5));
    const std::vector<float> c{0, 0, 0, 5, 1}, d{0, 1, 0, 2, 0};
    // ranks (2, 2, 2, 5, 4) and (2, 4, 2, 5, 2), mean 3: Σ dx·dy = 4, Σ dx² = Σ dy² = 8.
    CHECK(xai::spearman_correlation(c, d) == Approx(0.5));
    const std::vector<float> up{0.1f, 0.5f, 0.7f, 3.0f}, squared{0.01f, 0.25f, 0.49f, 9.0f}, down{4, 3, 2, 1};
    CHECK(xai::spearman_correlation(up, squared) == Approx(1.0));
    CHECK(xai::spearman_correlation(up, down) == Approx(-1.0));
    const std::vector<float> flat{2, 2, 2, 2};
    CHECK(xai::spearman_correlation(flat, flat) == 1.0);
    CHECK(xai::spearman_correlation(flat, up) == 0.0);
    CHECK_THROWS_AS(xai::spearman_correlation(up, std::vector<float>{1, 2}), xai::shape_error);
    CHECK_THROWS_WITH(xai::spearman_correlation(up, std::vector<float>{1, 2, NAN, 4}), Contains("NaN or Inf"));
    CHECK_THROWS_AS(xai::spearman_correlation(xai::Map(xt::ones<float>({2, 2})), xai::Map(xt::ones<float>({2, 3}))),
                    xai::shape_error);
}

namespace {
/// A "network" with layers low → act → high on 1×H×W images: logits = [Σ_p w_low(p) w_high(p) x(p), 0].
/// act has no parameters. reinitialize_layer draws a layer's weights from Rng::stream(seed, layer).
class TwoLayerModel {
public:
    explicit TwoLayerModel(std::size_t side) : side_(side), low_(side * side), high_(side * side) {
        for (std::size_t p = 0; p < low_.size(); ++p) {
            low_[p] = 1.0f + static_cast<float>(p);
            high_[p] = 1.0f + static_cast<float>(p % side);
        }
    }
    xai::Scores forward(const xai::Batch& batch) const {
        xai::Scores out = xt::zeros<float>({batch.shape(0), std::size_t{2}});
        for (std::size_t i = 0; i < batch.shape(0); ++i)
            for (std::size_t p = 0; p < low_.size(); ++p) out(i, 0) += low_[p] * high_[p] * batch.data()[i * low_.size() + p];
        return out;
    }
    std::size_t num_classes() const { return 2; }
    xai::ImageShape input_shape() const { return {1, side_, side_}; }
    std::vector<std::string> layer_names() const { return {"low", "act", "high"}; }
    std::vector<xai::ParameterBlock> parameter_blocks() const {
        return {{"low.weight", 0, low_.size()}, {"high.weight", low_.size(), high_.size()}};
    }
    void reinitialize_layer(const std::string& layer, std::uint64_t seed) {
        reinitialized.push_back(layer);
        if (layer == "act") return;
        xai::Rng rng = xai::Rng::stream(seed, layer == "low" ? 0 : 2);
        for (float& w : layer == "low" ? low_ : high_) w = static_cast<float>(rng.uniform(-1.0, 1.0));
    }
    /// Gradient × input of class 0: w_low ⊙ w_high ⊙ x.
    xai::Maps saliency(const xai::Batch& batch) const {
        xai::Maps maps = xai::Maps::from_shape({batch.shape(0), side_, side_});
        for (std::size_t i = 0; i < batch.shape(0); ++i)
            for (std::size_t p = 0; p < low_.size(); ++p)
                maps.data()[i * low_.size() + p] = low_[p] * high_[p] * batch.data()[i * low_.size() + p];
        return maps;
    }
    std::vector<std::string> reinitialized;

private:
    std::size_t side_;
    std::vector<float> low_, high_;
};

/// A test explainer (xai::Explainer) whose maps are `make(model, images, classes)` on the model it
/// was built on: the sanity check rebuilds explainers on every randomized copy, and these tests
/// need maps no library explainer makes (gradient × input, the image itself, signs flipped on
/// purpose), compared as they are (signed, not normalized). Targets are resolved as every
/// explainer resolves them (empty = the predicted class).
template <class Model, class Make>
class MapExplainer {
public:
    MapExplainer(const Model& model, Make make) : model_(&model), make_(std::move(make)) {}

    template <std::same_as<xai::Batch> B>
    xai::Explanation explain(const B& images, const xai::Targets& targets = {}, const xai::Progress& = {}) const {
        xai::Explanation e;
        e.logits = model_->forward(images);
        e.targets = xai::resolve_targets(targets, e.logits, "MapExplainer::explain()");
        e.maps = make_(*model_, images, e.targets);
        e.raw = e.maps;
        return e;
    }
    template <std::same_as<xai::Image> I>
    xai::Explanation explain(const I& image, xai::Target target = xai::Target::predicted(),
                             const xai::Progress& progress = {}) const {
        return explain(xai::as_batch(image), xai::Targets{target}, progress);
    }

private:
    const Model* model_;
    Make make_;
};

/// The factory the sanity check takes: model → MapExplainer(model, make).
template <class Make>
auto map_explainers(Make make) {
    return [make](const auto& model) { return MapExplainer(model, make); };
}

xai::Batch ramp_images(std::size_t n, std::size_t side) {
    xai::Batch b = xai::Batch::from_shape({n, 1, side, side});
    for (std::size_t k = 0; k < b.size(); ++k) b.data()[k] = 0.5f + static_cast<float>((k * 7) % 13) / 13.0f;
    return b;
}
}  // namespace

static_assert(xai::RandomizableModel<TwoLayerModel>);
static_assert(xai::Explainer<MapExplainer<TwoLayerModel, xai::Maps (*)(const TwoLayerModel&, const xai::Batch&,
                                                                       const std::vector<std::size_t>&)>>);

TEST_CASE("model randomization: correlation 1 with nothing randomized, falling as layers are randomized",
          "[metrics][sanity]") {
    const TwoLayerModel model(12);
    const xai::Batch images = ramp_images(2, 12);
    std::vector<std::vector<std::string>> explained_with;
    auto gradient_input = [&](const TwoLayerModel& m, const xai::Batch& b, const std::vector<std::size_t>& t) {
        CHECK(t == std::vector<std::size_t>{0, 0});
        explained_with.push_back(m.reinitialized);
        return m.saliency(b);
    };
    std::size_t progress_calls = 0;
    const xai::Progress progress = [&](const xai::ProgressReport& p) {
        ++progress_calls;
        CHECK(p.total == 3);
    };
    const xai::SanityCheckResult r =
        xai::model_randomization_test(model, map_explainers(gradient_input), images, {}, {}, progress);
    // Default layers: those with parameters, from the top: high, then low ("act" has none).
    REQUIRE(r.steps.size() == 3);
    CHECK(r.steps[0].layer.empty());
    CHECK(r.steps[0].mean_spearman == 1.0);
    CHECK(r.steps[0].mean_spearman_abs == 1.0);
    CHECK(r.steps[1].layer == "high");
    CHECK(r.steps[2].layer == "low");
    CHECK(r.steps[2].randomized == std::vector<std::string>{"high", "low"});  // cascading: cumulative
    CHECK(explained_with.back() == std::vector<std::string>{"high", "low"});
    CHECK(progress_calls == 3);
    // Random weights in [−1, 1]: the signed maps decorrelate; high alone keeps low's ramp.
    CHECK(std::abs(r.steps[2].mean_spearman) < 0.3);
    CHECK(r.steps[1].mean_spearman < 0.9);
    CHECK(r.steps[1].spearman.size() == 2);
    CHECK(r.steps[2].maps.shape(0) == 2);
    CHECK((r.original == model.saliency(images)));

    // A map that ignores the model (the image itself) fails the test: ρ stays 1.
    auto image_only = [](const TwoLayerModel&, const xai::Batch& b, const std::vector<std::size_t>&) {
        return xai::Maps(xt::view(b, xt::all(), 0, xt::all(), xt::all()));
    };
    const xai::SanityCheckResult blind = xai::model_randomization_test(model, map_explainers(image_only), images);
    for (const auto& step : blind.steps) CHECK(step.mean_spearman == 1.0);
}

TEST_CASE("model randomization: the absolute-value variant, independent mode and explicit layers",
          "[metrics][sanity]") {
    const TwoLayerModel model(8);
    const xai::Batch images = ramp_images(1, 8);
    // |map| unchanged but signs scrambled once "high" is randomized: ρ drops, ρ_abs stays 1.
    auto sign_flipper = [](const TwoLayerModel& m, const xai::Batch& b, const std::vector<std::size_t>&) {
        xai::Maps maps = xai::Maps::from_shape({1, 8, 8});
        const bool randomized = !m.reinitialized.empty();
        for (std::size_t p = 0; p < 64; ++p)
            maps.data()[p] = static_cast<float>(p + 1) * (randomized && (p * 5) % 3 == 0 ? -1.0f : 1.0f);
        (void)b;
        return maps;
    };
    xai::SanityCheckOptions only_high;
    only_high.layers = std::vector<std::string>{"high"};
    only_high.keep_maps = false;
    const xai::SanityCheckResult r =
        xai::model_randomization_test(model, map_explainers(sign_flipper), images, {}, only_high);
    REQUIRE(r.steps.size() == 2);
    CHECK(r.steps[1].mean_spearman < 0.5);
    CHECK(r.steps[1].mean_spearman_abs == Approx(1.0));
    CHECK(r.steps[1].maps.size() == 0);

    xai::SanityCheckOptions independent;
    independent.mode = xai::RandomizationMode::independent;
    independent.layers = std::vector<std::string>{"high", "act", "low"};
    auto record = [](const TwoLayerModel& m, const xai::Batch& b, const std::vector<std::size_t>&) {
        CHECK(m.reinitialized.size() <= 1);  // a fresh copy of the model at every step
        return m.saliency(b);
    };
    const xai::SanityCheckResult ind =
        xai::model_randomization_test(model, map_explainers(record), images, {1}, independent);
    REQUIRE(ind.steps.size() == 4);
    CHECK(ind.steps[2].randomized == std::vector<std::string>{"act"});
    CHECK(ind.steps[2].mean_spearman == 1.0);  // a layer without parameters changes nothing
    CHECK(ind.targets == std::vector<std::size_t>{1});

    // Nothing to randomize: only the reproducibility step, ρ = 1.
    xai::SanityCheckOptions none;
    none.layers = std::vector<std::string>{};
    const xai::SanityCheckResult zero = xai::model_randomization_test(model, map_explainers(record), images, {}, none);
    REQUIRE(zero.steps.size() == 1);
    CHECK(zero.steps[0].mean_spearman == 1.0);
}

TEST_CASE("model randomization refuses bad input", "[metrics][sanity][errors]") {
    const TwoLayerModel model(8);
    const xai::Batch images = ramp_images(1, 8);
    auto good = [](const TwoLayerModel& m, const xai::Batch& b, const std::vector<std::size_t>&) { return m.saliency(b); };
    xai::SanityCheckOptions unknown;
    unknown.layers = std::vector<std::string>{"conv9"};
    CHECK_THROWS_WITH(xai::model_randomization_test(model, map_explainers(good), images, {}, unknown),
                      Contains("'conv9'"));
    // Display maps must be at the images' size; raw maps may be at the method's own resolution
    // (a CAM's layer), but one per image and of the same shape at every step.
    auto wrong_size = [](const TwoLayerModel&, const xai::Batch&, const std::vector<std::size_t>&) {
        return xai::Maps(xt::zeros<float>({1, 4, 4}));
    };
    xai::SanityCheckOptions display;
    display.maps = xai::ComparedMaps::display;
    CHECK_THROWS_AS(xai::model_randomization_test(model, map_explainers(wrong_size), images, {}, display),
                    xai::shape_error);
    auto wrong_count = [](const TwoLayerModel&, const xai::Batch&, const std::vector<std::size_t>&) {
        return xai::Maps(xt::zeros<float>({2, 8, 8}));
    };
    CHECK_THROWS_AS(xai::model_randomization_test(model, map_explainers(wrong_count), images), xai::shape_error);
    auto resized_after = [](const TwoLayerModel& m, const xai::Batch& b, const std::vector<std::size_t>&) {
        return m.reinitialized.empty() ? m.saliency(b) : xai::Maps(xt::ones<float>({1, 4, 4}));
    };
    CHECK_THROWS_AS(xai::model_randomization_test(model, map_explainers(resized_after), images), xai::shape_error);
    CHECK_THROWS_WITH(xai::model_randomization_test(model, map_explainers(resized_after), images),
                      Contains("after randomizing 'high'"));
    auto nan_after = [](const TwoLayerModel& m, const xai::Batch& b, const std::vector<std::size_t>&) {
        xai::Maps maps = m.saliency(b);
        if (!m.reinitialized.empty()) maps(0, 1, 1) = std::nanf("");
        return maps;
    };
    CHECK_THROWS_WITH(xai::model_randomization_test(model, map_explainers(nan_after), images),
                      Contains("after randomizing 'high'"));
    CHECK_THROWS_AS(xai::model_randomization_test(model, map_explainers(good), ramp_images(1, 9)), xai::shape_error);
}

static_assert(xai::RandomizableModel<xai::models::Sequential>);

TEST_CASE("model randomization on the built-in CNN: parameter layers from the top, maps change",
          "[metrics][sanity]") {
    using xai::models::Sequential;
    const Sequential model({1, 8, 8},
                           {xai::models::conv2d(4, 3, 1, 1), xai::models::relu(), xai::models::global_avg_pool(),
                            xai::models::linear(3)},
                           5);
    const xai::Batch images = ramp_images(2, 8);
    // Gradient of the target logit with respect to the input, as a map: it depends on every weight.
    auto gradient = [](const Sequential& m, const xai::Batch& b, const std::vector<std::size_t>& t) {
        const xai::InputGradients g = m.input_gradients(b, [&](const xai::Scores& logits) {
            return xai::target_score_gradient(logits, t, xai::ScoreKind::logit);
        });
        return xai::Maps(xt::view(g.gradients, xt::all(), 0, xt::all(), xt::all()));
    };
    const xai::SanityCheckResult r = xai::model_randomization_test(model, map_explainers(gradient), images);
    REQUIRE(r.steps.size() == 3);  // none, fc, conv1: relu and gap own no parameters
    CHECK(r.steps[1].layer == "fc");
    CHECK(r.steps[2].layer == "conv1");
    CHECK(r.steps[0].mean_spearman == 1.0);
    CHECK(r.steps[2].mean_spearman < 0.9);
    CHECK(r.steps[2].randomized == std::vector<std::string>{"fc", "conv1"});
}

TEST_CASE("metrics take an explainer as it is; the sanity check takes an explainer template and its options",
          "[metrics][sanity][deletion]") {
    using xai::models::Sequential;
    const Sequential model({1, 8, 8},
                           {xai::models::conv2d(4, 3, 1, 1), xai::models::relu(), xai::models::global_avg_pool(),
                            xai::models::linear(3)},
                           5);
    const xai::Batch images = ramp_images(2, 8);
    const xai::GradCam<Sequential> grad_cam(model, {.layer = "relu1"});
    // The metric explains the resolved targets (the predicted classes) and scores the display maps.
    const std::vector<std::size_t> predicted = xai::argmax_rows(model.forward(images));
    const xai::Maps maps = grad_cam.explain(images, xai::Targets(predicted.begin(), predicted.end())).maps;
    CHECK((xai::deletion(model, images, grad_cam).scores == xai::deletion(model, images, maps).scores));
    CHECK((xai::insertion(model, images, grad_cam, {1}).scores ==
           xai::insertion(model, images, grad_cam.explain(images, {1}).maps, {1}).scores));
    CHECK(xai::confidence_change(model, images, grad_cam).explained ==
          xai::confidence_change(model, images, maps).explained);
    // The template form builds E<M>(copy, options) at every step, as the factory form does.
    const xai::SanityCheckResult by_template =
        xai::model_randomization_test<xai::GradCam>(model, xai::CamOptions{.layer = "relu1"}, images);
    const xai::SanityCheckResult by_factory = xai::model_randomization_test(
        model, [](const Sequential& m) { return xai::GradCam<Sequential>(m, {.layer = "relu1"}); }, images);
    REQUIRE(by_template.steps.size() == 3);
    REQUIRE(by_factory.steps.size() == 3);
    // Compared: the signed raw maps by default (the paper), the display maps on request.
    CHECK((by_template.original == grad_cam.explain(images, xai::Targets(predicted.begin(), predicted.end())).raw));
    xai::SanityCheckOptions display;
    display.maps = xai::ComparedMaps::display;
    CHECK((xai::model_randomization_test<xai::GradCam>(model, xai::CamOptions{.layer = "relu1"}, images, {}, display)
               .original == maps));
    CHECK(by_template.targets == predicted);
    CHECK(by_template.steps[0].mean_spearman == 1.0);
    for (std::size_t s = 0; s < 3; ++s) {
        CHECK(by_template.steps[s].layer == by_factory.steps[s].layer);
        CHECK(by_template.steps[s].spearman == by_factory.steps[s].spearman);
    }
}

TEST_CASE("sparseness (Gini index) and complexity (entropy) of maps by hand", "[metrics][sparseness]") {
    // 4 pixels. One non-zero pixel: Gini (n − 1)/n = 3/4, entropy 0. Uniform: Gini 0, entropy
    // ln 4. |a| sorted (0, 1, 1, 2) (signs do not matter): Gini = (−3·0 − 1·1 + 1·1 + 3·2)/(4·4)
    // = 6/16; P = (0, ¼, ¼, ½): H = −(2·¼ ln ¼ + ½ ln ½) = 1.5 ln 2.
    xai::Maps maps = xt::zeros<float>({3, 2, 2});
    maps(0, 1, 0) = 5.0f;
    xt::view(maps, 1) = 0.25f;
    maps(2, 0, 1) = -1.0f;
    maps(2, 1, 0) = 1.0f;
    maps(2, 1, 1) = 2.0f;
    const std::vector<double> g = xai::sparseness(maps), h = xai::complexity(maps);
    CHECK(g[0] == Approx(0.75));
    CHECK(g[1] == Approx(0.0).margin(1e-12));
    CHECK(g[2] == Approx(6.0 / 16.0));
    CHECK(h[0] == Approx(0.0).margin(1e-12));
    CHECK(h[1] == Approx(std::log(4.0)));
    CHECK(h[2] == Approx(1.5 * std::log(2.0)));
    const xai::Maps zero = xt::zeros<float>({1, 2, 2});
    CHECK_THROWS_WITH(xai::sparseness(zero), Contains("xai::sparseness(): map 0 is all zeros"));
    CHECK_THROWS_WITH(xai::complexity(zero), Contains("xai::complexity(): map 0 is all zeros"));
    xai::Maps nan = xt::ones<float>({1, 2, 2});
    nan(0, 0, 0) = std::numeric_limits<float>::quiet_NaN();
    CHECK_THROWS_WITH(xai::complexity(nan), Contains("contains NaN or Inf"));
}

TEST_CASE("infidelity (Yeh et al. 2019, as Captum) by identities of a linear model", "[metrics][robustness]") {
    // RowModel's logit 0 is wᵀx with w = (1, 1, −1, −1): f(x) − f(x − I) = wᵀI exactly, so
    // the map φ = w has infidelity 0, and φ = 0 and φ = 2w both leave the residual ±wᵀI: equal
    // values, whose expectation is σ² ‖w‖² = 4σ².
    const RowModel model;
    const xai::Batch images = ones_batch(2, 1, 2, 2);
    xai::Maps exact = xt::zeros<float>({2, 2, 2});
    for (std::size_t i = 0; i < 2; ++i) {
        exact(i, 0, 0) = exact(i, 0, 1) = 1.0f;
        exact(i, 1, 0) = exact(i, 1, 1) = -1.0f;
    }
    const xai::RobustnessResult zero = xai::infidelity(model, images, exact, {0});
    CHECK(zero.values[0] < 1e-10);
    CHECK(zero.targets == std::vector<std::size_t>{0, 0});
    xai::InfidelityOptions many{.samples = 4000, .noise_std = 0.003, .seed = 5};
    const xai::Maps none = xt::zeros<float>({2, 2, 2});
    const xai::RobustnessResult a = xai::infidelity(model, images, none, {0}, many);
    const xai::RobustnessResult b = xai::infidelity(model, images, xai::Maps(2.0f * exact), {0}, many);
    CHECK(a.values[0] == Approx(b.values[0]).epsilon(1e-3));
    CHECK(a.values[0] == Approx(4.0 * 0.003 * 0.003).epsilon(0.1));
    CHECK(a.mean == Approx((a.values[0] + a.values[1]) / 2.0));
    CHECK(a.values[0] != a.values[1]);  // each image its own noise stream
    CHECK_THROWS_WITH(xai::infidelity(model, images, none, {0}, {.samples = 0}),
                      Contains("xai::infidelity(): options.samples is 0"));
    CHECK_THROWS_WITH(xai::infidelity(model, images, none, {0}, {.noise_std = -1.0}),
                      Contains("options.noise_std is -1, expected a finite value > 0"));
}

TEST_CASE("max-sensitivity (Yeh et al. 2019, as Captum) by identities of explanation functions",
          "[metrics][robustness]") {
    // φ(y) = c·y: max ‖c δ‖ / ‖c x‖ is the same for every c; φ(y) = y + 10 divides the same
    // numerator by ‖x + 10‖ = 22 instead of ‖x‖ = 2 (x = ones 2×2); every δ lies in the L∞ ball
    // of radius r, so the value is at most r √4 / ‖x‖ = r.
    const RowModel model;
    const xai::Batch images = ones_batch(1, 1, 2, 2);
    const auto scaled = [](float c) {
        return [c](const xai::Image& y, std::size_t) { return xai::Map(c * xt::view(y, 0)); };
    };
    const auto shifted = [](const xai::Image& y, std::size_t) { return xai::Map(xt::view(y, 0) + 10.0f); };
    const auto constant = [](const xai::Image&, std::size_t) { return xai::Map(xt::ones<float>({2, 2})); };
    const xai::RobustnessResult one = xai::max_sensitivity(model, images, scaled(1.0f), {0});
    const xai::RobustnessResult three = xai::max_sensitivity(model, images, scaled(3.0f), {0});
    CHECK(one.values[0] > 0.0);
    CHECK(one.values[0] <= 0.02 + 1e-6);
    CHECK(three.values[0] == Approx(one.values[0]).epsilon(1e-4));
    CHECK(xai::max_sensitivity(model, images, shifted, {0}).values[0] == Approx(one.values[0] * 2.0 / 22.0).epsilon(1e-3));
    CHECK(xai::max_sensitivity(model, images, constant, {0}).values[0] == 0.0);
    CHECK_THROWS_WITH(xai::max_sensitivity(model, images, constant, {0}, {.radius = 0.0}),
                      Contains("xai::max_sensitivity(): options.radius is 0, expected a finite value > 0"));
}

// ---- ROAD ---------------------------------------------------------------------------------

namespace {

/// Σ w v / Σ w over the in-image 8-neighbours of (y, x) of channel c, weights 1/6 (direct) and
/// 1/12 (diagonal): what the noiseless imputation must satisfy at every removed pixel.
double neighbour_mean(const xai::Image& image, std::size_t c, std::ptrdiff_t y, std::ptrdiff_t x) {
    double sum = 0.0, total = 0.0;
    for (std::ptrdiff_t dy = -1; dy <= 1; ++dy)
        for (std::ptrdiff_t dx = -1; dx <= 1; ++dx) {
            if (dy == 0 && dx == 0) continue;
            const std::ptrdiff_t ny = y + dy, nx = x + dx;
            if (ny < 0 || nx < 0 || ny >= static_cast<std::ptrdiff_t>(image.shape(1)) ||
                nx >= static_cast<std::ptrdiff_t>(image.shape(2)))
                continue;
            const double w = (dy == 0 || dx == 0) ? 1.0 / 6.0 : 1.0 / 12.0;
            sum += w * image(c, static_cast<std::size_t>(ny), static_cast<std::size_t>(nx));
            total += w;
        }
    return sum / total;
}

/// Two classes: logit 0 is the pixel at (2, 3) of a 1×6×6 image, logit 1 is 0.
class PixelModel {
public:
    xai::Scores forward(const xai::Batch& batch) const {
        xai::Scores out = xt::zeros<float>({batch.shape(0), std::size_t{2}});
        for (std::size_t i = 0; i < batch.shape(0); ++i) out(i, 0) = batch(i, 0, 2, 3);
        return out;
    }
    std::size_t num_classes() const { return 2; }
    xai::ImageShape input_shape() const { return {1, 6, 6}; }
};

}  // namespace

TEST_CASE("ROAD's imputation: a linear ramp is imputed exactly; a hand-computed 3×3 case", "[metrics][road]") {
    xai::Image ramp = xai::Image::from_shape({2, 5, 6});
    for (std::size_t y = 0; y < 5; ++y)
        for (std::size_t x = 0; x < 6; ++x) {
            ramp(0, y, x) = 0.3f * static_cast<float>(y) + 0.7f * static_cast<float>(x) + 0.1f;
            ramp(1, y, x) = -0.2f * static_cast<float>(y) + 0.05f * static_cast<float>(x);
        }
    xai::RegionMask removed = xt::zeros<bool>({5, 6});  // interior pixels only: the weights are symmetric there
    for (std::size_t y = 1; y < 4; ++y)
        for (std::size_t x = 1; x < 4; ++x) removed(y, x) = true;
    removed(2, 4) = true;
    xai::Image holed = ramp;
    for (std::size_t c = 0; c < 2; ++c)
        for (std::size_t y = 0; y < 5; ++y)
            for (std::size_t x = 0; x < 6; ++x)
                if (removed(y, x)) holed(c, y, x) = 9.0f;  // the removed values must not leak
    CHECK(xt::allclose(xai::noisy_linear_imputation(holed, removed, 0.0), ramp, 1e-5, 1e-5));

    // 3×3, only the centre removed: (1/6)(2 + 4 + 6 + 8) + (1/12)(1 + 3 + 7 + 9) = 5;
    // only the corner (0, 0): ((1/6)(2 + 4) + (1/12)·5) / (5/12) = 17/5.
    xai::Image small = xai::Image::from_shape({1, 3, 3});
    for (std::size_t p = 0; p < 9; ++p) small.data()[p] = static_cast<float>(p + 1);
    small(0, 1, 1) = 0.0f;
    xai::RegionMask centre = xt::zeros<bool>({3, 3});
    centre(1, 1) = true;
    CHECK(xai::noisy_linear_imputation(small, centre, 0.0)(0, 1, 1) == Approx(5.0));
    xai::RegionMask corner = xt::zeros<bool>({3, 3});
    corner(0, 0) = true;
    CHECK(xai::noisy_linear_imputation(small, corner, 0.0)(0, 0, 0) == Approx(((2.0 + 4.0) / 6.0 + 0.0 / 12.0) / (5.0 / 12.0)));
}

TEST_CASE("ROAD's imputation solves the neighbour-mean system, as a dense solve does; noise is seeded",
          "[metrics][road]") {
    const std::size_t h = 6, w = 7;
    xai::Rng rng = xai::Rng::stream(3, 0);
    xai::Image image = xai::Image::from_shape({2, h, w});
    for (float& v : image) v = rng.uniform_float();
    xai::RegionMask removed = xt::zeros<bool>({h, w});
    for (bool& r : removed) r = rng.uniform() < 0.6;  // border pixels and large holes included
    removed(0, 0) = false;
    const xai::Image out = xai::noisy_linear_imputation(image, removed, 0.0);

    // The same system built densely and solved by full-pivoting LU.
    std::vector<std::size_t> unknown;
    for (std::size_t p = 0; p < h * w; ++p)
        if (removed.data()[p]) unknown.push_back(p);
    const auto m = static_cast<Eigen::Index>(unknown.size());
    Eigen::MatrixXd a = Eigen::MatrixXd::Zero(m, m), b = Eigen::MatrixXd::Zero(m, 2);
    for (Eigen::Index r = 0; r < m; ++r) {
        const auto y = static_cast<std::ptrdiff_t>(unknown[static_cast<std::size_t>(r)] / w);
        const auto x = static_cast<std::ptrdiff_t>(unknown[static_cast<std::size_t>(r)] % w);
        for (std::ptrdiff_t dy = -1; dy <= 1; ++dy)
            for (std::ptrdiff_t dx = -1; dx <= 1; ++dx) {
                const std::ptrdiff_t ny = y + dy, nx = x + dx;
                if ((dy == 0 && dx == 0) || ny < 0 || nx < 0 || ny >= static_cast<std::ptrdiff_t>(h) ||
                    nx >= static_cast<std::ptrdiff_t>(w))
                    continue;
                const double wt = (dy == 0 || dx == 0) ? 1.0 / 6.0 : 1.0 / 12.0;
                const std::size_t q = static_cast<std::size_t>(ny) * w + static_cast<std::size_t>(nx);
                a(r, r) += wt;
                const auto it = std::find(unknown.begin(), unknown.end(), q);
                if (it != unknown.end()) a(r, it - unknown.begin()) -= wt;
                else for (Eigen::Index c = 0; c < 2; ++c) b(r, c) += wt * image(static_cast<std::size_t>(c), static_cast<std::size_t>(ny), static_cast<std::size_t>(nx));
            }
    }
    const Eigen::MatrixXd dense = a.fullPivLu().solve(b);
    for (Eigen::Index r = 0; r < m; ++r)
        for (std::size_t c = 0; c < 2; ++c) {
            const std::size_t p = unknown[static_cast<std::size_t>(r)];
            CHECK(out(c, p / w, p % w) == Approx(dense(r, static_cast<Eigen::Index>(c))).margin(1e-5));
            CHECK(out(c, p / w, p % w) == Approx(neighbour_mean(out, c, static_cast<std::ptrdiff_t>(p / w),
                                                                static_cast<std::ptrdiff_t>(p % w))).margin(1e-5));
        }
    for (std::size_t p = 0; p < h * w; ++p)
        if (!removed.data()[p]) CHECK(out(0, p / w, p % w) == image(0, p / w, p % w));

    // Noise: N(0, σ²) on the imputed values only, the same for the same seed.
    const xai::Image noisy = xai::noisy_linear_imputation(image, removed, 0.5, 9);
    CHECK((noisy == xai::noisy_linear_imputation(image, removed, 0.5, 9)));
    double sum2 = 0.0;
    for (std::size_t c = 0; c < 2; ++c)
        for (std::size_t p = 0; p < h * w; ++p) {
            const double d = noisy(c, p / w, p % w) - out(c, p / w, p % w);
            if (!removed.data()[p]) CHECK(d == 0.0);
            sum2 += d * d;
        }
    CHECK(std::sqrt(sum2 / (2.0 * static_cast<double>(m))) == Approx(0.5).epsilon(0.3));
}

TEST_CASE("ROAD on a model whose answer is known: MoRF −1, LeRF 0, combined 0.5", "[metrics][road]") {
    const PixelModel model;
    xai::Batch images = xt::zeros<float>({1, 1, 6, 6});
    images(0, 0, 2, 3) = 1.0f;
    const xai::Maps maps = xt::view(images, xt::all(), 0, xt::all(), xt::all());
    // MoRF removes the pixel first and imputes it from zeros (0); LeRF removes at most 32 of the
    // 36 pixels, the zeros first, and keeps it.
    const xai::RoadResult r = xai::road(model, images, maps, {0}, {.noise = 0.0, .score = xai::ScoreKind::logit});
    REQUIRE(r.removed.size() == 9);
    CHECK(r.removed.front() == Approx(32.0 / 36.0));  // 36 − ⌈0.1 · 35⌉
    CHECK(r.removed.back() == Approx(4.0 / 36.0));    // 36 − ⌈0.9 · 35⌉
    CHECK(r.original[0] == 1.0f);
    for (std::size_t c = 0; c < 9; ++c) {
        CHECK(r.morf(0, c) == Approx(-1.0));
        CHECK(r.lerf(0, c) == 0.0f);
    }
    CHECK(r.combined[0] == Approx(0.5));
    CHECK(r.mean_combined == Approx(0.5));
    // A target function is scored by its value: p₀ = σ(logit 0) goes from σ(1) to σ(0).
    const xai::RoadResult p = xai::road(model, images, maps, {xai::Target::function(xai::targets::class_probability(0))},
                                        {.noise = 0.0});
    CHECK(p.morf(0, 4) == Approx(0.5 - sigmoid(1.0)));
    CHECK(p.combined[0] == Approx((sigmoid(1.0) - 0.5) / 2.0));
    // The probability of the class (the default score) agrees.
    CHECK(xai::road(model, images, maps, {0}, {.noise = 0.0}).combined[0] == Approx(p.combined[0]));

    // pytorch-grad-cam keeps the pixels with map < np.percentile(map, p) (linear interpolation):
    // for distinct values, as many as removed here.
    for (std::size_t n : {10u, 36u, 101u, 224u})
        for (double pct : {10.0, 25.0, 50.0, 80.0, 90.0}) {
            const double index = pct / 100.0 * static_cast<double>(n - 1);  // values 0, 1, …, n − 1
            const double threshold = index;                                  // interpolates to itself
            std::size_t kept = 0;
            for (std::size_t v = 0; v < n; ++v) kept += static_cast<double>(v) < threshold ? 1 : 0;
            CHECK(n - kept == xai::detail::road_removed_count(pct, n));
        }
}

TEST_CASE("ROAD refuses bad input", "[metrics][road][errors]") {
    const PixelModel model;
    const xai::Batch images = xt::zeros<float>({1, 1, 6, 6});
    const xai::Maps maps = xt::zeros<float>({1, 6, 6});
    CHECK_THROWS_WITH(xai::road(model, images, maps, {}, {.percentiles = {}}), Contains("xai::road(): percentiles is empty"));
    CHECK_THROWS_WITH(xai::road(model, images, maps, {}, {.percentiles = {100.0}}),
                      Contains("a percentile is 100, expected a value in (0, 100)"));
    CHECK_THROWS_WITH(xai::road(model, images, maps, {}, {.noise = -1.0}), Contains("noise is -1"));
    CHECK_THROWS_WITH(xai::road(model, images, xai::Maps(xt::zeros<float>({1, 5, 6}))), Contains("maps has shape"));
    CHECK_THROWS_WITH(xai::noisy_linear_imputation(xai::Image(xt::zeros<float>({1, 2, 2})), xai::RegionMask(xt::ones<bool>({2, 2}))),
                      Contains("every pixel is removed"));
}

TEST_CASE("deletion and the confidence change score a target function by its value, by hand", "[metrics][targets]") {
    // RowModel's logit 0 = x0 + x1 − x2 − x3; the target function is that logit itself.
    const RowModel model;
    const xai::Batch images = xt::ones<float>({1, 1, 2, 2});
    xai::Maps maps = xai::Maps::from_shape({1, 2, 2});
    maps(0, 0, 0) = 4.0f;
    maps(0, 0, 1) = 3.0f;
    maps(0, 1, 0) = 2.0f;
    maps(0, 1, 1) = 1.0f;
    const xai::Targets logit{xai::Target::function(xai::targets::class_logit(0))};
    // Pixels set to 0 in the order x0, x1, x2, x3: the logit goes 0, −1, −2, −1, 0; its area is
    // ¼ · (−½ − 3/2 − 3/2 − ½) = −1.
    const xai::CausalCurves d = xai::deletion(model, images, maps, logit, {.pixels_per_step = 1});
    const std::vector<float> expected{0.0f, -1.0f, -2.0f, -1.0f, 0.0f};
    for (std::size_t s = 0; s < 5; ++s) CHECK(d.scores(0, s) == Approx(expected[s]).margin(1e-6));
    CHECK(d.auc[0] == Approx(-1.0));
    CHECK(d.targets == std::vector<std::size_t>{0});
    // class_probability(0) is the class index's own score.
    const xai::CausalCurves p = xai::deletion(model, images, maps, {xai::Target::function(xai::targets::class_probability(0))},
                                              {.pixels_per_step = 1});
    const xai::CausalCurves c = xai::deletion(model, images, maps, {0}, {.pixels_per_step = 1});
    CHECK(xt::allclose(p.scores, c.scores));
    // The confidence change multiplies by the normalized map [1, ⅔, ⅓, 0]: logit 1 + ⅔ − ⅓ = 4/3.
    const xai::ConfidenceResult r = xai::confidence_change(model, images, maps, logit);
    CHECK(r.original[0] == Approx(0.0).margin(1e-6));
    CHECK(r.explained[0] == Approx(4.0 / 3.0));
    CHECK(r.change[0] == Approx(4.0 / 3.0));
    // An explainer is asked to explain the target function itself, other targets as classes.
    CHECK(xai::detail::explainer_targets(logit, {0}).at(0).is_function());
    CHECK_FALSE(xai::detail::explainer_targets({}, {1}).at(0).is_function());
}
