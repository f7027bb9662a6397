// Tests of the segmentation parts of the built-in CNN: the upsample2d layer (models/sequential/
// layers.hpp, kernels.hpp), dense outputs (output_shape, DenseOutputModel), the per-pixel loss,
// predictions and IoU (models/segmentation.hpp), and the shipped segmentation network with a
// region target (core/targets.hpp).
#include "xai/cam.hpp"
#include "xai/core/concepts.hpp"
#include "xai/core/data_dir.hpp"
#include "xai/core/random.hpp"
#include "xai/data/fashion_mnist.hpp"
#include "xai/data/scenes.hpp"
#include "xai/image/resize.hpp"
#include "xai/models/builtin.hpp"
#include "xai/models/gradient_check.hpp"
#include "xai/models/segmentation.hpp"
#include "xai/models/sequential.hpp"
#include "xai/models/training.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>
#include <vector>

using Catch::Matchers::Contains;
namespace m = xai::models;

namespace {

xai::Batch random_batch(std::size_t n, const xai::ImageShape& s, std::uint64_t seed) {
    xai::Batch x = xai::Batch::from_shape({n, s.channels, s.height, s.width});
    xai::Rng rng(seed);
    for (float& v : x) v = rng.uniform_float();
    return x;
}

// A small segmentation network in double: every new layer kind between convolutions.
m::BasicSequential<double> small_segmenter() {
    return m::BasicSequential<double>({2, 8, 8},
                                      {m::conv2d(4, 3, 1, 1), m::relu(), m::max_pool2d(2), m::conv2d(3, 3, 1, 1),
                                       m::upsample2d(2), m::conv2d(3, 1), m::upsample2d(3), m::flatten()},
                                      5);
}

}  // namespace

static_assert(xai::DenseOutputModel<m::Sequential>);

TEST_CASE("upsample2d is PyTorch's bilinear upsampling with align_corners=False", "[segmentation][layers]") {
    // 1×2×2 → 1×4×4 by hand: source coordinate max((o + ½)/2 − ½, 0) = 0, .25, .75, 1 (clamped
    // to the last sample), so row 0 of [[0, 4], [8, 12]] reads 0, 1, 3, 4.
    m::Sequential net({1, 2, 2}, {m::upsample2d(2), m::flatten()});
    CHECK(net.output_shape() == std::vector<std::size_t>{1, 4, 4});
    CHECK(net.layer_names() == std::vector<std::string>{"up1", "flatten"});
    xai::Batch x = xai::Batch::from_shape({1, 1, 2, 2});
    x(0, 0, 0, 0) = 0.0f;
    x(0, 0, 0, 1) = 4.0f;
    x(0, 0, 1, 0) = 8.0f;
    x(0, 0, 1, 1) = 12.0f;
    const xai::Scores y = net.forward(x);
    const std::vector<float> expected{0, 1, 3, 4, 2, 3, 5, 6, 6, 7, 9, 10, 8, 9, 11, 12};
    for (std::size_t p = 0; p < 16; ++p) CHECK(y(0, p) == Approx(expected[p]));

    // Any size and factor: the same map as xai::resize (bilinear, align_corners=False).
    m::Sequential wide({3, 5, 7}, {m::upsample2d(3), m::flatten()});
    const xai::Batch z = random_batch(2, wide.input_shape(), 3);
    const xai::Scores up = wide.forward(z);
    std::vector<float> reference(2 * 3 * 15 * 21);
    xai::detail::resize_planes(z.data(), 6, 5, 7, reference.data(), 15, 21, xai::Interpolation::bilinear);
    for (std::size_t p = 0; p < reference.size(); ++p) REQUIRE(up.data()[p] == Approx(reference[p]).margin(1e-6));

    CHECK_THROWS_WITH(m::Sequential({1, 4, 4}, {m::flatten(), m::upsample2d(2)}), Contains("needs a C×H×W input"));
    CHECK_THROWS_WITH(m::Sequential({1, 4, 4}, {m::upsample2d(0)}), Contains("has factor 0, expected 1..64"));
}

TEST_CASE("gradients through upsample2d match central differences", "[segmentation][gradients]") {
    const m::BasicSequential<double> net = small_segmenter();
    REQUIRE(net.output_shape() == std::vector<std::size_t>{3, 24, 24});
    const xai::Batch x = random_batch(2, net.input_shape(), 9);
    const m::GradientCheckOptions double_precision{.step = 1e-5, .probes = 24, .tolerance = 1e-5};
    const m::GradientCheckReport input = m::check_input_gradients(net, x, double_precision);
    INFO("input: relative error " << input.max_relative_error << ", kinks " << input.kinks);
    CHECK(input.passed);
    for (const char* layer : {"pool1", "conv2", "up1"}) {
        const m::GradientCheckReport r = m::check_layer_gradients(net, x, layer, double_precision);
        INFO(layer << ": relative error " << r.max_relative_error);
        CHECK(r.passed);
    }
}

TEST_CASE("the per-pixel cross-entropy: its value by hand and its parameter gradient by differences",
          "[segmentation][loss]") {
    // One image, 2 classes, 1×2 pixels; scores z = [[0, ln 3]] (class 0), [[ln 3, 0]] (class 1):
    // pixel 0 has p = (1/4, 3/4), pixel 1 p = (3/4, 1/4); labels (1, 1):
    // L = ½ (−ln ¾ − ln ¼), ∂L/∂z_0p = p_0p / 2, ∂L/∂z_1p = (p_1p − 1) / 2.
    m::PixelLabels labels = m::PixelLabels::from_shape({1, 1, 2});
    labels(0, 0, 0) = 1;
    labels(0, 0, 1) = 1;
    const m::OutputLoss loss = m::pixel_cross_entropy(labels, 2);
    const std::vector<double> z{0.0, std::log(3.0), std::log(3.0), 0.0};
    std::vector<double> g(4);
    CHECK(loss(0, z, g) == Approx(0.5 * (-std::log(0.75) - std::log(0.25))));
    CHECK(g[0] == Approx(0.125));
    CHECK(g[1] == Approx(0.375));
    CHECK(g[2] == Approx(-0.125));
    CHECK(g[3] == Approx(-0.375));

    // The objective's parameter gradient against central differences (double network).
    m::BasicSequential<double> net = small_segmenter();
    net.set_l2_regularization(0.01);
    const xai::Batch x = random_batch(3, net.input_shape(), 4);
    m::PixelLabels truth = m::PixelLabels::from_shape({3, 24, 24});
    xai::Rng rng(2);
    for (auto& v : truth) v = static_cast<std::uint8_t>(rng.uniform_index(3));
    const m::OutputLoss pixel_loss = m::pixel_cross_entropy(truth, 3);
    std::vector<double> gradient(net.num_parameters());
    net.objective_gradient(x, pixel_loss, gradient);
    const Eigen::VectorXd theta = net.parameters();
    std::vector<double> unused(net.num_parameters());
    for (std::size_t probe = 0; probe < 6; ++probe) {
        Eigen::VectorXd d(theta.size());
        for (Eigen::Index j = 0; j < d.size(); ++j) d[j] = rng.normal();
        const double h = 1e-6;
        m::BasicSequential<double> moved = net;
        moved.set_parameters(theta + h * d);
        const double plus = moved.objective_gradient(x, pixel_loss, unused);
        moved.set_parameters(theta - h * d);
        const double minus = moved.objective_gradient(x, pixel_loss, unused);
        double analytic = 0.0;
        for (Eigen::Index j = 0; j < d.size(); ++j) analytic += gradient[static_cast<std::size_t>(j)] * d[j];
        CHECK((plus - minus) / (2 * h) == Approx(analytic).epsilon(1e-5));
    }
    CHECK_THROWS_WITH(m::pixel_cross_entropy(truth, 1), Contains("classes is 1, expected at least 2"));
}

TEST_CASE("predicted pixels and the IoU of a hand-made segmentation", "[segmentation][iou]") {
    // 1×2×3 pixels, 3 classes. Truth   0 0 1 / 2 2 1;  prediction 0 1 1 / 2 0 1.
    m::PixelLabels truth = m::PixelLabels::from_shape({1, 2, 3});
    m::PixelLabels predicted = m::PixelLabels::from_shape({1, 2, 3});
    const std::uint8_t t[6] = {0, 0, 1, 2, 2, 1}, p[6] = {0, 1, 1, 2, 0, 1};
    std::copy(t, t + 6, truth.data());
    std::copy(p, p + 6, predicted.data());
    const m::SegmentationScore s = m::segmentation_score(predicted, truth, 3);
    // class 0: TP 1, union {0,1,4} = 3; class 1: TP 2, union {1,2,5} = 3; class 2: TP 1, union {3,4} = 2.
    CHECK(s.iou[0] == Approx(1.0 / 3));
    CHECK(s.iou[1] == Approx(2.0 / 3));
    CHECK(s.iou[2] == Approx(0.5));
    CHECK(s.mean_iou == Approx((1.0 / 3 + 2.0 / 3 + 0.5) / 3));
    CHECK(s.pixel_accuracy == Approx(4.0 / 6));
    // A class absent from both is left out of the mean.
    const m::SegmentationScore four = m::segmentation_score(predicted, truth, 4);
    CHECK(std::isnan(four.iou[3]));
    CHECK(four.mean_iou == Approx(s.mean_iou));

    // predicted_pixels reads the flattened K×H×W scores: class 1 wins where its score is larger.
    xai::Scores scores = xt::zeros<float>({std::size_t{1}, std::size_t{2 * 1 * 2}});
    scores(0, 2) = 1.0f;   // class 1, pixel 0
    scores(0, 1) = 0.5f;   // class 0, pixel 1
    const m::PixelLabels arg = m::predicted_pixels(scores, 2, 1, 2);
    CHECK(arg(0, 0, 0) == 1);
    CHECK(arg(0, 0, 1) == 0);

    xt::xtensor<bool, 3> masks = xt::zeros<bool>({std::size_t{2}, std::size_t{1}, std::size_t{2}});
    masks(1, 0, 1) = true;
    const m::PixelLabels from_masks = m::pixel_labels(masks, {3, 7}, 10);
    CHECK(from_masks(0, 0, 0) == 10);
    CHECK(from_masks(1, 0, 1) == 7);
    CHECK_THROWS_WITH(m::segmentation_score(predicted, m::PixelLabels::from_shape({1, 3, 2}), 3),
                      Contains("expected the same non-empty N×H×W shape"));
}

TEST_CASE("the shipped segmentation network reaches its recorded IoU, and Grad-CAM of a region falls on the object",
          "[segmentation][builtin][dataset]") {
    const auto directory = xai::find_fashion_mnist();
    if (!directory) {
        WARN("Fashion-MNIST is not installed (dataset-fashion-mnist); the IoU check is skipped");
        return;
    }
    const xai::LabelledImages test = xai::load_fashion_mnist(xai::FashionMnistSplit::test);
    m::Sequential net = m::load_builtin_segmentation();
    net.set_num_threads(0);
    REQUIRE(net.output_shape() == std::vector<std::size_t>{m::segmentation_classes, 64, 64});
    xai::SceneOptions options;
    options.seed = 1;  // the held-out scenes (docs/models.md)
    const xai::SceneSet held_out = xai::make_scenes(test.images, test.labels, 0, 1000, options, 0);
    const m::PixelLabels truth = m::pixel_labels(held_out.masks, held_out.labels, m::segmentation_background);
    const m::SegmentationScore s = m::evaluate_segmentation(net, held_out.images, truth);
    INFO("mean IoU " << s.mean_iou << ", pixel accuracy " << s.pixel_accuracy << " on the first 1,000 held-out scenes");
    CHECK(s.mean_iou >= 0.63);  // recorded: 0.643 (docs/models.md)

    // "Why did the model mark this region?": Grad-CAM at relu4 of the item's class summed over
    // the pixels the network labels with it; its arg-max falls inside the item's box.
    const xai::GradCam<m::Sequential> cam(net, {.layer = "relu4"});
    std::size_t inside = 0, explained = 0;
    for (std::size_t i = 0; i < 40; ++i) {
        const m::PixelLabels predicted = m::predicted_pixels(net.forward(xai::as_batch(xai::image_at(held_out.images, i))),
                                                             m::segmentation_classes, 64, 64);
        xt::xtensor<bool, 2> mask = xt::zeros<bool>({std::size_t{64}, std::size_t{64}});
        std::size_t pixels = 0;
        for (std::size_t p = 0; p < 64 * 64; ++p)
            if (predicted.data()[p] == held_out.labels[i]) mask.data()[p] = true, ++pixels;
        if (pixels == 0) continue;
        ++explained;
        const xai::Target region =
            xai::Target::function(xai::targets::region(held_out.labels[i], mask, net.output_shape()));
        const xai::CamResult r = cam.explain(xai::image_at(held_out.images, i), region);
        const xai::Map map = r.map();
        const auto peak = static_cast<std::size_t>(std::max_element(map.begin(), map.end()) - map.begin());
        const xai::SceneBox& box = held_out.boxes[i];
        const std::size_t y = peak / 64, x = peak % 64;
        inside += (y >= box.top && y < box.bottom && x >= box.left && x < box.right) ? 1 : 0;
    }
    INFO(inside << " of " << explained << " region maps peak inside the item's box");
    REQUIRE(explained >= 30);
    CHECK(inside >= explained * 8 / 10);
}
