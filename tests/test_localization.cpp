// Tests of include/xai/localization/: thresholds, connected components, box extraction, IoU,
// the WSOL metrics of Choe et al. 2020 (MaxBoxAcc, MaxBoxAccV2, PxAP, GT-known and top-1
// localization) on hand-computed cases, the one-pass sweep against labelling from scratch, the
// centre-box baseline and box drawing.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <vector>

#include "perturbation_toys.hpp"
#include "xai/core/random.hpp"
#include "xai/localization.hpp"

using Catch::Matchers::Contains;
using xai::Box;

namespace {

/// An h×w map of zeros with `value` on the half-open box.
xai::Map map_with(std::size_t h, std::size_t w, std::vector<std::pair<Box, float>> blobs) {
    xai::Map m = xt::zeros<float>({h, w});
    for (const auto& [b, v] : blobs)
        for (std::size_t y = b.top; y < b.bottom; ++y)
            for (std::size_t x = b.left; x < b.right; ++x) m(y, x) = v;
    return m;
}

xai::Maps stack(const std::vector<xai::Map>& maps) {
    const std::size_t h = maps.front().shape(0), w = maps.front().shape(1);
    xai::Maps out = xai::Maps::from_shape({maps.size(), h, w});
    for (std::size_t i = 0; i < maps.size(); ++i) std::copy(maps[i].begin(), maps[i].end(), out.begin() + static_cast<std::ptrdiff_t>(i * h * w));
    return out;
}

std::size_t count(const xai::RegionMask& mask) { return static_cast<std::size_t>(std::count(mask.begin(), mask.end(), true)); }

/// The two-image case worked out in "MaxBoxAcc and BoxAcc on hand-computed maps".
std::vector<xai::Map> two_images() {
    // Image 0: 1 on the object {2,2,6,6}, 0.5 on the ring around it, 0 elsewhere.
    xai::Map a = map_with(8, 8, {{{1, 1, 7, 7}, 0.5f}, {{2, 2, 6, 6}, 1.0f}});
    // Image 1: 1 on a wrong 2×2 patch, 0.3 on the object {4,4,8,8}.
    xai::Map b = map_with(8, 8, {{{0, 0, 2, 2}, 1.0f}, {{4, 4, 8, 8}, 0.3f}});
    return {a, b};
}

}  // namespace

TEST_CASE("extraction: two blobs give two boxes, the largest first", "[localization][extract]") {
    const xai::Map m = map_with(8, 8, {{{1, 1, 4, 4}, 1.0f}, {{5, 5, 7, 7}, 0.8f}});
    const xai::ExtractedRegions r = xai::extract_regions(m);  // 20% of the maximum (Zhou et al. 2016)
    CHECK(r.threshold == Approx(0.2));
    CHECK(count(r.mask) == 13);
    REQUIRE(r.boxes.size() == 2);
    CHECK(r.boxes[0] == Box{1, 1, 4, 4});
    CHECK(r.boxes[1] == Box{5, 5, 7, 7});
    CHECK(r.pixels == std::vector<std::size_t>{9, 4});
    CHECK(r.largest_box() == Box{1, 1, 4, 4});
    CHECK(count(r.largest_mask()) == 9);
    CHECK(r.largest_mask()(2, 2));
    CHECK_FALSE(r.largest_mask()(5, 5));
    // Above 0.8 only the first blob survives.
    const xai::ExtractedRegions high = xai::extract_regions(m, {.threshold = {.rule = xai::ThresholdRule::fixed, .value = 0.9}});
    REQUIRE(high.boxes.size() == 1);
    CHECK(high.boxes[0] == Box{1, 1, 4, 4});
    // The smaller blob made larger wins: sizes decide, not values.
    const xai::Map bigger = map_with(8, 8, {{{0, 0, 2, 2}, 1.0f}, {{3, 2, 8, 8}, 0.5f}});
    CHECK(xai::extract_regions(bigger).largest_box() == Box{3, 2, 8, 8});
}

TEST_CASE("extraction: corner-touching pixels are one component with 8-connectivity, two with 4", "[localization][extract]") {
    xai::Map m = xt::zeros<float>({std::size_t{5}, std::size_t{5}});
    m(1, 1) = 1.0f;
    m(2, 2) = 1.0f;
    m(3, 3) = 1.0f;
    const auto eight = xai::extract_regions(m);
    REQUIRE(eight.boxes.size() == 1);
    CHECK(eight.boxes[0] == Box{1, 1, 4, 4});
    const auto four = xai::extract_regions(m, {.connectivity = xai::Connectivity::four});
    REQUIRE(four.boxes.size() == 3);
    CHECK(four.boxes[0] == Box{1, 1, 2, 2});  // equal sizes: raster order
    CHECK(four.boxes[2] == Box{3, 3, 4, 4});
    CHECK(four.components.labels(2, 2) == 2);
}

TEST_CASE("extraction: a blob touching the border keeps the border in its box", "[localization][extract]") {
    const xai::Map m = map_with(8, 10, {{{0, 6, 3, 10}, 1.0f}, {{5, 0, 8, 1}, 0.5f}});
    const auto r = xai::extract_regions(m);
    REQUIRE(r.boxes.size() == 2);
    CHECK(r.boxes[0] == Box{0, 6, 3, 10});
    CHECK(r.boxes[1] == Box{5, 0, 8, 1});
    // A map that is positive everywhere at the threshold gives the whole image.
    const auto all = xai::extract_regions(m, {.threshold = {.rule = xai::ThresholdRule::fixed, .value = 0.0}});
    CHECK(all.largest_box() == Box{0, 0, 8, 10});
}

TEST_CASE("extraction: an all-zero or constant map has no foreground under every rule", "[localization][extract]") {
    for (float v : {0.0f, 0.7f, -2.0f})
        for (auto rule : {xai::ThresholdRule::fraction_of_max, xai::ThresholdRule::otsu, xai::ThresholdRule::mean,
                          xai::ThresholdRule::fixed}) {
            INFO("value " << v << ", rule " << xai::to_string(rule));
            xai::Map m = xt::zeros<float>({std::size_t{6}, std::size_t{6}});
            m.fill(v);
            xai::ExtractionOptions o;
            o.threshold.rule = rule;
            o.threshold.value = 0.0;
            const auto r = xai::extract_regions(m, o);
            CHECK(count(r.mask) == 0);
            CHECK(r.boxes.empty());
            CHECK(r.largest_box() == Box{});
            CHECK(count(r.largest_mask()) == 0);
        }
    // Without normalisation a map of negative values is empty too; a positive one is thresholded as given.
    xai::Map negative = xt::zeros<float>({std::size_t{3}, std::size_t{3}});
    negative.fill(-1.0f);
    CHECK(xai::extract_regions(negative, {.threshold = {.normalize = false}}).boxes.empty());
}

TEST_CASE("thresholds: fraction of max, mean and Otsu on hand-computed maps", "[localization][threshold]") {
    // 4×4: six 0, one 0.5, nine 1.
    xai::Map m = xt::zeros<float>({std::size_t{4}, std::size_t{4}});
    for (std::size_t p = 0; p < 16; ++p) m.data()[p] = p < 6 ? 0.0f : (p == 6 ? 0.5f : 1.0f);
    // Mean = (0.5 + 9) / 16 = 0.59375: the nine ones.
    const auto mean = xai::threshold_map(m, {.rule = xai::ThresholdRule::mean});
    CHECK(mean.threshold == Approx(9.5 / 16));
    CHECK(count(mean.mask) == 9);
    CHECK(count(xai::threshold_map(m, {.rule = xai::ThresholdRule::mean, .factor = 0.5}).mask) == 10);
    // Fraction 0.5 of max: s ≥ 0.5 holds for ten pixels (≥, not >).
    CHECK(count(xai::threshold_map(m, {.fraction = 0.5}).mask) == 10);
    // Otsu on 256 bins over [0, 1] (centres c_k = (k + ½)/256): splitting {0} | {0.5, 1} gives
    // ω₀ω₁(μ₀ − μ₁)² = 6·10·((0.5 + 9·255/256)/10)² = 53.750…, splitting {0, 0.5} | {1} gives
    // 7·9·(255/256 − 0.5/7)² = 53.865…, so t is the centre of 0.5's bin (128.5/256) and the
    // foreground (s > t) is the nine ones. A histogram of counts without the bin centres, or
    // ≥ instead of >, would give ten pixels.
    const double split_low = 60.0 * std::pow((0.5 + 9.0 * 255.0 / 256.0) / 10.0, 2);
    const double split_high = 63.0 * std::pow(255.0 / 256.0 - 0.5 / 7.0, 2);
    REQUIRE(split_high > split_low);
    CHECK(xai::otsu_threshold(m) == Approx(128.5 / 256.0).epsilon(1e-12));
    const auto otsu = xai::threshold_map(m, {.rule = xai::ThresholdRule::otsu});
    CHECK(otsu.strict);
    CHECK(count(otsu.mask) == 9);
    // Two levels: the first bin's centre, so everything above the lower level.
    xai::Map two = xt::zeros<float>({std::size_t{2}, std::size_t{2}});
    two(0, 0) = two(1, 1) = 3.0f;
    CHECK(xai::otsu_threshold(two) == Approx(0.5 * 3.0 / 256.0));
    CHECK(count(xai::threshold_map(two, {.rule = xai::ThresholdRule::otsu}).mask) == 2);
    // Normalisation: an affine change of the map changes nothing.
    xai::Map shifted = m * 4.0f - 1.0f;
    CHECK((xai::threshold_map(shifted, {.rule = xai::ThresholdRule::otsu}).mask == otsu.mask));
    CHECK((xai::normalize_scoremap(shifted) == xai::normalize_scoremap(m)));
    CHECK(xai::threshold_rule_from_string("otsu") == xai::ThresholdRule::otsu);
}

TEST_CASE("extraction upsamples a map at another size to the input's size", "[localization][extract]") {
    // A 2×2 map with one hot cell, upsampled bilinearly to 8×8 (half-pixel centres): the top-left
    // quadrant is where its values stay high.
    xai::Map m = xt::zeros<float>({std::size_t{2}, std::size_t{2}});
    m(0, 0) = 1.0f;
    // Along each axis the values are 1, 1, 0.875, 0.625, …: at τ = 0.85 the foreground is an L of
    // rows 0–1 × columns 0–2 and rows 0–2 × columns 0–1 (0.875² < 0.85).
    const auto r = xai::extract_regions(m, 8, 8, {.threshold = {.rule = xai::ThresholdRule::fixed, .value = 0.85}});
    CHECK(count(r.mask) == 8);
    CHECK(r.mask.shape(0) == 8);
    CHECK(r.largest_box() == Box{0, 0, 3, 3});
    CHECK(xai::extract_regions(m, 2, 2).largest_box() == Box{0, 0, 1, 1});
}

TEST_CASE("IoU of half-open boxes on hand-computed cases", "[localization][iou]") {
    CHECK(xai::box_iou({0, 0, 4, 4}, {2, 2, 6, 6}) == Approx(4.0 / 28.0));
    CHECK(xai::box_iou({0, 0, 4, 4}, {0, 0, 4, 4}) == 1.0);
    CHECK(xai::box_iou({0, 0, 4, 4}, {1, 1, 3, 3}) == Approx(0.25));
    CHECK(xai::box_iou({0, 0, 4, 4}, {4, 0, 8, 4}) == 0.0);  // touching edges share no pixel
    CHECK(xai::box_iou({0, 0, 2, 3}, {1, 1, 3, 4}) == Approx(2.0 / 10.0));
    CHECK(xai::box_iou({}, {}) == 0.0);
    CHECK(xai::box_iou({}, {0, 0, 2, 2}) == 0.0);
    CHECK_THROWS_AS(xai::box_iou({3, 0, 1, 2}, {0, 0, 2, 2}), xai::invalid_argument);
}

TEST_CASE("MaxBoxAcc and BoxAcc on hand-computed maps", "[localization][wsol]") {
    const xai::Maps maps = stack(two_images());
    const xai::GroundTruthBoxes truth = {{{2, 2, 6, 6}}, {{4, 4, 8, 8}}};
    // K = 10: τ = 0, 0.1, …, 0.9.
    const xai::WsolOptions o{.thresholds = 10};
    const xai::BoxIouCurves curves = xai::box_iou_curves(maps, truth, o);
    // Image 0: τ > 0.5 → the object's box (IoU 1); 0 < τ ≤ 0.5 → the ring's box {1,1,7,7}, IoU
    // 16/36; τ = 0 → the whole image, IoU 16/64.
    CHECK(curves.largest(0, 0) == Approx(0.25));
    for (std::size_t k = 1; k <= 5; ++k) CHECK(curves.largest(0, k) == Approx(16.0 / 36.0));
    for (std::size_t k = 6; k <= 9; ++k) CHECK(curves.largest(0, k) == 1.0);
    // Image 1: τ > 0.3 → only the wrong patch (IoU 0); 0 < τ ≤ 0.3 → the object is the largest
    // component (16 pixels against 4), IoU 1; τ = 0 → 16/64.
    CHECK(curves.largest(1, 0) == Approx(0.25));
    for (std::size_t k = 1; k <= 3; ++k) CHECK(curves.largest(1, k) == 1.0);
    for (std::size_t k = 4; k <= 9; ++k) CHECK(curves.largest(1, k) == 0.0);
    const std::vector<double> acc = xai::box_accuracy(curves, 0.5);
    const std::vector<double> expected = {0, 0.5, 0.5, 0.5, 0, 0, 0.5, 0.5, 0.5, 0.5};
    for (std::size_t k = 0; k < 10; ++k) CHECK(acc[k] == Approx(expected[k]));
    const xai::MaxBoxAccuracy best = xai::max_box_accuracy(curves);
    CHECK(best.value == 0.5);
    CHECK(best.threshold_index == 1);  // the first maximum, as np.argmax
    CHECK(best.threshold == Approx(0.1));
    // At δ = 0.3 image 0's ring box (0.444) counts too: 1.0 at τ = 0.1 … 0.3.
    CHECK(xai::max_box_accuracy(curves, 0.3).value == 1.0);
    // At δ = 0.25 even the whole image counts.
    CHECK(xai::box_accuracy(curves, 0.25)[0] == 1.0);
    CHECK(xai::gt_known_localization(curves, 6) == 0.5);
    CHECK(xai::top1_localization(curves, 6, {0, 0}, {0, 0}) == 0.5);
    CHECK(xai::top1_localization(curves, 6, {1, 0}, {0, 0}) == 0.0);  // image 0 misclassified
}

TEST_CASE("MaxBoxAccV2 matches every component's box; MaxBoxAcc only the largest", "[localization][wsol]") {
    // A 24-pixel distractor and the 9-pixel object, apart: the largest component is the distractor.
    const xai::Map m = map_with(8, 8, {{{0, 0, 3, 8}, 1.0f}, {{5, 5, 8, 8}, 1.0f}});
    const xai::BoxIouCurves curves = xai::box_iou_curves(stack({m}), {{{5, 5, 8, 8}}}, {.thresholds = 10});
    CHECK(xai::max_box_accuracy(curves).value == 0.0);
    const xai::MaxBoxAccuracyV2 v2 = xai::max_box_accuracy_v2(curves);
    CHECK(v2.value == 1.0);
    REQUIRE(v2.per_iou.size() == 3);
    CHECK(v2.per_iou[2].iou_threshold == 0.7);
    CHECK(v2.per_iou[2].threshold_index == 1);
    // Several ground-truth boxes: the best match counts (V1 too).
    const xai::BoxIouCurves two = xai::box_iou_curves(stack({m}), {{{5, 5, 8, 8}, {0, 0, 3, 8}}}, {.thresholds = 10});
    CHECK(xai::max_box_accuracy(two).value == 1.0);
    // V2 over δ = 0.3, 0.5, 0.7 for a box of IoU 0.6: (1 + 1 + 0) / 3.
    // A box of IoU 0.6 for every τ > 0 (6 of 10 rows): it counts at δ = 0.3 and 0.5, not 0.7;
    // τ = 0 gives the whole image, IoU 1, so every maximum is 1.
    const xai::Map partial = map_with(10, 10, {{{0, 0, 6, 10}, 1.0f}});
    const xai::BoxIouCurves c3 = xai::box_iou_curves(stack({partial}), {{{0, 0, 10, 10}}}, {.thresholds = 10});
    CHECK(c3.any(0, 5) == Approx(0.6));
    CHECK(xai::box_accuracy(c3, 0.7, true)[5] == 0.0);
    CHECK(xai::box_accuracy(c3, 0.5, true)[5] == 1.0);
    CHECK(xai::max_box_accuracy_v2(c3).value == 1.0);
}

TEST_CASE("PxAP on a hand-computed case, invariant to an affine change of the maps", "[localization][wsol]") {
    // Scores 1, 0.5, 0.5, 0 with truth T, T, F, F. With K = 2 the thresholds are 1, 0.5, 0:
    //   τ = 1:   tp 1, fp 0 → P 1,   R ½   → 1·½
    //   τ = 0.5: tp 2, fp 1 → P ⅔,   R 1   → ⅔·½
    //   τ = 0:   tp 2, fp 2 → P ½,   R 1   → 0
    // PxAP = ½ + ⅓ = 5/6 (scikit-learn's average_precision_score gives the same for these scores).
    xai::Maps maps = xai::Maps::from_shape({1, 2, 2});
    maps(0, 0, 0) = 1.0f;
    maps(0, 0, 1) = 0.5f;
    maps(0, 1, 0) = 0.5f;
    maps(0, 1, 1) = 0.0f;
    xai::RegionMasks truth = xt::zeros<bool>({std::size_t{1}, std::size_t{2}, std::size_t{2}});
    truth(0, 0, 0) = truth(0, 0, 1) = true;
    const xai::PixelPrecisionRecall pr = xai::pixel_average_precision(maps, truth, {.thresholds = 2});
    CHECK(pr.average_precision == Approx(5.0 / 6.0));
    REQUIRE(pr.thresholds.size() == 3);
    CHECK(pr.precision[1] == Approx(2.0 / 3.0));
    CHECK(pr.recall[0] == Approx(0.5));
    // The default grid (K = 1000) has the same steps here.
    CHECK(xai::pixel_average_precision(maps, truth).average_precision == Approx(5.0 / 6.0));
    const xai::Maps affine = maps * 3.0f + 7.0f;
    CHECK(xai::pixel_average_precision(affine, truth).average_precision == Approx(5.0 / 6.0));
    // Pooled over images: a second image whose only pixel of the object scores lowest.
    xai::Maps two = xai::Maps::from_shape({2, 1, 2});
    two(0, 0, 0) = 1.0f;  // T
    two(0, 0, 1) = 0.0f;  // F
    two(1, 0, 0) = 0.0f;  // T
    two(1, 0, 1) = 1.0f;  // F
    xai::RegionMasks t2 = xt::zeros<bool>({std::size_t{2}, std::size_t{1}, std::size_t{2}});
    t2(0, 0, 0) = t2(1, 0, 0) = true;
    // τ = 1: tp 1, fp 1 → P ½, R ½; τ < 1: everything, P ½, R 1 → ½·½ + ½·½ = ½.
    CHECK(xai::pixel_average_precision(two, t2).average_precision == Approx(0.5));
    // A perfect map scores 1.
    CHECK(xai::pixel_average_precision(xai::Maps(xt::cast<float>(t2)), t2).average_precision == Approx(1.0));
}

TEST_CASE("the one-pass sweep equals thresholding and labelling from scratch at every threshold",
          "[localization][wsol]") {
    const std::size_t h = 12, w = 11, K = 40;
    xai::Rng rng(7);
    std::vector<xai::Map> maps;
    for (int i = 0; i < 6; ++i) {
        xai::Map m = xai::Map::from_shape({h, w});
        for (float& v : m) v = i % 2 == 0 ? static_cast<float>(rng.uniform_index(6)) / 5.0f  // many ties
                                          : rng.uniform_float();
        if (i == 4) m(0, 0) = 3.0f;  // an isolated peak
        maps.push_back(m);
    }
    const xai::GroundTruthBoxes truth = {{{2, 2, 9, 8}}, {{0, 0, 12, 11}}, {{5, 1, 7, 10}, {0, 0, 3, 3}},
                                         {{1, 1, 2, 2}}, {{0, 0, 4, 4}}, {{6, 3, 12, 11}}};
    for (auto connectivity : {xai::Connectivity::eight, xai::Connectivity::four}) {
        const xai::BoxIouCurves curves =
            xai::box_iou_curves(stack(maps), truth, {.thresholds = K, .connectivity = connectivity, .threads = 3});
        for (std::size_t i = 0; i < maps.size(); ++i)
            for (std::size_t k = 0; k < K; ++k) {
                xai::ExtractionOptions o{.threshold = {.rule = xai::ThresholdRule::fixed, .value = static_cast<double>(k) / K},
                                         .connectivity = connectivity};
                const xai::ExtractedRegions r = xai::extract_regions(maps[i], o);
                double largest = 0.0, any = 0.0;
                for (const Box& t : truth[i]) {
                    largest = std::max(largest, xai::box_iou(r.largest_box(), t));
                    for (const Box& b : r.boxes) any = std::max(any, xai::box_iou(b, t));
                }
                INFO("image " << i << ", k " << k);
                REQUIRE(curves.largest(i, k) == largest);
                REQUIRE(curves.any(i, k) == any);
            }
    }
}

TEST_CASE("evaluate_wsol: the threshold is chosen on validation and applied to test", "[localization][wsol]") {
    const std::vector<xai::Map> images = two_images();
    // Validation: image 0 alone, whose BoxAcc is 1 from τ = 0.6 on: τ* = 0.6.
    const xai::LocalizationSplit validation{stack({images[0]}), {{{2, 2, 6, 6}}}};
    // Test: image 1 alone, localized only for τ ≤ 0.3: GT-known at τ* is 0 although its own
    // MaxBoxAcc is 1.
    xai::RegionMasks mask = xt::zeros<bool>({std::size_t{1}, std::size_t{8}, std::size_t{8}});
    for (std::size_t y = 4; y < 8; ++y)
        for (std::size_t x = 4; x < 8; ++x) mask(0, y, x) = true;
    const xai::LocalizationSplit test{stack({images[1]}), {{{4, 4, 8, 8}}}, mask, {3}, {3}};
    const xai::WsolReport r = xai::evaluate_wsol(validation, test, {.thresholds = 10});
    CHECK(r.threshold_index == 6);
    CHECK(r.threshold == Approx(0.6));
    CHECK(r.validation_box_accuracy == 1.0);
    CHECK(r.gt_known == 0.0);
    CHECK(r.has_top1);
    CHECK(r.top1 == 0.0);
    CHECK(r.max_box_accuracy.value == 1.0);
    CHECK(r.max_box_accuracy_v2.value == 1.0);
    CHECK(r.has_pxap);
    // Test map: 1 on the 4 wrong pixels, 0.3 on the 16 object pixels, 0 on 44 others. Thresholds
    // above 0.3 predict only the wrong patch (P 0, R 0); at τ ≤ 0.3: tp 16, fp 4 → P 0.8, R 1.
    CHECK(r.pxap == Approx(0.8));
}

TEST_CASE("evaluate_wsol takes an explainer or an explanation function", "[localization][wsol]") {
    // A model whose class is 0 when the object's box is brighter than the rest; maps equal to the
    // object give perfect localization.
    const xai::ImageShape shape{1, 8, 8};
    const toy::FunctionModel model = toy::box_mean_model(shape, 2, 6, 2, 6);
    xai::Batch images = xt::zeros<float>({std::size_t{2}, std::size_t{1}, std::size_t{8}, std::size_t{8}});
    for (std::size_t i = 0; i < 2; ++i)
        for (std::size_t y = 2; y < 6; ++y)
            for (std::size_t x = 2; x < 6; ++x) images(i, 0, y, x) = 1.0f;
    const xai::LocalizationImages split{images, {0, 0}, {{{2, 2, 6, 6}}, {{2, 2, 6, 6}}}};
    auto object_map = [](const xai::Image& image, std::size_t) { return xai::Map(xt::view(image, 0)); };
    const xai::WsolReport r = xai::evaluate_wsol(model, object_map, split, split, {.thresholds = 10});
    CHECK(r.gt_known == 1.0);
    CHECK(r.top1 == 1.0);
    CHECK(r.max_box_accuracy.value == 1.0);
    // The centre-box baseline is an explainer: its boxes are centred, one size per threshold.
    const xai::CentreBox<toy::FunctionModel> centre(model);
    static_assert(xai::Explainer<xai::CentreBox<toy::FunctionModel>>);
    const xai::WsolReport c = xai::evaluate_wsol(model, centre, split, split, {.thresholds = 10});
    CHECK(c.max_box_accuracy.value == 1.0);  // the object is the centred 4×4 box
    const xai::Explanation e = centre.explain(images);
    for (double tau : {0.1, 0.3, 0.5, 0.7}) {
        const Box b = xai::extract_regions(xai::Map(xt::view(e.raw, 0)),
                                           {.threshold = {.rule = xai::ThresholdRule::fixed, .value = tau}})
                          .largest_box();
        CHECK(b.top == 8 - b.bottom);
        CHECK(b.left == 8 - b.right);
    }
}

TEST_CASE("draw_boxes outlines boxes inside their edges", "[localization][draw]") {
    xai::Image picture = xt::zeros<float>({std::size_t{3}, std::size_t{6}, std::size_t{6}});
    xai::draw_boxes(picture, {{1, 1, 5, 5}, {}}, {1.0f, 0.5f, 0.0f});
    CHECK(picture(0, 1, 1) == 1.0f);
    CHECK(picture(1, 4, 2) == 0.5f);
    CHECK(picture(0, 2, 2) == 0.0f);  // inside
    CHECK(picture(0, 0, 0) == 0.0f);  // outside
    std::size_t coloured = 0;
    for (std::size_t y = 0; y < 6; ++y)
        for (std::size_t x = 0; x < 6; ++x) coloured += picture(0, y, x) == 1.0f ? 1 : 0;
    CHECK(coloured == 12);
    CHECK(xai::scale_box({1, 2, 3, 4}, 3) == Box{3, 6, 9, 12});
    CHECK_THROWS_WITH(xai::draw_boxes(picture, {{0, 0, 7, 2}}, {1, 1, 1}), Contains("leaves the 6×6 picture"));
    xai::Image grey = xt::zeros<float>({std::size_t{1}, std::size_t{6}, std::size_t{6}});
    CHECK_THROWS_AS(xai::draw_boxes(grey, {}, {1, 1, 1}), xai::shape_error);
}

TEST_CASE("localization refuses bad input", "[localization][errors]") {
    xai::Map nan_map = xt::zeros<float>({std::size_t{3}, std::size_t{3}});
    nan_map(1, 1) = std::numeric_limits<float>::quiet_NaN();
    CHECK_THROWS_WITH(xai::extract_regions(nan_map), Contains("xai::threshold_map(): map contains NaN or Inf"));
    CHECK_THROWS_AS(xai::extract_regions(xai::Map(xt::zeros<float>({std::size_t{0}, std::size_t{3}}))), xai::shape_error);
    CHECK_THROWS_WITH(xai::threshold_map(xt::ones<float>({3, 3}), {.fraction = 1.5}), Contains("fraction is 1.5"));
    CHECK_THROWS_WITH(xai::threshold_map(xt::ones<float>({3, 3}), {.factor = -1.0}), Contains("factor is -1"));
    CHECK_THROWS_WITH(xai::threshold_rule_from_string("median"), Contains("rule is 'median'"));
    const xai::Maps maps = stack(two_images());
    const xai::GroundTruthBoxes truth = {{{2, 2, 6, 6}}, {{4, 4, 8, 8}}};
    CHECK_THROWS_WITH(xai::box_iou_curves(maps, {{{2, 2, 6, 6}}}), Contains("boxes has 1 entries, expected one list per map (2)"));
    CHECK_THROWS_WITH(xai::box_iou_curves(maps, {{{2, 2, 6, 6}}, {}}), Contains("boxes[1] is empty"));
    CHECK_THROWS_WITH(xai::box_iou_curves(maps, {{{2, 2, 6, 6}}, {{4, 4, 9, 8}}}), Contains("inside the 8×8 map"));
    CHECK_THROWS_WITH(xai::box_iou_curves(maps, truth, {.thresholds = 0}), Contains("thresholds is 0"));
    CHECK_THROWS_WITH(xai::box_iou_curves(maps, truth, {.iou_threshold = 1.5}), Contains("iou_threshold is 1.5"));
    CHECK_THROWS_WITH(xai::box_iou_curves(maps, truth, {.iou_thresholds = {}}), Contains("iou_thresholds is empty"));
    CHECK_THROWS_WITH(xai::box_iou_curves(maps * 2.0f, truth, {.normalize = false}), Contains("expected values in [0, 1]"));
    xai::Maps with_nan = maps;
    with_nan(1, 3, 3) = std::numeric_limits<float>::infinity();
    CHECK_THROWS_WITH(xai::box_iou_curves(with_nan, truth), Contains("maps contains NaN or Inf"));
    const xai::BoxIouCurves curves = xai::box_iou_curves(maps, truth, {.thresholds = 10});
    CHECK_THROWS_WITH(xai::box_accuracy(curves, 0.0), Contains("delta is 0"));
    CHECK_THROWS_WITH(xai::gt_known_localization(curves, 10), Contains("threshold index 10 is out of range"));
    CHECK_THROWS_WITH(xai::top1_localization(curves, 0, {0}, {0, 0}), Contains("1 predictions and 2 labels"));
    CHECK_THROWS_WITH(xai::max_box_accuracy_v2(curves, {}), Contains("deltas is empty"));
    const xai::RegionMasks none = xt::zeros<bool>(maps.shape());
    CHECK_THROWS_WITH(xai::pixel_average_precision(maps, none), Contains("no pixel inside the ground truth"));
    CHECK_THROWS_AS(xai::pixel_average_precision(maps, xai::RegionMasks(xt::zeros<bool>({std::size_t{1}, std::size_t{8}, std::size_t{8}}))),
                    xai::shape_error);
    CHECK_THROWS_WITH(xai::Components{}.mask(0), Contains("component 0 is out of range"));
}
