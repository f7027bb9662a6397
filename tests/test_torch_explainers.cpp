// Every explainer of xai on LibTorch models through TorchModel (include/xai/torch.hpp):
// Grad-CAM against the same computation in bare torch ops, CAM against Grad-CAM on a GAP +
// linear head, and finite maps of the right shape from every method on a small ResNet.
// LibTorch first: its glog defines a CHECK macro, which Catch's CHECK must replace.
#include "test_torch_models.hpp"
#include "torchscript_fixtures.hpp"

#include <catch2/catch.hpp>

#include "xai/cam.hpp"
#include "xai/gradients.hpp"
#include "xai/influence.hpp"
#include "xai/lime.hpp"
#include "xai/models/builtin.hpp"
#include "xai/models/logistic_regression.hpp"
#include "xai/models/torch/builtin.hpp"
#include "xai/occlusion.hpp"
#include "xai/rise.hpp"

using Catch::Matchers::Contains;
using xai::models::TorchModel;
using xai::models::TorchOptions;
using namespace xai_test;
namespace nn = torch::nn;
namespace F = torch::nn::functional;

// TorchModel satisfies every model concept, so every explainer on it has the one calling shape.
static_assert(xai::Explainer<xai::Cam<TorchModel>>);
static_assert(xai::Explainer<xai::GradCam<TorchModel>>);
static_assert(xai::Explainer<xai::GradCamPlusPlus<TorchModel>>);
static_assert(xai::Explainer<xai::XGradCam<TorchModel>>);
static_assert(xai::Explainer<xai::HiResCam<TorchModel>>);
static_assert(xai::Explainer<xai::LayerCam<TorchModel>>);
static_assert(xai::Explainer<xai::EigenCam<TorchModel>>);
static_assert(xai::Explainer<xai::ScoreCam<TorchModel>>);
static_assert(xai::Explainer<xai::AblationCam<TorchModel>>);
static_assert(xai::Explainer<xai::Lime<TorchModel>>);
static_assert(xai::Explainer<xai::Rise<TorchModel>>);
static_assert(xai::Explainer<xai::Occlusion<TorchModel>>);
static_assert(xai::Explainer<xai::Influence<TorchModel, xai::ExactSolver>>);
static_assert(xai::Explainer<xai::IntegratedGradients<TorchModel>>);
static_assert(xai::Explainer<xai::NoiseTunnel<xai::Saliency<TorchModel>>>);
static_assert(xai::Explainer<xai::GradientShap<TorchModel>>);
// The adapter rewrites the backward pass of its ReLUs (guided backprop, the deconvnet).
static_assert(xai::ReluBackwardModel<TorchModel>);
static_assert(xai::Explainer<xai::GuidedBackprop<TorchModel>>);
static_assert(xai::Explainer<xai::Deconvolution<TorchModel>>);
static_assert(xai::Explainer<xai::GuidedGradCam<TorchModel>>);
// ... and records the gradient at every biased layer's output (FullGrad).
static_assert(xai::BiasGradientModel<TorchModel>);
static_assert(xai::Explainer<xai::FullGrad<TorchModel>>);

TEST_CASE("Grad-CAM through the adapter equals Grad-CAM computed with torch ops", "[torch][cam]") {
    nn::Sequential net = xai_test::tiny_resnet();
    const TorchModel model(net, options_for(resnet_input));
    const xai::Batch batch = xai_test::random_batch(2, resnet_input, 3);

    const xai::GradCam<TorchModel> grad_cam(model, {.layer = "layer2"});
    const xai::CamResult result = grad_cam.explain(batch, {4});
    CHECK(result.layer == "layer2");

    // Selvaraju et al. eq. 1–2 with torch ops: α_k = mean_ij ∂y^c/∂A_k^ij, map = Σ_k α_k A_k,
    // then ReLU, bilinear upsampling (align_corners=False) and min-max normalization.
    const Reference ref = full_backward(net, "layer2", tensor_of(batch), {4, 4});
    const torch::Tensor alpha = ref.gradients.mean({2, 3}, true);
    const torch::Tensor raw = (alpha * ref.activations).sum(1);
    CHECK(max_abs_diff(tensor_of(result.raw), raw) < 1e-5);
    const auto bilinear = F::InterpolateFuncOptions()
                              .size(std::vector<std::int64_t>{32, 32})
                              .mode(torch::kBilinear)
                              .align_corners(false);
    const torch::Tensor up = F::interpolate(torch::relu(raw).unsqueeze(1), bilinear).squeeze(1);
    const torch::Tensor lo = std::get<0>(up.flatten(1).min(1)).view({-1, 1, 1});
    const torch::Tensor hi = std::get<0>(up.flatten(1).max(1)).view({-1, 1, 1});
    const torch::Tensor display = (up - lo) / (hi - lo);
    REQUIRE(shape_is(result.maps, {2, 32, 32}));
    CHECK(max_abs_diff(tensor_of(result.maps), display) < 1e-4);
    CHECK((result.targets == std::vector<std::size_t>{4, 4}));
}

TEST_CASE("CAM on a GAP + linear torch model equals W·A and h·w times Grad-CAM", "[torch][cam]") {
    nn::Sequential net = xai_test::gap_linear_net();
    const TorchModel model(net, options_for({3, 12, 12}));
    CHECK(model.feature_layer() == "relu2");
    const xai::Batch batch = xai_test::random_batch(3, {3, 12, 12}, 4);

    const xai::Cam<TorchModel> cam(model);
    const xai::CamResult c = cam.explain(batch, {2});
    // No layer given: Grad-CAM explains the model's feature layer, the one CAM reads.
    const xai::GradCam<TorchModel> grad_cam(model);
    CHECK(grad_cam.options().layer == "relu2");
    const xai::CamResult g = grad_cam.explain(batch, {2});
    REQUIRE(shape_is(c.raw, {3, 6, 6}));
    // Zhou et al.: M_c = Σ_k W_ck A_k. With GAP, ∂y^c/∂A_k^ij = W_ck / (h·w), so Grad-CAM's
    // map is M_c / (h·w) with h·w = 36.
    CHECK(max_abs_diff(tensor_of(c.raw), 36.0f * tensor_of(g.raw)) < 1e-4);
    torch::NoGradGuard no_grad;
    const xai::LayerOutput lo = model.layer_activations(batch, "relu2");
    const torch::Tensor w = net->named_parameters()["fc.weight"][2];
    const torch::Tensor expected = (w.view({1, 8, 1, 1}) * tensor_of(lo.activations)).sum(1);
    CHECK(max_abs_diff(tensor_of(c.raw), expected) < 1e-5);
    CHECK(xai::all_finite(c.maps));

    // The logits are the classifier applied to the feature maps' average.
    const xai::FeatureOutput fo = model.forward_features(batch);
    const torch::Tensor logits = torch::addmm(net->named_parameters()["fc.bias"], tensor_of(fo.features).mean({2, 3}),
                                              net->named_parameters()["fc.weight"].t());
    CHECK(max_abs_diff(tensor_of(fo.scores), logits) < 1e-5);
    const xt::xtensor<float, 2> weights = model.classifier_weights();
    CHECK(max_abs_diff(tensor_of(weights), net->named_parameters()["fc.weight"]) == 0.0);
}


namespace {

/// Images with values in [0, 1] (what LIME's superpixels expect), reproducible from the seed.
xai::Batch unit_batch(std::size_t n, xai::ImageShape shape, std::uint64_t seed) {
    torch::manual_seed(seed);
    return xai::models::to_xtensor<4>(torch::rand({static_cast<std::int64_t>(n),
                                                   static_cast<std::int64_t>(shape.channels),
                                                   static_cast<std::int64_t>(shape.height),
                                                   static_cast<std::int64_t>(shape.width)}));
}

void check_cam(const xai::CamResult& r, std::size_t n, std::size_t h, std::size_t w) {
    CHECK(shape_is(r.maps, {n, 32, 32}));
    CHECK(shape_is(r.raw, {n, h, w}));
    CHECK(xai::all_finite(r.maps));
    CHECK(xai::all_finite(r.raw));
    CHECK(xt::amax(r.maps)() <= 1.0f);
    CHECK(xt::amin(r.maps)() >= 0.0f);
}

}  // namespace

TEST_CASE("Every CAM-family method gives finite maps of the right shape on a torch ResNet", "[torch][cam]") {
    nn::Sequential net = xai_test::tiny_resnet();
    const TorchModel model(net, options_for(resnet_input));
    const xai::Batch batch = unit_batch(2, resnet_input, 16);
    CHECK(xai::default_layer(model) == "layer2");  // the input of the global average pooling
    const xai::CamOptions options{.layer = "layer2"};

    check_cam(xai::Cam<TorchModel>(model).explain(batch), 2, 16, 16);
    check_cam(xai::GradCam<TorchModel>(model, options).explain(batch), 2, 16, 16);
    check_cam(xai::GradCamPlusPlus<TorchModel>(model, options).explain(batch), 2, 16, 16);
    check_cam(xai::XGradCam<TorchModel>(model, options).explain(batch), 2, 16, 16);
    check_cam(xai::HiResCam<TorchModel>(model, options).explain(batch), 2, 16, 16);
    check_cam(xai::EigenCam<TorchModel>(model, options).explain(batch), 2, 16, 16);
    check_cam(xai::ScoreCam<TorchModel>(model, {.cam = options}).explain(batch, {1}), 2, 16, 16);
    check_cam(xai::AblationCam<TorchModel>(model, {.cam = options}).explain(batch, {1}), 2, 16, 16);

    // LayerCAM on an earlier, finer block, and fused over two stages.
    check_cam(xai::LayerCam<TorchModel>(model, {.layer = "layer1.1"}).explain(batch), 2, 32, 32);
    const xai::FusedCamResult fused =
        xai::LayerCam<TorchModel>(model, options).explain_fused(batch, {"layer1", "layer2"});
    CHECK(shape_is(fused.maps, {2, 32, 32}));
    CHECK(xai::all_finite(fused.maps));
}

TEST_CASE("LIME, RISE and occlusion give finite maps of the right shape on a torch ResNet", "[torch][perturbation]") {
    nn::Sequential net = xai_test::tiny_resnet();
    const TorchModel model(net, options_for(resnet_input));
    const xai::Batch batch = unit_batch(2, resnet_input, 17);

    const xai::RiseExplanation rise = xai::Rise<TorchModel>(model, {.num_masks = 64, .grid_size = 4}).explain(batch);
    CHECK(shape_is(rise.raw, {2, 32, 32}));
    CHECK(xai::all_finite(rise.raw));
    CHECK(xai::all_finite(rise.standard_error));
    CHECK(rise.masks_used == std::vector<std::size_t>{64, 64});

    const xai::OcclusionExplanation occlusion =
        xai::Occlusion<TorchModel>(model, {.window = 8, .stride = 8}).explain(batch, {2});
    CHECK(shape_is(occlusion.raw, {2, 32, 32}));
    CHECK(xai::all_finite(occlusion.raw));
    CHECK(occlusion.windows == 16);
    CHECK(xt::amax(xt::abs(occlusion.raw))() > 0.0f);

    const xai::Image image = xai::image_at(batch, 0);
    const xai::LimeExplanation lime =
        xai::Lime<TorchModel>(model, {.num_samples = 64, .batch_size = 32, .top_labels = 2}).explain(image);
    REQUIRE(lime.surrogates.size() == 1);
    REQUIRE(lime.segmentations.size() == 1);
    REQUIRE(lime.surrogates[0].size() == 2);
    const xai::Segmentation& segmentation = lime.segmentations[0];
    CHECK(segmentation.height() == 32);
    CHECK(segmentation.width() == 32);
    const xai::LimeSurrogate& top = lime.surrogates[0].front();
    REQUIRE(top.weights.size() == segmentation.count);
    xai::Map lime_map = xt::zeros<float>({std::size_t{32}, std::size_t{32}});
    for (std::size_t i = 0; i < 32; ++i)
        for (std::size_t j = 0; j < 32; ++j)
            lime_map(i, j) = static_cast<float>(top.weights[segmentation.labels(i, j)]);
    CHECK(xai::all_finite(lime_map));
    CHECK(std::isfinite(top.r2));
    // The model's own score for the image is what the adapter's forward gives.
    const xai::Scores p = xai::softmax(model.forward(xai::as_batch(image)));
    CHECK(top.model_prediction == Approx(p(0, top.target)).epsilon(1e-5));
}

TEST_CASE("Influence on a torch logistic regression equals the built-in logistic regression's", "[torch][influence]") {
    using ExactBuiltin = xai::Influence<xai::models::LogisticRegression, xai::ExactSolver>;
    using ExactTorch = xai::Influence<TorchModel, xai::ExactSolver>;
    const xai::ImageShape shape{1, 4, 4};
    const xai::Batch train = xai_test::random_batch(40, shape, 18);
    xai::Labels labels(40);
    for (std::size_t i = 0; i < 40; ++i)
        labels[i] = (train(i, 0, 0, 0) + train(i, 0, 2, 3) > 0 ? 1 : 0) + (train(i, 0, 1, 1) > 0.7 ? 1 : 0);
    xai::models::LogisticRegression builtin = xai::models::LogisticRegression::multinomial(shape, 3, 0.02);
    REQUIRE(builtin.fit(train, labels).converged);

    torch::manual_seed(0);
    nn::Sequential net;
    net->push_back("flatten", nn::Flatten());
    net->push_back("fc", nn::Linear(16, 3));
    net->to(torch::kFloat64);
    xai::models::TorchOptions options = options_for(shape);
    options.l2_regularization = 0.02;
    TorchModel model(net, options);
    model.set_parameters(builtin.parameters());

    const xai::Batch test = xai_test::random_batch(3, shape, 19);
    for (const bool exact : {true, false}) {
        DYNAMIC_SECTION((exact ? "exact solver" : "conjugate gradients")) {
            Eigen::MatrixXd expected, actual;
            if (exact) {
                expected = ExactBuiltin(builtin, train, labels).influence(test);
                actual = ExactTorch(model, train, labels).influence(test);
            } else {
                expected = xai::Influence<xai::models::LogisticRegression>(builtin, train, labels).influence(test);
                actual = xai::Influence<TorchModel>(model, train, labels).influence(test);
            }
            REQUIRE(actual.rows() == 40);
            REQUIRE(actual.cols() == 3);
            CHECK((actual - expected).norm() <= 1e-8 * expected.norm());
            CHECK(expected.norm() > 1e-3);
        }
    }
    const xai::InfluenceExplanation e = ExactTorch(model, train, labels).explain(xai::image_at(test, 0), 2);
    const xai::InfluenceExplanation b = ExactBuiltin(builtin, train, labels).explain(xai::image_at(test, 0), 2);
    REQUIRE(e.test_losses.size() == 1);
    REQUIRE(b.test_losses.size() == 1);
    CHECK(e.targets == std::vector<std::size_t>{2});
    CHECK(e.helpful == b.helpful);
    CHECK(e.harmful == b.harmful);
    CHECK(e.test_losses[0] == Approx(b.test_losses[0]).epsilon(1e-12));
}

TEST_CASE("Influence on the last layer of a torch ResNet gives finite scores for every training image",
          "[torch][influence]") {
    nn::Sequential net = xai_test::tiny_resnet();
    xai::models::TorchOptions options = options_for(resnet_input);
    options.parameters = {"fc"};
    options.l2_regularization = 0.01;
    const TorchModel model(net, options);
    CHECK(model.num_parameters() == 16 * 5 + 5);
    const xai::Batch train = unit_batch(12, resnet_input, 20);
    const xai::Labels labels{0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 0, 1};
    // Random weights, not trained: θ is no minimum, so stationarity is only warned about.
    const xai::Influence<TorchModel, xai::ExactSolver> influence(model, train, labels,
                                                                 {.stationarity = xai::StationarityPolicy::warn});
    CHECK_FALSE(influence.diagnostics().warnings.empty());
    const xai::InfluenceExplanation e = influence.explain(xai::image_at(unit_batch(1, resnet_input, 21), 0));
    CHECK(e.influence.rows() == 12);
    CHECK(e.influence.cols() == 1);
    CHECK(e.influence.allFinite());
    CHECK(influence.self_influence().maxCoeff() <= 1e-12);  // −∇Lᵀ H⁻¹ ∇L ≤ 0
}

TEST_CASE("The gradient methods through the adapter equal the built-in CNN's on the same network", "[torch][gradients]") {
    const xai::models::BasicSequential<double> builtin(xai::models::builtin_architecture("fashion", 2));
    const TorchModel model(xai::models::to_torch_sequential(builtin), options_for(builtin.input_shape()));
    const xai::Batch batch = xai_test::random_batch(2, builtin.input_shape(), 23);
    const xai::Targets targets{1, 4};
    const auto same = [](const xai::Batch& a, const xai::Batch& b) {
        const double scale = static_cast<double>(xt::amax(xt::abs(b))());
        REQUIRE(scale > 0.0);
        return static_cast<double>(xt::amax(xt::abs(a - b))()) <= 1e-5 * scale;
    };
    using Builtin = xai::models::BasicSequential<double>;
    CHECK(same(xai::Saliency<TorchModel>(model).explain(batch, targets).attributions,
               xai::Saliency<Builtin>(builtin).explain(batch, targets).attributions));
    CHECK(same(xai::GradientTimesInput<TorchModel>(model).explain(batch, targets).attributions,
               xai::GradientTimesInput<Builtin>(builtin).explain(batch, targets).attributions));
    const auto ig_torch = xai::IntegratedGradients<TorchModel>(model, {.steps = 8}).explain(batch, targets);
    const auto ig_builtin = xai::IntegratedGradients<Builtin>(builtin, {.steps = 8}).explain(batch, targets);
    CHECK(same(ig_torch.attributions, ig_builtin.attributions));
    for (std::size_t i = 0; i < 2; ++i)
        CHECK(ig_torch.completeness_error[i] == Approx(ig_builtin.completeness_error[i]).margin(1e-5));
    CHECK(same(xai::NoiseTunnel<xai::Saliency<TorchModel>>(model, {.noise = {.samples = 4}}).explain(batch, targets).attributions,
               xai::NoiseTunnel<xai::Saliency<Builtin>>(builtin, {.noise = {.samples = 4}}).explain(batch, targets).attributions));
    CHECK(same(xai::GradientShap<TorchModel>(model, {.samples = 4}).explain(batch, targets).attributions,
               xai::GradientShap<Builtin>(builtin, {.samples = 4}).explain(batch, targets).attributions));

    // The modified ReLU backward passes: the adapter's hooks on LibTorch's autograd graph against
    // the built-in CNN's own backward loops, two independent implementations of each rule.
    const auto guided = xai::GuidedBackprop<TorchModel>(model).explain(batch, targets).attributions;
    CHECK(same(guided, xai::GuidedBackprop<Builtin>(builtin).explain(batch, targets).attributions));
    const auto deconv = xai::Deconvolution<TorchModel>(model).explain(batch, targets).attributions;
    CHECK(same(deconv, xai::Deconvolution<Builtin>(builtin).explain(batch, targets).attributions));
    const auto plain = xai::Saliency<TorchModel>(model, {.absolute = false}).explain(batch, targets).attributions;
    CHECK(xt::amax(xt::abs(guided - plain))() > 1e-3 * xt::amax(xt::abs(plain))());  // the rules change something
    CHECK(xt::amax(xt::abs(deconv - guided))() > 1e-3 * xt::amax(xt::abs(guided))());
    xai::GuidedGradCamOptions ggc{};
    ggc.cam.layer = model.feature_layer();
    const auto ggc_torch = xai::GuidedGradCam<TorchModel>(model, ggc).explain(batch, targets);
    const auto ggc_builtin = xai::GuidedGradCam<Builtin>(builtin, ggc).explain(batch, targets);
    CHECK(same(ggc_torch.attributions, ggc_builtin.attributions));
    CHECK(xt::amax(xt::abs(ggc_torch.attributions))() > 0.0f);

    // The TorchScript forms run an unfused copy of their forward (the profiling executor would
    // fold the ReLUs into fused nodes after its first runs): the same maps, before and after
    // the module's own forward has been optimized.
    const std::string layer = "relu3";
    TorchOptions options = options_for(builtin.input_shape());
    options.script_layer = layer;
    const TorchModel single = TorchModel::from_torchscript(xai::models::to_torchscript(builtin, layer), options);
    const auto pair = xai::models::to_torchscript_pair(builtin, layer);
    const TorchModel split = TorchModel::from_torchscript_pair(pair.first, pair.second, options);
    for (const TorchModel* m : {&single, &split}) {
        INFO(m->form());
        for (int warm = 0; warm < 2; ++warm) (void)m->input_gradients(batch, one_hot_seed({1, 4}));
        CHECK(same(xai::GuidedBackprop<TorchModel>(*m).explain(batch, targets).attributions, guided));
        CHECK(same(xai::Deconvolution<TorchModel>(*m).explain(batch, targets).attributions, deconv));
    }
}

TEST_CASE("Guided backprop and the deconvnet refuse LibTorch networks with other rectifiers, naming method, model and nodes",
          "[torch][gradients][errors]") {
    torch::manual_seed(5);
    nn::Sequential net;
    net->push_back("conv", nn::Conv2d(nn::Conv2dOptions(3, 4, 3).padding(1)));
    net->push_back("gelu", nn::GELU());
    net->push_back("relu", nn::ReLU());
    net->push_back("gap", nn::AdaptiveAvgPool2d(1));
    net->push_back("flatten", nn::Flatten());
    net->push_back("fc", nn::Linear(4, 3));
    const TorchModel model(net, options_for({3, 8, 8}));
    const xai::Batch batch = xai_test::random_batch(1, {3, 8, 8}, 4);
    CHECK_THROWS_AS(xai::GuidedBackprop<TorchModel>(model).explain(batch), xai::model_error);
    CHECK_THROWS_WITH(xai::GuidedBackprop<TorchModel>(model).explain(batch),
                      Contains("xai::GuidedBackprop::explain()") && Contains("torch::nn::Sequential") &&
                          Contains("GeluBackward0") && Contains("ReluBackwardModel"));
    CHECK_THROWS_WITH(xai::Deconvolution<TorchModel>(model).explain(batch),
                      Contains("xai::Deconvolution::explain()") && Contains("GeluBackward0"));
    CHECK_THROWS_WITH(xai::GuidedGradCam<TorchModel>(model).explain(batch), Contains("GeluBackward0"));
    // ReLU6 (hardtanh) is not a ReLU either; the ordinary gradient still works on both.
    nn::Sequential six;
    six->push_back("conv", nn::Conv2d(nn::Conv2dOptions(3, 4, 3).padding(1)));
    six->push_back("relu6", nn::ReLU6());
    six->push_back("gap", nn::AdaptiveAvgPool2d(1));
    six->push_back("flatten", nn::Flatten());
    six->push_back("fc", nn::Linear(4, 3));
    const TorchModel model6(six, options_for({3, 8, 8}));
    CHECK_THROWS_WITH(xai::Deconvolution<TorchModel>(model6).explain(batch), Contains("HardtanhBackward0"));
    CHECK_NOTHROW(xai::Saliency<TorchModel>(model6).explain(batch));
    CHECK_NOTHROW(xai::Saliency<TorchModel>(model).explain(batch));
}

namespace {

/// FullGrad's completeness (Srinivas & Fleuret, Theorem 1) on the model's bias gradients: the
/// largest |f − ∇ₓf·x − Σ_layers Σ ∇_z f ⊙ b| over the images relative to max |f|, and the same
/// with the batch-normalisation layers' terms left out (`without`, layers whose name contains it).
std::pair<double, double> completeness_error(const TorchModel& m, const xai::Batch& batch,
                                             const std::vector<std::size_t>& targets, const std::string& without) {
    const xai::BiasGradients g = m.bias_gradients(batch, one_hot_seed(targets));
    double worst = 0.0, worst_without = 0.0, scale = 0.0;
    const std::size_t d = batch.size() / batch.shape(0);
    for (std::size_t i = 0; i < targets.size(); ++i) {
        double sum = 0.0, left_out = 0.0;
        for (std::size_t v = 0; v < d; ++v) sum += double(g.input_gradients.data()[i * d + v]) * double(batch.data()[i * d + v]);
        for (const xai::LayerBiasGradient& layer : g.layers) {
            const std::size_t c = layer.bias.size(), per = layer.gradients.size() / layer.gradients.shape(0) / c;
            double term = 0.0;
            for (std::size_t ch = 0; ch < c; ++ch)
                for (std::size_t p = 0; p < per; ++p)
                    term += double(layer.gradients.data()[(i * c + ch) * per + p]) * double(layer.bias[ch]);
            sum += term;
            if (layer.layer.find(without) != std::string::npos) left_out += term;
        }
        const double f = g.scores(i, targets[i]);
        scale = std::max(scale, std::abs(f));
        worst = std::max(worst, std::abs(f - sum));
        worst_without = std::max(worst_without, std::abs(f - (sum - left_out)));
    }
    return {worst / scale, worst_without / scale};
}

}  // namespace

TEST_CASE("FullGrad through the adapter equals the built-in CNN's; completeness holds with batch normalisation",
          "[torch][cam][fullgrad]") {
    // The same network on both sides: the built-in CNN's own backward loops against LibTorch's
    // autograd graph with the adapter's hooks, in the Sequential and the TorchScript forms.
    const xai::models::BasicSequential<double> builtin(xai::models::builtin_architecture("fashion", 2));
    const TorchModel model(xai::models::to_torch_sequential(builtin), options_for(builtin.input_shape()));
    const xai::Batch batch = xai_test::random_batch(2, builtin.input_shape(), 29);
    const xai::Targets targets{3, 7};
    using Builtin = xai::models::BasicSequential<double>;
    const xai::FullGradResult ours = xai::FullGrad<TorchModel>(model).explain(batch, targets);
    const xai::FullGradResult reference = xai::FullGrad<Builtin>(builtin).explain(batch, targets);
    CHECK(ours.layers == reference.layers);
    CHECK(ours.layers.size() >= 2);
    CHECK(static_cast<double>(xt::amax(xt::abs(ours.raw - reference.raw))()) <= 1e-4 * xt::amax(reference.raw)());
    CHECK(static_cast<double>(xt::amax(xt::abs(ours.maps - reference.maps))()) <= 1e-4);
    const xai::BiasGradients gt = model.bias_gradients(batch, one_hot_seed({3, 7}));
    const xai::BiasGradients gb = builtin.bias_gradients(batch, one_hot_seed({3, 7}));
    REQUIRE(gt.layers.size() == gb.layers.size());  // the linear layers too
    for (std::size_t l = 0; l < gt.layers.size(); ++l) {
        INFO(gb.layers[l].layer);
        CHECK(gt.layers[l].layer == gb.layers[l].layer);
        CHECK(gt.layers[l].bias == gb.layers[l].bias);
        CHECK(xt::allclose(gt.layers[l].gradients, gb.layers[l].gradients, 1e-4, 1e-6));
    }
    TorchOptions options = options_for(builtin.input_shape());
    options.script_layer = "relu3";
    const TorchModel single = TorchModel::from_torchscript(xai::models::to_torchscript(builtin, "relu3"), options);
    const xai::FullGradResult scripted = xai::FullGrad<TorchModel>(single).explain(batch, targets);
    CHECK(static_cast<double>(xt::amax(xt::abs(scripted.maps - reference.maps))()) <= 1e-4);

    // Completeness, f = ∇ₓf·x + Σ ∇_z f ⊙ b, on ResNets in float64: a Sequential of C++ modules
    // (in-place ReLU after BatchNorm, residual additions) and a plain TorchScript module
    // (aten::conv2d, aten::batch_norm, aten::linear). BatchNorm's effective bias
    // β − μγ/√(σ² + ε) is needed: without its terms the identity fails by far more.
    nn::Sequential resnet = xai_test::tiny_resnet(13, 4);
    resnet->to(torch::kFloat64);
    const TorchModel sequential(resnet, options_for(resnet_input));
    const auto [error, without_bn] = completeness_error(sequential, xai_test::random_batch(2, resnet_input, 30), {1, 3}, "bn");
    CHECK(error < 1e-5);
    CHECK(without_bn > 1e-2);
    const TorchModel plain = TorchModel::from_script(tv::resnet(4), options_for({3, 64, 64}));
    const auto [error_script, without_bn_script] =
        completeness_error(plain, xai_test::random_batch(2, {3, 64, 64}, 31), {0, 5}, "bn");
    CHECK(error_script < 1e-5);
    CHECK(without_bn_script > 1e-2);
    const xai::FullGradResult r = xai::FullGrad<TorchModel>(plain).explain(xai_test::random_batch(1, {3, 64, 64}, 32));
    CHECK(std::find(r.layers.begin(), r.layers.end(), "layer2.0.downsample.1") != r.layers.end());
    CHECK(std::find(r.layers.begin(), r.layers.end(), "fc") == r.layers.end());  // vector layers: completeness only

    // A parameter that enters elsewhere (a layer norm's affine map) would silently break
    // completeness: refused, naming the node.
    nn::Sequential normed;
    normed->push_back("conv", nn::Conv2d(nn::Conv2dOptions(3, 4, 3).padding(1)));
    normed->push_back("norm", nn::LayerNorm(nn::LayerNormOptions({8})));
    normed->push_back("relu", nn::ReLU());
    normed->push_back("gap", nn::AdaptiveAvgPool2d(1));
    normed->push_back("flatten", nn::Flatten());
    normed->push_back("fc", nn::Linear(4, 3));
    const TorchModel with_norm(normed, options_for({3, 8, 8}));
    CHECK_THROWS_AS(xai::FullGrad<TorchModel>(with_norm).explain(xai_test::random_batch(1, {3, 8, 8}, 4)), xai::model_error);
    CHECK_THROWS_WITH(with_norm.bias_gradients(xai_test::random_batch(1, {3, 8, 8}, 4), one_hot_seed({0})),
                      Contains("TorchModel::bias_gradients()") && Contains("NativeLayerNormBackward0") &&
                          Contains("completeness"));
}
