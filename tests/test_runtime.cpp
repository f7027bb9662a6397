// Tests of include/xai/runtime/: the run-time choice of a method (AnyExplainer, make_explainer,
// the per-family method tables).
//
// The wrapper adds no arithmetic of its own, so each method's answer is compared bit for bit
// with the explainer class called directly on the same model, images, targets and options; the
// extras (LIME's stability map, RISE's standard error) are checked against their definitions.
#include "xai/runtime.hpp"  // first: core/eigen.hpp before xtensor
#include "xai/metrics.hpp"
#include "xai/image/superpixels.hpp"
#include "xai/models/sequential.hpp"

#include <catch2/catch.hpp>

#include <cstddef>
#include <string>
#include <vector>

using Catch::Matchers::Contains;

namespace {

// A small CNN of the built-in kind with random weights: 3×16×16 → conv1 → relu1 → pool1 → conv2
// → relu2 → gap → fc (4 classes); its feature layer is relu2 (8×8).
xai::models::Sequential small_cnn() {
    using namespace xai::models;
    return Sequential({3, 16, 16},
                      {conv2d(6, 3, 1, 1), relu(), max_pool2d(2), conv2d(8, 3, 1, 1), relu(), global_avg_pool(), linear(4)}, 7);
}

xai::Image random_image(std::uint64_t seed) {
    xai::Image image = xai::Image::from_shape({3, 16, 16});
    xai::Rng rng(seed);
    for (float& v : image) v = static_cast<float>(rng.uniform());
    return image;
}

xai::Map first(const xai::Maps& maps) { return xt::view(maps, 0, xt::all(), xt::all()); }

// Only the Classifier concept: a black box around the CNN.
struct BlackBox {
    const xai::models::Sequential* net;
    xai::Scores forward(const xai::Batch& batch) const { return net->forward(batch); }
    std::size_t num_classes() const { return net->num_classes(); }
    xai::ImageShape input_shape() const { return net->input_shape(); }
};

}  // namespace

TEST_CASE("AnyExplainer gives each CAM-family method's own maps, target and score", "[runtime][cam]") {
    const xai::models::Sequential net = small_cnn();
    const xai::Image image = random_image(3);
    const xai::Batch batch = xai::as_batch(image);
    const xai::Targets target{2};
    const xai::CamOptions at_layer{.layer = "relu2"};
    const xai::ScoreCamOptions score_options{.cam = at_layer};
    const xai::AblationCamOptions ablation_options{.cam = at_layer};
    using Net = xai::models::Sequential;
    const std::vector<std::pair<std::string, xai::CamResult>> direct = {
        {"cam", xai::Cam<Net>(net).explain(batch, target)},
        {"gradcam", xai::GradCam<Net>(net, at_layer).explain(batch, target)},
        {"gradcam++", xai::GradCamPlusPlus<Net>(net, at_layer).explain(batch, target)},
        {"xgradcam", xai::XGradCam<Net>(net, at_layer).explain(batch, target)},
        {"hirescam", xai::HiResCam<Net>(net, at_layer).explain(batch, target)},
        {"layercam", xai::LayerCam<Net>(net, at_layer).explain(batch, target)},
        {"scorecam", xai::ScoreCam<Net>(net, score_options).explain(batch, target)},
        {"eigencam", xai::EigenCam<Net>(net, at_layer).explain(batch, target)},
        {"ablationcam", xai::AblationCam<Net>(net, ablation_options).explain(batch, target)},
    };
    for (const auto& [name, expected] : direct) {
        INFO(name);
        const xai::AnyExplainer explainer = xai::make_explainer(name, net);  // default layer: relu2
        CHECK(explainer.method().name == name);
        const xai::AnyExplanation x = explainer.explain(image, xai::Target::class_index(2));
        CHECK(x.method == name);
        CHECK(x.targets == std::vector<std::size_t>{2});
        CHECK(x.layer == (name == "cam" ? "" : "relu2"));
        CHECK((x.raw == expected.raw));
        CHECK((x.maps == expected.maps));
        CHECK((x.logits == expected.logits));
        CHECK(x.scores == expected.scores);
        CHECK(x.score_kind == expected.score_kind);
        CHECK(x.map().shape(0) == 16);
        CHECK(x.raw_map().shape(0) == 8);
        CHECK(x.statistic(std::string(xai::to_string(expected.score_kind))) == expected.scores[0]);
    }
}

TEST_CASE("AnyExplainer explains the predicted class by default", "[runtime]") {
    const xai::models::Sequential net = small_cnn();
    const xai::Image image = random_image(5);
    const std::size_t predicted = xai::argmax_rows(net.forward(xai::as_batch(image))).front();
    for (const xai::MethodInfo& m : xai::explanation_methods) {
        if (m.name == "lime") continue;  // below, on fewer samples and a grid
        xai::ExplainerSettings settings;
        settings.rise.num_masks = 8;
        settings.occlusion.window = 8;
        const xai::AnyExplanation x = xai::make_explainer(m.name, net, settings).explain(image);
        INFO(m.name);
        CHECK(x.targets.at(0) == predicted);
    }
    xai::ExplainerSettings settings;
    settings.lime.num_samples = 20;
    settings.lime_segmentation = xai::GridSegmenter{{4, 0, 0}};
    CHECK(xai::make_explainer("lime", net, settings).explain(image).targets.at(0) == predicted);
}

TEST_CASE("Several layers are fused as the explainer's explain_fused does", "[runtime][cam]") {
    const xai::models::Sequential net = small_cnn();
    const xai::Image image = random_image(11);
    xai::ExplainerSettings settings;
    settings.layers = {"relu1", "relu2"};
    const xai::AnyExplanation x = xai::make_explainer("gradcam", net, settings).explain(image, xai::Target::class_index(1));
    const xai::FusedCamResult expected =
        xai::GradCam<xai::models::Sequential>(net).explain_fused(xai::as_batch(image), {"relu1", "relu2"}, {1});
    CHECK(x.layer == "relu1,relu2");
    CHECK((x.maps == expected.maps));
    CHECK((x.raw == expected.raw));
    CHECK(x.statistic("logit") == expected.scores[0]);
}

TEST_CASE("LIME through AnyExplainer: each pixel holds its superpixel's weight, and the stability report",
          "[runtime][lime]") {
    const xai::models::Sequential net = small_cnn();
    const xai::Image image = random_image(17);
    xai::ExplainerSettings settings;
    settings.lime.num_samples = 60;
    settings.lime.seed = 4;
    settings.lime_stability.repeats = 3;
    const xai::GridSegmenter grid{{0, 4, 4}};  // 16 square superpixels of 4×4
    settings.lime_segmentation = grid;
    const xai::AnyExplanation x = xai::make_explainer("lime", net, settings).explain(image, xai::Target::class_index(3));

    const xai::Lime<xai::models::Sequential, xai::GridSegmenter> lime(net, settings.lime, grid);
    const xai::LimeStability expected = lime.stability(image, 3, settings.lime_stability);
    const xai::LimeSurrogate& e = expected.runs.front().surrogates.front().front();
    const xai::LimeSurrogateStability& s = expected.surrogates.front();
    const xai::Map raw = x.raw_map(), weight_std = x.extra_map("weight_std");
    REQUIRE(raw.shape(0) == 16);
    for (std::size_t y = 0; y < 16; ++y)
        for (std::size_t c = 0; c < 16; ++c) {
            const std::size_t superpixel = (y / 4) * 4 + c / 4;
            CHECK(raw(y, c) == static_cast<float>(e.weights[superpixel]));
            CHECK(weight_std(y, c) == static_cast<float>(s.weight_std[superpixel]));
        }
    CHECK(x.extra_maps.at(0).first == "weight_std");
    xai::Map positive = raw;
    for (float& v : positive) v = std::max(v, 0.0f);
    CHECK((x.map() == xai::normalize_min_max(positive)));
    CHECK(x.targets.at(0) == 3);
    CHECK(x.statistic("r2") == e.r2);
    CHECK(x.statistic("intercept") == e.intercept);
    CHECK(x.statistic("local_prediction") == e.local_prediction);
    CHECK(x.statistic("model_prediction") == e.model_prediction);
    CHECK(x.statistic("superpixels") == 16.0);
    CHECK(x.statistic("samples") == 60.0);
    CHECK(x.statistic("stability_repeats") == 3.0);
    CHECK(x.statistic("stability_mean_jaccard") == s.mean_jaccard);
    CHECK(x.statistic("stability_min_jaccard") == s.min_jaccard);
    CHECK(x.statistic("stability_mean_r2") == s.mean_r2);

    // Without the report: one explanation, the same as Lime::explain.
    settings.lime_stability.repeats = 1;
    const xai::AnyExplanation single = xai::make_explainer("lime", net, settings).explain(image, xai::Target::class_index(3));
    CHECK(single.extra_maps.empty());
    CHECK_THROWS_WITH(single.statistic("stability_mean_jaccard"), Contains("reports no statistic 'stability_mean_jaccard'"));
    CHECK((single.raw == x.raw));  // run 0 of the report is explain() itself
}

TEST_CASE("LIME's progress over the stability runs counts every sample once, up to the total", "[runtime][lime]") {
    const xai::models::Sequential net = small_cnn();
    xai::ExplainerSettings settings;
    settings.lime.num_samples = 50;
    settings.lime.batch_size = 20;
    settings.lime.threads = 1;
    settings.lime_stability.repeats = 3;
    settings.lime_segmentation = xai::GridSegmenter{{9, 0, 0}};
    std::vector<xai::ProgressReport> seen;
    xai::make_explainer("lime", net, settings).explain(random_image(2), xai::Target::class_index(0), [&](const xai::ProgressReport& p) {
        seen.push_back(p);
    });
    REQUIRE(seen.size() == 9);  // three batches per run, three runs
    for (std::size_t i = 0; i < seen.size(); ++i) {
        CHECK(seen[i].total == 150);
        CHECK(seen[i].stage == "samples");
        if (i > 0) CHECK(seen[i].done > seen[i - 1].done);
    }
    CHECK(seen[2].done == 50);
    CHECK(seen.back().done == 150);
}

TEST_CASE("RISE and occlusion through AnyExplainer equal the explainers, with RISE's error and masks",
          "[runtime][rise][occlusion]") {
    const xai::models::Sequential net = small_cnn();
    const xai::Image image = random_image(23);
    xai::ExplainerSettings settings;
    settings.rise.num_masks = 40;
    settings.rise.grid_size = 4;
    settings.rise.seed = 9;
    settings.occlusion.window = 6;
    settings.occlusion.stride = 3;
    std::size_t reports = 0;
    const xai::AnyExplanation rise =
        xai::make_explainer("rise", net, settings).explain(image, xai::Target::class_index(1), [&](const xai::ProgressReport&) { ++reports; });
    const xai::RiseExplanation r = xai::Rise<xai::models::Sequential>(net, settings.rise).explain(image, 1);
    CHECK((rise.raw == r.raw));
    CHECK((rise.maps == r.maps));
    CHECK(rise.extra_maps.at(0).first == "standard_error");
    CHECK((rise.extra_map("standard_error") == first(r.standard_error)));
    CHECK(rise.statistic("masks_used") == 40.0);
    CHECK(rise.statistic("relative_standard_error") == r.relative_standard_error[0]);
    CHECK(rise.statistic("converged") == 0.0);
    CHECK(reports > 0);
    xai::Map positive = rise.raw_map();
    for (float& v : positive) v = std::max(v, 0.0f);
    CHECK((rise.map() == xai::normalize_min_max(positive)));

    const xai::AnyExplanation occlusion = xai::make_explainer("occlusion", net, settings).explain(image, xai::Target::class_index(1));
    const xai::OcclusionExplanation o = xai::Occlusion<xai::models::Sequential>(net, settings.occlusion).explain(image, 1);
    CHECK((occlusion.raw == o.raw));
    CHECK(occlusion.statistic("windows") == static_cast<double>(o.windows));
    CHECK(occlusion.statistic("probability") == o.scores[0]);
    CHECK(occlusion.layer.empty());
}

TEST_CASE("The cheaper settings report their forward passes through AnyExplainer", "[runtime][efficiency]") {
    // Adaptive LIME's samples used (not its ceiling), coarse-to-fine occlusion's windows
    // evaluated and Score-CAM's channels scored under a mass tolerance, each equal to the
    // explainer's own report and below the plain count.
    const xai::models::Sequential net = small_cnn();
    const xai::Image image = random_image(29);
    using Net = xai::models::Sequential;
    xai::ExplainerSettings settings;
    settings.lime.num_samples = 400;
    settings.lime.adaptive = {.enabled = true, .top_k = 1, .initial_samples = 40};
    const xai::GridSegmenter grid{{0, 8, 8}};  // 4 superpixels: the top one separates early
    settings.lime_segmentation = grid;
    const xai::AnyExplanation lime = xai::make_explainer("lime", net, settings).explain(image, xai::Target::class_index(0));
    const xai::LimeExplanation l = xai::Lime<Net, xai::GridSegmenter>(net, settings.lime, grid).explain(image, 0);
    CHECK(lime.statistic("samples") == static_cast<double>(l.samples_used[0]));
    CHECK(lime.statistic("converged") == (l.converged[0] ? 1.0 : 0.0));
    CHECK((lime.raw == l.raw));

    settings.occlusion = {.window = 4, .stride = 1, .coarse_levels = 2};
    const xai::AnyExplanation occlusion = xai::make_explainer("occlusion", net, settings).explain(image, xai::Target::class_index(1));
    const xai::OcclusionExplanation o = xai::Occlusion<Net>(net, settings.occlusion).explain(image, 1);
    CHECK(occlusion.statistic("windows_evaluated") == static_cast<double>(o.windows_evaluated[0]));
    CHECK(occlusion.statistic("windows_evaluated") < occlusion.statistic("windows"));

    settings.score_cam.mass_tolerance = 0.3;
    const xai::AnyExplanation score = xai::make_explainer("scorecam", net, settings).explain(image, xai::Target::class_index(2));
    const xai::ScoreCamResult sc = xai::ScoreCam<Net>(net, {.cam = {.layer = "relu2"}, .mass_tolerance = 0.3}).explain(image, 2);
    CHECK(score.statistic("channels_scored") == static_cast<double>(sc.channels_scored[0]));
    CHECK(sc.channels_scored[0] < sc.weights.shape(1));
    CHECK((score.raw == sc.raw));
}

TEST_CASE("A black-box model gets LIME, RISE and occlusion; the CAM family is refused by concept",
          "[runtime][errors]") {
    const xai::models::Sequential net = small_cnn();
    const BlackBox box{&net};
    STATIC_REQUIRE(xai::model_supports<BlackBox>(xai::method_info("rise")));
    STATIC_REQUIRE_FALSE(xai::model_supports<BlackBox>(xai::method_info("cam")));
    STATIC_REQUIRE_FALSE(xai::model_supports<BlackBox>(xai::method_info("gradcam")));
    STATIC_REQUIRE(xai::model_supports<xai::models::Sequential>(xai::method_info("ablationcam")));
    CHECK_THROWS_AS(xai::make_explainer("gradcam", box), xai::invalid_argument);
    CHECK_THROWS_WITH(xai::make_explainer("cam", box), Contains("method 'cam' needs a FeatureModel"));
    CHECK_THROWS_WITH(xai::make_explainer("scorecam", box), Contains("needs a LayerActivationModel"));
    xai::ExplainerSettings settings;
    settings.occlusion.window = 4;
    settings.occlusion.stride = 4;
    const xai::AnyExplanation x = xai::make_explainer("occlusion", box, settings).explain(random_image(1), xai::Target::class_index(0));
    const xai::OcclusionExplanation o = xai::Occlusion<xai::models::Sequential>(net, settings.occlusion).explain(random_image(1), 0);
    CHECK((x.raw == o.raw));
}

TEST_CASE("make_explainer refuses unknown methods and layers and the options the explainers refuse",
          "[runtime][errors]") {
    const xai::models::Sequential net = small_cnn();
    CHECK_THROWS_WITH(xai::make_explainer("grad-cam", net),
                      Contains("unknown method 'grad-cam'") && Contains("gradcam++") && Contains("occlusion"));
    CHECK_THROWS_WITH(xai::method_info("GradCAM"), Contains("unknown method 'GradCAM'"));
    xai::ExplainerSettings settings;
    settings.layers = {"conv9"};
    CHECK_THROWS_WITH(xai::make_explainer("gradcam", net, settings),
                      Contains("layer 'conv9' is not a layer of the model") && Contains("relu2"));
    settings.layers.clear();
    settings.rise.num_masks = 0;
    CHECK_THROWS_AS(xai::make_explainer("rise", net, settings), xai::invalid_argument);
    settings.occlusion.window = 17;  // larger than the 16×16 input
    CHECK_THROWS_WITH(xai::make_explainer("occlusion", net, settings), Contains("window is 17"));
    settings.lime.num_samples = 0;
    CHECK_THROWS_WITH(xai::make_explainer("lime", net, settings), Contains("num_samples is 0"));
    settings.lime.num_samples = 10;
    settings.lime_segmentation = nullptr;
    CHECK_THROWS_WITH(xai::make_explainer("lime", net, settings), Contains("lime_segmentation is empty"));
    settings.score_cam.batch_size = 0;
    CHECK_THROWS_WITH(xai::make_explainer("scorecam", net, settings), Contains("batch_size is 0"));
    // A wrong image is the explainer's own error, passed through.
    const xai::AnyExplainer gradcam = xai::make_explainer("gradcam", net);
    CHECK_THROWS_AS(gradcam.explain(xai::Image(xt::zeros<float>({1, 16, 16}))), xai::shape_error);
    CHECK_THROWS_AS(gradcam.explain(random_image(1), xai::Target::class_index(4)), xai::invalid_argument);
}

TEST_CASE("default_layer is the input of global average pooling, and needs one", "[runtime]") {
    using namespace xai::models;
    CHECK(xai::default_layer(small_cnn()) == "relu2");
    const Sequential flat({1, 8, 8}, {conv2d(2, 3, 1, 1), relu(), flatten(), linear(3)}, 1);
    CHECK_THROWS_WITH(xai::default_layer(flat), Contains("names no feature layer") && Contains("relu1"));
    CHECK_THROWS_WITH(xai::make_explainer("gradcam", flat), Contains("names no feature layer"));
    xai::ExplainerSettings settings;
    settings.layers = {"relu1"};
    const xai::AnyExplanation x = xai::make_explainer("gradcam", flat, settings).explain(xai::Image(xt::ones<float>({1, 8, 8})));
    CHECK(x.layer == "relu1");
    CHECK(x.raw_map().shape(0) == 8);
}

TEST_CASE("AnyExplainer is an Explainer: a batch at once equals its images one by one, and the metrics take it",
          "[runtime][metrics]") {
    STATIC_REQUIRE(xai::Explainer<xai::AnyExplainer>);
    const xai::models::Sequential net = small_cnn();
    const xai::Batch images = xai::stack({random_image(31), random_image(32), random_image(33)});
    xai::ExplainerSettings settings;
    settings.rise.num_masks = 30;
    settings.rise.grid_size = 4;
    settings.lime.num_samples = 30;
    settings.lime_segmentation = xai::GridSegmenter{{0, 4, 4}};
    settings.lime_stability.repeats = 2;
    for (const xai::MethodInfo& m : xai::explanation_methods) {
        INFO(m.name);
        const xai::AnyExplainer explainer = xai::make_explainer(m.name, net, settings);
        const xai::AnyExplanation all = explainer.explain(images, {0, 1, 2});
        REQUIRE(all.size() == 3);
        for (std::size_t i = 0; i < 3; ++i) {
            const xai::AnyExplanation one = explainer.explain(xai::image_at(images, i), i);
            CHECK(all.targets[i] == i);
            CHECK((all.raw_map(i) == one.raw_map()));
            CHECK((all.map(i) == one.map()));
            CHECK(all.scores[i] == one.scores[0]);
            for (const auto& [name, values] : one.statistics) CHECK(all.statistic(name, i) == values[0]);
            for (const auto& [name, maps] : one.extra_maps) CHECK((all.extra_map(name, i) == one.extra_map(name)));
        }
    }
    // The metrics take it as they take any explainer: the same curve as its maps precomputed.
    const xai::AnyExplainer gradcam = xai::make_explainer("gradcam", net);
    const xai::CausalCurves direct = xai::deletion(net, images, gradcam);
    const xai::CausalCurves precomputed = xai::deletion(net, images, gradcam.explain(images).maps);
    CHECK(direct.auc == precomputed.auc);
    CHECK_THROWS_WITH(gradcam.explain(images).statistic("logit", 3), Contains("image 3 is out of range"));
    CHECK_THROWS_WITH(gradcam.explain(images).extra_map("standard_error"), Contains("has no map 'standard_error'"));
}

TEST_CASE("Reference maps are explainers: a random map per image, a centred Gaussian, both model-independent",
          "[runtime][reference]") {
    const xai::models::Sequential net = small_cnn();
    const xai::Batch images = xai::stack({random_image(41), random_image(42)});
    const xai::Explanation random = xai::RandomMap<xai::models::Sequential>(net, {.seed = 5}).explain(images);
    for (std::size_t i = 0; i < 2; ++i) {
        xai::Rng rng = xai::Rng::stream(5, i);
        const xai::Map map = random.raw_map(i);
        for (float v : map) CHECK(v == rng.uniform_float());
    }
    const xai::Explanation centre = xai::CentreGaussian<xai::models::Sequential>(net, {.sigma = 0.25}).explain(images);
    // σ = 4 px on 16×16; the centre is (7.5, 7.5).
    CHECK(centre.raw(1, 0, 0) == Approx(std::exp(-(7.5 * 7.5 * 2) / 32.0)));
    CHECK(centre.raw(0, 7, 8) == Approx(std::exp(-(0.25 + 0.25) / 32.0)));
    CHECK(centre.targets == xai::argmax_rows(net.forward(images)));
    CHECK_THROWS_WITH(xai::CentreGaussian<xai::models::Sequential>(net, {.sigma = 0.0}), Contains("sigma is 0"));
    // Model-independent: the sanity check finds ρ = 1 after randomizing every layer.
    const xai::SanityCheckResult check = xai::model_randomization_test<xai::CentreGaussian>(
        net, xai::CentreGaussianOptions{}, images);
    for (const auto& step : check.steps) CHECK(step.mean_spearman == Approx(1.0));
}
