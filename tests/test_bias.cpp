// Tests of the bias audit (include/xai/audit/) and of the spurious cue of the scenes generator
// (SpuriousCue, data/scenes.hpp); with Debian's dataset-fashion-mnist installed, of the shipped
// biased model: its accuracy falls when the cue is decorrelated, and Grad-CAM puts far more of
// its attribution on the cue for it than for the clean scenes model.
#include <catch2/catch.hpp>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstddef>
#include <limits>
#include <numeric>
#include <string>
#include <vector>

#include "perturbation_toys.hpp"
#include "scene_items.hpp"
#include "xai/audit.hpp"
#include "xai/cam.hpp"
#include "xai/core/random.hpp"
#include "xai/data/fashion_mnist.hpp"
#include "xai/data/scenes.hpp"
#include "xai/models/builtin.hpp"
#include "xai/models/training.hpp"

using Catch::Matchers::Contains;

namespace {

/// The discs of scene_items.hpp, values 0.3 + 0.05·i.
xai::Batch disc_items(std::size_t n) { return toy::disc_items(n, 0.05f); }

xai::Labels labels_mod_10(std::size_t n) {
    xai::Labels labels(n);
    for (std::size_t i = 0; i < n; ++i) labels[i] = i % 10;
    return labels;
}

/// Two 4×4 images in three regions: 0 background, 1 object (rows 0–1), 2 cue (pixel (3, 3)).
xai::RegionLabels three_regions(std::size_t n = 2) {
    xai::RegionLabels r = xt::zeros<std::uint8_t>({n, std::size_t{4}, std::size_t{4}});
    for (std::size_t i = 0; i < n; ++i) {
        for (std::size_t y = 0; y < 2; ++y)
            for (std::size_t x = 0; x < 4; ++x) r(i, y, x) = 1;
        r(i, 3, 3) = 2;
    }
    return r;
}

const std::vector<std::string> names = {"background", "object", "cue"};

}  // namespace

TEST_CASE("region shares sum to 1 per image, whatever the signs of the map", "[audit][shares]") {
    xai::Rng rng(3);
    xai::Maps maps = xai::Maps::from_shape({5, 4, 4});
    for (float& v : maps) v = static_cast<float>(rng.uniform(-1.0, 1.0));
    const xai::RegionShares s = xai::region_shares(maps, three_regions(5), 3);
    for (std::size_t i = 0; i < 5; ++i) {
        CHECK(s.attributed[i] == 1);
        CHECK(s.shares(i, 0) + s.shares(i, 1) + s.shares(i, 2) == Approx(1.0).epsilon(1e-12));
        CHECK(s.area(i, 0) + s.area(i, 1) + s.area(i, 2) == Approx(1.0));
        // By hand: positive mass per region over the total.
        double region[3] = {0, 0, 0}, total = 0;
        for (std::size_t y = 0; y < 4; ++y)
            for (std::size_t x = 0; x < 4; ++x) {
                const double v = std::max(0.0f, maps(i, y, x));
                region[y < 2 ? 1 : (y == 3 && x == 3 ? 2 : 0)] += v;
                total += v;
            }
        for (std::size_t r = 0; r < 3; ++r) CHECK(s.shares(i, r) == Approx(region[r] / total));
    }
    CHECK(s.area(0, 1) == 0.5);
    CHECK(s.area(0, 2) == 1.0 / 16.0);
}

TEST_CASE("a map that is 1 exactly on the cue gives the cue a share of 1", "[audit][shares]") {
    const xai::RegionLabels regions = three_regions();
    xai::Maps maps = xt::zeros<float>({std::size_t{2}, std::size_t{4}, std::size_t{4}});
    maps(0, 3, 3) = 1.0f;
    maps(1, 3, 3) = 1.0f;
    maps(1, 0, 0) = -5.0f;  // evidence against the class carries no share
    const xai::RegionShares s = xai::region_shares(maps, regions, 3);
    for (std::size_t i = 0; i < 2; ++i) {
        CHECK(s.shares(i, 2) == 1.0);
        CHECK(s.shares(i, 1) == 0.0);
    }
    // A uniform map gives each region its area; a map without positive mass is flagged.
    xai::Maps uniform = xt::ones<float>({std::size_t{2}, std::size_t{4}, std::size_t{4}});
    xt::view(uniform, 1) = xt::zeros<float>({std::size_t{4}, std::size_t{4}});
    const xai::RegionShares u = xai::region_shares(uniform, regions, 3);
    CHECK(u.shares(0, 1) == 0.5);
    CHECK(u.shares(0, 2) == 1.0 / 16.0);
    CHECK(u.attributed[1] == 0);
    CHECK(u.shares(1, 0) + u.shares(1, 1) + u.shares(1, 2) == 0.0);
}

TEST_CASE("label_regions builds labels from masks and refuses overlaps", "[audit][shares]") {
    xai::RegionMasks object = xt::zeros<bool>({std::size_t{1}, std::size_t{2}, std::size_t{3}});
    xai::RegionMasks cue = object;
    object(0, 0, 0) = object(0, 0, 1) = true;
    cue(0, 1, 2) = true;
    const xai::RegionLabels r = xai::label_regions({object, cue});
    CHECK(r(0, 0, 0) == 1);
    CHECK(r(0, 1, 2) == 2);
    CHECK(r(0, 1, 0) == 0);
    cue(0, 0, 1) = true;
    CHECK_THROWS_WITH(xai::label_regions({object, cue}), Contains("pixel 1 of image 0 lies in masks[0] and masks[1]"));
    CHECK_THROWS_AS(xai::label_regions({object, xai::RegionMasks(xt::zeros<bool>({std::size_t{1}, std::size_t{3}, std::size_t{3}}))}),
                    xai::shape_error);
    CHECK_THROWS_WITH(xai::label_regions({}), Contains("0 masks"));
}

TEST_CASE("the audit: per-class means with percentile-bootstrap intervals", "[audit]") {
    // 40 images of class 0 whose cue share is 0.5 (maps 1 on the cue and on one object pixel) and
    // 40 of class 1 whose cue share is 0 or 1 alternately.
    const std::size_t n = 80;
    xai::RegionLabels regions = three_regions(n);
    xai::Maps maps = xt::zeros<float>({n, std::size_t{4}, std::size_t{4}});
    std::vector<std::size_t> targets(n);
    for (std::size_t i = 0; i < n; ++i) {
        targets[i] = i < 40 ? 0 : 1;
        if (i < 40) {
            maps(i, 3, 3) = 1.0f;
            maps(i, 0, 0) = 1.0f;
        } else {
            (i % 2 == 0 ? maps(i, 3, 3) : maps(i, 1, 1)) = 1.0f;
        }
    }
    maps(79, 1, 1) = 0.0f;  // no positive mass: left out
    const xai::AttributionAudit a = xai::audit_attribution(maps, regions, names, targets, {.resamples = 4000, .seed = 9});
    CHECK(a.unattributed == 1);
    REQUIRE(a.classes == std::vector<std::size_t>{0, 1});
    const std::size_t cue = a.region("cue");
    CHECK(cue == 2);
    // Class 0: every share 0.5, so every resample's mean is 0.5: a zero-width interval.
    CHECK(a.per_class[0][cue].mean == 0.5);
    CHECK(a.per_class[0][cue].low == 0.5);
    CHECK(a.per_class[0][cue].high == 0.5);
    CHECK(a.per_class[0][cue].images == 40);
    // Class 1: 20 ones and 19 zeros: mean 20/39; the bootstrap mean's standard deviation is
    // √(p(1 − p)/39) ≈ 0.080, so the 95% interval spans about ±1.96 of it.
    const xai::ShareEstimate& c1 = a.per_class[1][cue];
    CHECK(c1.images == 39);
    CHECK(c1.mean == Approx(20.0 / 39.0));
    const double sd = std::sqrt((20.0 / 39.0) * (19.0 / 39.0) / 39.0);
    CHECK(c1.high - c1.low == Approx(2 * 1.96 * sd).epsilon(0.12));
    CHECK(c1.low < c1.mean);
    CHECK(c1.high > c1.mean);
    // Overall over the 79 attributed images; the area of the cue is 1/16.
    CHECK(a.overall[cue].mean == Approx((20.0 + 20.0) / 79.0));
    CHECK(a.area[cue] == Approx(1.0 / 16.0));
    // Reproducible, and another seed moves only the interval.
    const xai::AttributionAudit again = xai::audit_attribution(maps, regions, names, targets, {.resamples = 4000, .seed = 9});
    CHECK(again.per_class[1][cue].low == c1.low);
    // Where the model relies on the cue most: the images with share 1 first, in index order.
    const std::vector<std::size_t> top = a.most_reliant(cue, 3);
    CHECK(top == std::vector<std::size_t>{40, 42, 44});
    CHECK(xai::detail::sorted_quantile({1.0, 2.0, 3.0, 4.0}, 0.5) == 2.5);
    CHECK(xai::detail::sorted_quantile({1.0, 2.0, 3.0, 4.0}, 0.025) == Approx(1.075));
}

TEST_CASE("separation AUC: hand-computed cases and a brute-force count of pairs", "[audit][separation]") {
    CHECK(xai::separation_auc({3, 4}, {1, 2}) == 1.0);
    CHECK(xai::separation_auc({1, 2}, {3, 4}) == 0.0);
    CHECK(xai::separation_auc({1}, {1}) == 0.5);
    CHECK(xai::separation_auc({1, 3}, {2}) == 0.5);
    CHECK(xai::separation_auc({2, 2}, {1, 2, 3}) == 0.5);
    CHECK(xai::separation_auc({0.9, 0.8, 0.1}, {0.2, 0.3}) == Approx(4.0 / 6.0));
    xai::Rng rng(11);
    std::vector<double> a(57), b(43);
    for (double& v : a) v = static_cast<double>(rng.uniform_index(7));
    for (double& v : b) v = static_cast<double>(rng.uniform_index(5));
    double pairs = 0.0;
    for (double x : a)
        for (double y : b) pairs += x > y ? 1.0 : (x == y ? 0.5 : 0.0);
    CHECK(xai::separation_auc(a, b) == Approx(pairs / (57.0 * 43.0)).epsilon(1e-12));
    CHECK_THROWS_WITH(xai::separation_auc({}, {1}), Contains("0 and 1 values"));
    CHECK_THROWS_WITH(xai::separation_auc({std::numeric_limits<double>::quiet_NaN()}, {1}), Contains("expected finite"));
}

TEST_CASE("the audit takes an explainer or an explanation function; bad input is refused", "[audit][errors]") {
    const xai::ImageShape shape{1, 4, 4};
    const toy::FunctionModel model = toy::constant_model(shape, {0.0f, 1.0f});
    const xai::Batch images = xt::zeros<float>({std::size_t{2}, std::size_t{1}, std::size_t{4}, std::size_t{4}});
    auto on_cue = [](const xai::Image&, std::size_t) {
        xai::Map m = xt::zeros<float>({std::size_t{4}, std::size_t{4}});
        m(3, 3) = 1.0f;
        return m;
    };
    const xai::AttributionAudit a = xai::audit_attribution(model, images, on_cue, three_regions(), names);
    CHECK(a.targets == std::vector<std::size_t>{1, 1});  // the predicted class
    CHECK(a.overall[2].mean == 1.0);
    const xai::Maps maps = xt::ones<float>({std::size_t{2}, std::size_t{4}, std::size_t{4}});
    CHECK_THROWS_WITH(xai::audit_attribution(maps, three_regions(), names, {0}), Contains("targets has 1 entries"));
    CHECK_THROWS_WITH(xai::audit_attribution(maps, three_regions(), {"a", "b"}, {0, 0}), Contains("regions holds label 2"));
    CHECK_THROWS_WITH(xai::audit_attribution(maps, three_regions(), names, {0, 0}, {.resamples = 1}), Contains("resamples is 1"));
    CHECK_THROWS_WITH(xai::audit_attribution(maps, three_regions(), names, {0, 0}, {.confidence = 1.0}), Contains("confidence is 1"));
    CHECK_THROWS_WITH(xai::audit_attribution(maps, three_regions(), {}, {0, 0}), Contains("region_names is empty"));
    CHECK_THROWS_AS(xai::region_shares(maps, three_regions(3), 3), xai::shape_error);
    xai::Maps bad = maps;
    bad(0, 0, 0) = std::numeric_limits<float>::quiet_NaN();
    CHECK_THROWS_WITH(xai::region_shares(bad, three_regions(), 3), Contains("maps contains NaN or Inf"));
    CHECK_THROWS_WITH(a.region("sky"), Contains("no region named 'sky'"));
    CHECK_THROWS_WITH(a.most_reliant(3, 1), Contains("region 3 is out of range"));
}

TEST_CASE("cue codes differ pairwise in at least three cells", "[scenes][cue]") {
    for (std::size_t a = 0; a < xai::scene_cue_classes; ++a)
        for (std::size_t b = a + 1; b < xai::scene_cue_classes; ++b)
            CHECK(std::popcount(static_cast<unsigned>(xai::scene_cue_codes[a] ^ xai::scene_cue_codes[b])) >= 3);
}

TEST_CASE("the spurious cue: a coded badge clear of the item, its own mask, the rest of the scene unchanged",
          "[scenes][cue]") {
    const xai::Batch items = disc_items(12);
    const xai::Labels labels = labels_mod_10(12);
    xai::SceneOptions plain;
    plain.seed = 4;
    xai::SceneOptions cued = plain;
    cued.cue = {.probability = 1.0, .rate = 1.0};
    const xai::SceneSet without = xai::make_scenes(items, labels, 0, 40, plain);
    const xai::SceneSet with = xai::make_scenes(items, labels, 0, 40, cued, 3);
    const std::size_t S = 64, side = 8;
    for (std::size_t i = 0; i < 40; ++i) {
        INFO("scene " << i);
        REQUIRE(with.cue_classes[i] == with.labels[i]);  // rate 1: the label's code
        CHECK(without.cue_classes[i] == xai::scene_no_cue);
        const xai::SceneBox& c = with.cue_boxes[i];
        CHECK(c.height() == side);
        CHECK(c.width() == side);
        // Clear of the item's box grown by the margin, so disjoint from the object's mask.
        const xai::SceneBox& b = with.boxes[i];
        const bool clear = c.bottom + 2 <= b.top || c.top >= b.bottom + 2 || c.right + 2 <= b.left || c.left >= b.right + 2;
        CHECK(clear);
        std::size_t cue_pixels = 0;
        for (std::size_t y = 0; y < S; ++y)
            for (std::size_t x = 0; x < S; ++x) {
                const bool in_cue = c.contains(y, x);
                cue_pixels += with.cue_masks(i, y, x) ? 1 : 0;
                CHECK(with.cue_masks(i, y, x) == in_cue);
                CHECK_FALSE((with.cue_masks(i, y, x) && with.masks(i, y, x)));
                if (!in_cue) REQUIRE(with.images(i, 0, y, x) == without.images(i, 0, y, x));
            }
        CHECK(cue_pixels == side * side);
        CHECK((with.masks == without.masks));
    }
    // Without noise the badge is exact: the frame and the code's set cells at `value`, others 0.
    xai::SceneOptions exact = cued;
    exact.noise_stddev = 0.0f;
    exact.cue.value = 0.75f;
    const xai::Scene scene = xai::make_scene(items, labels, 3, exact);
    const std::uint16_t code = xai::scene_cue_codes[scene.cue_class];
    for (std::size_t y = 0; y < side; ++y)
        for (std::size_t x = 0; x < side; ++x) {
            const bool frame = y == 0 || x == 0 || y == side - 1 || x == side - 1;
            const bool set = frame || ((code >> (8 - 3 * ((y - 1) / 2) - (x - 1) / 2)) & 1u) != 0;
            CHECK(scene.image(0, scene.cue_box.top + y, scene.cue_box.left + x) == (set ? 0.75f : 0.0f));
        }
    CHECK((scene.cue_mask == xt::view(xai::make_scenes(items, labels, 3, 1, exact).cue_masks, 0)));
}

TEST_CASE("the cue agrees with the label at the chosen rate, and is independent of it at rate 0", "[scenes][cue]") {
    const xai::Batch items = disc_items(12);
    const xai::Labels labels = labels_mod_10(12);
    const std::size_t n = 3000;
    auto agreement = [&](double probability, double rate, double* present) {
        xai::SceneOptions o;
        o.cue = {.probability = probability, .rate = rate};
        const xai::SceneSet set = xai::make_scenes(items, labels, 0, n, o, 0);
        std::size_t agree = 0, with_cue = 0;
        std::vector<std::size_t> codes(10, 0);
        for (std::size_t i = 0; i < n; ++i) {
            if (set.cue_classes[i] == xai::scene_no_cue) continue;
            ++with_cue;
            ++codes[set.cue_classes[i]];
            agree += set.cue_classes[i] == set.labels[i] ? 1 : 0;
        }
        if (present) *present = static_cast<double>(with_cue) / n;
        // At rate 0 the code is uniform whatever the label (here labels 0 and 1 are twice as
        // frequent as the others, which a cue that followed the label would show).
        if (rate == 0.0)
            for (std::size_t c : codes) CHECK(static_cast<double>(c) / with_cue == Approx(0.1).margin(0.02));
        return static_cast<double>(agree) / static_cast<double>(with_cue);
    };
    // P(code = label) = rate + (1 − rate)/10; binomial standard error below 0.006 for 3,000 scenes.
    CHECK(agreement(1.0, 0.0, nullptr) == Approx(0.10).margin(0.025));
    CHECK(agreement(1.0, 0.9, nullptr) == Approx(0.91).margin(0.025));
    double present = 0.0;
    CHECK(agreement(0.5, 0.5, &present) == Approx(0.55).margin(0.04));
    CHECK(present == Approx(0.5).margin(0.04));
}

TEST_CASE("the cue options are checked", "[scenes][cue][errors]") {
    const xai::Batch items = disc_items(12);
    xai::SceneOptions o;
    o.cue.probability = 1.5;
    CHECK_THROWS_WITH(xai::make_scene(items, labels_mod_10(12), 0, o), Contains("cue.probability is 1.5"));
    o.cue = {.probability = 1.0, .rate = -0.1};
    CHECK_THROWS_WITH(xai::make_scene(items, labels_mod_10(12), 0, o), Contains("cue.rate is -0.1"));
    o.cue = {.probability = 1.0, .cell = 30};
    CHECK_THROWS_WITH(xai::make_scene(items, labels_mod_10(12), 0, o), Contains("cue.cell is 30"));
    o.cue = {.probability = 1.0};
    xai::Labels eleven = labels_mod_10(12);
    eleven[5] = 11;
    CHECK_THROWS_WITH(xai::make_scene(items, eleven, 0, o), Contains("labels[5] is 11, expected a class below 10"));
    o.cue.probability = 0.0;  // without a cue any label is fine
    CHECK_NOTHROW(xai::make_scene(items, eleven, 0, o));
}

TEST_CASE("the biased model relies on the cue: accuracy falls when it is decorrelated, and Grad-CAM shows it",
          "[bias][builtin][dataset]") {
    if (!xai::find_fashion_mnist()) {
        WARN("Fashion-MNIST is not installed (dataset-fashion-mnist); the biased model's checks are skipped");
        return;
    }
    const xai::LabelledImages test = xai::load_fashion_mnist(xai::FashionMnistSplit::test);
    xai::models::Sequential biased = xai::models::load_builtin("scenes_biased");
    xai::models::Sequential clean = xai::models::load_builtin("scenes");
    biased.set_num_threads(0);
    clean.set_num_threads(0);
    // The held-out scenes of docs/models.md (scene i shows test item i, seed 1), first 1,000.
    xai::SceneOptions o;
    o.seed = 1;
    o.cue = {.probability = 1.0, .rate = 0.9};
    const xai::SceneSet training_cue = xai::make_scenes(test.images, test.labels, 0, 1000, o, 0);
    o.cue.rate = 0.0;
    const xai::SceneSet independent = xai::make_scenes(test.images, test.labels, 0, 1000, o, 0);
    const double with_cue = xai::models::accuracy(biased, training_cue.images, training_cue.labels);
    const double decorrelated = xai::models::accuracy(biased, independent.images, independent.labels);
    INFO("biased model: " << with_cue << " with the training cue, " << decorrelated << " with an independent cue");
    // Recorded in docs/models.md on these 1,000 scenes: 94.4% with the training cue, 52.9% with an
    // independent cue.
    CHECK(with_cue >= 0.90);
    CHECK(with_cue - decorrelated >= 0.30);

    // Grad-CAM at relu4 for the predicted class, on the first 300 scenes with an independent cue.
    const xai::Batch images = xt::view(independent.images, xt::range(0, 300), xt::all(), xt::all(), xt::all());
    const xai::RegionMasks objects = xt::view(independent.masks, xt::range(0, 300), xt::all(), xt::all());
    const xai::RegionMasks cues = xt::view(independent.cue_masks, xt::range(0, 300), xt::all(), xt::all());
    const xai::RegionLabels regions = xai::label_regions({objects, cues});
    const xai::GradCam<xai::models::Sequential> biased_cam(biased, {.layer = "relu4"});
    const xai::GradCam<xai::models::Sequential> clean_cam(clean, {.layer = "relu4"});
    const xai::AttributionAudit b = xai::audit_attribution(biased, images, biased_cam, regions, names);
    const xai::AttributionAudit c = xai::audit_attribution(clean, images, clean_cam, regions, names);
    const double biased_share = b.overall[2].mean, clean_share = c.overall[2].mean;
    INFO("Grad-CAM cue share: biased " << biased_share << ", clean " << clean_share);
    // The margin the issue asks the test to state. The cue is 64 of 4,096 pixels, so a uniform map
    // gives it 1.6% and Grad-CAM's 8×8 cells blur it further (measured: 6.2% against 0.3%,
    // docs/bias.md). Stated: the biased model's cue share exceeds the clean one's by at least
    // 0.04 (2.5 times the cue's area) and is at least 10 times it, and the 95% intervals do not
    // overlap. A model that ignored the cue would fail all three.
    CHECK(biased_share - clean_share >= 0.04);
    CHECK(biased_share >= 10.0 * clean_share);
    CHECK(b.overall[2].low > c.overall[2].high);
}
