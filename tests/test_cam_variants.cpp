// Tests of the CAM variants of issue 19 (include/xai/explain/cam/): Grad-CAM element-wise and
// Eigen-Grad-CAM (rules.hpp), KPCA-CAM (kpca_cam.hpp), the random and Sobel baselines
// (baselines.hpp), and the eigen_smooth and aug_smooth options of every CAM method. Each is
// checked on a case computed by hand in the comments, with the test doubles of cam_toys.hpp.
// xai first: its core/eigen.hpp must see the AVX-512 intrinsics header before xtensor does.
#include "xai/cam.hpp"
#include "cam_toys.hpp"
#include "xai/models/sequential.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <cmath>
#include <string>
#include <vector>

using Catch::Matchers::Contains;

static_assert(xai::Explainer<xai::GradCamElementWise<xai::models::Sequential>>);
static_assert(xai::Explainer<xai::EigenGradCam<xai::models::Sequential>>);
static_assert(xai::Explainer<xai::KpcaCam<xai::models::Sequential>>);
static_assert(xai::Explainer<xai::RandomCam<xai::models::Sequential>>);
static_assert(xai::Explainer<xai::SobelCam<xai::models::Sequential>>);

namespace {

// A batch of one image from two 2×2 channels.
xai::Batch two_channels(const xt::xtensor<float, 2>& a0, const xt::xtensor<float, 2>& a1) {
    xai::Batch x = xai::Batch::from_shape({1, 2, 2, 2});
    xt::view(x, 0, 0) = a0;
    xt::view(x, 0, 1) = a1;
    return x;
}

// LinearNet of one class whose gradient at "pooled" (f = 1) is G0 = g0·1, G1 = g1·1.
LinearNet constant_gradient_net(float g0, float g1) {
    LinearNet net;
    net.v = xt::zeros<float>({1, 2, 2, 2});
    xt::view(net.v, 0, 0) = g0;
    xt::view(net.v, 0, 1) = g1;
    net.bias = {0.0f};
    return net;
}

// A LinearNet with 3 channels, 2×1 pixels (a 2-location case for kernel PCA by hand).
LinearNet two_pixel_net() {
    LinearNet net;
    net.channels = 2;
    net.height = 2;
    net.width = 1;
    net.v = xt::zeros<float>({1, 2, 2, 1});
    net.bias = {0.0f};
    return net;
}

}  // namespace

TEST_CASE("Grad-CAM element-wise on a hand-computed case: Σ_k ReLU(G_k ⊙ A_k)", "[cam][variants][elementwise]") {
    // hand_net's gradient of class 0: G0 = [[1, −1], [2, 0]], G1 = [[−4, 1], [0, 1]]. With a
    // negative activation, A0 = [[1, −2], [0, 1]], A1 = [[2, 1], [0, 3]]:
    //   G0⊙A0 = [[1, 2], [0, 0]]   G1⊙A1 = [[−8, 1], [0, 3]]
    //   element-wise: [[1, 3], [0, 3]];  HiResCAM (no ReLU): [[−7, 3], [0, 3]];
    //   LayerCAM (ReLU(G)⊙A): [[1, 1], [0, 3]] — three different maps.
    const LinearNet net = hand_net();
    const xai::Batch x = two_channels({{1, -2}, {0, 1}}, {{2, 1}, {0, 3}});
    const xai::CamResult r = xai::GradCamElementWise<LinearNet>(net, at_layer("pooled")).explain(x, {0});
    check_map(r.raw, 0, {{1.0f, 3.0f}, {0.0f, 3.0f}});
    check_map(r.maps, 0, {{1.0f / 3.0f, 1.0f}, {0.0f, 1.0f}});
    CHECK(r.weights.shape(1) == 0);
    check_map(xai::HiResCam<LinearNet>(net, at_layer("pooled")).explain(x, {0}).raw, 0, {{-7.0f, 3.0f}, {0.0f, 3.0f}});
    check_map(xai::LayerCam<LinearNet>(net, at_layer("pooled")).explain(x, {0}).raw, 0, {{1.0f, 1.0f}, {0.0f, 3.0f}});
}

TEST_CASE("Eigen-Grad-CAM on hand-computed cases: first principal component of G ⊙ A", "[cam][variants][eigen_grad]") {
    // A0 = A1 = [[0, 1], [2, 3]] (centred c = [[−1.5, −.5], [.5, 1.5]]).
    const xai::Batch x = two_channels({{0, 1}, {2, 3}}, {{0, 1}, {2, 3}});
    const float root5 = std::sqrt(5.0f);
    SECTION("G = (1, 2): terms A0, 2 A0, rank one: raw = √5 c (Eigen-CAM of A alone would be √2 c)") {
        const LinearNet net = constant_gradient_net(1.0f, 2.0f);
        const xai::CamResult r = xai::EigenGradCam<LinearNet>(net, at_layer("pooled")).explain(x);
        check_map(r.raw, 0, {{-1.5f * root5, -0.5f * root5}, {0.5f * root5, 1.5f * root5}});
        check_map(xai::EigenCam<LinearNet>(net, at_layer("pooled")).explain(x).raw, 0,
                  {{-1.5f * std::sqrt(2.0f), -0.5f * std::sqrt(2.0f)}, {0.5f * std::sqrt(2.0f), 1.5f * std::sqrt(2.0f)}});
    }
    SECTION("G = (1, −2): the terms sum to −A0, so the map is −√5 c") {
        const LinearNet net = constant_gradient_net(1.0f, -2.0f);
        const xai::CamResult r = xai::EigenGradCam<LinearNet>(net, at_layer("pooled")).explain(x);
        check_map(r.raw, 0, {{1.5f * root5, 0.5f * root5}, {-0.5f * root5, -1.5f * root5}});
    }
    SECTION("it is HiResCAM with eigen_smooth, on any input") {
        LinearNet net = hand_net();
        net.channels = 3;
        net.height = net.width = 4;
        net.v = random_batch(2, 3, 4, 4, 7);
        const xai::Batch r = random_batch(3, 3, 4, 4, 8);
        xai::CamOptions smooth = at_layer("pooled");
        smooth.eigen_smooth = true;
        const xai::CamResult a = xai::EigenGradCam<LinearNet>(net, at_layer("pooled")).explain(r);
        const xai::CamResult b = xai::HiResCam<LinearNet>(net, smooth).explain(r);
        CHECK((a.raw == b.raw));
        CHECK((a.maps == b.maps));
    }
}

TEST_CASE("eigen_smooth projects the weighted channels w_k A_k on their first component", "[cam][variants][eigen_smooth]") {
    // hand_net: Grad-CAM weights α = (0.5, −0.5). With A0 = [[0, 1], [2, 3]] and A1 = 2 A0 the
    // terms are 0.5 A0 and −A0: centred (0.5 c, −c), v₁ = (0.5, −1)/√1.25, projection
    // (0.25 + 1) c/√1.25 = √1.25 c; the terms sum to −0.5 A0, so the sign is −: raw = −√1.25 c.
    // Without the option raw = −0.5 A0 = [[0, −.5], [−1, −1.5]].
    const LinearNet net = hand_net();
    const xai::Batch x = two_channels({{0, 1}, {2, 3}}, {{0, 2}, {4, 6}});
    xai::CamOptions o = at_layer("pooled");
    check_map(xai::GradCam<LinearNet>(net, o).explain(x, {0}).raw, 0, {{0.0f, -0.5f}, {-1.0f, -1.5f}});
    o.eigen_smooth = true;
    const xai::CamResult r = xai::GradCam<LinearNet>(net, o).explain(x, {0});
    const float s = std::sqrt(1.25f);
    check_map(r.raw, 0, {{1.5f * s, 0.5f * s}, {-0.5f * s, -1.5f * s}});
    CHECK(r.weights(0, 0) == Approx(0.5));  // the weights are still reported
    // The same weights through CAM (W = (0.5, −0.5) on a GAP head): the same projection.
    const GapNet gap = make_gap_net(2, 2, 1, xt::xtensor<float, 2>{{0.5f, -0.5f}}, {0.0f});
    check_map(xai::Cam<GapNet>(gap, {.eigen_smooth = true}).explain(x, {0}).raw, 0,
              {{1.5f * s, 0.5f * s}, {-0.5f * s, -1.5f * s}});
}

TEST_CASE("KPCA-CAM on a two-location case by hand, for every kernel", "[cam][variants][kpca]") {
    // Locations x₀ = (3, 2), x₁ = (1, 0); centred ±d, d = (1, 1), ⟨d, d⟩ = 2, γ = 1/C = ½.
    // K = [[a, b], [b, a]] → K̃ = (a − b)/2 [[1, −1], [−1, 1]]: λ₁ = a − b, α₁ = (1, −1)/√2, so
    // raw = ±√((a − b)/2) (1, −1), + at location 0 (its channel sum 5 > 1).
    const LinearNet net = two_pixel_net();
    xai::Batch x = xai::Batch::from_shape({1, 2, 2, 1});
    x(0, 0, 0, 0) = 3; x(0, 0, 1, 0) = 1;
    x(0, 1, 0, 0) = 2; x(0, 1, 1, 0) = 0;
    const auto check_kernel = [&](xai::PcaKernel kernel, double a, double b) {
        xai::KpcaCamOptions o{.cam = at_layer("input"), .kernel = kernel};
        const xai::CamResult r = xai::KpcaCam<LinearNet>(net, o).explain(x);
        const float v = static_cast<float>(std::sqrt((a - b) / 2.0));
        check_map(r.raw, 0, {{v}, {-v}});
    };
    // sigmoid: a = tanh(½·2 + 1) = tanh 2, b = tanh(−1 + 1) = 0.
    check_kernel(xai::PcaKernel::sigmoid, std::tanh(2.0), 0.0);
    // rbf: a = 1, b = exp(−½ ‖2d‖²) = exp(−4).
    check_kernel(xai::PcaKernel::rbf, 1.0, std::exp(-4.0));
    // polynomial (d = 3): a = (1 + 1)³ = 8, b = (−1 + 1)³ = 0.
    check_kernel(xai::PcaKernel::polynomial, 8.0, 0.0);
    // linear: a = 2, b = −2.
    check_kernel(xai::PcaKernel::linear, 2.0, -2.0);
    // An explicit γ: sigmoid with γ = 0.25: a = tanh 1.5, b = tanh 0.5.
    xai::KpcaCamOptions g{.cam = at_layer("input"), .gamma = 0.25};
    const float v = static_cast<float>(std::sqrt((std::tanh(1.5) - std::tanh(0.5)) / 2.0));
    check_map(xai::KpcaCam<LinearNet>(net, g).explain(x).raw, 0, {{v}, {-v}});
}

TEST_CASE("KPCA-CAM with the linear kernel is Eigen-CAM", "[cam][variants][kpca]") {
    LinearNet net = hand_net();
    net.channels = 5;
    net.height = net.width = 4;
    net.v = xt::zeros<float>({2, 5, 4, 4});
    const xai::Batch x = random_batch(3, 5, 4, 4, 11);
    const xai::CamResult e = xai::EigenCam<LinearNet>(net, at_layer("input")).explain(x);
    const xai::CamResult k =
        xai::KpcaCam<LinearNet>(net, {.cam = at_layer("input"), .kernel = xai::PcaKernel::linear}).explain(x);
    for (std::size_t i = 0; i < e.raw.size(); ++i) REQUIRE(k.raw.data()[i] == Approx(e.raw.data()[i]).margin(1e-4));
}

TEST_CASE("RandomCam: U(−1, 1) channel weights from Rng::stream(seed, 0), raw = Σ w_k A_k",
          "[cam][variants][random]") {
    const LinearNet net = hand_net();
    const xai::Batch x = xai::Batch(xt::concatenate(xt::xtuple(hand_input(), hand_input() * 2.0f), 0));
    const xai::RandomCam<LinearNet> cam(net, {.cam = at_layer("pooled"), .seed = 42});
    const xai::CamResult r = cam.explain(x);
    xai::Rng rng = xai::Rng::stream(42, 0);
    const float w0 = static_cast<float>(rng.uniform(-1.0, 1.0)), w1 = static_cast<float>(rng.uniform(-1.0, 1.0));
    CHECK(std::abs(w0) <= 1.0f);
    CHECK(w0 != w1);
    for (std::size_t i = 0; i < 2; ++i) {
        CHECK(r.weights(i, 0) == w0);
        CHECK(r.weights(i, 1) == w1);
        const float s = static_cast<float>(i + 1);  // image 1 is twice image 0
        check_map(r.raw, i, {{s * (w0 + 2 * w1), s * (2 * w0 + w1)}, {0.0f, s * (w0 + 3 * w1)}});
    }
    // Another seed, other weights; the same seed, any thread count or batch: the same maps.
    CHECK((xai::RandomCam<LinearNet>(net, {.cam = at_layer("pooled"), .seed = 43}).explain(x).weights != r.weights));
    xai::RandomCamOptions one{.cam = at_layer("pooled"), .seed = 42};
    one.cam.threads = 1;
    CHECK((xai::RandomCam<LinearNet>(net, one).explain(x).raw == r.raw));
    const xai::CamResult second = cam.explain(xai::image_at(x, 1));
    CHECK((xt::view(second.raw, 0) == xt::view(r.raw, 1)));
}

TEST_CASE("SobelCam: ½|S_x * g| + ½|S_y * g| with reflected borders, by hand", "[cam][variants][sobel]") {
    // One channel, 3×3, a vertical step g = [[0, 0, 1]] × 3. Reflect-101: column −1 reads
    // column 1, column 3 reads column 1. S_x at column 0: 4·g(·,1) − 4·g(·,1) = 0; column 1:
    // 4·1 − 4·0 = 4; column 2: 4·g(·,1) − 4·g(·,1) = 0. S_y = 0 (all rows equal). Map: ½·4 = 2
    // in the middle column.
    LinearNet net;
    net.channels = 1;
    net.height = net.width = 3;
    net.v = xt::zeros<float>({2, 1, 3, 3});
    net.bias = {1.0f, 0.0f};
    xai::Batch x = xt::zeros<float>({std::size_t{2}, std::size_t{1}, std::size_t{3}, std::size_t{3}});
    for (std::size_t y = 0; y < 3; ++y) {
        x(0, 0, y, 2) = 1.0f;
        x(1, 0, 2, y) = 1.0f;  // image 1: the transposed step, a horizontal edge
    }
    const xai::CamResult r = xai::SobelCam<LinearNet>(net).explain(x);
    check_map(r.raw, 0, {{0, 2, 0}, {0, 2, 0}, {0, 2, 0}});
    check_map(r.raw, 1, {{0, 0, 0}, {2, 2, 2}, {0, 0, 0}});
    check_map(r.maps, 0, {{0, 1, 0}, {0, 1, 0}, {0, 1, 0}});
    CHECK(r.targets == std::vector<std::size_t>{0, 0});  // the bias makes class 0 the prediction
    CHECK(r.scores[0] == Approx(1.0));

    // Three channels are made grey with OpenCV's weights: only R = the step gives 0.299 · 2.
    LinearNet rgb = net;
    rgb.channels = 3;
    rgb.v = xt::zeros<float>({2, 3, 3, 3});
    xai::Batch c = xt::zeros<float>({std::size_t{1}, std::size_t{3}, std::size_t{3}, std::size_t{3}});
    for (std::size_t y = 0; y < 3; ++y) c(0, 0, y, 2) = 1.0f;
    const float red = 0.299f * 2.0f;
    check_map(xai::SobelCam<LinearNet>(rgb).explain(c).raw, 0, {{0, red, 0}, {0, red, 0}, {0, red, 0}});

    CHECK_THROWS_WITH(xai::SobelCam<LinearNet>(net, at_layer("pooled")),
                      Contains("xai::SobelCam::SobelCam(): options.layer is 'pooled', expected empty"));
}

TEST_CASE("aug_smooth: the mean over {flip} × {0.9, 1, 1.1} of the flipped-back maps, by hand",
          "[cam][variants][aug_smooth]") {
    // HiResCAM at "pooled" of hand_net (gradient V constant): the image f·flip(x) gives the
    // terms V ⊙ f·flip(x), flipped back f · flip(V) ⊙ x. The mean of f over {0.9, 1, 1.1} is 1:
    //   raw = ½ (R₁ + R₂),  R₁ = Σ_k V_k ⊙ x_k = [[−7, −1], [0, 3]],
    //   R₂ = Σ_k flip(V_k) ⊙ x_k = [[−1, 2], [0, 2]] + [[2, −4], [0, 0]] = [[1, −2], [0, 2]]
    //   → raw = [[−3, −1.5], [0, 2.5]].
    // Each display map is normalize(ReLU(f·R)) = normalize(ReLU(R)), so
    //   maps = ½ ([[0, 0], [0, 1]] + [[.5, 0], [0, 1]]) = [[.25, 0], [0, 1]] (not renormalized).
    const LinearNet net = hand_net();
    xai::CamOptions o = at_layer("pooled");
    o.aug_smooth = true;
    const xai::CamResult r = xai::HiResCam<LinearNet>(net, o).explain(hand_input());
    check_map(r.raw, 0, {{-3.0f, -1.5f}, {0.0f, 2.5f}});
    check_map(r.maps, 0, {{0.25f, 0.0f}, {0.0f, 1.0f}});
    // The core fields are the unaugmented pass's.
    CHECK(r.targets == std::vector<std::size_t>{0});
    CHECK(r.scores[0] == Approx(5.0));

    // Six passes, the model called once each (Grad-CAM: one layer_gradients per pass).
    struct Counting : LinearNet {
        std::atomic<int>* calls = nullptr;
        xai::LayerGradients layer_gradients(const xai::Batch& x, const std::string& layer, const xai::ScoreSeed& seed) const {
            ++*calls;
            return LinearNet::layer_gradients(x, layer, seed);
        }
    };
    std::atomic<int> calls{0};
    Counting counting;
    static_cast<LinearNet&>(counting) = net;
    counting.calls = &calls;
    (void)xai::GradCam<Counting>(counting, o).explain(hand_input());
    CHECK(calls == 6);

    // Fusing layers does not augment: refused rather than ignored.
    CHECK_THROWS_WITH(xai::GradCam<LinearNet>(net, o).explain_fused(hand_input(), {"pooled", "input"}),
                      Contains("xai::GradCam::explain_fused(): options.aug_smooth is true, expected false"));
}

TEST_CASE("The new variants refuse bad options with the argument and what was expected", "[cam][variants][errors]") {
    const LinearNet net = hand_net();
    CHECK_THROWS_WITH(xai::KpcaCam<LinearNet>(net, {.cam = at_layer("pooled"), .gamma = -1.0}),
                      Contains("xai::KpcaCam::KpcaCam(): options.gamma is -1, expected a finite value ≥ 0"));
    CHECK_THROWS_WITH(xai::KpcaCam<LinearNet>(net, {.cam = at_layer("pooled"), .degree = 0.5}),
                      Contains("options.degree is 0.5, expected a finite value ≥ 1"));
    CHECK_THROWS_WITH(xai::RandomCam<LinearNet>(net, {.cam = at_layer("nope")}), Contains("nope"));
    CHECK_THROWS_WITH(xai::EigenGradCam<LinearNet>(net, at_layer("pooled")).explain(hand_input(), {7}),
                      Contains("targets[0] is class 7"));
}

TEST_CASE("Target functions seed Grad-CAM with their gradient: class logit and probability, raw, binary",
          "[cam][targets][target_functions]") {
    // hand_net with class 1's gradient V1 = (1 on channel 0, 0 on channel 1): class 0's weights
    // are α = (0.5, −0.5) (the Grad-CAM case above), class 1's (1, 0).
    LinearNet net = hand_net();
    xt::view(net.v, 1, 0) = 1.0f;
    const xai::Batch x = hand_input();  // logits (5, Σ A0 = 4)
    const xai::GradCam<LinearNet> cam(net, at_layer("pooled"));
    const xai::CamResult by_index = cam.explain(x, {0});

    // class_logit(0) is the class index 0.
    const xai::CamResult logit = cam.explain(x, {xai::Target::function(xai::targets::class_logit(0))});
    CHECK((logit.raw == by_index.raw));
    CHECK(logit.targets == std::vector<std::size_t>{0});
    CHECK(logit.scores[0] == Approx(5.0));

    // class_probability(0) = Grad-CAM with ScoreKind::probability: the seed p₀ (e₀ − p), so
    // α = p₀ p₁ ((0.5, −0.5) − (1, 0)) = p₀ p₁ (−0.5, −0.5), p₀ = σ(1), p₁ = σ(−1).
    const xai::CamResult prob = cam.explain(x, {xai::Target::function(xai::targets::class_probability(0))});
    const double p0 = 1.0 / (1.0 + std::exp(-1.0)), p1 = 1.0 - p0;
    CHECK(prob.weights(0, 0) == Approx(-0.5 * p0 * p1));
    CHECK(prob.weights(0, 1) == Approx(-0.5 * p0 * p1));
    CHECK(prob.scores[0] == Approx(p0));
    xai::CamOptions as_probability = at_layer("pooled");
    as_probability.score = xai::ScoreKind::probability;
    CHECK(xai::GradCam<LinearNet>(net, as_probability).explain(x, {0}).weights(0, 0) == Approx(prob.weights(0, 0)));

    // raw_output(): Σ_j z_j, seed (1, 1): α = (0.5 + 1, −0.5 + 0) = (1.5, −0.5); score 5 + 4;
    // no class: targets reports the predicted one (0).
    const xai::CamResult raw = cam.explain(x, {xai::Target::function(xai::targets::raw_output())});
    CHECK(raw.weights(0, 0) == Approx(1.5));
    CHECK(raw.weights(0, 1) == Approx(-0.5));
    CHECK(raw.scores[0] == Approx(9.0));
    CHECK(raw.targets == std::vector<std::size_t>{0});

    // binary_output on a one-output model (class 0 of hand_net alone): category 0 is −z₀,
    // α = (−0.5, 0.5), score −5; category 1 is z₀.
    LinearNet single = hand_net();
    single.v = xt::xtensor<float, 4>(xt::view(hand_net().v, xt::range(0, 1)));
    single.bias = {10.0f};
    const xai::GradCam<LinearNet> binary(single, at_layer("pooled"));
    const xai::CamResult negative = binary.explain(x, {xai::Target::function(xai::targets::binary_output(0))});
    CHECK(negative.weights(0, 0) == Approx(-0.5));
    CHECK(negative.weights(0, 1) == Approx(0.5));
    CHECK(negative.scores[0] == Approx(-5.0));
    CHECK(negative.targets == std::vector<std::size_t>{0});
    const xai::CamResult positive = binary.explain(x, {xai::Target::function(xai::targets::binary_output(1))});
    CHECK(positive.weights(0, 0) == Approx(0.5));
    CHECK(positive.targets == std::vector<std::size_t>{1});
    CHECK_THROWS_WITH(cam.explain(x, {xai::Target::function(xai::targets::binary_output(1))}),
                      Contains("binary_output(): the output has 2 values, expected 1"));
    CHECK_THROWS_WITH(xai::targets::binary_output(2), Contains("category is 2, expected 0 or 1"));

    // Mixed per image: a class index for image 0, a function for image 1.
    const xai::Batch two = xai::Batch(xt::concatenate(xt::xtuple(x, x), 0));
    const xai::CamResult mixed = cam.explain(two, {1, xai::Target::function(xai::targets::raw_output())});
    CHECK(mixed.weights(0, 0) == Approx(1.0));
    CHECK(mixed.weights(1, 0) == Approx(1.5));
    CHECK(mixed.scores[0] == Approx(4.0));
    CHECK(mixed.scores[1] == Approx(9.0));
}

TEST_CASE("A region target explains Σ of class c's scores over a mask of a dense output", "[cam][targets][region]") {
    // A 4-output LinearNet read as a 1×2×2 "segmentation" output (K = 1, H = W = 2):
    // output p = Σ V[p] ⊙ A + b_p. The region {p = 0, p = 3} seeds V[0] + V[3].
    LinearNet net;
    net.v = xt::zeros<float>({4, 2, 2, 2});
    xt::view(net.v, 0, 0) = 1.0f;             // output 0 reads channel 0 (α₀ += 1)
    xt::view(net.v, 3, 1) = 2.0f;             // output 3 reads channel 1 twice (α₁ += 2)
    xt::view(net.v, 1, 0) = 100.0f;           // output 1 is outside the region
    net.bias = {0.0f, 0.0f, 0.0f, 0.0f};
    xt::xtensor<bool, 2> mask = xt::zeros<bool>({std::size_t{2}, std::size_t{2}});
    mask(0, 0) = true;
    mask(1, 1) = true;
    const xai::Target region = xai::Target::function(xai::targets::region(0, mask, {1, 2, 2}));
    const xai::CamResult r = xai::GradCam<LinearNet>(net, at_layer("pooled")).explain(hand_input(), {region});
    CHECK(r.weights(0, 0) == Approx(1.0));
    CHECK(r.weights(0, 1) == Approx(2.0));
    // score = z₀ + z₃ = Σ A0 + 2 Σ A1 = 4 + 12.
    CHECK(r.scores[0] == Approx(16.0));
    CHECK(r.targets == std::vector<std::size_t>{0});

    CHECK_THROWS_WITH(xai::targets::region(1, mask, {1, 2, 2}), Contains("class is 1, expected a class below 1"));
    CHECK_THROWS_WITH(xai::targets::region(0, xt::zeros<bool>({std::size_t{2}, std::size_t{2}}), {1, 2, 2}),
                      Contains("mask is empty"));
    CHECK_THROWS_WITH(xai::targets::region(0, mask, {1, 3, 2}), Contains("mask has shape [2, 2], expected [3, 2]"));
    const xai::Target wrong = xai::Target::function(xai::targets::region(0, xt::ones<bool>({std::size_t{3}, std::size_t{1}}), {1, 3, 1}));
    CHECK_THROWS_WITH(xai::GradCam<LinearNet>(net, at_layer("pooled")).explain(hand_input(), {wrong}),
                      Contains("region(): the output has 4 values, expected 1×3×1"));
}

TEST_CASE("Explainers that do not take target functions refuse them, naming themselves", "[cam][targets][errors]") {
    const LinearNet net = hand_net();
    const xai::Target f = xai::Target::function(xai::targets::class_logit(0));
    CHECK_THROWS_WITH(xai::ScoreCam<LinearNet>(net, {.cam = at_layer("pooled")}).explain(hand_input(), {f}),
                      Contains("xai::ScoreCam::explain(): targets[0] is the target function class_logit(0), which "
                               "this explainer does not take"));
    CHECK_THROWS_WITH(xai::EigenCam<LinearNet>(net, at_layer("pooled")).explain(hand_input(), {f}),
                      Contains("xai::EigenCam::explain(): targets[0] is the target function"));
    CHECK_THROWS_WITH(f.index(), Contains("the target is class_logit(0), it has no fixed index"));
    CHECK(f.is_function());
    CHECK_FALSE(f.is_predicted());
}

TEST_CASE("Score-CAM in pytorch-grad-cam's convention: align_corners=True masks, softmax across channels",
          "[cam][score_cam][convention]") {
    // The hand-computed Score-CAM case of test_cam.cpp: the masked logits of class 0 are 7
    // (channel 0) and 8 (channel 1). The authors' weights are the probabilities σ(7), σ(8) over
    // the classes; pytorch-grad-cam's are softmax(7, 8) across the channels: (1, e)/(1 + e).
    const LinearNet net = hand_net();
    xai::ScoreCamOptions o{.cam = at_layer("pooled"), .convention = xai::ScoreCamConvention::pytorch_grad_cam};
    const xai::ScoreCam<LinearNet> cam(net, o);
    CHECK(cam.options().cam.score == xai::ScoreKind::logit);
    const xai::CamResult r = cam.explain(hand_input());
    const double e = std::exp(1.0);
    CHECK(r.weights(0, 0) == Approx(1.0 / (1.0 + e)));
    CHECK(r.weights(0, 1) == Approx(e / (1.0 + e)));
    CHECK(r.weights(0, 0) + r.weights(0, 1) == Approx(1.0));
    const xai::CamResult authors = xai::ScoreCam<LinearNet>(net, {.cam = at_layer("pooled")}).explain(hand_input());
    CHECK(authors.weights(0, 0) == Approx(1.0 / (1.0 + std::exp(-7.0))));

    // align_corners=True by hand: [0, 3] → 4 samples read sources 0, 1/3, 2/3, 1: 0, 1, 2, 3
    // (align_corners=False would read 0, 0.25, 0.75, 1 → 0, 0.75, 2.25, 3).
    const float row[2] = {0.0f, 3.0f};
    float out[4];
    xai::detail::resize_planes_align_corners(row, 1, 1, 2, out, 1, 4);
    CHECK(out[0] == Approx(0.0f));
    CHECK(out[1] == Approx(1.0f));
    CHECK(out[2] == Approx(2.0f));
    CHECK(out[3] == Approx(3.0f));
    const float square[4] = {0.0f, 3.0f, 6.0f, 9.0f};  // 2×2 → 3×3: the centre is the mean
    float big[9];
    xai::detail::resize_planes_align_corners(square, 1, 2, 2, big, 3, 3);
    CHECK(big[4] == Approx(4.5f));
    CHECK(big[8] == Approx(9.0f));

    // A flat channel is still scored (an all-zero mask: the black image's logit 10) in this
    // convention, while the authors' skip it (weight 0).
    const xai::Batch flat = two_channels({{1, 1}, {1, 1}}, {{2, 1}, {0, 3}});
    const xai::CamResult f = xai::ScoreCam<LinearNet>(net, o).explain(flat, {0});
    // Channel 0's mask is zero: the black image, logit 10 (the bias). Channel 1's mask
    // H1 = A1/3 gives X0 = [[2/3, 1/3], [0, 1]], X1 = [[4/3, 1/3], [0, 3]]: logit
    // (2/3 − 1/3) + (−16/3 + 1/3 + 3) + 10 = 25/3. Weights softmax(10, 25/3): w₀ = σ(5/3).
    CHECK(f.weights(0, 0) == Approx(1.0 / (1.0 + std::exp(-5.0 / 3.0))));
    CHECK(xai::ScoreCam<LinearNet>(net, {.cam = at_layer("pooled")}).explain(flat, {0}).weights(0, 0) == 0.0f);
}

static_assert(xai::Explainer<xai::FullGrad<xai::models::Sequential>>);
static_assert(xai::BiasGradientModel<xai::models::Sequential>);

namespace {

// Σ ∇ₓf·x + Σ_layers Σ gradients ⊙ bias of image i, leaving out layer `skip` (none by default).
double full_gradient_sum(const xai::BiasGradients& g, const xai::Batch& x, std::size_t i,
                         std::size_t skip = static_cast<std::size_t>(-1)) {
    const std::size_t d = x.size() / x.shape(0);
    double sum = 0.0;
    for (std::size_t v = 0; v < d; ++v) sum += static_cast<double>(g.input_gradients.data()[i * d + v]) * x.data()[i * d + v];
    for (std::size_t l = 0; l < g.layers.size(); ++l) {
        if (l == skip) continue;
        const xai::LayerBiasGradient& b = g.layers[l];
        const std::size_t c = b.bias.size(), per = b.gradients.size() / b.gradients.shape(0), plane = per / c;
        for (std::size_t ch = 0; ch < c; ++ch)
            for (std::size_t p = 0; p < plane; ++p)
                sum += static_cast<double>(b.gradients.data()[i * per + ch * plane + p]) * b.bias[ch];
    }
    return sum;
}

}  // namespace

TEST_CASE("Full-gradient completeness: f(x) = ∇ₓf·x + Σ_layers Σ ∇_z f ⊙ b on ReLU networks", "[cam][variants][fullgrad]") {
    using namespace xai::models;
    // Convolutions, max pooling, upsampling, GAP and a hidden linear layer: all positively
    // homogeneous, so no implicit bias; every bias is nonzero (PyTorch's initialisation).
    BasicSequential<double> net({2, 8, 8}, {conv2d(4, 3, 1, 1), relu(), max_pool2d(2), conv2d(3, 3, 1, 1), relu(),
                                            upsample2d(2), conv2d(3, 3, 2, 1), relu(), flatten(), linear(5), relu(),
                                            linear(3)},
                                    7);
    xai::Rng rng = xai::Rng::stream(11, 0);
    xai::Batch x = xai::Batch::from_shape({3, 2, 8, 8});
    for (float& v : x) v = static_cast<float>(rng.uniform(-1.0, 1.0));
    const Eigen::MatrixXd f = net.logits(x);
    for (std::size_t c = 0; c < 3; ++c) {
        const xai::BiasGradients g = net.bias_gradients(x, [c](const xai::Scores& logits) {
            xai::Scores s = xt::zeros<float>(logits.shape());
            for (std::size_t i = 0; i < logits.shape(0); ++i) s(i, c) = 1.0f;
            return s;
        });
        REQUIRE(g.layers.size() == 5);
        CHECK(g.layers[0].layer == "conv1");
        CHECK(g.layers[4].layer == "fc2");
        CHECK(g.layers[1].gradients.shape() == std::vector<std::size_t>{3, 3, 4, 4});
        for (std::size_t i = 0; i < 3; ++i) {
            const double fi = f(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(c));
            CHECK(full_gradient_sum(g, x, i) == Approx(fi).margin(1e-5));
            // Every layer's bias term is needed: leaving any one out breaks the identity.
            for (std::size_t skip = 0; skip < g.layers.size(); ++skip)
                CHECK(std::abs(full_gradient_sum(g, x, i, skip) - fi) > 1e-4);
        }
    }
}

TEST_CASE("FullGrad on a hand-computed network: ψ(∇ₓf ⊙ x) + ψ(∇_z f ⊙ b) of the convolution", "[cam][variants][fullgrad]") {
    using namespace xai::models;
    // f = 3 · mean(ReLU(2x − 1)) + 0.5 on a 1×2×2 image x = [[1, 0], [0.25, 2]]:
    // z = [[1, −1], [−0.5, 3]], f = 3 · (1 + 3)/4 + 0.5 = 3.5; ∂f/∂z = 0.75 where z > 0;
    // ∇ₓf = 2 · ∂f/∂z = [[1.5, 0], [0, 1.5]], ∇ₓf ⊙ x = [[1.5, 0], [0, 3]] (Σ 4.5);
    // conv bias term ∂f/∂z · (−1) = [[−0.75, 0], [0, −0.75]] (Σ −1.5); fc bias term 0.5.
    // Completeness: 4.5 − 1.5 + 0.5 = 3.5. ψ(input) = [[0.5, 0], [0, 1]] (÷ (3 + 1e-6)),
    // ψ(conv) = [[1, 0], [0, 1]] (÷ (0.75 + 1e-6)); raw = their sum, maps = raw / 2.
    Sequential net({1, 2, 2}, {conv2d(1, 1), relu(), global_avg_pool(), linear(1)});
    Eigen::VectorXd theta(4);
    theta << 2.0, -1.0, 3.0, 0.5;
    net.set_parameters(theta);
    xai::Batch x = xai::Batch::from_shape({1, 1, 2, 2});
    x(0, 0, 0, 0) = 1.0f;
    x(0, 0, 0, 1) = 0.0f;
    x(0, 0, 1, 0) = 0.25f;
    x(0, 0, 1, 1) = 2.0f;
    const xai::FullGrad<Sequential> full_grad(net);
    const xai::FullGradResult r = full_grad.explain(x);
    CHECK(r.targets == std::vector<std::size_t>{0});
    CHECK(r.scores[0] == Approx(3.5f));
    CHECK(r.layers == std::vector<std::string>{"conv1"});
    CHECK(r.raw(0, 0, 0) == Approx(1.5 / 3.000001 + 0.75 / 0.750001).epsilon(1e-6));
    CHECK(r.raw(0, 0, 1) == 0.0f);
    CHECK(r.raw(0, 1, 0) == 0.0f);
    CHECK(r.raw(0, 1, 1) == Approx(3.0 / 3.000001 + 0.75 / 0.750001).epsilon(1e-6));
    CHECK(r.maps(0, 0, 0) == Approx(r.raw(0, 0, 0) / r.raw(0, 1, 1)));
    CHECK(r.maps(0, 1, 1) == 1.0f);
    const xai::BiasGradients g = net.bias_gradients(x, [](const xai::Scores& s) { return xai::Scores(xt::ones<float>(s.shape())); });
    CHECK(full_gradient_sum(g, x, 0) == Approx(3.5));

    // A target function seeds the pass: class_logit(0) is the class target, map and score alike.
    const xai::FullGradResult p = full_grad.explain(x, xai::Targets{xai::Target::function(xai::targets::class_logit(0))});
    CHECK(p.scores[0] == Approx(3.5f));
    CHECK(xt::allclose(p.raw, r.raw));
    CHECK_THROWS_WITH(xai::FullGrad<Sequential>(net, {.epsilon = 0.0f}),
                      Contains("xai::FullGrad::FullGrad(): epsilon is 0, expected a finite value > 0"));
    CHECK_THROWS_WITH(full_grad.explain(x, xai::Targets{4}), Contains("xai::FullGrad::explain()"));
}

static_assert(xai::Explainer<xai::DeepFeatureFactorization<xai::models::Sequential>>);

TEST_CASE("NMF by multiplicative updates recovers a planted factorization; the objective never increases",
          "[cam][variants][dff]") {
    // W0 (6×3) and H0 (3×8) with identity blocks: the factorization is unique up to permutation
    // and scale (separable).
    Eigen::MatrixXd w0(6, 3), h0(3, 8);
    w0 << 1, 0, 0, 0, 1, 0, 0, 0, 1, 0.5, 0.2, 0.1, 0.3, 0.7, 0.2, 0.1, 0.4, 0.9;
    h0 << 1, 0, 0, 0.3, 0.6, 0.2, 0.5, 0.1, 0, 1, 0, 0.4, 0.1, 0.7, 0.2, 0.3, 0, 0, 1, 0.2, 0.5, 0.1, 0.6, 0.8;
    const Eigen::MatrixXd v = w0 * h0;
    // The updates converge sublinearly towards the planted zeros: many (cheap, 6×8) iterations.
    const xai::detail::NmfFactors<double> f = xai::detail::nmf<double>(v, 3, 600000, 0.0, 4);
    CHECK(f.iterations == 600000);
    CHECK((v - f.w * f.h).norm() / v.norm() < 1e-6);
    const auto never_increases = [](const std::vector<double>& objective) {
        for (std::size_t it = 1; it < objective.size(); ++it)
            if (objective[it] > objective[it - 1] * (1.0 + 1e-12)) return false;
        return true;
    };
    CHECK(never_increases(f.objective));
    // Each planted column of W0 is a column of W up to scale (normalized to unit sum), and the
    // rows of H match the same permutation (the scale moves to H).
    for (Eigen::Index a = 0; a < 3; ++a) {
        const Eigen::VectorXd target = w0.col(a) / w0.col(a).sum();
        Eigen::Index best = 0;
        double error = 1e300;
        for (Eigen::Index b = 0; b < 3; ++b) {
            const double e = (f.w.col(b) / f.w.col(b).sum() - target).cwiseAbs().maxCoeff();
            if (e < error) {
                error = e;
                best = b;
            }
        }
        CHECK(error < 1e-6);
        const Eigen::VectorXd row = f.h.row(best).transpose() * f.w.col(best).sum() / w0.col(a).sum();
        CHECK((row - h0.row(a).transpose()).cwiseAbs().maxCoeff() < 1e-6);
    }
    // A short run stops by the tolerance and still never increases.
    const xai::detail::NmfFactors<double> g = xai::detail::nmf<double>(v, 2, 500, 1e-4, 0);
    CHECK(g.iterations < 500);
    CHECK(never_increases(g.objective));
}

TEST_CASE("Deep Feature Factorization finds two planted concepts, their maps and their classes", "[cam][variants][dff]") {
    using namespace xai::models;
    // "id" is a 1×1 convolution with identity weights: its activations are the 3×8×8 image, made
    // of two concepts a = (1, 0.5, 0) on the left half and b = (0, 0.2, 1) on the top-right
    // quarter (zeros elsewhere, so the offsets are 0). The head: GAP → linear(2) with weights
    // [[1, 0, 0], [0, 0, 1]]: concept a is class 0, concept b class 1.
    Sequential net({3, 8, 8}, {conv2d(3, 1, 1, 0, "id"), global_avg_pool(), linear(2)});
    Eigen::VectorXd theta = Eigen::VectorXd::Zero(static_cast<Eigen::Index>(net.num_parameters()));
    theta[0] = theta[4] = theta[8] = 1.0;  // identity 3×3×1×1; biases 0
    theta[12] = 1.0;                       // fc row 0: channel 0
    theta[17] = 1.0;                       // fc row 1: channel 2
    net.set_parameters(theta);
    xai::Batch x = xt::zeros<float>({1, 3, 8, 8});
    xai::Map pa = xt::zeros<float>({8, 8}), pb = xt::zeros<float>({8, 8});
    for (std::size_t y = 0; y < 8; ++y)
        for (std::size_t c = 0; c < 8; ++c) {
            if (c < 4) pa(y, c) = 0.5f + 0.1f * static_cast<float>(y);
            if (c >= 4 && y < 4) pb(y, c) = 1.0f + 0.2f * static_cast<float>(c - 4);
        }
    const float a[3] = {1.0f, 0.5f, 0.0f}, b[3] = {0.0f, 0.2f, 1.0f};
    for (std::size_t ch = 0; ch < 3; ++ch) xt::view(x, 0, ch) = a[ch] * pa + b[ch] * pb;
    const xai::DeepFeatureFactorization<Sequential> dff(net, {.layer = "id", .components = 2, .max_iterations = 20000,
                                                               .tolerance = 0.0});
    const xai::DffResult r = dff.explain(x, xai::Targets{1});
    REQUIRE(r.concept_classes[0].size() == 2);
    const std::size_t ia = r.concept_classes[0][0] == 0 ? 0 : 1, ib = 1 - ia;
    CHECK(r.concept_classes[0][ia] == 0);
    CHECK(r.concept_classes[0][ib] == 1);
    // The concepts' directions and maps (min-max scaled: p / max p, the minimum is 0).
    const float na = r.concepts(0, 0, ia), nb = r.concepts(0, 2, ib);
    for (std::size_t ch = 0; ch < 3; ++ch) {
        CHECK(r.concepts(0, ch, ia) / na == Approx(a[ch]).margin(1e-4));
        CHECK(r.concepts(0, ch, ib) / nb == Approx(b[ch]).margin(1e-4));
    }
    const xai::Map sa = pa / xt::amax(pa)(), sb = pb / xt::amax(pb)();
    CHECK(xt::allclose(xt::view(r.concept_maps, 0, ia), sa, 1e-4, 1e-4));
    CHECK(xt::allclose(xt::view(r.concept_maps, 0, ib), sb, 1e-4, 1e-4));
    CHECK(r.assignment(0, 0, 0) == static_cast<std::int32_t>(ia));
    CHECK(r.assignment(0, 0, 7) == static_cast<std::int32_t>(ib));
    // Class 1 is explained by concept b: maps and raw are its.
    CHECK(xt::allclose(r.map(0), sb, 1e-4, 1e-4));
    CHECK(r.targets == std::vector<std::size_t>{1});
    // The head's softmax on concept a: logits (na·1, na·0) → p0 = σ(na).
    CHECK(r.concept_scores(0, ia, 0) == Approx(1.0 / (1.0 + std::exp(-static_cast<double>(na)))).epsilon(1e-5));
    // The picture: image · 0.3 + colour · map · 0.7, with a legend strip below.
    const xai::Image picture = xai::factorization_picture(xai::image_at(x, 0), r, 0);
    CHECK(picture.shape(1) > 8);
    float colour[3];
    xai::detail::concept_colour(ia, 2, colour);
    for (std::size_t ch = 0; ch < 3; ++ch)
        CHECK(picture(ch, 7, 0) == Approx(std::min(1.0f, x(0, ch, 7, 0) * 0.3f + colour[ch] * sa(7, 0) * 0.7f)));
    CHECK_THROWS_WITH(xai::DeepFeatureFactorization<Sequential>(net, {.layer = "id", .components = 0}),
                      Contains("xai::DeepFeatureFactorization::DeepFeatureFactorization(): components is 0"));
    CHECK_THROWS_WITH(xai::DeepFeatureFactorization<Sequential>(net, {.layer = "id", .components = 4}).explain(x),
                      Contains("components is 4 but layer 'id' has 3 channels"));
}
