// Tests of include/xai/cam.hpp: the CAM family of include/xai/explain/cam/ (cam, grad_cam,
// rules, score_cam, eigen_cam, ablation_cam, default_layer, options).
//
// The test doubles (cam_toys.hpp) are linear models whose activations and gradients are known in
// closed form, so every variant is checked against values computed by hand.
// xai first: its core/eigen.hpp must see the AVX-512 intrinsics header before xtensor does.
#include "xai/cam.hpp"
#include "cam_toys.hpp"
#include "xai/core/data_dir.hpp"
#include "xai/core/parallel.hpp"
#include "xai/core/random.hpp"
#include "xai/data/scenes.hpp"
#include "xai/image/io.hpp"
#include "xai/models/builtin.hpp"
#include "xai/models/sequential.hpp"

#include <catch2/catch.hpp>

#include <thread>
#include <cmath>
#include <limits>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include <xtensor/xio.hpp>
#include <xtensor/xsort.hpp>

using Catch::Matchers::Contains;

namespace {

/// The Score-CAM test models' scores: class 0 is 10 × the mean of the top-left 4×4 quadrant of
/// an 8×8 one-channel image, class 1 is 0.
xai::Scores top_left_quadrant_scores(const xai::Batch& x) {
    xai::Scores s = xt::zeros<float>({x.shape(0), std::size_t{2}});
    for (std::size_t i = 0; i < x.shape(0); ++i)
        s(i, 0) = 10.0f * xt::mean(xt::view(x, i, 0, xt::range(0, 4), xt::range(0, 4)))();
    return s;
}

}  // namespace

TEST_CASE("Grad-CAM on the hand-computed case: mean gradients, signed raw map, ReLU display", "[cam][grad_cam]") {
    const LinearNet net = hand_net();
    const xai::GradCam<LinearNet> cam(net, at_layer("pooled"));
    const xai::CamResult r = cam.explain(hand_input());
    // α = (mean G0, mean G1) = (0.5, −0.5); raw = 0.5 A0 − 0.5 A1.
    CHECK(r.weights(0, 0) == Approx(0.5));
    CHECK(r.weights(0, 1) == Approx(-0.5));
    check_map(r.raw, 0, {{-0.5f, 0.5f}, {0.0f, -1.0f}});
    // Display: ReLU → [[0, .5], [0, 0]], same resolution, min-max → [[0, 1], [0, 0]].
    check_map(r.maps, 0, {{0.0f, 1.0f}, {0.0f, 0.0f}});
    REQUIRE(r.targets == std::vector<std::size_t>{0});
    CHECK(r.scores[0] == Approx(5.0));
    CHECK(r.score_kind == xai::ScoreKind::logit);
    CHECK(r.layer == "pooled");
}

TEST_CASE("Grad-CAM++ on the hand-computed case: the closed form with G², G³ and Σ A", "[cam][grad_cam_pp]") {
    const LinearNet net = hand_net();
    const xai::CamResult r = xai::GradCamPlusPlus<LinearNet>(net, at_layer("pooled")).explain(hand_input());
    // a = G²/(2G² + ΣA·G³), only G > 0 counts (ReLU(G)):
    //   channel 0 (ΣA = 4): G = 1 → 1/6, weight 1·1/6; G = 2 → 4/(8 + 32) = 0.1, weight 2·0.1
    //   channel 1 (ΣA = 6): G = 1 twice → 1/8 each
    CHECK(r.weights(0, 0) == Approx(1.0 / 6.0 + 0.2).epsilon(1e-5));
    CHECK(r.weights(0, 1) == Approx(0.25).epsilon(1e-5));
    const float w0 = 1.0f / 6.0f + 0.2f, w1 = 0.25f;
    check_map(r.raw, 0, {{w0 * 1 + w1 * 2, w0 * 2 + w1 * 1}, {0.0f, w0 * 1 + w1 * 3}});
}

TEST_CASE("XGrad-CAM on the hand-computed case: Σ G⊙A / Σ A", "[cam][xgrad_cam]") {
    const LinearNet net = hand_net();
    const xai::CamResult r = xai::XGradCam<LinearNet>(net, at_layer("pooled")).explain(hand_input());
    // w0 = (1 − 2 + 0 + 0) / 4 = −0.25; w1 = (−8 + 1 + 0 + 3) / 6 = −2/3.
    CHECK(r.weights(0, 0) == Approx(-0.25));
    CHECK(r.weights(0, 1) == Approx(-2.0 / 3.0));
    check_map(r.raw, 0, {{-0.25f - 4.0f / 3.0f, -0.5f - 2.0f / 3.0f}, {0.0f, -0.25f - 2.0f}});
    // Every value is ≤ 0: the ReLU'd map is flat and the display map is all zeros, no NaN.
    CHECK(xt::all(xt::equal(r.maps, 0.0f)));
}

TEST_CASE("HiResCAM on the hand-computed case: Σ_k G_k ⊙ A_k element-wise", "[cam][hires_cam]") {
    const LinearNet net = hand_net();
    const xai::CamResult r = xai::HiResCam<LinearNet>(net, at_layer("pooled")).explain(hand_input());
    // G0⊙A0 = [[1, −2], [0, 0]], G1⊙A1 = [[−8, 1], [0, 3]].
    check_map(r.raw, 0, {{-7.0f, -1.0f}, {0.0f, 3.0f}});
    CHECK(r.weights.shape(0) == 1);
    CHECK(r.weights.shape(1) == 0);
}

TEST_CASE("LayerCAM on the hand-computed case: Σ_k ReLU(G_k) ⊙ A_k", "[cam][layer_cam]") {
    const LinearNet net = hand_net();
    const xai::CamResult r = xai::LayerCam<LinearNet>(net, at_layer("pooled")).explain(hand_input());
    // ReLU(G0)⊙A0 = [[1, 0], [0, 0]], ReLU(G1)⊙A1 = [[0, 1], [0, 3]].
    check_map(r.raw, 0, {{1.0f, 1.0f}, {0.0f, 3.0f}});
    check_map(r.maps, 0, {{1.0f / 3.0f, 1.0f / 3.0f}, {0.0f, 1.0f}});
}

TEST_CASE("CAM on the hand-computed case: Σ_k W_ck A_k", "[cam][cam_plain]") {
    const GapNet net = make_gap_net(2, 2, 1, xt::xtensor<float, 2>{{2, -1}, {0, 1}}, {0.0f, 0.0f});
    const xai::CamResult r = xai::Cam<GapNet>(net).explain(hand_input(), {0});
    check_map(r.raw, 0, {{0.0f, 3.0f}, {0.0f, -1.0f}});
    CHECK(r.weights(0, 0) == 2.0f);
    CHECK(r.weights(0, 1) == -1.0f);
    // logit_0 = (1/Z) Σ M = 2/4.
    CHECK(r.scores[0] == Approx(0.5));
    check_map(r.maps, 0, {{0.0f, 1.0f}, {0.0f, 0.0f}});
}

TEST_CASE("Ablation-CAM on the hand-computed case: relative drop when a channel is zeroed", "[cam][ablation_cam]") {
    const LinearNet net = hand_net();
    xai::AblationCamOptions o;
    o.cam.layer = "pooled";
    const xai::CamResult r = xai::AblationCam<LinearNet>(net, o).explain(hand_input());
    // y = 5; without A0: 5 − (−1) = 6, w0 = (5 − 6)/5 = −0.2; without A1: 5 − (−4) = 9, w1 = −0.8.
    CHECK(r.weights(0, 0) == Approx(-0.2));
    CHECK(r.weights(0, 1) == Approx(-0.8));
    check_map(r.raw, 0, {{-0.2f - 1.6f, -0.4f - 0.8f}, {0.0f, -0.2f - 2.4f}});
}

TEST_CASE("Score-CAM on the hand-computed case: scores of the input masked by each normalized channel", "[cam][score_cam]") {
    const LinearNet net = hand_net();
    // H0 = A0/2 = [[.5, 1], [0, .5]]: masked A0 = [[.5, 2], [0, .5]], A1 = [[1, 1], [0, 1.5]]
    //   logit_0 = (.5 − 2) + (−4 + 1 + 1.5) + 10 = 7
    // H1 = A1/3 = [[2/3, 1/3], [0, 1]]: masked A0 = [[2/3, 2/3], [0, 1]], A1 = [[4/3, 1/3], [0, 3]]
    //   logit_0 = 0 + (−16/3 + 1/3 + 3) + 10 = 8;   logit_1 = 0 for every masked input.
    xai::ScoreCamOptions o;
    o.cam.layer = "pooled";
    CHECK(xai::ScoreCam<LinearNet>(net, o).options().cam.score == xai::ScoreKind::probability);  // the paper's default
    const xai::CamResult p = xai::ScoreCam<LinearNet>(net, o).explain(hand_input());
    CHECK(p.score_kind == xai::ScoreKind::probability);
    const double p7 = 1.0 / (1.0 + std::exp(-7.0)), p8 = 1.0 / (1.0 + std::exp(-8.0));
    CHECK(p.weights(0, 0) == Approx(p7));
    CHECK(p.weights(0, 1) == Approx(p8));
    check_map(p.raw, 0, {{static_cast<float>(p7 + 2 * p8), static_cast<float>(2 * p7 + p8)},
                         {0.0f, static_cast<float>(p7 + 3 * p8)}});
    CHECK(p.scores[0] == Approx(1.0 / (1.0 + std::exp(-5.0))));

    o.cam.score = xai::ScoreKind::logit;
    const xai::CamResult l = xai::ScoreCam<LinearNet>(net, o).explain(hand_input());
    CHECK(l.weights(0, 0) == Approx(7.0));
    CHECK(l.weights(0, 1) == Approx(8.0));
    check_map(l.raw, 0, {{23.0f, 22.0f}, {0.0f, 31.0f}});
}

TEST_CASE("Score-CAM with a mass tolerance skips the lightest channels within its stated error bound",
          "[cam][score_cam]") {
    // Four 4×4 channels of activation mass 8, 4, 2, 1 (total 15), each a different blob; class 0
    // is 10 × the mean of the image's top-left quadrant. ε = 0.2 needs (1 − ε)·15 = 12 of the
    // mass: channels 0 and 1 (8 + 4) are scored, 2 and 3 skipped with weight 0, so the map is
    // full Score-CAM's minus w₂A₂ + w₃A₃, and ‖Δ‖₁ ≤ max w · ε · 15.
    struct BlobNet {
        std::size_t num_classes() const { return 2; }
        xai::ImageShape input_shape() const { return {1, 8, 8}; }
        std::vector<std::string> layer_names() const { return {"blobs"}; }
        xai::Scores forward(const xai::Batch& x) const { return top_left_quadrant_scores(x); }
        xai::LayerOutput layer_activations(const xai::Batch& x, const std::string&) const {
            xai::Activations a = xt::zeros<float>({x.shape(0), std::size_t{4}, std::size_t{4}, std::size_t{4}});
            for (std::size_t i = 0; i < x.shape(0); ++i) {
                xt::view(a, i, 0, xt::range(0, 2), xt::range(0, 2)) = 2.0f;  // mass 8
                xt::view(a, i, 1, xt::range(2, 4), xt::range(0, 2)) = 1.0f;  // mass 4
                xt::view(a, i, 2, xt::range(0, 1), xt::range(2, 4)) = 1.0f;  // mass 2
                a(i, 3, 3, 3) = 1.0f;                                          // mass 1
            }
            return {a, forward(x)};
        }
    };
    const BlobNet net;
    const xai::Batch x = xt::ones<float>({1, 1, 8, 8});
    xai::ScoreCamOptions o{.cam = {.layer = "blobs"}};
    const xai::ScoreCamResult full = xai::ScoreCam<BlobNet>(net, o).explain(x, {0});
    CHECK(full.channels_scored == std::vector<std::size_t>{4});
    o.mass_tolerance = 0.2;
    const xai::ScoreCamResult pruned = xai::ScoreCam<BlobNet>(net, o).explain(x, {0});
    CHECK(pruned.channels_scored == std::vector<std::size_t>{2});
    CHECK(pruned.weights(0, 0) == full.weights(0, 0));
    CHECK(pruned.weights(0, 1) == full.weights(0, 1));
    CHECK(pruned.weights(0, 2) == 0.0f);
    CHECK(pruned.weights(0, 3) == 0.0f);
    const auto [a, logits] = net.layer_activations(x, "blobs");
    const xai::Map skipped = full.weights(0, 2) * xt::view(a, 0, 2) + full.weights(0, 3) * xt::view(a, 0, 3);
    const xai::Map difference = full.raw_map() - pruned.raw_map();
    CHECK(xt::amax(xt::abs(difference - skipped))() < 1e-6f);
    const float max_weight = xt::amax(full.weights)();
    CHECK(xt::sum(xt::abs(difference))() <= max_weight * 0.2f * 15.0f + 1e-5f);
    // ε = 0.5: 7.5 of the mass — channel 0 alone holds 8.
    o.mass_tolerance = 0.5;
    CHECK(xai::ScoreCam<BlobNet>(net, o).explain(x, {0}).channels_scored == std::vector<std::size_t>{1});
    // bad tolerances
    o.mass_tolerance = 1.0;
    CHECK_THROWS_WITH(xai::ScoreCam<BlobNet>(net, o), Contains("xai::ScoreCam::ScoreCam(): options.mass_tolerance is 1"));
    o.mass_tolerance = -0.1;
    CHECK_THROWS_WITH(xai::ScoreCam<BlobNet>(net, o), Contains("mass_tolerance is -0.1, expected a value in [0, 1)"));
    // pytorch-grad-cam's softmax would give the unscored channels exp(0): refused.
    o.mass_tolerance = 0.2;
    o.convention = xai::ScoreCamConvention::pytorch_grad_cam;
    CHECK_THROWS_WITH(xai::ScoreCam<BlobNet>(net, o), Contains("with the pytorch_grad_cam convention, expected 0"));
}

TEST_CASE("Eigen-CAM on hand-computed cases: centred first principal component, sign from the channel sum",
          "[cam][eigen_cam]") {
    LinearNet net = hand_net();
    const xai::EigenCam<LinearNet> cam(net, at_layer("input"));
    const float root5 = std::sqrt(5.0f);
    SECTION("rank one, A1 = 2 A0: raw = √5 (A0 − mean A0)") {
        xai::Batch x = xai::Batch::from_shape({1, 2, 2, 2});
        xt::view(x, 0, 0) = xt::xtensor<float, 2>{{0, 1}, {2, 3}};
        xt::view(x, 0, 1) = 2.0f * xt::view(x, 0, 0);
        check_map(cam.explain(x).raw, 0, {{-1.5f * root5, -0.5f * root5}, {0.5f * root5, 1.5f * root5}});
    }
    SECTION("rank one, A1 = −2 A0: the channel sum is −A0, so the map is −√5 (A0 − mean A0)") {
        xai::Batch x = xai::Batch::from_shape({1, 2, 2, 2});
        xt::view(x, 0, 0) = xt::xtensor<float, 2>{{0, 1}, {2, 3}};
        xt::view(x, 0, 1) = -2.0f * xt::view(x, 0, 0);
        check_map(cam.explain(x).raw, 0, {{1.5f * root5, 0.5f * root5}, {-0.5f * root5, -1.5f * root5}});
    }
    SECTION("two uncorrelated channels: the one with the larger variance wins") {
        // Centred: A0c = 3 [[1, −1], [1, −1]] (variance 9), A1c = [[1, 1], [−1, −1]] (variance 1).
        xai::Batch x = xai::Batch::from_shape({1, 2, 2, 2});
        xt::view(x, 0, 0) = xt::xtensor<float, 2>{{8, 2}, {8, 2}};
        xt::view(x, 0, 1) = xt::xtensor<float, 2>{{3, 3}, {1, 1}};
        check_map(cam.explain(x).raw, 0, {{3.0f, -3.0f}, {3.0f, -3.0f}});
    }
    SECTION("more channels than locations (the Gram-matrix branch)") {
        // 3 channels of 2×1: (1, 3), (2, 2), (0, 4); centred rows (−1, 0, −2) and (1, 0, 2);
        // v1 = (1, 0, 2)/√5, projection ±(−√5, √5); channel sums (3, 9) pick the + sign.
        LinearNet tall;
        tall.channels = 3;
        tall.height = 2;
        tall.width = 1;
        tall.v = xt::zeros<float>({2, 3, 2, 1});
        tall.bias = {0.0f, 0.0f};
        xai::Batch x = xai::Batch::from_shape({1, 3, 2, 1});
        x(0, 0, 0, 0) = 1; x(0, 0, 1, 0) = 3;
        x(0, 1, 0, 0) = 2; x(0, 1, 1, 0) = 2;
        x(0, 2, 0, 0) = 0; x(0, 2, 1, 0) = 4;
        check_map(xai::EigenCam<LinearNet>(tall, at_layer("input")).explain(x).raw, 0, {{-root5}, {root5}});
    }
}

TEST_CASE("On a GAP + linear head, Grad-CAM = ReLU(CAM)/(h·w) and HiResCAM's signed map = CAM/(h·w)",
          "[cam][identity]") {
    // 3 channels, 8×8 input pooled 2×2 to 4×4 features, 4 classes.
    const xt::xtensor<float, 2> w{{1.0f, -2.0f, 0.5f}, {-1.0f, 0.3f, 2.0f}, {0.2f, 0.2f, -0.7f}, {3.0f, -1.0f, -1.0f}};
    const GapNet net = make_gap_net(3, 8, 2, w, {0.1f, -0.2f, 0.3f, 0.0f});
    const xai::Batch x = random_batch(3, 3, 8, 8, 11);
    const xai::Targets targets{0, 1, 3};
    const xai::CamResult cam = xai::Cam<GapNet>(net).explain(x, targets);
    const xai::CamResult grad = xai::GradCam<GapNet>(net, at_layer("pooled")).explain(x, targets);
    const xai::CamResult hires = xai::HiResCam<GapNet>(net, at_layer("pooled")).explain(x, targets);
    const float z = 16.0f;
    for (std::size_t i = 0; i < 3; ++i) {
        xt::xtensor<float, 2> expected = xt::view(cam.raw, i) / z;
        check_map(grad.raw, i, expected, 1e-6);
        check_map(hires.raw, i, expected, 1e-6);
        // Display maps: ReLU(CAM)/Z normalized equals ReLU(CAM) normalized.
        check_map(grad.maps, i, xt::xtensor<float, 2>(xt::view(cam.maps, i)), 1e-5);
    }
    // The layer sum of the CAM map recovers the logit (1/Z Σ M + b).
    CHECK(xt::sum(xt::view(cam.raw, 0))() / z + 0.1f == Approx(cam.logits(0, 0)).margin(1e-5));
}

TEST_CASE("A target whose gradient is identically zero gives all-zero maps, never NaN", "[cam][zero]") {
    const LinearNet net = hand_net();  // class 1 has V = 0 and bias 0
    const xai::Batch x = hand_input();
    const xai::Targets one{1};
    const auto check_zero = [](const xai::CamResult& r) {
        CHECK(xt::all(xt::equal(r.raw, 0.0f)));
        CHECK(xt::all(xt::equal(r.maps, 0.0f)));
        CHECK(xai::all_finite(r.weights));
    };
    check_zero(xai::GradCam<LinearNet>(net, at_layer("pooled")).explain(x, one));
    check_zero(xai::GradCamPlusPlus<LinearNet>(net, at_layer("pooled")).explain(x, one));
    check_zero(xai::XGradCam<LinearNet>(net, at_layer("pooled")).explain(x, one));
    check_zero(xai::HiResCam<LinearNet>(net, at_layer("pooled")).explain(x, one));
    check_zero(xai::LayerCam<LinearNet>(net, at_layer("pooled")).explain(x, one));
    // Ablation-CAM: the target's logit is 0, so the relative drop is undefined: zero weights.
    xai::AblationCamOptions ao;
    ao.cam.layer = "pooled";
    check_zero(xai::AblationCam<LinearNet>(net, ao).explain(x, one));
    // With normalization and ReLU off the zero map is still zeros.
    xai::CamOptions raw = at_layer("pooled");
    raw.relu = false;
    raw.normalize = false;
    check_zero(xai::GradCamPlusPlus<LinearNet>(net, raw).explain(x, one));
    // Activations that are all zero (Σ A = 0) do not divide by zero in Grad-CAM++ or XGrad-CAM.
    const xai::Batch zeros = xt::zeros<float>({1, 2, 2, 2});
    check_zero(xai::XGradCam<LinearNet>(net, at_layer("pooled")).explain(zeros, {0}));
    check_zero(xai::GradCamPlusPlus<LinearNet>(net, at_layer("pooled")).explain(zeros, {0}));
    check_zero(xai::EigenCam<LinearNet>(net, at_layer("pooled")).explain(zeros));
    xai::ScoreCamOptions so;
    so.cam.layer = "pooled";
    check_zero(xai::ScoreCam<LinearNet>(net, so).explain(zeros));  // every mask is flat
}

TEST_CASE("Keeping negative values and skipping normalization returns the upsampled signed map",
          "[cam][options]") {
    const LinearNet net = hand_net();
    xai::CamOptions o = at_layer("pooled");
    o.relu = false;
    o.normalize = false;
    const xai::CamResult r = xai::GradCam<LinearNet>(net, o).explain(hand_input());
    CHECK((r.maps == r.raw));  // same resolution: upsampling is the identity
    o.normalize = true;
    const xai::CamResult n = xai::GradCam<LinearNet>(net, o).explain(hand_input());
    // raw [[−.5, .5], [0, −1]] → (raw + 1) / 1.5
    check_map(n.maps, 0, {{1.0f / 3.0f, 1.0f}, {2.0f / 3.0f, 0.0f}});
    // Upsampling to the input's resolution, bilinear as xai::resize: 2×2 features of a 4×4 input.
    LinearNet big = hand_net();
    big.height = big.width = 4;
    big.factor = 2;
    const xai::Batch x = random_batch(2, 2, 4, 4, 3);
    const xai::CamResult up = xai::GradCam<LinearNet>(big, o).explain(x);
    REQUIRE(up.maps.shape() == std::array<std::size_t, 3>{2, 4, 4});
    CHECK(xt::allclose(up.maps, xai::normalize_min_max(xai::resize(up.raw, 4, 4)), 1e-6, 1e-6));
}

TEST_CASE("The predicted class is resolved from the same forward pass, per image", "[cam][targets]") {
    LinearNet net = hand_net();
    const xai::Batch single = hand_input();
    xai::Batch x = xai::Batch::from_shape({2, 2, 2, 2});
    xt::view(x, 0) = xt::view(single, 0);
    xt::view(x, 1) = 10.0f * xt::view(single, 0);  // logit_0 = 10·(−5) + 10 = −40: class 1 (logit 0) wins
    const xai::GradCam<LinearNet> cam(net, at_layer("pooled"));
    CHECK(cam.explain(x).targets == std::vector<std::size_t>{0, 1});
    CHECK(cam.explain(x, {xai::Target::predicted(), 0}).targets == std::vector<std::size_t>{0, 0});
    CHECK(cam.explain(x, {0}).targets == std::vector<std::size_t>{0, 0});
    const xai::CamResult r = cam.explain(x, {1, 0});
    CHECK(r.targets == std::vector<std::size_t>{1, 0});
    CHECK(r.scores[0] == Approx(0.0));
    CHECK(r.scores[1] == Approx(-40.0));
    CHECK(r.logits.shape(0) == 2);
}

TEST_CASE("Score-CAM ranks channels by how much of the responsive region they keep", "[cam][score_cam]") {
    // The model's class 0 logit is 10 × the mean of the top-left 4×4 quadrant of an 8×8 image;
    // class 1 is constant 0. Its layer "masks" has three fixed 4×4 channels: the top-left 2×2
    // cells (the whole quadrant), the top-left cell only (a quarter of it), the top-right 2×2
    // cells (none of it). Score-CAM's weights must order them 0 > 1 > 2.
    struct RegionNet {
        std::size_t num_classes() const { return 2; }
        xai::ImageShape input_shape() const { return {1, 8, 8}; }
        std::vector<std::string> layer_names() const { return {"masks"}; }
        xai::Scores forward(const xai::Batch& x) const { return top_left_quadrant_scores(x); }
        xai::LayerOutput layer_activations(const xai::Batch& x, const std::string&) const {
            xai::Activations a = xt::zeros<float>({x.shape(0), std::size_t{3}, std::size_t{4}, std::size_t{4}});
            for (std::size_t i = 0; i < x.shape(0); ++i) {
                xt::view(a, i, 0, xt::range(0, 2), xt::range(0, 2)) = 1.0f;
                a(i, 1, 0, 0) = 1.0f;
                xt::view(a, i, 2, xt::range(0, 2), xt::range(2, 4)) = 1.0f;
            }
            return {a, forward(x)};
        }
    };
    static_assert(xai::LayerActivationModel<RegionNet>);
    static_assert(!xai::LayerGradientModel<RegionNet>);  // Score-CAM needs no gradient
    RegionNet net;
    xai::ScoreCamOptions o;
    o.cam.layer = "masks";
    const xai::Batch x = xt::ones<float>({1, 1, 8, 8});
    const xai::CamResult r = xai::ScoreCam<RegionNet>(net, o).explain(x, {0});
    INFO("weights " << r.weights);
    CHECK(r.weights(0, 0) > r.weights(0, 1));
    CHECK(r.weights(0, 1) > r.weights(0, 2));
    // The top-right channel keeps only what bilinear upsampling bleeds into the quadrant.
    CHECK(r.weights(0, 2) < 0.7f);
    // The display map peaks in the top-left quadrant.
    const auto peak = xt::argmax(r.maps)();
    CHECK(peak / 8 < 4);
    CHECK(peak % 8 < 4);
}

namespace {

// TokenNet: the hand LinearNet seen through a transformer-like layer "tokens" of shape
// N×(1 + h·w)×C: token 0 is a class token (values that must be dropped), tokens 1.. are the
// pooled locations row-major, the features are the channels.
struct TokenNet {
    LinearNet inner;
    std::size_t prefix = 1;
    std::size_t num_classes() const { return inner.num_classes(); }
    xai::ImageShape input_shape() const { return inner.input_shape(); }
    std::vector<std::string> layer_names() const { return {"tokens"}; }
    xai::Scores forward(const xai::Batch& x) const { return inner.forward(x); }

    xai::Activations to_tokens(const xai::Activations& maps, float prefix_value) const {
        const std::size_t n = maps.shape(0), c = maps.shape(1), pixels = maps.shape(2) * maps.shape(3);
        xai::Activations t = xt::full_like(xt::xarray<float>::from_shape({n, prefix + pixels, c}), prefix_value);
        for (std::size_t i = 0; i < n; ++i)
            for (std::size_t p = 0; p < pixels; ++p)
                for (std::size_t k = 0; k < c; ++k) t(i, prefix + p, k) = maps.data()[(i * c + k) * pixels + p];
        return t;
    }
    xai::LayerOutput layer_activations(const xai::Batch& x, const std::string&) const {
        xai::LayerOutput out = inner.layer_activations(x, "pooled");
        return {to_tokens(out.activations, 100.0f), out.scores};
    }
    xai::LayerGradients layer_gradients(const xai::Batch& x, const std::string&, const xai::ScoreSeed& seed) const {
        xai::LayerGradients out = inner.layer_gradients(x, "pooled", seed);
        return {to_tokens(out.activations, 100.0f), to_tokens(out.gradients, 50.0f), out.scores};
    }
    xai::Scores forward_from(const std::string&, const xai::Activations& t) const {
        const std::size_t n = t.shape(0), c = t.shape(2), pixels = t.shape(1) - prefix;
        const std::size_t h = inner.height / inner.factor, w = inner.width / inner.factor;
        xai::Activations maps = xai::Activations::from_shape({n, c, h, w});
        for (std::size_t i = 0; i < n; ++i)
            for (std::size_t p = 0; p < pixels; ++p)
                for (std::size_t k = 0; k < c; ++k) maps.data()[(i * c + k) * pixels + p] = t(i, prefix + p, k);
        return inner.head(maps);
    }
};
static_assert(xai::LayerForwardModel<TokenNet>);
static_assert(xai::LayerGradientModel<TokenNet>);

// The CamOptions of any CAM explainer's options.
xai::CamOptions& cam_options(xai::CamOptions& o) { return o; }
template <class Options>
xai::CamOptions& cam_options(Options& o) {
    return o.cam;
}

template <template <class> class Explainer, class Options = xai::CamOptions>
void check_tokens_match(const TokenNet& tokens, const xai::Batch& x) {
    Options on_tokens, on_maps;
    cam_options(on_tokens).layer = "tokens";
    cam_options(on_maps).layer = "pooled";
    const xai::CamResult t = Explainer<TokenNet>(tokens, on_tokens).explain(x);
    const xai::CamResult m = Explainer<LinearNet>(tokens.inner, on_maps).explain(x);
    CHECK(xt::allclose(t.raw, m.raw, 1e-6, 1e-6));
    CHECK(xt::allclose(t.maps, m.maps, 1e-6, 1e-6));
    CHECK(t.targets == m.targets);
}

}  // namespace

TEST_CASE("Token-shaped activations are folded into a grid: every method serves transformers", "[cam][tokens]") {
    TokenNet net;
    net.inner = hand_net();
    net.inner.height = net.inner.width = 4;
    net.inner.factor = 2;
    const xai::Batch x = random_batch(2, 2, 4, 4, 5);
    check_tokens_match<xai::GradCam>(net, x);
    check_tokens_match<xai::GradCamPlusPlus>(net, x);
    check_tokens_match<xai::XGradCam>(net, x);
    check_tokens_match<xai::HiResCam>(net, x);
    check_tokens_match<xai::LayerCam>(net, x);
    check_tokens_match<xai::EigenCam>(net, x);
    check_tokens_match<xai::ScoreCam, xai::ScoreCamOptions>(net, x);
    check_tokens_match<xai::AblationCam, xai::AblationCamOptions>(net, x);

    SECTION("no prefix token, explicit non-square grid") {
        TokenNet wide;
        wide.prefix = 0;
        wide.inner = hand_net();
        wide.inner.height = 2;
        wide.inner.width = 4;
        wide.inner.factor = 1;
        wide.inner.v = xt::zeros<float>({2, 2, 2, 4});
        xt::view(wide.inner.v, 0) = xt::view(random_batch(1, 2, 2, 4, 9), 0);
        xai::CamOptions o;
        o.layer = "tokens";
        o.tokens = {0, 2, 0};  // width inferred: 8 / 2 = 4
        const xai::Batch xw = random_batch(1, 2, 2, 4, 10);
        const xai::CamResult t = xai::HiResCam<TokenNet>(wide, o).explain(xw);
        const xai::CamResult m = xai::HiResCam<LinearNet>(wide.inner, at_layer("pooled")).explain(xw);
        REQUIRE(t.raw.shape() == std::array<std::size_t, 3>{1, 2, 4});
        CHECK(xt::allclose(t.raw, m.raw, 1e-6, 1e-6));
    }
}

TEST_CASE("Tokens that do not fold into a grid are refused with the counts in the message", "[cam][tokens][errors]") {
    TokenNet net;
    net.inner = hand_net();
    net.inner.height = net.inner.width = 4;
    net.inner.factor = 2;  // 1 class token + 4 tokens
    const xai::Batch x = random_batch(1, 2, 4, 4, 5);
    xai::CamOptions o;
    o.layer = "tokens";
    o.tokens.prefix_tokens = 2;  // 3 spatial tokens: not a square
    CHECK_THROWS_AS(xai::GradCam<TokenNet>(net, o).explain(x), xai::shape_error);
    CHECK_THROWS_WITH(xai::GradCam<TokenNet>(net, o).explain(x), Contains("GradCam::explain()") && Contains("3 do not fold"));
    o.tokens = {1, 3, 0};  // 4 tokens into 3 rows
    CHECK_THROWS_AS(xai::EigenCam<TokenNet>(net, o).explain(x), xai::shape_error);
    o.tokens = {1, 2, 3};  // 2×3 ≠ 4
    xai::ScoreCamOptions so;
    so.cam.tokens = o.tokens;
    so.cam.layer = "tokens";
    CHECK_THROWS_WITH(xai::ScoreCam<TokenNet>(net, so).explain(x),
                      Contains("xai::ScoreCam::explain()") && Contains("tokens.height=2, tokens.width=3"));
    CHECK_THROWS_AS(xai::LayerCam<TokenNet>(net, o).explain(x), xai::shape_error);
    o.tokens = {5, 0, 0};  // as many prefix tokens as tokens
    CHECK_THROWS_WITH(xai::LayerCam<TokenNet>(net, o).explain(x), Contains("tokens.prefix_tokens is 5"));
}

TEST_CASE("Bad input is refused with a message naming the function, the argument and what was expected",
          "[cam][errors]") {
    const LinearNet net = hand_net();
    const xai::Batch x = hand_input();
    const xai::GradCam<LinearNet> cam(net, at_layer("pooled"));

    SECTION("unknown layer, at construction and when fusing") {
        CHECK_THROWS_AS(xai::GradCam<LinearNet>(net, at_layer("conv9")), xai::invalid_argument);
        CHECK_THROWS_WITH(xai::GradCam<LinearNet>(net, at_layer("conv9")),
                          Contains("xai::GradCam::GradCam()") && Contains("layer 'conv9'") && Contains("[input, pooled]"));
        CHECK_THROWS_WITH(cam.explain_fused(x, {"conv9"}), Contains("xai::GradCam::explain_fused()") &&
                                                               Contains("layer 'conv9' is not a layer of the model"));
        // LinearNet names no feature layer: an empty layer has no default to fall back on.
        CHECK_THROWS_WITH(xai::LayerCam<LinearNet>(net), Contains("xai::LayerCam::LayerCam()") &&
                                                             Contains("options.layer is empty") &&
                                                             Contains("[input, pooled]"));
        xai::ScoreCamOptions so;
        so.cam.layer = "nope";
        CHECK_THROWS_WITH(xai::ScoreCam<LinearNet>(net, so), Contains("xai::ScoreCam::ScoreCam()") && Contains("'nope'"));
        xai::AblationCamOptions ao;
        ao.cam.layer = "nope";
        CHECK_THROWS_AS(xai::AblationCam<LinearNet>(net, ao), xai::invalid_argument);
        CHECK_THROWS_AS(xai::EigenCam<LinearNet>(net, at_layer("nope")), xai::invalid_argument);
        CHECK_THROWS_WITH(xai::EigenCam<LinearNet>(net, at_layer("pooled")).explain_fused(x, {""}),
                          Contains("xai::EigenCam::explain_fused()"));
    }
    SECTION("target out of range") {
        CHECK_THROWS_AS(cam.explain(x, {2}), xai::invalid_argument);
        CHECK_THROWS_WITH(cam.explain(x, {2}), Contains("GradCam::explain()") && Contains("targets[0] is class 2") &&
                                                   Contains("below 2"));
        xai::ScoreCamOptions so;
        so.cam.layer = "pooled";
        CHECK_THROWS_WITH(xai::ScoreCam<LinearNet>(net, so).explain(x, {7}), Contains("xai::ScoreCam::explain()"));
        const GapNet gap = make_gap_net(2, 2, 1, xt::ones<float>({2, 2}), {0, 0});
        CHECK_THROWS_AS(xai::Cam<GapNet>(gap).explain(x, {2}), xai::invalid_argument);
    }
    SECTION("batch and target counts disagree") {
        xai::Batch two = xt::concatenate(xt::xtuple(x, x), 0);
        CHECK_THROWS_AS(cam.explain(two, {0, 1, 0}), xai::shape_error);
        CHECK_THROWS_WITH(cam.explain(two, {0, 1, 0}), Contains("targets has 3 entries") && Contains("batch size (2)"));
        CHECK_THROWS_AS(xai::EigenCam<LinearNet>(net, at_layer("pooled")).explain(two, {0, 1, 0}), xai::shape_error);
    }
    SECTION("images of the wrong shape, an empty batch, NaN pixels") {
        // An xtensor expression converts to a Batch and to an Image: say which.
        CHECK_THROWS_AS(cam.explain(xai::Batch(xt::zeros<float>({1, 3, 2, 2}))), xai::shape_error);
        CHECK_THROWS_WITH(cam.explain(xai::Batch(xt::zeros<float>({1, 3, 2, 2}))),
                          Contains("xai::GradCam::explain()") && Contains("3x2x2"));
        CHECK_THROWS_AS(cam.explain(xai::Batch(xt::zeros<float>({0, 2, 2, 2}))), xai::shape_error);
        xai::Batch bad = x;
        bad(0, 1, 1, 1) = std::nanf("");
        CHECK_THROWS_WITH(cam.explain(bad), Contains("NaN"));
    }
    SECTION("a layer without a spatial or token axis") {
        struct FlatNet : LinearNet {
            xai::LayerOutput layer_activations(const xai::Batch& b, const std::string&) const {
                return {xt::zeros<float>({b.shape(0), std::size_t{8}}), forward(b)};
            }
        };
        FlatNet flat;
        static_cast<LinearNet&>(flat) = hand_net();
        CHECK_THROWS_AS(xai::EigenCam<FlatNet>(flat, at_layer("pooled")).explain(x), xai::shape_error);
        CHECK_THROWS_WITH(xai::EigenCam<FlatNet>(flat, at_layer("pooled")).explain(x), Contains("expected N×C×h×w"));
    }
    SECTION("options out of range") {
        xai::ScoreCamOptions so;
        so.batch_size = 0;
        CHECK_THROWS_WITH(xai::ScoreCam<LinearNet>(net, so), Contains("options.batch_size is 0"));
        xai::AblationCamOptions ao;
        ao.batch_size = 0;
        CHECK_THROWS_AS(xai::AblationCam<LinearNet>(net, ao), xai::invalid_argument);
        const GapNet gap = make_gap_net(2, 2, 1, xt::ones<float>({2, 2}), {0, 0});
        CHECK_THROWS_WITH(xai::Cam<GapNet>(gap, at_layer("pooled")), Contains("Cam::Cam(): options.layer is 'pooled'"));
        CHECK_THROWS_WITH(cam.explain_fused(x, {}), Contains("layers is empty"));
        CHECK_THROWS_WITH(cam.explain_fused(x, {"pooled", "conv9"}), Contains("'conv9'"));
    }
}

TEST_CASE("A misbehaving model is a model_error, never a silent NaN", "[cam][errors]") {
    struct NanNet : LinearNet {
        bool call_seed = true;
        bool nan_gradient = false;
        bool wrong_shape = false;
        xai::LayerGradients layer_gradients(const xai::Batch& b, const std::string& layer, const xai::ScoreSeed& seed) const {
            xai::LayerGradients out = call_seed ? LinearNet::layer_gradients(b, layer, seed)
                                                : LinearNet::layer_gradients(b, layer, [](const xai::Scores& s) {
                                                      return xai::Scores(xt::zeros<float>(s.shape()));
                                                  });
            if (nan_gradient) out.gradients(0) = std::nanf("");
            if (wrong_shape) out.gradients = xt::zeros<float>({b.shape(0), std::size_t{2}, std::size_t{1}, std::size_t{1}});
            return out;
        }
        xai::Scores forward_from(const std::string&, const xai::Activations& a) const {
            return xt::full_like(xai::Scores::from_shape({a.shape(0), std::size_t{2}}), std::nanf(""));
        }
    };
    NanNet net;
    static_cast<LinearNet&>(net) = hand_net();
    const xai::Batch x = hand_input();
    net.nan_gradient = true;
    CHECK_THROWS_AS(xai::GradCam<NanNet>(net, at_layer("pooled")).explain(x), xai::model_error);
    CHECK_THROWS_WITH(xai::GradCam<NanNet>(net, at_layer("pooled")).explain(x), Contains("NaN or Inf gradients"));
    net.nan_gradient = false;
    net.wrong_shape = true;
    CHECK_THROWS_WITH(xai::HiResCam<NanNet>(net, at_layer("pooled")).explain(x), Contains("expected the same shape"));
    net.wrong_shape = false;
    net.call_seed = false;
    CHECK_THROWS_WITH(xai::GradCam<NanNet>(net, at_layer("pooled")).explain(x), Contains("without calling the score seed"));
    xai::AblationCamOptions ao;
    ao.cam.layer = "pooled";
    CHECK_THROWS_AS(xai::AblationCam<NanNet>(net, ao).explain(x), xai::model_error);
}

TEST_CASE("Fusing layers averages their normalized upsampled maps; per-layer results are kept", "[cam][fusion]") {
    LinearNet net = hand_net();
    net.height = net.width = 4;
    net.factor = 2;  // "input" is 4×4, "pooled" 2×2
    const xai::Batch x = random_batch(2, 2, 4, 4, 21);
    const std::vector<std::string> layers{"pooled", "input"};
    // make(layer) builds the explainer at one layer; the fusion ignores the explainer's layer.
    const auto check_fusion = [&](const auto& make) {
        const xai::FusedCamResult f = make("input").explain_fused(x, layers, {0});
        REQUIRE(f.layers.size() == 2);
        xai::Maps expected = xt::zeros<float>({2, 4, 4});
        for (std::size_t l = 0; l < 2; ++l) {
            const xai::CamResult single = make(layers[l]).explain(x, {0});
            CHECK(f.layers[l].layer == layers[l]);
            CHECK((f.layers[l].raw == single.raw));
            expected += xai::normalize_min_max(xai::resize(xt::eval(xt::maximum(single.raw, 0.0f)), 4, 4));
        }
        CHECK(xt::allclose(f.maps, xai::normalize_min_max(xt::eval(expected / 2.0f)), 1e-6, 1e-6));
        // raw: the fused map before its final normalization.
        CHECK(xt::allclose(f.raw, expected / 2.0f, 1e-6, 1e-6));
        CHECK((f.maps == xai::normalize_min_max(f.raw)));
        CHECK(f.targets == std::vector<std::size_t>{0, 0});
        CHECK(f.scores == f.layers[0].scores);
        CHECK(f.score_kind == f.layers[0].score_kind);
        CHECK((f.logits == f.layers[0].logits));
    };
    check_fusion([&](const std::string& l) { return xai::LayerCam<LinearNet>(net, at_layer(l)); });
    check_fusion([&](const std::string& l) { return xai::GradCam<LinearNet>(net, at_layer(l)); });
    check_fusion([&](const std::string& l) { return xai::EigenCam<LinearNet>(net, at_layer(l)); });
    check_fusion([&](const std::string& l) { return xai::ScoreCam<LinearNet>(net, {.cam = at_layer(l)}); });
    check_fusion([&](const std::string& l) { return xai::AblationCam<LinearNet>(net, {.cam = at_layer(l)}); });
    // Predicted targets are resolved once, at the first layer, and reused.
    const xai::FusedCamResult f = xai::GradCam<LinearNet>(net, at_layer("pooled")).explain_fused(x, layers);
    CHECK(f.layers[1].targets == f.layers[0].targets);
    // normalize = false: maps is the unnormalized fused map, raw.
    xai::CamOptions unnormalized = at_layer("pooled");
    unnormalized.normalize = false;
    const xai::FusedCamResult u = xai::LayerCam<LinearNet>(net, unnormalized).explain_fused(x, layers, {0});
    CHECK((u.maps == u.raw));
}

TEST_CASE("Results are identical for any thread count and batch size, and across repeated calls",
          "[cam][determinism]") {
    LinearNet net = hand_net();
    net.height = net.width = 4;
    net.factor = 2;
    net.channels = 2;
    const xai::Batch x = random_batch(5, 2, 4, 4, 31);
    const auto same = [](const xai::CamResult& a, const xai::CamResult& b) {
        CHECK((a.raw == b.raw));
        CHECK((a.maps == b.maps));
        CHECK((a.weights == b.weights));
        CHECK(a.targets == b.targets);
    };
    for (const std::string layer : {"input", "pooled"}) {
        xai::ScoreCamOptions s1, s2;
        s1.cam.layer = s2.cam.layer = layer;
        s1.cam.threads = 1;
        s1.batch_size = 1;
        s2.cam.threads = 3;
        s2.batch_size = 16;
        same(xai::ScoreCam<LinearNet>(net, s1).explain(x), xai::ScoreCam<LinearNet>(net, s2).explain(x));
        // "As large as possible" (regression: (channels + SIZE_MAX − 1) / SIZE_MAX wrapped to 0
        // chunks and gave all-zero maps; found by fuzz_explainer_options).
        xai::ScoreCamOptions huge = s1;
        huge.batch_size = std::numeric_limits<std::size_t>::max();
        huge.cam.threads = std::numeric_limits<std::size_t>::max();
        same(xai::ScoreCam<LinearNet>(net, s1).explain(x), xai::ScoreCam<LinearNet>(net, huge).explain(x));
        xai::AblationCamOptions a1, a2;
        a1.cam.layer = a2.cam.layer = layer;
        a1.cam.threads = 1;
        a1.batch_size = 1;
        a2.cam.threads = 2;
        a2.batch_size = 3;
        same(xai::AblationCam<LinearNet>(net, a1).explain(x), xai::AblationCam<LinearNet>(net, a2).explain(x));
        xai::AblationCamOptions a_huge = a1;
        a_huge.batch_size = std::numeric_limits<std::size_t>::max();
        same(xai::AblationCam<LinearNet>(net, a1).explain(x), xai::AblationCam<LinearNet>(net, a_huge).explain(x));
        xai::CamOptions g1 = at_layer(layer), g2 = at_layer(layer);
        g1.threads = 1;
        g2.threads = 4;
        same(xai::GradCamPlusPlus<LinearNet>(net, g1).explain(x), xai::GradCamPlusPlus<LinearNet>(net, g2).explain(x));
        same(xai::EigenCam<LinearNet>(net, g1).explain(x), xai::EigenCam<LinearNet>(net, g2).explain(x));
        // Each image's result does not depend on the batch it is in.
        const xai::CamResult all = xai::XGradCam<LinearNet>(net, g1).explain(x);
        const xai::CamResult third = xai::XGradCam<LinearNet>(net, g1).explain(xai::as_batch(xai::image_at(x, 2)));
        CHECK((xt::view(all.raw, 2) == xt::view(third.raw, 0)));
    }
}

TEST_CASE("explain() is const and safe to call from several threads at once", "[cam][threads]") {
    LinearNet net = hand_net();
    net.height = net.width = 4;
    net.factor = 2;
    const xai::Batch x = random_batch(3, 2, 4, 4, 41);
    xai::ScoreCamOptions o;
    o.cam.layer = "pooled";
    o.cam.threads = 1;
    const xai::ScoreCam<LinearNet> cam(net, o);
    const xai::CamResult reference = cam.explain(x);
    std::vector<xai::CamResult> results(4);
    xai::parallel_for(4, 4, [&](std::size_t i) { results[i] = cam.explain(x); });
    for (const auto& r : results) CHECK((r.raw == reference.raw));
}

TEST_CASE("Score-CAM and Ablation-CAM report progress in channels from the calling thread", "[cam][progress]") {
    LinearNet net = hand_net();
    net.height = net.width = 4;
    net.factor = 2;
    const xai::Batch x = random_batch(3, 2, 4, 4, 51);
    std::vector<xai::ProgressReport> seen;
    const auto caller = std::this_thread::get_id();
    bool same_thread = true;
    const xai::Progress record = [&](const xai::ProgressReport& p) {
        seen.push_back(p);
        same_thread = same_thread && std::this_thread::get_id() == caller;
    };
    xai::ScoreCamOptions o;
    o.cam.layer = "input";
    o.batch_size = 1;
    o.cam.threads = 2;
    xai::ScoreCam<LinearNet>(net, o).explain(x, {}, record);
    REQUIRE(!seen.empty());
    CHECK(seen.back().done == 6);  // 3 images × 2 channels
    CHECK(seen.back().total == 6);
    CHECK(seen.back().stage == "channels");
    for (std::size_t i = 1; i < seen.size(); ++i) CHECK(seen[i].done > seen[i - 1].done);
    CHECK(same_thread);
    seen.clear();
    xai::AblationCamOptions a;
    a.cam.layer = "pooled";
    xai::AblationCam<LinearNet>(net, a).explain(x, {}, record);
    REQUIRE(!seen.empty());
    CHECK(seen.back().done == 6);
    CHECK(seen.back().stage == "channels");
    CHECK(same_thread);
    // The single-image form passes the callback on: 2 channels of one image.
    seen.clear();
    xai::AblationCam<LinearNet>(net, a).explain(xai::image_at(x, 0), xai::Target::predicted(), record);
    REQUIRE(!seen.empty());
    CHECK(seen.back().done == 2);
    CHECK(seen.back().total == 2);
    // Fusion: the channels of each layer, and after each layer the layers done.
    seen.clear();
    xai::ScoreCam<LinearNet>(net, o).explain_fused(x, {"pooled", "input"}, {}, record);
    std::vector<std::size_t> layers_done;
    for (const xai::ProgressReport& p : seen)
        if (p.stage == "layers") {
            layers_done.push_back(p.done);
            CHECK(p.total == 2);
        }
    CHECK(layers_done == std::vector<std::size_t>{1, 2});
    CHECK(seen.back().stage == "layers");
}

TEST_CASE("The methods that are not progress-worthy call progress once, when done", "[cam][progress]") {
    const GapNet net = make_gap_net(2, 4, 2, xt::xtensor<float, 2>{{2, -1}, {0, 1}}, {0.0f, 0.0f});
    const xai::Batch x = random_batch(3, 2, 4, 4, 52);
    std::vector<xai::ProgressReport> seen;
    const xai::Progress record = [&](const xai::ProgressReport& p) { seen.push_back(p); };
    const auto check_once = [&](const xai::CamResult& r) {
        REQUIRE(seen.size() == 1);
        CHECK(seen[0].done == 3);
        CHECK(seen[0].total == 3);
        CHECK(seen[0].stage == "images");
        CHECK(r.size() == 3);
        seen.clear();
    };
    check_once(xai::Cam<GapNet>(net).explain(x, {}, record));
    check_once(xai::GradCam<GapNet>(net, at_layer("pooled")).explain(x, {}, record));
    check_once(xai::LayerCam<GapNet>(net, at_layer("pooled")).explain(x, {}, record));
    check_once(xai::EigenCam<GapNet>(net, at_layer("pooled")).explain(x, {}, record));
}

namespace {

// A small CNN of the built-in kind, random weights: 3×16×16 → conv1 → relu1 → pool1 → conv2 →
// relu2 → gap → fc (4 classes). Its feature layer (the input of the GAP) is relu2, 8×8.
xai::models::Sequential small_cnn() {
    using namespace xai::models;
    return Sequential({3, 16, 16},
                      {conv2d(6, 3, 1, 1), relu(), max_pool2d(2), conv2d(8, 3, 1, 1), relu(), global_avg_pool(), linear(4)},
                      7);
}

}  // namespace

TEST_CASE("On the built-in CNN, Grad-CAM = ReLU(CAM)/(h·w) and HiResCAM's signed map = CAM/(h·w)",
          "[cam][identity][sequential]") {
    const xai::models::Sequential net = small_cnn();
    REQUIRE(net.feature_layer() == "relu2");
    const xai::Batch x = random_batch(4, 3, 16, 16, 61);
    const xai::Targets targets{0, 1, 2, 3};
    const xai::CamResult cam = xai::Cam<xai::models::Sequential>(net).explain(x, targets);
    const xai::CamOptions o = at_layer(net.feature_layer());
    const xai::CamResult grad = xai::GradCam<xai::models::Sequential>(net, o).explain(x, targets);
    const xai::CamResult hires = xai::HiResCam<xai::models::Sequential>(net, o).explain(x, targets);
    REQUIRE(cam.raw.shape() == std::array<std::size_t, 3>{4, 8, 8});
    const float z = 64.0f;
    const float scale = xt::amax(xt::abs(cam.raw))() / z;
    const xai::Maps expected = cam.raw / z;
    CHECK(xt::allclose(grad.raw, expected, 1e-4, 1e-5 * scale));
    CHECK(xt::allclose(hires.raw, expected, 1e-4, 1e-5 * scale));
    CHECK(xt::allclose(xt::maximum(grad.raw, 0.0f), xt::maximum(expected, 0.0f), 1e-4, 1e-5 * scale));
    CHECK(xt::allclose(grad.maps, cam.maps, 1e-4, 1e-4));
    CHECK((grad.targets == cam.targets));
    for (std::size_t i = 0; i < 4; ++i) CHECK(grad.scores[i] == Approx(cam.scores[i]).margin(1e-5));
    // Ablation-CAM on the same layer: zeroing channel k removes W_ck·mean(A_k) from the logit,
    // so its weights are W_ck·mean(A_k)/y_c (the network is linear after the layer).
    xai::AblationCamOptions ao;
    ao.cam.layer = net.feature_layer();
    const xai::CamResult ablation = xai::AblationCam<xai::models::Sequential>(net, ao).explain(x, targets);
    const xt::xtensor<float, 2> w = net.classifier_weights();
    const xai::LayerOutput features = net.layer_activations(x, "relu2");
    for (std::size_t i = 0; i < 4; ++i)
        for (std::size_t k = 0; k < 8; ++k) {
            const float mean_k = xt::mean(xt::view(features.activations, i, k))();
            CHECK(ablation.weights(i, k) ==
                  Approx(w(targets[i].index(), k) * mean_k / cam.logits(i, targets[i].index())).margin(1e-4));
        }
}

TEST_CASE("On the built-in CNN, Grad-CAM at an earlier layer matches the mean-gradient formula", "[cam][sequential]") {
    // The formula, written out against the model's own layer_gradients: α_k = mean(G_k).
    const xai::models::Sequential net = small_cnn();
    const xai::Batch x = random_batch(2, 3, 16, 16, 71);
    const xai::CamResult r = xai::GradCam<xai::models::Sequential>(net, at_layer("conv2")).explain(x, {1});
    const xai::LayerGradients g = net.layer_gradients(x, "conv2", [](const xai::Scores& s) {
        return xai::target_score_gradient(s, std::vector<std::size_t>{1, 1}, xai::ScoreKind::logit);
    });
    for (std::size_t i = 0; i < 2; ++i) {
        xt::xtensor<float, 2> expected = xt::zeros<float>({8, 8});
        for (std::size_t k = 0; k < 8; ++k) {
            const float alpha = xt::mean(xt::view(g.gradients, i, k))();
            CHECK(r.weights(i, k) == Approx(alpha).margin(1e-6));
            expected += alpha * xt::view(g.activations, i, k);
        }
        check_map(r.raw, i, expected, 1e-5);
    }
    // The display map has the input's resolution.
    CHECK(r.maps.shape() == std::array<std::size_t, 3>{2, 16, 16});
}

TEST_CASE("Explainers deduce the model type and refuse temporaries", "[cam][api]") {
    const LinearNet net = hand_net();
    xai::CamOptions o;
    o.layer = "pooled";
#if __cpp_deduction_guides >= 201907L  // C++20's deduction through alias templates (not in clang before 19)
    const xai::GradCam cam(net, o);  // class template argument deduction through the alias
#else
    const xai::GradCam<LinearNet> cam(net, o);
#endif
    const xai::ScoreCam score(net, xai::ScoreCamOptions{.cam = o});
    static_assert(std::is_same_v<std::remove_const_t<decltype(cam)>, xai::GradCam<LinearNet>>);
    static_assert(std::is_same_v<std::remove_const_t<decltype(score)>, xai::ScoreCam<LinearNet>>);
    static_assert(!std::is_constructible_v<xai::GradCam<LinearNet>, LinearNet&&, xai::CamOptions>);
    static_assert(!std::is_constructible_v<xai::Cam<GapNet>, GapNet&&>);
    static_assert(!std::is_constructible_v<xai::ScoreCam<LinearNet>, LinearNet&&>);
    static_assert(!std::is_constructible_v<xai::EigenCam<LinearNet>, LinearNet&&>);
    static_assert(!std::is_constructible_v<xai::AblationCam<LinearNet>, LinearNet&&>);
    CHECK(cam.explain(hand_input()).targets == std::vector<std::size_t>{0});
    CHECK(cam.options().layer == "pooled");
}

namespace {

/// The shipped scene samples (data/samples/scenes): images, labels and ground-truth boxes, read
/// from ground_truth.json (one scene per line).
struct SceneSamples {
    xai::Batch images;
    std::vector<std::size_t> labels;
    std::vector<xai::SceneBox> boxes;
};

SceneSamples load_scene_samples() {
    const std::filesystem::path dir = xai::data_directory() / "samples" / "scenes";
    std::ifstream json(dir / "ground_truth.json");
    REQUIRE(json.good());
    std::vector<xai::Image> images;
    SceneSamples out;
    std::string line;
    while (std::getline(json, line)) {
        const std::size_t at = line.find("\"file\": \"");
        if (at == std::string::npos) continue;
        const std::size_t begin = at + 9, end = line.find('"', begin);
        const std::string file = line.substr(begin, end - begin);
        std::size_t label = 0, top = 0, left = 0, bottom = 0, right = 0;
        REQUIRE(std::sscanf(line.c_str() + line.find("\"label\""), "\"label\": %zu", &label) == 1);
        REQUIRE(std::sscanf(line.c_str() + line.find("\"box\""),
                            "\"box\": {\"top\": %zu, \"left\": %zu, \"bottom\": %zu, \"right\": %zu", &top, &left,
                            &bottom, &right) == 4);
        images.push_back(xai::load_image(dir / file, 1));
        out.labels.push_back(label);
        out.boxes.push_back({top, left, bottom, right});
    }
    REQUIRE(!images.empty());
    out.images = xai::stack(images);
    return out;
}

}  // namespace

TEST_CASE("On the shipped scene samples, Grad-CAM's arg-max falls inside the item's box for at least 80%",
          "[cam][scenes]") {
    const xai::models::Sequential model = xai::models::load_builtin("scenes");
    const SceneSamples samples = load_scene_samples();
    xai::CamOptions o;
    o.layer = model.feature_layer();
    const xai::Targets targets(samples.labels.begin(), samples.labels.end());
    const xai::CamResult r = xai::GradCam<xai::models::Sequential>(model, o).explain(samples.images, targets);
    const std::size_t n = samples.labels.size(), width = r.maps.shape(2);
    std::size_t hits = 0;
    std::ostringstream report;
    for (std::size_t i = 0; i < n; ++i) {
        const auto plane = xt::view(r.maps, i);
        const auto peak = static_cast<std::size_t>(std::max_element(plane.begin(), plane.end()) - plane.begin());
        const xai::SceneBox& box = samples.boxes[i];
        const bool hit = box.contains(peak / width, peak % width);
        hits += hit ? 1 : 0;
        report << "scene " << i << ": peak (" << peak / width << ", " << peak % width << "), box [" << box.top << ", "
               << box.bottom << ") x [" << box.left << ", " << box.right << ")" << (hit ? " hit\n" : " miss\n");
    }
    INFO(report.str());
    INFO(hits << " of " << n << " arg-maxes inside the box");
    CHECK(static_cast<double>(hits) >= 0.8 * static_cast<double>(n));
}

// ---- The unified explainer API (issue 15) ----

// Every CAM explainer has the two entry points of core/explainer.hpp and returns a CamResult
// (Score-CAM a ScoreCamResult derived from it).
static_assert(xai::Explainer<xai::Cam<xai::models::Sequential>>);
static_assert(xai::Explainer<xai::GradCam<xai::models::Sequential>>);
static_assert(xai::Explainer<xai::GradCamPlusPlus<xai::models::Sequential>>);
static_assert(xai::Explainer<xai::XGradCam<xai::models::Sequential>>);
static_assert(xai::Explainer<xai::HiResCam<xai::models::Sequential>>);
static_assert(xai::Explainer<xai::LayerCam<xai::models::Sequential>>);
static_assert(xai::Explainer<xai::ScoreCam<xai::models::Sequential>>);
static_assert(xai::Explainer<xai::EigenCam<xai::models::Sequential>>);
static_assert(xai::Explainer<xai::AblationCam<xai::models::Sequential>>);
static_assert(xai::Explainer<xai::GradCam<LinearNet>>);
// Score-CAM's result is a CamResult with the forwards it made (channels_scored) beside it.
static_assert(std::is_same_v<xai::explanation_t<xai::ScoreCam<xai::models::Sequential>>, xai::ScoreCamResult>);
static_assert(std::is_base_of_v<xai::CamResult, xai::ScoreCamResult>);
static_assert(std::is_base_of_v<xai::Explanation, xai::CamResult>);
static_assert(std::is_base_of_v<xai::Explanation, xai::FusedCamResult>);
// The options are aggregates (designated initializers), with no base class.
static_assert(std::is_aggregate_v<xai::CamOptions>);
static_assert(std::is_aggregate_v<xai::ScoreCamOptions> && !std::is_base_of_v<xai::CamOptions, xai::ScoreCamOptions>);
static_assert(std::is_aggregate_v<xai::AblationCamOptions> &&
              !std::is_base_of_v<xai::CamOptions, xai::AblationCamOptions>);

namespace {

// A user's own channel-weight rule: each channel weighted by its largest gradient.
struct MaxGradientRule {
    static constexpr std::string_view name = "MaxGradientCam";
    static float channel_weight(const float* /*a*/, const float* g, std::size_t pixels) {
        return *std::max_element(g, g + pixels);
    }
};
// A user's own element-wise rule: the evidence against the class, ReLU(−G) ⊙ A.
struct NegativeGradientRule {
    static constexpr std::string_view name = "NegativeGradientCam";
    static float element(float a, float g) { return g < 0.0f ? -g * a : 0.0f; }
};
// No name, or neither a channel weight nor an element term: not a rule (tests/compile_fail/
// checks that GradientCam refuses them with the concept's name in the error).
struct NamelessRule {
    static float element(float a, float g) { return a * g; }
};
struct NotARule {
    static constexpr std::string_view name = "NotARule";
};
// The name must be a constant (the explainer's own `name` is constexpr); a const char* is fine.
struct RuntimeNameRule {
    inline static const std::string name = "RuntimeName";
    static float element(float a, float g) { return a * g; }
};
struct CharNameRule {
    static constexpr const char* name = "CharNameCam";
    static float element(float a, float g) { return a * g; }
};

static_assert(xai::ChannelWeightRule<MaxGradientRule> && !xai::ElementwiseRule<MaxGradientRule>);
static_assert(xai::ElementwiseRule<NegativeGradientRule> && !xai::ChannelWeightRule<NegativeGradientRule>);
static_assert(xai::CamRule<xai::GradCamRule> && xai::CamRule<xai::LayerCamRule>);
static_assert(!xai::CamRule<NamelessRule> && !xai::CamRule<NotARule> && !xai::CamRule<RuntimeNameRule>);
static_assert(xai::GradientCam<LinearNet, CharNameRule>::name == "CharNameCam");

}  // namespace

TEST_CASE("A user-defined rule needs only what the rule concepts list, and gives its hand-computed map",
          "[cam][rules]") {
    const LinearNet net = hand_net();
    SECTION("a ChannelWeightRule: the largest gradient of each channel") {
        const xai::GradientCam<LinearNet, MaxGradientRule> cam(net, at_layer("pooled"));
        const xai::CamResult r = cam.explain(hand_input());
        // max G0 = 2, max G1 = 1: raw = 2 A0 + A1 = [[4, 5], [0, 5]]; display = raw / 5.
        CHECK(r.weights(0, 0) == 2.0f);
        CHECK(r.weights(0, 1) == 1.0f);
        check_map(r.raw, 0, {{4.0f, 5.0f}, {0.0f, 5.0f}});
        check_map(r.maps, 0, {{0.8f, 1.0f}, {0.0f, 1.0f}});
        CHECK(r.targets == std::vector<std::size_t>{0});
        CHECK(r.scores[0] == Approx(5.0));
    }
    SECTION("an ElementwiseRule: ReLU(−G) ⊙ A") {
        const xai::GradientCam<LinearNet, NegativeGradientRule> cam(net, at_layer("pooled"));
        const xai::CamResult r = cam.explain(hand_input());
        // ReLU(−G0) ⊙ A0 = [[0, 2], [0, 0]], ReLU(−G1) ⊙ A1 = [[8, 0], [0, 0]].
        check_map(r.raw, 0, {{8.0f, 2.0f}, {0.0f, 0.0f}});
        check_map(r.maps, 0, {{1.0f, 0.25f}, {0.0f, 0.0f}});
        CHECK(r.weights.shape(1) == 0);
    }
    SECTION("the rule's name prefixes every error message") {
        using Mine = xai::GradientCam<LinearNet, MaxGradientRule>;
        static_assert(Mine::name == "MaxGradientCam");
        CHECK_THROWS_WITH(Mine(net, at_layer("conv9")), Contains("xai::MaxGradientCam::MaxGradientCam(): layer 'conv9'"));
        CHECK_THROWS_WITH(Mine(net, at_layer("pooled")).explain(hand_input(), {2}),
                          Contains("xai::MaxGradientCam::explain(): targets[0] is class 2"));
        CHECK_THROWS_WITH(Mine(net, at_layer("pooled")).explain_fused(hand_input(), {}),
                          Contains("xai::MaxGradientCam::explain_fused(): layers is empty"));
    }
}

TEST_CASE("An empty layer is the model's default feature layer; a bad layer is refused at construction",
          "[cam][layer]") {
    const xai::models::Sequential net = small_cnn();
    CHECK(xai::default_layer(net) == "relu2");  // the input of the global average pooling
    CHECK_THROWS_AS(xai::default_layer(hand_net()), xai::invalid_argument);
    CHECK_THROWS_WITH(xai::default_layer(hand_net()), Contains("xai::default_layer(): the model names no feature layer") &&
                                                          Contains("[input, pooled]"));
    const xai::Batch x = random_batch(2, 3, 16, 16, 81);
    const auto check_default = [&](const auto& by_default, const auto& explicit_layer) {
        CHECK(by_default.options().layer == "relu2");
        const xai::CamResult d = by_default.explain(x), e = explicit_layer.explain(x);
        CHECK(d.layer == "relu2");
        CHECK((d.raw == e.raw));
        CHECK((d.maps == e.maps));
    };
    using Model = xai::models::Sequential;
    check_default(xai::GradCam<Model>(net), xai::GradCam<Model>(net, at_layer("relu2")));
    check_default(xai::GradCamPlusPlus<Model>(net), xai::GradCamPlusPlus<Model>(net, at_layer("relu2")));
    check_default(xai::XGradCam<Model>(net), xai::XGradCam<Model>(net, at_layer("relu2")));
    check_default(xai::HiResCam<Model>(net), xai::HiResCam<Model>(net, at_layer("relu2")));
    check_default(xai::LayerCam<Model>(net), xai::LayerCam<Model>(net, at_layer("relu2")));
    check_default(xai::EigenCam<Model>(net), xai::EigenCam<Model>(net, at_layer("relu2")));
    const xai::ScoreCam<Model> score(net);
    CHECK(score.options().cam.layer == "relu2");
    CHECK((score.explain(x).raw == xai::ScoreCam<Model>(net, {.cam = at_layer("relu2")}).explain(x).raw));
    const xai::AblationCam<Model> ablation(net);
    CHECK(ablation.options().cam.layer == "relu2");
    CHECK((ablation.explain(x).raw == xai::AblationCam<Model>(net, {.cam = at_layer("relu2")}).explain(x).raw));

    // An unknown layer: invalid_argument from the constructor, naming the model's layers.
    const auto refused = [](const auto& build, const std::string& prefix) {
        CHECK_THROWS_AS(build(), xai::invalid_argument);
        CHECK_THROWS_WITH(build(), Contains(prefix + ": layer 'relu9' is not a layer of the model") &&
                                       Contains("relu1") && Contains("relu2") && Contains("fc"));
    };
    const xai::CamOptions bad = at_layer("relu9");
    refused([&] { return xai::GradCam<Model>(net, bad); }, "xai::GradCam::GradCam()");
    refused([&] { return xai::GradCamPlusPlus<Model>(net, bad); }, "xai::GradCamPlusPlus::GradCamPlusPlus()");
    refused([&] { return xai::XGradCam<Model>(net, bad); }, "xai::XGradCam::XGradCam()");
    refused([&] { return xai::HiResCam<Model>(net, bad); }, "xai::HiResCam::HiResCam()");
    refused([&] { return xai::LayerCam<Model>(net, bad); }, "xai::LayerCam::LayerCam()");
    refused([&] { return xai::EigenCam<Model>(net, bad); }, "xai::EigenCam::EigenCam()");
    refused([&] { return xai::ScoreCam<Model>(net, {.cam = bad}); }, "xai::ScoreCam::ScoreCam()");
    refused([&] { return xai::AblationCam<Model>(net, {.cam = bad}); }, "xai::AblationCam::AblationCam()");
    // CAM explains the final feature maps only: even the default layer's name is refused.
    CHECK_THROWS_WITH(xai::Cam<Model>(net, at_layer("relu2")), Contains("xai::Cam::Cam(): options.layer is 'relu2'"));
}

TEST_CASE("Options are aggregates: designated initializers build every CAM explainer", "[cam][options][api]") {
    const xai::models::Sequential model = xai::models::builtin_architecture("scenes", 1);
    const xai::Batch x = random_batch(1, 1, 64, 64, 91);
    const xai::GradCam<xai::models::Sequential> g(model, {.layer = "relu4", .threads = 1});
    const xai::ScoreCam s(model, {.cam = {.layer = "relu4"}, .batch_size = 16});
    const xai::AblationCam a(model, {.cam = {.layer = "relu3", .threads = 1}, .batch_size = 64});
    const xai::EigenCam e(model, {.layer = "relu3", .relu = false});
    const xai::Cam c(model, {.score = xai::ScoreKind::probability, .normalize = false});
    CHECK(g.options().layer == "relu4");
    CHECK(g.options().threads == 1);
    CHECK(s.options().cam.layer == "relu4");
    CHECK(s.options().batch_size == 16);
    // Setting .cam keeps Score-CAM's own default score, the softmax probability.
    CHECK(s.options().cam.score == xai::ScoreKind::probability);
    CHECK(a.options().cam.score == xai::ScoreKind::logit);
    CHECK(a.options().batch_size == 64);
    CHECK_FALSE(e.options().relu);

    const xai::CamResult rg = g.explain(x);
    CHECK(rg.layer == "relu4");
    CHECK(rg.maps.shape() == std::array<std::size_t, 3>{1, 64, 64});
    CHECK(rg.raw.shape() == std::array<std::size_t, 3>{1, 8, 8});
    const xai::CamResult rs = s.explain(x);
    CHECK(rs.score_kind == xai::ScoreKind::probability);
    CHECK((rs.raw == xai::ScoreCam(model, {.cam = {.layer = "relu4"}, .batch_size = 5}).explain(x).raw));
    CHECK(a.explain(x).raw.shape() == std::array<std::size_t, 3>{1, 16, 16});
    CHECK(e.explain(x).layer == "relu3");
    const xai::CamResult rc = c.explain(x);
    CHECK(rc.score_kind == xai::ScoreKind::probability);
    CHECK(rc.scores[0] == Approx(xai::scores_of_kind(rc.logits, xai::ScoreKind::probability)(0, rc.targets[0])));
}

TEST_CASE("explain(image) is explain(as_batch(image)) bit for bit, and fills every core field",
          "[cam][api]") {
    using Model = xai::models::Sequential;
    const Model net = small_cnn();
    const xai::Image image = xai::image_at(random_batch(1, 3, 16, 16, 101), 0);
    const auto same = [&](const auto& explainer) {
        for (const xai::Target& target : {xai::Target::predicted(), xai::Target::class_index(2)}) {
            const xai::CamResult one = explainer.explain(image, target);
            const xai::CamResult batch = explainer.explain(xai::as_batch(image), xai::Targets{target});
            CHECK((one.maps == batch.maps));
            CHECK((one.raw == batch.raw));
            CHECK((one.weights == batch.weights));
            CHECK((one.logits == batch.logits));
            CHECK(one.targets == batch.targets);
            CHECK(one.scores == batch.scores);
            CHECK(one.score_kind == batch.score_kind);
            CHECK(one.layer == batch.layer);
            // The core: one display map at the input's size in [0, 1], the logits, the target's score.
            REQUIRE(one.size() == 1);
            CHECK(one.map().shape() == std::array<std::size_t, 2>{16, 16});
            CHECK(xt::amin(one.maps)() >= 0.0f);
            CHECK(xt::amax(one.maps)() <= 1.0f);
            CHECK(one.logits.shape() == std::array<std::size_t, 2>{1, 4});
            if (!target.is_predicted()) CHECK(one.targets[0] == 2);
            CHECK(one.scores[0] == xai::scores_of_kind(one.logits, one.score_kind)(0, one.targets[0]));
        }
    };
    same(xai::Cam<Model>(net));
    same(xai::GradCam<Model>(net));
    same(xai::GradCamPlusPlus<Model>(net));
    same(xai::XGradCam<Model>(net));
    same(xai::HiResCam<Model>(net));
    same(xai::LayerCam<Model>(net, at_layer("relu1")));
    same(xai::ScoreCam<Model>(net, {.batch_size = 3}));
    same(xai::EigenCam<Model>(net));
    same(xai::AblationCam<Model>(net));
    // An image that is not C×H×W names the explainer.
    const xai::Image empty = xt::zeros<float>({std::size_t{0}, std::size_t{16}, std::size_t{16}});
    CHECK_THROWS_AS(xai::GradCam<Model>(net).explain(empty), xai::shape_error);
    CHECK_THROWS_WITH(xai::ScoreCam<Model>(net).explain(empty), Contains("xai::ScoreCam::explain(): image has shape"));
}
