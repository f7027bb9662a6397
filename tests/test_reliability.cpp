// Reliability (issue 11): hostile files, regressions for what fuzzing found (tests/fuzz),
// numerical robustness (inputs scaled by 1e-6 and 1e6, saturated softmax, dead ReLUs) and
// 4096×4096 inputs through every method. docs/errors.md and docs/limits.md describe the
// behaviour these tests pin down.
#include "xai/xai.hpp"
#include "xai/image/io.hpp"
#include "xai/models/sequential.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <string>
#include <unistd.h>
#include <vector>

using Catch::Matchers::Contains;

namespace {

using Bytes = std::vector<std::uint8_t>;
using Net = xai::models::Sequential;

Bytes text_bytes(const std::string& text) { return Bytes(text.begin(), text.end()); }

Bytes concat(Bytes a, const Bytes& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

std::filesystem::path temp_path(const std::string& name) {
    return std::filesystem::temp_directory_path() / ("xai_reliability_" + std::to_string(::getpid()) + "_" + name);
}

/// A .xaiw file written from `file` with its CRC, for hand-made architectures.
std::filesystem::path weights_file(const xai::models::WeightsFile& file, const std::string& name) {
    const auto path = temp_path(name);
    xai::models::write_weights_file(file, path);
    return path;
}

// ---- a minimal JPEG stream: SOI, one DHT segment, EOI ---------------------------------------

/// SOI, a DHT segment holding one table whose 16 code counts are `counts` followed by
/// `symbols` symbol bytes, then EOI.
Bytes jpeg_with_huffman_table(const std::vector<std::uint8_t>& counts, std::size_t symbols) {
    Bytes table = {0x00};  // class 0 (DC), id 0
    table.insert(table.end(), counts.begin(), counts.end());
    table.insert(table.end(), symbols, 0x01);
    const std::size_t length = table.size() + 2;
    Bytes out = {0xFF, 0xD8, 0xFF, 0xC4, static_cast<std::uint8_t>(length >> 8), static_cast<std::uint8_t>(length & 0xFF)};
    out = concat(out, table);
    out.insert(out.end(), {0xFF, 0xD9});
    return out;
}

// ---- models ----------------------------------------------------------------------------

/// 3×16×16 → conv1 → relu1 → pool1 → conv2 → relu2 → gap → fc (3 classes), random weights.
Net small_cnn() {
    using namespace xai::models;
    return Net({3, 16, 16}, {conv2d(4, 3, 1, 1), relu(), max_pool2d(2), conv2d(5, 3, 1, 1), relu(), global_avg_pool(), linear(3)},
               23);
}

xai::Batch random_batch(std::size_t n, xai::ImageShape shape, std::uint64_t seed, float scale = 1.0f) {
    xai::Batch batch = xai::Batch::from_shape({n, shape.channels, shape.height, shape.width});
    xai::Rng rng(seed);
    for (float& v : batch) v = scale * rng.uniform_float();
    return batch;
}

/// A cheap model for large inputs: features = the f×f block means of each channel (C×h×w with
/// h = H/f, w = W/f, the layer "blocks"), logits = W · GAP(features) + b. One pass over the
/// image per forward, so 4096×4096 images cost milliseconds; it has every capability the CAM
/// family needs, with gradients in closed form.
struct BlockNet {
    xai::ImageShape shape;
    std::size_t factor = 512;
    xt::xtensor<float, 2> w;  // K×C
    std::vector<float> bias;

    std::size_t num_classes() const { return w.shape(0); }
    xai::ImageShape input_shape() const { return shape; }
    std::vector<std::string> layer_names() const { return {"blocks"}; }
    xt::xtensor<float, 2> classifier_weights() const { return w; }

    xai::Activations blocks(const xai::Batch& x) const {
        xai::detail::require_model_input(*this, x, "BlockNet");
        const std::size_t n = x.shape(0), c = shape.channels, h = shape.height / factor, wd = shape.width / factor;
        xai::Activations out = xt::zeros<float>({n, c, h, wd});
        const double scale = 1.0 / static_cast<double>(factor * factor);
        for (std::size_t i = 0; i < n; ++i)
            for (std::size_t k = 0; k < c; ++k) {
                const float* plane = x.data() + (i * c + k) * shape.height * shape.width;
                for (std::size_t by = 0; by < h; ++by)
                    for (std::size_t bx = 0; bx < wd; ++bx) {
                        double sum = 0.0;
                        for (std::size_t y = by * factor; y < (by + 1) * factor; ++y)
                            for (std::size_t xx = bx * factor; xx < (bx + 1) * factor; ++xx) sum += plane[y * shape.width + xx];
                        out(i, k, by, bx) = static_cast<float>(sum * scale);
                    }
            }
        return out;
    }
    xai::Scores head(const xai::Activations& a) const {
        const std::size_t n = a.shape(0), c = a.shape(1), plane = a.shape(2) * a.shape(3);
        xai::Scores out = xai::Scores::from_shape({n, num_classes()});
        for (std::size_t i = 0; i < n; ++i)
            for (std::size_t k = 0; k < num_classes(); ++k) {
                double s = bias[k];
                for (std::size_t ch = 0; ch < c; ++ch) {
                    double mean = 0.0;
                    for (std::size_t p = 0; p < plane; ++p) mean += a.data()[(i * c + ch) * plane + p];
                    s += w(k, ch) * mean / static_cast<double>(plane);
                }
                out(i, k) = static_cast<float>(s);
            }
        return out;
    }
    void require_layer(const std::string& layer) const {
        if (layer != "blocks") throw xai::invalid_argument("BlockNet: unknown layer '" + layer + "'");
    }
    xai::Scores forward(const xai::Batch& x) const { return head(blocks(x)); }
    xai::FeatureOutput forward_features(const xai::Batch& x) const {
        xai::Activations a = blocks(x);
        xai::Scores s = head(a);
        return {xai::Batch(std::move(a)), std::move(s)};
    }
    xai::LayerOutput layer_activations(const xai::Batch& x, const std::string& layer) const {
        require_layer(layer);
        xai::Activations a = blocks(x);
        xai::Scores s = head(a);
        return {std::move(a), std::move(s)};
    }
    xai::LayerGradients layer_gradients(const xai::Batch& x, const std::string& layer, const xai::ScoreSeed& seed) const {
        require_layer(layer);
        xai::Activations a = blocks(x);
        xai::Scores s = head(a);
        const xai::Scores g = seed(s);
        xai::Activations grad = xt::zeros<float>(a.shape());
        const std::size_t n = a.shape(0), c = a.shape(1), plane = a.shape(2) * a.shape(3);
        for (std::size_t i = 0; i < n; ++i)
            for (std::size_t ch = 0; ch < c; ++ch) {
                double d = 0.0;
                for (std::size_t k = 0; k < num_classes(); ++k) d += g(i, k) * w(k, ch);
                for (std::size_t p = 0; p < plane; ++p) grad.data()[(i * c + ch) * plane + p] = static_cast<float>(d / plane);
            }
        return {std::move(a), std::move(grad), std::move(s)};
    }
    xai::Scores forward_from(const std::string& layer, const xai::Activations& a) const {
        require_layer(layer);
        return head(a);
    }
};

BlockNet block_net(xai::ImageShape shape, std::size_t factor) {
    BlockNet net{shape, factor, xt::xtensor<float, 2>::from_shape({2, shape.channels}), {0.1f, -0.2f}};
    for (std::size_t k = 0; k < 2; ++k)
        for (std::size_t c = 0; c < shape.channels; ++c) net.w(k, c) = (k == 0 ? 1.0f : -0.5f) * static_cast<float>(c + 1);
    return net;
}

template <class Container>
bool finite(const Container& values) {
    return xai::all_finite(values);
}

/// Runs every CAM-family explainer on `model` and checks that each map is finite.
template <class Model>
void check_cam_family_finite(const Model& model, const xai::Batch& x, const std::string& layer, xai::ScoreKind score,
                             const xai::Targets& targets) {
    xai::CamOptions o;
    o.layer = layer;
    o.score = score;
    const xai::ScoreCamOptions so{.cam = o};
    const xai::AblationCamOptions ao{.cam = o};
    const auto check = [&](const char* name, const xai::CamResult& r) {
        INFO(name);
        CHECK(finite(r.raw));
        CHECK(finite(r.maps));
        CHECK(finite(r.weights));
        CHECK(r.maps.shape(0) == x.shape(0));
    };
    xai::CamOptions cam_o = o;
    cam_o.layer.clear();
    check("CAM", xai::Cam<Model>(model, cam_o).explain(x, targets));
    check("Grad-CAM", xai::GradCam<Model>(model, o).explain(x, targets));
    check("Grad-CAM++", xai::GradCamPlusPlus<Model>(model, o).explain(x, targets));
    check("XGrad-CAM", xai::XGradCam<Model>(model, o).explain(x, targets));
    check("HiResCAM", xai::HiResCam<Model>(model, o).explain(x, targets));
    check("LayerCAM", xai::LayerCam<Model>(model, o).explain(x, targets));
    check("Score-CAM", xai::ScoreCam<Model>(model, so).explain(x, targets));
    check("Eigen-CAM", xai::EigenCam<Model>(model, o).explain(x, targets));
    check("Ablation-CAM", xai::AblationCam<Model>(model, ao).explain(x, targets));
}

/// LIME (grid segments), RISE and occlusion on `model`: finite maps and weights.
template <class Model>
void check_perturbation_finite(const Model& model, const xai::Batch& x, xai::ScoreKind score, const xai::Targets& targets) {
    xai::LimeOptions lo;
    lo.num_samples = 30;
    lo.score = score;
    xai::GridOptions grid;
    grid.rows = 4;
    grid.cols = 4;
    const xai::LimeExplanation lime =
        xai::Lime<Model, xai::GridSegmenter>(model, lo, xai::GridSegmenter{grid})
            .explain(xai::image_at(x, 0), targets.empty() ? xai::Target::predicted() : targets[0]);
    REQUIRE(lime.surrogates.size() == 1);
    for (const auto& surrogate : lime.surrogates[0]) {
        for (double w : surrogate.weights) CHECK(std::isfinite(w));
        CHECK(std::isfinite(surrogate.intercept));
        CHECK(std::isfinite(surrogate.r2));
    }
    CHECK(finite(lime.raw));
    CHECK(finite(lime.maps));
    xai::RiseOptions ro;
    ro.num_masks = 24;
    ro.grid_size = 4;
    ro.score = score;
    const xai::RiseExplanation rise = xai::Rise<Model>(model, ro).explain(x, targets);
    CHECK(finite(rise.raw));
    CHECK(finite(rise.maps));
    CHECK(finite(rise.standard_error));
    xai::OcclusionOptions oo;
    oo.window = 4;
    oo.stride = 4;
    oo.score = score;
    const xai::OcclusionExplanation occlusion = xai::Occlusion<Model>(model, oo).explain(x, targets);
    CHECK(finite(occlusion.raw));
    CHECK(finite(occlusion.maps));
}

}  // namespace

// ---- hostile files --------------------------------------------------------------------------

TEST_CASE("A JPEG Huffman table with more than 256 codes is refused before stb reads it", "[reliability][hostile][io]") {
    // stb 2.27 writes past its code-length array for such a table (found by fuzz_image_decode).
    std::vector<std::uint8_t> counts(16, 0);
    counts[15] = 255;
    counts[14] = 2;  // 257 codes
    const Bytes bad = jpeg_with_huffman_table(counts, 257);
    CHECK_THROWS_AS(xai::load_image_from_memory(bad), xai::io_error);
    CHECK_THROWS_WITH(xai::load_image_from_memory(bad), Contains("Huffman table declares more than 256 codes"));
    // Fill bytes before SOI are accepted by stb, so the check sees through them too.
    CHECK_THROWS_WITH(xai::load_image_from_memory(concat({0xFF, 0xFF}, bad)), Contains("more than 256 codes"));
    // 256 codes is legal: the check lets it through and stb's own decoder reports the missing frame.
    counts[14] = 1;
    const Bytes legal = jpeg_with_huffman_table(counts, 256);
    CHECK_THROWS_AS(xai::load_image_from_memory(legal), xai::io_error);
    CHECK_THROWS_WITH(xai::load_image_from_memory(legal), !Contains("more than 256 codes"));
    CHECK(xai::detail::jpeg_huffman_tables_valid(legal.data(), legal.size()));
    CHECK_FALSE(xai::detail::jpeg_huffman_tables_valid(bad.data(), bad.size()));
}

TEST_CASE("A PNM whose header numbers overflow an int is refused; a huge declared size is over budget",
          "[reliability][hostile][io]") {
    // stb 2.27 parses these into an int with signed overflow (UBSan, fuzz_image_decode).
    CHECK_THROWS_WITH(xai::load_image_from_memory(text_bytes("P5\n99999999999 2\n255\n")),
                      Contains("PNM header number exceeds 2147483647"));
    CHECK_THROWS_WITH(xai::load_image_from_memory(text_bytes("P6 # comment\n2 2\n4294967296\n")),
                      Contains("PNM header number exceeds"));
    // 100000×100000 in a 23-byte file: refused from the header, before any allocation (it
    // lacks the pixels it declares); a complete 100×100 file over a budget of 1000 pixels is
    // refused by the budget.
    const Bytes huge = text_bytes("P5\n100000 100000\n255\n\x01\x02");
    CHECK_THROWS_AS(xai::load_image_from_memory(huge), xai::io_error);
    CHECK_THROWS_WITH(xai::load_image_from_memory(huge), Contains("declares 100000x100000"));
    Bytes complete = text_bytes("P5\n100 100\n255\n");
    complete.insert(complete.end(), 100 * 100, 0x40);
    xai::LoadOptions budget;
    budget.max_pixels = 1000;
    CHECK_THROWS_WITH(xai::load_image_from_memory(complete, 0, budget), Contains("declares 100x100") && Contains("max_pixels"));
    CHECK(xai::load_image_from_memory(complete).shape() == std::array<std::size_t, 3>{1, 100, 100});
}

TEST_CASE("A 16-bit PNM converted to another channel count reads its own samples", "[reliability][hostile][io]") {
    // stb 2.27 converts 16-bit PNM through its 8-bit path and reads past the buffer; io.hpp
    // decodes it as stored and converts with stb's 16-bit rule (fuzz_image_decode found it).
    Bytes pgm = text_bytes("P5\n2 1\n65535\n");
    pgm.insert(pgm.end(), {0x12, 0x34, 0xFF, 0xFF});  // big-endian samples 0x1234 and 0xFFFF
    const xai::Image grey = xai::load_image_from_memory(pgm);
    REQUIRE(grey.shape() == std::array<std::size_t, 3>{1, 1, 2});
    CHECK(grey(0, 0, 0) == Approx(4660.0f / 65535.0f).epsilon(1e-6));
    const xai::Image rgba = xai::load_image_from_memory(pgm, 4);
    REQUIRE(rgba.shape() == std::array<std::size_t, 3>{4, 1, 2});
    for (std::size_t c = 0; c < 3; ++c) CHECK(rgba(c, 0, 0) == grey(0, 0, 0));  // grey replicated
    CHECK(rgba(3, 0, 0) == 1.0f);                                             // opaque alpha
    Bytes ppm = text_bytes("P6\n1 1\n65535\n");
    ppm.insert(ppm.end(), {0xFF, 0xFF, 0x00, 0x00, 0x00, 0x00});  // pure red
    const xai::Image red_grey = xai::load_image_from_memory(ppm, 1);
    CHECK(red_grey(0, 0, 0) == Approx(static_cast<float>((65535 * 77) >> 8) / 65535.0f).epsilon(1e-6));
}

TEST_CASE("A truncated PNM is refused instead of returning stb's uninitialised pixels", "[reliability][hostile][io]") {
    Bytes pgm = text_bytes("P5\n4 4\n255\n");
    pgm.insert(pgm.end(), 15, 0x80);  // 15 of the 16 pixels
    CHECK_THROWS_AS(xai::load_image_from_memory(pgm), xai::io_error);
    CHECK_THROWS_WITH(xai::load_image_from_memory(pgm), Contains("truncated PNM") && Contains("4x4"));
    pgm.push_back(0x80);
    CHECK(xai::load_image_from_memory(pgm).shape() == std::array<std::size_t, 3>{1, 4, 4});
    Bytes ppm16 = text_bytes("P6 2 2 65535 ");
    ppm16.insert(ppm16.end(), 2 * 2 * 3 * 2 - 1, 0x00);  // one byte short
    CHECK_THROWS_WITH(xai::load_image_from_memory(ppm16), Contains("truncated PNM"));
    // A header declaring no pixels at all.
    CHECK_THROWS_WITH(xai::load_image_from_memory(text_bytes("P5 0 3 255 ")), Contains("an empty image"));
}

TEST_CASE("A PNG with an empty IDAT chunk decodes like the same PNG without it", "[reliability][hostile][io]") {
    // Legal PNG (the zlib stream may be split anywhere); it made stb call memcpy(NULL, p, 0),
    // which fuzz_image_decode's UBSan flagged (see tests/fuzz/fuzz_image_decode.cpp).
    xai::Image image = xai::Image::from_shape({3, 5, 4});
    for (std::size_t i = 0; i < image.size(); ++i) image.data()[i] = static_cast<float>(i % 7) / 6.0f;
    const Bytes png = xai::encode_image(image, xai::ImageFormat::png);
    const std::string idat = "IDAT";
    const auto at = std::search(png.begin(), png.end(), idat.begin(), idat.end()) - png.begin() - 4;  // its length field
    REQUIRE(at > 8);
    const Bytes type(idat.begin(), idat.end());
    const std::uint32_t crc = xai::models::detail::crc32(type.data(), type.size());
    Bytes empty_chunk = {0, 0, 0, 0};
    empty_chunk = concat(empty_chunk, type);
    for (int shift = 24; shift >= 0; shift -= 8) empty_chunk.push_back(static_cast<std::uint8_t>((crc >> shift) & 0xFF));
    Bytes with_empty(png.begin(), png.begin() + at);
    with_empty = concat(with_empty, empty_chunk);
    with_empty.insert(with_empty.end(), png.begin() + at, png.end());
    CHECK((xai::load_image_from_memory(with_empty) == xai::load_image_from_memory(png)));
}

TEST_CASE("A JPEG cut anywhere in its entropy-coded data decodes or is refused, never worse",
          "[reliability][hostile][io]") {
    // Cut a few bytes into the scan and closed with an end-of-image marker, a JPEG drives stb's
    // bit counter below zero (nothings/stb#1293, fixed after the v2.27 that Debian ships), which
    // fuzz_image_decode's UBSan flagged as a shift by 33 (see tests/fuzz/fuzz_image_decode.cpp
    // for why the result is still right). Every cut must give an image of the original's shape
    // with values in [0, 1], or an xai::io_error.
    xai::Image image = xai::Image::from_shape({3, 16, 16});
    for (std::size_t i = 0; i < image.size(); ++i) image.data()[i] = static_cast<float>((i * 37) % 101) / 100.0f;
    const Bytes jpeg = xai::encode_image(image, xai::ImageFormat::jpeg);
    const Bytes start_of_scan = {0xFF, 0xDA};
    const auto sos = std::search(jpeg.begin(), jpeg.end(), start_of_scan.begin(), start_of_scan.end()) - jpeg.begin();
    REQUIRE(sos + 4 < static_cast<std::ptrdiff_t>(jpeg.size()));
    const std::size_t scan = static_cast<std::size_t>(sos) + 2 + (std::size_t{jpeg[sos + 2]} << 8) + jpeg[sos + 3];
    const Bytes end_of_image = {0xFF, 0xD9};
    std::size_t decoded = 0, refused = 0;
    for (std::size_t cut = scan; cut + 2 < jpeg.size(); ++cut) {
        const Bytes truncated = concat(Bytes(jpeg.begin(), jpeg.begin() + static_cast<std::ptrdiff_t>(cut)), end_of_image);
        try {
            const xai::Image out = xai::load_image_from_memory(truncated, 3);
            CHECK(out.shape() == image.shape());
            CHECK(xt::all(out >= 0.0f && out <= 1.0f));
            ++decoded;
        } catch (const xai::io_error&) {
            ++refused;
        }
    }
    CHECK(decoded + refused == jpeg.size() - 2 - scan);
    CHECK(decoded > 0);  // stb fills a short scan with zeros rather than failing
}

TEST_CASE("A weights file whose layers need more parameters than it holds is refused before allocating",
          "[reliability][hostile][models]") {
    // A 100-byte file declaring linear(2^20) on a 1×1024×1024 input: 2^40 parameters (4 TiB).
    xai::models::WeightsFile file;
    file.input = {1, 1024, 1024};
    file.num_classes = 1u << 20;
    file.layers = {xai::models::flatten("flatten"), xai::models::linear(1u << 20, "fc")};
    file.tensors = {{"fc.weight", {1, 1}, {0.5f}}, {"fc.bias", {1}, {0.0f}}};
    const auto path = weights_file(file, "huge_linear.xaiw");
    CHECK(std::filesystem::file_size(path) < 200);
    CHECK_THROWS_AS(xai::models::load(path), xai::io_error);
    CHECK_THROWS_WITH(xai::models::load(path), Contains("need more than 2 parameters"));

    // A declared input of 2^31 × 2^31 pixels: refused as too large for any memory.
    file.input = {1, std::size_t{1} << 31, std::size_t{1} << 31};
    file.num_classes = 1;
    file.layers = {xai::models::global_avg_pool("gap"), xai::models::linear(1, "fc")};
    const auto path2 = weights_file(file, "huge_input.xaiw");
    CHECK_THROWS_AS(xai::models::load(path2), xai::io_error);
    CHECK_THROWS_WITH(xai::models::load(path2), Contains("too large for any memory"));

    // A conv2d whose output would be 65535 × 2^32 values: its parameters are few, its output is not.
    file.input = {1, 65535, 65535};
    file.layers = {xai::models::conv2d(1u << 20, 1, 1, 0, "conv"), xai::models::global_avg_pool("gap"),
                   xai::models::linear(1, "fc")};
    const auto path3 = weights_file(file, "huge_conv.xaiw");
    CHECK_THROWS_AS(xai::models::load(path3), xai::io_error);
    for (const auto& p : {path, path2, path3}) std::filesystem::remove(p);
}

// ---- regressions for fuzzing findings in the superpixels and blurs ----------------------------

TEST_CASE("Huge σ, kernel sizes and size factors are refused or clamped instead of overflowing",
          "[reliability][fuzz][superpixels]") {
    const xai::Image image = xai::image_at(random_batch(1, {3, 12, 10}, 3), 0);
    // gaussian_filter: σ = 1e300 made the radius ⌊4σ + 0.5⌋ overflow (UBSan); now refused.
    CHECK_THROWS_WITH(xai::gaussian_filter(image, 1e300), Contains("max_gaussian_sigma"));
    CHECK_THROWS_AS(xai::gaussian_filter(image, std::numeric_limits<double>::infinity()), xai::invalid_argument);
    CHECK_THROWS_AS(xai::gaussian_filter(image, std::nan("")), xai::invalid_argument);
    CHECK(finite(xai::gaussian_filter(image, xai::max_gaussian_sigma)));  // the bound itself works
    // The RISE blur: kernel_size 2^63 + 1 asked for that many taps; now refused.
    xai::GaussianBlurOptions blur;
    blur.kernel_size = (std::size_t{1} << 63) + 1;
    CHECK_THROWS_WITH(xai::gaussian_blur(image, blur), Contains("max_blur_kernel_size"));
    blur.kernel_size = 11;
    blur.sigma = 1e300;
    CHECK_THROWS_WITH(xai::gaussian_blur(image, blur), Contains("max_gaussian_sigma"));
    // Quick shift: kernel_size 1e300 made the window radius overflow; it is clipped to the
    // image, which gives the same labels as any window covering the whole image.
    xai::QuickshiftOptions q;
    q.kernel_size = 1e300;
    q.max_dist = 1e300;
    const xai::Segmentation huge_window = xai::quickshift(image, q);
    q.kernel_size = 100.0;  // a window of 300 pixels, beyond the 12×10 image
    const xai::Segmentation large_window = xai::quickshift(image, q);
    CHECK(huge_window.labels == large_window.labels);
    CHECK_NOTHROW(xai::require_segmentation(huge_window, 12, 10, "test"));
    // SLIC: min/max_size_factor × segment size converted to size_t overflowed for 1e300 or Inf.
    xai::SlicOptions s;
    s.n_segments = 4;
    s.min_size_factor = std::numeric_limits<double>::infinity();
    s.max_size_factor = 1e300;
    const xai::Segmentation slic = xai::slic(image, s);
    CHECK_NOTHROW(xai::require_segmentation(slic, 12, 10, "test"));
    CHECK(slic.count == 1);  // every segment is below an infinite minimum size: one label
}

// ---- numerical robustness ------------------------------------------------------------------

TEST_CASE("Inputs scaled by 1e-6 and 1e6 give finite maps from every explainer", "[reliability][numerics]") {
    const Net net = small_cnn();
    for (const float scale : {1e-6f, 1e6f}) {
        INFO("scale " << scale);
        const xai::Batch x = random_batch(2, net.input_shape(), 31, scale);
        for (const xai::ScoreKind kind : {xai::ScoreKind::logit, xai::ScoreKind::probability, xai::ScoreKind::log_probability}) {
            INFO("score " << xai::to_string(kind));
            check_cam_family_finite(net, x, net.feature_layer(), kind, {0, 2});
            check_perturbation_finite(net, x, kind, {0, 2});
        }
    }
}

TEST_CASE("A saturated softmax gives finite maps: probability gradients underflow to exact zeros",
          "[reliability][numerics]") {
    // Inputs of 1e6 make the logits differ by far more than 100, so softmax is exactly 0 or 1
    // in float: every probability gradient is 0 and gradient maps become all-zero maps.
    const Net net = small_cnn();
    const xai::Batch x = random_batch(1, net.input_shape(), 41, 1e6f);
    const xai::Scores p = xai::softmax(net.forward(x));
    REQUIRE((p(0, 0) == 1.0f || p(0, 1) == 1.0f || p(0, 2) == 1.0f));
    const std::size_t loser = p(0, 0) == 1.0f ? 1 : 0;
    xai::CamOptions o;
    o.layer = net.feature_layer();
    o.score = xai::ScoreKind::probability;
    const xai::CamResult grad = xai::GradCam<Net>(net, o).explain(x, {loser});
    CHECK(finite(grad.maps));
    CHECK(xt::amax(xt::abs(grad.maps))() == 0.0f);
    // A black-box model with saturated logits (±1e30): LIME, RISE and occlusion stay finite for
    // the winning and the losing class under every score kind.
    const xai::ImageShape shape{1, 8, 8};
    struct Saturated {
        xai::ImageShape shape;
        xai::Scores forward(const xai::Batch& b) const {
            xai::Scores s = xai::Scores::from_shape({b.shape(0), 2});
            for (std::size_t i = 0; i < b.shape(0); ++i) {
                const float m = b(i, 0, 0, 0) + b(i, 0, 7, 7);
                s(i, 0) = 1e30f * (1.0f + m);
                s(i, 1) = -1e30f;
            }
            return s;
        }
        std::size_t num_classes() const { return 2; }
        xai::ImageShape input_shape() const { return shape; }
    } saturated{shape};
    const xai::Batch b = random_batch(1, shape, 42);
    for (const xai::ScoreKind kind : {xai::ScoreKind::logit, xai::ScoreKind::probability, xai::ScoreKind::log_probability}) {
        INFO("score " << xai::to_string(kind));
        check_perturbation_finite(saturated, b, kind, {0});
        check_perturbation_finite(saturated, b, kind, {1});
    }
}

TEST_CASE("A model with dead ReLUs gives all-zero, finite maps", "[reliability][numerics]") {
    // conv2's biases at −1e4 kill every relu2 unit: the features, their gradients and every
    // CAM are zero, and the perturbation methods see a constant model.
    Net net = small_cnn();
    Eigen::VectorXd theta = net.parameters();
    for (const xai::ParameterBlock& block : net.parameter_blocks())
        if (block.name == "conv2.bias") theta.segment(static_cast<Eigen::Index>(block.offset), static_cast<Eigen::Index>(block.size)).setConstant(-1e4);
    net.set_parameters(theta);
    const xai::Batch x = random_batch(2, net.input_shape(), 51);
    const xai::LayerOutput features = net.layer_activations(x, "relu2");
    REQUIRE(xt::amax(features.activations)() == 0.0f);
    for (const xai::ScoreKind kind : {xai::ScoreKind::logit, xai::ScoreKind::probability}) {
        check_cam_family_finite(net, x, net.feature_layer(), kind, {0, 1});
        check_perturbation_finite(net, x, kind, {0, 1});
    }
    xai::CamOptions o;
    o.layer = net.feature_layer();
    const xai::CamResult grad = xai::GradCam<Net>(net, o).explain(x, {0, 1});
    CHECK(xt::amax(xt::abs(grad.maps))() == 0.0f);
    xai::RiseOptions ro;
    ro.num_masks = 16;
    ro.grid_size = 4;
    ro.keep_probability = 1.0;  // every mask keeps the image: a constant model's map is its score
    const xai::RiseExplanation rise = xai::Rise<Net>(net, ro).explain(x, {0});
    CHECK(finite(rise.raw));
    CHECK(xt::amax(rise.raw)() == xt::amin(rise.raw)());
    xai::OcclusionOptions oo;
    oo.window = 4;
    oo.stride = 4;
    const xai::OcclusionExplanation occlusion = xai::Occlusion<Net>(net, oo).explain(x, {0});
    CHECK(xt::amax(xt::abs(occlusion.raw))() == 0.0f);  // occluding changes nothing
}

// ---- 4096×4096 inputs ----------------------------------------------------------------------

namespace {

// The 4096×4096 tests' model and image: one channel (64 MiB as float), 8×8 blocks of 512².
// The model costs one pass over the image per forward (block means), so what the tests
// measure is the explainers' own work and memory: maps of 4096² floats, upsampling from an
// 8×8 layer, one perturbed batch at a time. docs/limits.md gives the memory bound per method.
const xai::ImageShape large_shape{1, 4096, 4096};

const xai::Batch& large_image() {
    static const xai::Batch x = random_batch(1, large_shape, 61);
    return x;
}

}  // namespace

TEST_CASE("A 4096x4096 image goes through every CAM-family method", "[reliability][large][cam]") {
    const BlockNet net = block_net(large_shape, 512);
    const xai::Batch& x = large_image();
    xai::CamOptions o;
    o.layer = "blocks";
    const xai::CamResult cam = xai::Cam<BlockNet>(net).explain(x, {0});
    REQUIRE(cam.maps.shape() == std::array<std::size_t, 3>{1, 4096, 4096});
    CHECK(finite(cam.maps));
    const xai::CamResult grad = xai::GradCam<BlockNet>(net, o).explain(x, {0});
    // The gradient is constant over the layer (1/(h·w) of the class weight), so Grad-CAM's raw
    // map is CAM's divided by h·w = 64.
    CHECK(xt::allclose(grad.raw, cam.raw / 64.0f, 1e-5, 1e-7));
    CHECK(finite(grad.maps));
    CHECK(finite(xai::GradCamPlusPlus<BlockNet>(net, o).explain(x, {0}).maps));
    CHECK(finite(xai::XGradCam<BlockNet>(net, o).explain(x, {0}).maps));
    CHECK(finite(xai::HiResCam<BlockNet>(net, o).explain(x, {0}).maps));
    CHECK(finite(xai::LayerCam<BlockNet>(net, o).explain(x, {0}).maps));
    xai::ScoreCamOptions so;
    so.cam.layer = "blocks";
    so.batch_size = 1;
    CHECK(finite(xai::ScoreCam<BlockNet>(net, so).explain(x, {0}).maps));
    xai::AblationCamOptions ao;
    ao.cam.layer = "blocks";
    CHECK(finite(xai::AblationCam<BlockNet>(net, ao).explain(x, {0}).maps));
    CHECK(finite(xai::EigenCam<BlockNet>(net, o).explain(x, {0}).maps));
}

TEST_CASE("A 4096x4096 image goes through RISE", "[reliability][large][rise]") {
    const BlockNet net = block_net(large_shape, 512);
    xai::RiseOptions ro;
    ro.num_masks = 2;
    ro.grid_size = 4;
    ro.batch_size = 1;
    const xai::RiseExplanation rise = xai::Rise<BlockNet>(net, ro).explain(large_image(), {0});
    CHECK(rise.raw.shape() == std::array<std::size_t, 3>{1, 4096, 4096});
    CHECK(finite(rise.raw));
}

TEST_CASE("A 4096x4096 image goes through occlusion", "[reliability][large][occlusion]") {
    const BlockNet net = block_net(large_shape, 512);
    xai::OcclusionOptions oo;
    oo.window = 2048;
    oo.stride = 2048;
    oo.batch_size = 1;
    const xai::OcclusionExplanation occlusion = xai::Occlusion<BlockNet>(net, oo).explain(large_image(), {0});
    CHECK(occlusion.windows == 4);
    CHECK(finite(occlusion.raw));
    // Occluding a quarter with 0 lowers logit 0 by w·(mean of that quarter)/4: every map value is
    // a difference of two logits, hence at most the class weight in magnitude.
    CHECK(xt::amax(xt::abs(occlusion.raw))() <= 1.0f);
}

TEST_CASE("A 4096x4096 image goes through LIME with grid superpixels", "[reliability][large][lime]") {
    const BlockNet net = block_net(large_shape, 512);
    xai::LimeOptions lo;
    lo.num_samples = 5;  // the fewest that fit 4 superpixels and an intercept
    lo.batch_size = 1;
    lo.top_labels = 0;  // the target's surrogate only
    xai::GridOptions grid;
    grid.rows = 2;
    grid.cols = 2;
    const xai::LimeExplanation lime = xai::Lime<BlockNet, xai::GridSegmenter>(net, lo, xai::GridSegmenter{grid})
                                          .explain(xai::image_at(large_image(), 0), xai::Target::class_index(0));
    REQUIRE(lime.surrogates.size() == 1);
    REQUIRE(lime.surrogates[0].size() == 1);
    CHECK(lime.surrogates[0][0].target == 0);
    CHECK(lime.surrogates[0][0].weights.size() == 4);
    for (double w : lime.surrogates[0][0].weights) CHECK(std::isfinite(w));
}

TEST_CASE("A 4096x4096 image over a smaller pixel budget is refused from its header", "[reliability][large]") {
    // A 4096×4096 PNG is within the default budget; with max_pixels below 4096² it is refused
    // from its header (the 33-byte signature and IHDR are all the file needs to hold).
    const Bytes header = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n', 0, 0, 0, 13, 'I', 'H', 'D', 'R',
                          0, 0, 0x10, 0, 0, 0, 0x10, 0, 8, 2, 0, 0, 0, 0, 0, 0, 0};
    xai::LoadOptions budget;
    budget.max_pixels = 4096 * 4095;
    CHECK_THROWS_WITH(xai::load_image_from_memory(header, 0, budget), Contains("declares 4096x4096"));
}
