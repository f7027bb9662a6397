// Tests of include/xai/image/blur.hpp: the RISE reference's Gaussian blur.
#include <catch2/catch.hpp>

#include <cmath>
#include <numeric>
#include <vector>

#include "xai/xai.hpp"

using Catch::Matchers::Contains;

namespace {

/// The unnormalized Gaussian truncated at 4σ, as scipy builds it, normalized.
std::vector<double> scipy_taps(double sigma) {
    const int r = static_cast<int>(4.0 * sigma + 0.5);
    std::vector<double> w;
    for (int k = -r; k <= r; ++k) w.push_back(std::exp(-0.5 * k * k / (sigma * sigma)));
    const double total = std::accumulate(w.begin(), w.end(), 0.0);
    for (double& v : w) v /= total;
    return w;
}

/// gkern's 1-D kernel by brute force: pad the impulse with scipy's 'reflect' (d c b a | a b c d)
/// by hand, written as explicit repeated mirror copies, then correlate with the taps.
std::vector<double> brute_force_kernel(std::size_t n, double sigma) {
    const std::vector<double> w = scipy_taps(sigma);
    const int r = static_cast<int>(w.size() / 2);
    std::vector<double> impulse(n, 0.0);
    impulse[n / 2] = 1.0;
    // One period of the symmetric extension is the signal followed by its mirror image.
    std::vector<double> period(impulse);
    period.insert(period.end(), impulse.rbegin(), impulse.rend());
    const int p = static_cast<int>(period.size());
    std::vector<double> out(n, 0.0);
    for (int i = 0; i < static_cast<int>(n); ++i)
        for (int k = -r; k <= r; ++k) out[static_cast<std::size_t>(i)] += w[static_cast<std::size_t>(k + r)] * period[static_cast<std::size_t>(((i + k) % p + p) % p)];
    return out;
}

}  // namespace

TEST_CASE("gaussian_kernel folds the 4σ-truncated Gaussian into the taps like gkern", "[blur]") {
    // Hand case: 3 taps, σ = 1 (radius 4). With reflect, tap 1 collects offsets −3, 0, 3 and
    // tap 0 collects −2, 1, 4 (and symmetrically tap 2).
    const std::vector<double> w = scipy_taps(1.0);  // w[k + 4]
    const std::vector<double> g = xai::gaussian_kernel(3, 1.0);
    REQUIRE(g.size() == 3);
    CHECK(g[1] == Approx(w[1] + w[4] + w[7]).epsilon(1e-12));
    CHECK(g[0] == Approx(w[2] + w[5] + w[8]).epsilon(1e-12));
    CHECK(g[2] == Approx(g[0]).epsilon(1e-12));

    // The RISE reference's kernel: 11 taps, σ = 5 (radius 20, folded several times).
    const std::vector<double> rise = xai::gaussian_kernel(11, 5.0);
    const std::vector<double> brute = brute_force_kernel(11, 5.0);
    for (std::size_t i = 0; i < 11; ++i) {
        CHECK(rise[i] == Approx(brute[i]).epsilon(1e-12));
        CHECK(rise[i] == Approx(rise[10 - i]).epsilon(1e-12));
    }
    CHECK(std::accumulate(rise.begin(), rise.end(), 0.0) == Approx(1.0).epsilon(1e-12));
    // Much flatter than the plain Gaussian (whose edge/centre ratio would be exp(−25/50) = 0.61).
    CHECK(rise[0] / rise[5] > 0.61);
    CHECK(rise[0] < rise[5]);
}

TEST_CASE("gaussian_blur equals a direct 2-D convolution with g ⊗ g, zero or reflected border", "[blur]") {
    xai::Image image = xai::Image::from_shape({2, 7, 9});
    for (std::size_t p = 0; p < image.size(); ++p) image.data()[p] = static_cast<float>((p * 29) % 17) / 17.0f;
    for (const auto border : {xai::BlurBorder::zero, xai::BlurBorder::reflect}) {
        const xai::GaussianBlurOptions options{1.5, 5, border};
        const std::vector<double> g = xai::gaussian_kernel(5, 1.5);
        const xai::Image blurred = xai::gaussian_blur(image, options);
        for (std::size_t c = 0; c < 2; ++c)
            for (int y = 0; y < 7; ++y)
                for (int x = 0; x < 9; ++x) {
                    double expected = 0.0;
                    for (int dy = -2; dy <= 2; ++dy)
                        for (int dx = -2; dx <= 2; ++dx) {
                            int yy = y + dy, xx = x + dx;
                            if (border == xai::BlurBorder::zero) {
                                if (yy < 0 || yy >= 7 || xx < 0 || xx >= 9) continue;
                            } else {
                                yy = yy < 0 ? -yy - 1 : (yy >= 7 ? 13 - yy : yy);
                                xx = xx < 0 ? -xx - 1 : (xx >= 9 ? 17 - xx : xx);
                            }
                            expected += g[static_cast<std::size_t>(dy + 2)] * g[static_cast<std::size_t>(dx + 2)] *
                                        image(c, static_cast<std::size_t>(yy), static_cast<std::size_t>(xx));
                        }
                    REQUIRE(blurred(c, static_cast<std::size_t>(y), static_cast<std::size_t>(x)) == Approx(expected).margin(1e-6));
                }
    }
}

TEST_CASE("gaussian_blur keeps a constant image constant with reflection, darkens the border with zeros",
          "[blur]") {
    xai::Image flat = xai::Image::from_shape({1, 30, 30});
    flat.fill(0.8f);
    const xai::Image zero = xai::gaussian_blur(flat);  // the RISE reference: 11 taps, σ = 5, zero padding
    const xai::Image reflect = xai::gaussian_blur(flat, {5.0, 11, xai::BlurBorder::reflect});
    for (float v : reflect) REQUIRE(v == Approx(0.8f).epsilon(1e-5));
    CHECK(zero(0, 15, 15) == Approx(0.8f).epsilon(1e-5));  // ≥ 5 px from the border: untouched
    CHECK(zero(0, 5, 24) == Approx(0.8f).epsilon(1e-5));
    // The corner keeps (Σ_{i ≥ 5} g_i)² of its value.
    const std::vector<double> g = xai::gaussian_kernel(11, 5.0);
    const double kept = std::accumulate(g.begin() + 5, g.end(), 0.0);
    CHECK(zero(0, 0, 0) == Approx(0.8 * kept * kept).epsilon(1e-5));
}

TEST_CASE("gaussian_blur of maps and batches blurs every plane on its own", "[blur]") {
    xai::Batch batch = xai::Batch::from_shape({2, 3, 8, 6});
    for (std::size_t p = 0; p < batch.size(); ++p) batch.data()[p] = static_cast<float>(p % 11);
    const xai::GaussianBlurOptions options{2.0, 7, xai::BlurBorder::reflect};
    const xai::Batch blurred = xai::gaussian_blur(batch, options);
    for (std::size_t i = 0; i < 2; ++i) {
        const xai::Image one = xai::gaussian_blur(xai::image_at(batch, i), options);
        CHECK((xai::image_at(blurred, i) == one));
        const xai::Map channel = xt::view(one, 1, xt::all(), xt::all());
        const xai::Map map = xt::view(xai::image_at(batch, i), 1, xt::all(), xt::all());
        CHECK((xai::gaussian_blur(map, options) == channel));
    }
}

TEST_CASE("gaussian_blur rejects bad parameters and empty input", "[blur][errors]") {
    const xai::Image image = xt::zeros<float>({1, 4, 4});
    CHECK_THROWS_WITH(xai::gaussian_blur(image, {0.0, 11}), Contains("sigma is 0, expected a finite value > 0"));
    CHECK_THROWS_AS(xai::gaussian_blur(image, {-1.0, 11}), xai::invalid_argument);
    CHECK_THROWS_AS(xai::gaussian_blur(image, {std::nan(""), 11}), xai::invalid_argument);
    CHECK_THROWS_WITH(xai::gaussian_blur(image, {5.0, 10}), Contains("kernel_size is 10, expected an odd number"));
    CHECK_THROWS_AS(xai::gaussian_kernel(0, 1.0), xai::invalid_argument);
    CHECK_THROWS_AS(xai::gaussian_blur(xai::Image::from_shape({1, 0, 4})), xai::shape_error);
    CHECK_THROWS_AS(xai::gaussian_blur(xai::Map::from_shape({0, 0})), xai::shape_error);
    CHECK_THROWS_AS(xai::gaussian_blur(xai::Batch::from_shape({0, 1, 4, 4})), xai::shape_error);
}
