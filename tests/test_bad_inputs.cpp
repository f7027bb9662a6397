// The bad-input sweep of docs/errors.md: the rows that the family test files do not already
// cover (those are referenced from the table). Each row: one public entry point, one kind of
// bad input (empty, wrong channel count, NaN/Inf, zero and negative sizes, huge sizes, unknown
// names), the exception type and an excerpt of its message. Wrong rank is a compile error for
// every entry point: Image, Maps, Batch and Map are fixed-rank xtensor types.
#include "xai/xai.hpp"
#include "xai/image/io.hpp"
#include "xai/models/sequential.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

using Catch::Matchers::Contains;

namespace {

using Net = xai::models::Sequential;
constexpr std::size_t huge = std::numeric_limits<std::size_t>::max();
const float nan_value = std::numeric_limits<float>::quiet_NaN();
const float inf_value = std::numeric_limits<float>::infinity();

Net small_cnn() {
    using namespace xai::models;
    return Net({3, 8, 8}, {conv2d(4, 3, 1, 1), relu(), max_pool2d(2), conv2d(4, 3, 1, 1), relu(), global_avg_pool(), linear(3)}, 5);
}

xai::Batch batch_of(std::size_t n, xai::ImageShape s, float value = 0.5f) {
    xai::Batch b = xai::Batch::from_shape({n, s.channels, s.height, s.width});
    b.fill(value);
    return b;
}

xai::Image image_of(xai::ImageShape s, float value = 0.5f) {
    xai::Image i = xai::Image::from_shape({s.channels, s.height, s.width});
    i.fill(value);
    return i;
}

}  // namespace

TEST_CASE("Every explainer refuses an empty batch, the wrong channel count and NaN/Inf pixels", "[bad-inputs][explainers]") {
    const Net net = small_cnn();
    xai::Batch with_nan = batch_of(1, {3, 8, 8});
    with_nan(0, 1, 2, 3) = nan_value;
    xai::Batch with_inf = batch_of(1, {3, 8, 8});
    with_inf(0, 0, 0, 0) = -inf_value;
    const xai::Batch empty = batch_of(0, {3, 8, 8});
    const xai::Batch grey = batch_of(1, {1, 8, 8});

    xai::CamOptions o;
    o.layer = "relu2";
    const auto check_batch_errors = [&](const char* name, const auto& explain) {
        INFO(name);
        CHECK_THROWS_AS(explain(empty), xai::shape_error);
        CHECK_THROWS_WITH(explain(empty), Contains("empty") || Contains("0 images") || Contains("no images"));
        CHECK_THROWS_AS(explain(grey), xai::shape_error);
        CHECK_THROWS_WITH(explain(grey), Contains("1x8x8") && Contains("3x8x8"));
        CHECK_THROWS_AS(explain(with_nan), xai::invalid_argument);
        CHECK_THROWS_WITH(explain(with_nan), Contains("NaN or Inf"));
        CHECK_THROWS_AS(explain(with_inf), xai::invalid_argument);
    };
    check_batch_errors("CAM", [&](const xai::Batch& b) { return xai::Cam<Net>(net).explain(b); });
    check_batch_errors("Grad-CAM", [&](const xai::Batch& b) { return xai::GradCam<Net>(net, o).explain(b); });
    check_batch_errors("Grad-CAM++", [&](const xai::Batch& b) { return xai::GradCamPlusPlus<Net>(net, o).explain(b); });
    check_batch_errors("XGrad-CAM", [&](const xai::Batch& b) { return xai::XGradCam<Net>(net, o).explain(b); });
    check_batch_errors("HiResCAM", [&](const xai::Batch& b) { return xai::HiResCam<Net>(net, o).explain(b); });
    check_batch_errors("LayerCAM", [&](const xai::Batch& b) { return xai::LayerCam<Net>(net, o).explain(b); });
    check_batch_errors("Eigen-CAM", [&](const xai::Batch& b) { return xai::EigenCam<Net>(net, o).explain(b); });
    xai::ScoreCamOptions so;
    so.cam.layer = "relu2";
    check_batch_errors("Score-CAM", [&](const xai::Batch& b) { return xai::ScoreCam<Net>(net, so).explain(b); });
    xai::AblationCamOptions ao;
    ao.cam.layer = "relu2";
    check_batch_errors("Ablation-CAM", [&](const xai::Batch& b) { return xai::AblationCam<Net>(net, ao).explain(b); });
    xai::RiseOptions ro;
    ro.num_masks = 4;
    ro.grid_size = 2;
    check_batch_errors("RISE", [&](const xai::Batch& b) { return xai::Rise<Net>(net, ro).explain(b); });
    xai::OcclusionOptions oo;
    oo.window = 4;
    oo.stride = 4;
    check_batch_errors("occlusion", [&](const xai::Batch& b) { return xai::Occlusion<Net>(net, oo).explain(b); });

    // LIME and influence explain one image.
    xai::LimeOptions lo;
    lo.num_samples = 4;
    const xai::Lime<Net, xai::GridSegmenter> lime(net, lo);
    CHECK_THROWS_AS(lime.explain(image_of({3, 0, 0})), xai::error);
    CHECK_THROWS_AS(lime.explain(image_of({1, 8, 8})), xai::shape_error);
    CHECK_THROWS_WITH(lime.explain(xai::image_at(with_nan, 0)), Contains("NaN or Inf"));
    const xai::Batch train = batch_of(4, {3, 8, 8});
    const xai::Labels labels{0, 1, 2, 0};
    xai::InfluenceOptions io;
    io.stationarity = xai::StationarityPolicy::warn;
    io.parameter_blocks = {"fc.bias"};
    const xai::Influence<Net> influence(net, train, labels, io);
    CHECK_THROWS_AS(influence.explain(image_of({1, 8, 8})), xai::shape_error);
    CHECK_THROWS_WITH(influence.explain(xai::image_at(with_nan, 0)), Contains("NaN or Inf"));
}

TEST_CASE("Explainer options: zero, huge and non-finite sizes and unknown layer names", "[bad-inputs][options]") {
    const Net net = small_cnn();
    const xai::Batch x = batch_of(1, {3, 8, 8});
    xai::CamOptions unknown;
    unknown.layer = "conv9";
    CHECK_THROWS_AS(xai::GradCam<Net>(net, unknown), xai::invalid_argument);
    CHECK_THROWS_WITH(xai::GradCam<Net>(net, unknown), Contains("'conv9' is not a layer of the model"));
    xai::ScoreCamOptions score_unknown;
    score_unknown.cam.layer = "conv9";
    CHECK_THROWS_WITH(xai::ScoreCam<Net>(net, score_unknown), Contains("'conv9'"));
    // Targets: a class index past the classes, and a target count that is neither 1 nor N.
    xai::CamOptions o;
    o.layer = "relu2";
    CHECK_THROWS_AS(xai::GradCam<Net>(net, o).explain(x, {huge}), xai::invalid_argument);
    CHECK_THROWS_WITH(xai::GradCam<Net>(net, o).explain(x, {3}), Contains("3"));
    CHECK_THROWS_AS(xai::GradCam<Net>(net, o).explain(batch_of(3, {3, 8, 8}), {0, 1}), xai::error);

    // RISE, occlusion, LIME: zero and huge sizes, NaN probabilities.
    xai::RiseOptions ro;
    ro.num_masks = 8;
    ro.grid_size = huge;
    CHECK_THROWS_WITH(xai::Rise<Net>(net, ro).explain(x), Contains("grid_size"));
    ro.grid_size = 2;
    ro.keep_probability = std::nan("");
    CHECK_THROWS_WITH(xai::Rise<Net>(net, ro), Contains("keep_probability"));
    ro.keep_probability = -0.5;
    CHECK_THROWS_WITH(xai::Rise<Net>(net, ro), Contains("keep_probability"));
    ro.keep_probability = 0.5;
    ro.batch_size = 0;
    CHECK_THROWS_WITH(xai::Rise<Net>(net, ro), Contains("batch_size"));
    ro.batch_size = huge;  // a batch larger than the work is the whole work in one batch
    CHECK(xai::all_finite(xai::Rise<Net>(net, ro).explain(x).raw));
    xai::OcclusionOptions oo;
    oo.window = huge;
    CHECK_THROWS_WITH(xai::Occlusion<Net>(net, oo).explain(x), Contains("window"));
    oo.window = 0;
    CHECK_THROWS_WITH(xai::Occlusion<Net>(net, oo), Contains("window"));
    xai::LimeOptions lo;
    lo.kernel_width = -1.0;
    CHECK_THROWS_WITH((xai::Lime<Net, xai::GridSegmenter>(net, lo)), Contains("kernel_width"));
    lo.kernel_width = 0.25;
    lo.num_samples = huge;
    CHECK_THROWS_AS((xai::Lime<Net, xai::GridSegmenter>(net, lo)), xai::invalid_argument);
    CHECK_THROWS_WITH((xai::Lime<Net, xai::GridSegmenter>(net, lo)), Contains("max_lime_samples"));

    // Influence: an unknown parameter block, labels that do not match, a label past the classes.
    const xai::Batch train = batch_of(2, {3, 8, 8});
    xai::InfluenceOptions io;
    io.stationarity = xai::StationarityPolicy::warn;
    io.parameter_blocks = {"fc.weights"};
    CHECK_THROWS_WITH(xai::Influence<Net>(net, train, xai::Labels{0, 1}, io), Contains("fc.weights"));
    io.parameter_blocks = {"fc.bias"};
    CHECK_THROWS_AS(xai::Influence<Net>(net, train, xai::Labels{0}, io), xai::shape_error);
    CHECK_THROWS_AS(xai::Influence<Net>(net, train, xai::Labels{0, 7}, io), xai::invalid_argument);
}

TEST_CASE("Image utilities: empty inputs, zero and huge sizes, NaN, unknown names", "[bad-inputs][image]") {
    const xai::Map map = xt::ones<float>({std::size_t{4}, std::size_t{4}});
    // resize: a size whose value count wraps around size_t is refused before allocating.
    CHECK_THROWS_AS(xai::resize(map, huge, huge), xai::invalid_argument);
    CHECK_THROWS_WITH(xai::resize(map, std::size_t{1} << 32, std::size_t{1} << 32), Contains("too large"));
    CHECK_THROWS_WITH(xai::resize(image_of({3, 4, 4}), std::size_t{1} << 40, 2), Contains("too large"));
    CHECK_THROWS_WITH(xai::resize(map, 0, 4), Contains("output size is 0x4"));
    // normalize and colormaps.
    xai::Map bad = map;
    bad(1, 1) = nan_value;
    CHECK_THROWS_AS(xai::normalize_min_max(bad), xai::invalid_argument);
    CHECK_THROWS_AS(xai::apply_colormap(bad), xai::invalid_argument);
    CHECK_THROWS_AS(xai::colormap_from_string("rainbow"), xai::invalid_argument);
    CHECK_THROWS_WITH(xai::colormap_from_string("rainbow"), Contains("rainbow"));
    // Superpixels: NaN pixels, two channels, an empty image.
    xai::Image nan_image = image_of({3, 6, 6});
    nan_image(0, 2, 2) = nan_value;
    CHECK_THROWS_WITH(xai::slic(nan_image), Contains("NaN or Inf"));
    CHECK_THROWS_WITH(xai::quickshift(nan_image), Contains("NaN or Inf"));
    CHECK_THROWS_WITH(xai::felzenszwalb(nan_image), Contains("NaN or Inf"));
    CHECK_THROWS_AS(xai::slic(image_of({2, 6, 6})), xai::shape_error);
    CHECK_THROWS_AS(xai::quickshift(image_of({3, 0, 6})), xai::shape_error);
    CHECK_THROWS_AS(xai::grid_segments(0, 6), xai::error);
    // save_image: a wrong channel count and Inf are refused, nothing is written.
    CHECK_THROWS_AS(xai::encode_image(image_of({2, 0, 4}), xai::ImageFormat::png), xai::shape_error);
    xai::Image inf_image = image_of({3, 2, 2});
    inf_image(2, 1, 1) = inf_value;
    CHECK_THROWS_WITH(xai::encode_image(inf_image, xai::ImageFormat::png), Contains("NaN or Inf"));
    // load_image: an unknown format, a channel count of 5.
    const std::vector<std::uint8_t> png = xai::encode_image(image_of({3, 2, 2}), xai::ImageFormat::png);
    CHECK_THROWS_AS(xai::load_image_from_memory(png, 5), xai::invalid_argument);
}

TEST_CASE("Sequential: zero, negative-as-unsigned and huge shapes, NaN batches, unknown layers", "[bad-inputs][models]") {
    using namespace xai::models;
    CHECK_THROWS_AS(Net({0, 8, 8}), xai::shape_error);
    CHECK_THROWS_AS(Net({3, static_cast<std::size_t>(-1), 8}), xai::shape_error);  // −1 as size_t
    CHECK_THROWS_WITH(Net({3, std::size_t{1} << 32, std::size_t{1} << 32}), Contains("too large"));
    CHECK_THROWS_AS(Net({3, 8, 8}, {conv2d(4, 9)}), xai::invalid_argument);  // kernel larger than the input
    CHECK_THROWS_AS(Net({3, 8, 8}, {conv2d(0, 3)}), xai::invalid_argument);
    CHECK_THROWS_WITH(Net({1, 1 << 20, 1 << 20}, {flatten(), linear(std::size_t{1} << 30)}), Contains("expected 1.."));
    const Net net = small_cnn();
    xai::Batch x = batch_of(1, {3, 8, 8});
    x(0, 0, 0, 0) = nan_value;
    CHECK_THROWS_AS(net.forward(x), xai::invalid_argument);
    CHECK_THROWS_AS(net.forward(batch_of(1, {3, 8, 7})), xai::shape_error);
    CHECK_THROWS_AS(net.layer_activations(batch_of(1, {3, 8, 8}), "conv9"), xai::invalid_argument);
}

TEST_CASE("Metrics: maps that do not match the images, NaN maps, empty batches", "[bad-inputs][metrics]") {
    const Net net = small_cnn();
    const xai::Batch x = batch_of(2, {3, 8, 8});
    const xai::Maps maps = xt::ones<float>({std::size_t{2}, std::size_t{8}, std::size_t{8}});
    const xai::Maps wrong = xt::ones<float>({std::size_t{2}, std::size_t{8}, std::size_t{7}});
    CHECK_THROWS_AS(xai::deletion(net, x, wrong), xai::shape_error);
    xai::Maps nan_maps = maps;
    nan_maps(1, 3, 3) = nan_value;
    CHECK_THROWS_AS(xai::insertion(net, x, nan_maps), xai::invalid_argument);
    CHECK_THROWS_AS(xai::deletion(net, batch_of(0, {3, 8, 8}), xai::Maps::from_shape({0, 8, 8})), xai::error);
    CHECK_THROWS_AS(xai::spearman_correlation(xai::Map(xt::ones<float>({2, 2})), xai::Map(xt::ones<float>({2, 3}))),
                    xai::shape_error);
}
