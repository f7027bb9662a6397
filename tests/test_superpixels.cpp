// Tests of include/xai/image: CIELAB conversion, Gaussian pre-smoothing, and the superpixel
// algorithms (SLIC, quick shift, Felzenszwalb–Huttenlocher, grid).
#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <queue>
#include <set>
#include <string>
#include <vector>

#include "xai/core/data_dir.hpp"
#include "xai/image/io.hpp"
#include "xai/image/superpixels.hpp"

using Catch::Matchers::Contains;

namespace {

/// A smooth, colourful 3×H×W test picture (no flat areas, no exact ties).
xai::Image textured_image(std::size_t h, std::size_t w) {
    xai::Image image = xai::Image::from_shape({3, h, w});
    for (std::size_t y = 0; y < h; ++y)
        for (std::size_t x = 0; x < w; ++x) {
            const double u = static_cast<double>(x) / static_cast<double>(w), v = static_cast<double>(y) / static_cast<double>(h);
            image(0, y, x) = static_cast<float>(0.5 + 0.45 * std::sin(7.0 * u + 3.0 * v * v));
            image(1, y, x) = static_cast<float>(0.5 + 0.45 * std::cos(5.0 * v - 2.0 * u));
            image(2, y, x) = static_cast<float>(0.5 + 0.4 * std::sin(11.0 * u * v + 1.0));
        }
    return image;
}

/// Left of column `edge` colour a, the rest colour b.
xai::Image two_colour_image(std::size_t h, std::size_t w, std::size_t edge, std::vector<float> a, std::vector<float> b) {
    xai::Image image = xai::Image::from_shape({a.size(), h, w});
    for (std::size_t c = 0; c < a.size(); ++c)
        for (std::size_t y = 0; y < h; ++y)
            for (std::size_t x = 0; x < w; ++x) image(c, y, x) = x < edge ? a[c] : b[c];
    return image;
}

/// True when the pixels of every label form one 4-connected component.
bool every_segment_connected(const xai::Segmentation& s) {
    const std::size_t h = s.height(), w = s.width();
    std::vector<char> seen(h * w, 0), label_done(s.count, 0);
    for (std::size_t start = 0; start < h * w; ++start) {
        if (seen[start]) continue;
        const std::int32_t label = s.labels.data()[start];
        if (label_done[static_cast<std::size_t>(label)]) return false;  // a second component of this label
        label_done[static_cast<std::size_t>(label)] = 1;
        std::queue<std::size_t> q;
        q.push(start);
        seen[start] = 1;
        while (!q.empty()) {
            const std::size_t p = q.front();
            q.pop();
            const std::size_t y = p / w, x = p % w;
            const std::size_t nb[4] = {x + 1 < w ? p + 1 : p, x > 0 ? p - 1 : p, y + 1 < h ? p + w : p, y > 0 ? p - w : p};
            for (std::size_t n : nb)
                if (!seen[n] && s.labels.data()[n] == label) {
                    seen[n] = 1;
                    q.push(n);
                }
        }
    }
    return true;
}

/// Every pixel labelled, labels 0..count−1 all used: require_segmentation must not throw.
void check_valid(const xai::Segmentation& s, std::size_t h, std::size_t w) {
    REQUIRE(s.height() == h);
    REQUIRE(s.width() == w);
    REQUIRE(s.count >= 1);
    REQUIRE_NOTHROW(xai::require_segmentation(s, h, w, "test"));
}

/// The exact split of a two-colour image at column `edge`: two labels, constant on each side.
void check_split_at(const xai::Segmentation& s, std::size_t edge) {
    REQUIRE(s.count == 2);
    const std::int32_t left = s.labels(0, 0), right = s.labels(0, s.width() - 1);
    CHECK(left != right);
    std::size_t wrong = 0;
    for (std::size_t y = 0; y < s.height(); ++y)
        for (std::size_t x = 0; x < s.width(); ++x) wrong += s.labels(y, x) != (x < edge ? left : right) ? 1 : 0;
    CHECK(wrong == 0);
}

const std::vector<std::pair<std::string, std::function<xai::Segmentation(const xai::Image&)>>>& all_algorithms() {
    static const std::vector<std::pair<std::string, std::function<xai::Segmentation(const xai::Image&)>>> algorithms{
        {"slic", [](const xai::Image& i) { return xai::slic(i); }},
        {"quickshift", [](const xai::Image& i) { return xai::quickshift(i); }},
        {"felzenszwalb", [](const xai::Image& i) { return xai::felzenszwalb(i); }},
        {"grid", [](const xai::Image& i) { return xai::grid_segments(i); }},
    };
    return algorithms;
}

/// Straight transcription of skimage's quickshift loops (full windows, double, std::exp), as the
/// reference for the fast implementation. Without `noise`, with this library's deterministic tie
/// rule; with it, skimage 0.19's: the densities start at the noise and ties are not broken.
std::vector<std::size_t> reference_quickshift_roots(const std::vector<double>& lab_scaled, std::size_t height,
                                                   std::size_t width, double kernel_size, double max_dist,
                                                   const std::vector<double>& noise = {}) {
    const auto h = static_cast<std::ptrdiff_t>(height), w = static_cast<std::ptrdiff_t>(width);
    const auto kw = static_cast<std::ptrdiff_t>(std::ceil(3 * kernel_size));
    auto dist2 = [&](std::ptrdiff_t r, std::ptrdiff_t c, std::ptrdiff_t r2, std::ptrdiff_t c2) {
        double d = 0;
        for (std::size_t ch = 0; ch < 3; ++ch) {
            const double t = lab_scaled[ch * height * width + static_cast<std::size_t>(r * w + c)] -
                             lab_scaled[ch * height * width + static_cast<std::size_t>(r2 * w + c2)];
            d += t * t;
        }
        return d + static_cast<double>((r - r2) * (r - r2) + (c - c2) * (c - c2));
    };
    std::vector<double> density = noise.empty() ? std::vector<double>(static_cast<std::size_t>(h * w), 0.0) : noise;
    for (std::ptrdiff_t r = 0; r < h; ++r)
        for (std::ptrdiff_t c = 0; c < w; ++c)
            for (std::ptrdiff_t r2 = std::max<std::ptrdiff_t>(r - kw, 0); r2 < std::min(r + kw + 1, h); ++r2)
                for (std::ptrdiff_t c2 = std::max<std::ptrdiff_t>(c - kw, 0); c2 < std::min(c + kw + 1, w); ++c2)
                    density[static_cast<std::size_t>(r * w + c)] += std::exp(-0.5 * dist2(r, c, r2, c2) / (kernel_size * kernel_size));
    std::vector<std::size_t> parent(static_cast<std::size_t>(h * w));
    for (std::ptrdiff_t r = 0; r < h; ++r)
        for (std::ptrdiff_t c = 0; c < w; ++c) {
            const auto p = static_cast<std::size_t>(r * w + c);
            double closest = std::numeric_limits<double>::max();
            parent[p] = p;
            for (std::ptrdiff_t r2 = std::max<std::ptrdiff_t>(r - kw, 0); r2 < std::min(r + kw + 1, h); ++r2)
                for (std::ptrdiff_t c2 = std::max<std::ptrdiff_t>(c - kw, 0); c2 < std::min(c + kw + 1, w); ++c2) {
                    const auto q = static_cast<std::size_t>(r2 * w + c2);
                    if (density[q] > density[p] || (noise.empty() && density[q] == density[p] && q > p)) {
                        const double d = dist2(r, c, r2, c2);
                        if (d < closest) {
                            closest = d;
                            parent[p] = q;
                        }
                    }
                }
            if (std::sqrt(closest) > max_dist) parent[p] = p;
        }
    std::vector<std::size_t> root(parent.size());
    for (std::size_t p = 0; p < parent.size(); ++p) {
        std::size_t r = p;
        while (parent[r] != r) r = parent[r];
        root[p] = r;
    }
    return root;
}

/// Straight transcription of SLIC's k-means loops as skimage's _slic.pyx runs them (each centre
/// over its whole ±2·step window, a distance per pixel in memory, sums pixel by pixel), with
/// distances in Scalar (float as slic.hpp states by default, double as skimage and
/// SlicOptions::exact), on already rescaled, converted and 1/m-scaled planes (channels × h × w).
/// Returns each pixel's centre index.
template <class Scalar>
std::vector<std::size_t> reference_slic_centres(const std::vector<Scalar>& planes, std::size_t channels, std::size_t h,
                                                std::size_t w, std::size_t n_segments, std::size_t max_iter) {
    auto scaled = [&](std::size_t ch, std::size_t y, std::size_t x) { return planes[(ch * h + y) * w + x]; };
    const xai::detail::GridAxes grid = xai::detail::regular_grid_2d(h, w, n_segments);
    std::vector<std::array<double, 5>> centres;
    for (std::size_t y = grid.start_y; y < h; y += grid.step_y)
        for (std::size_t x = grid.start_x; x < w; x += grid.step_x)
            centres.push_back({static_cast<double>(y), static_cast<double>(x), 0.0, 0.0, 0.0});
    const double step = static_cast<double>(std::max<std::size_t>({1, grid.step_y, grid.step_x}));
    const auto spatial_weight = static_cast<Scalar>(1.0 / (step * step));
    const xai::detail::GridAxes window = xai::detail::regular_grid_2d(h, w, centres.size());
    const auto wy = static_cast<double>(window.step_y), wx = static_cast<double>(window.step_x);
    std::vector<std::size_t> nearest(h * w, 0);
    std::vector<char> alive(centres.size(), 1);
    for (std::size_t iteration = 0; iteration < max_iter; ++iteration) {
        std::vector<Scalar> distance(h * w, std::numeric_limits<Scalar>::max());
        for (std::size_t k = 0; k < centres.size(); ++k) {
            if (alive[k] == 0) continue;
            const auto& c = centres[k];
            const auto y0 = static_cast<std::size_t>(std::max(c[0] - 2.0 * wy, 0.0));
            const auto y1 = static_cast<std::size_t>(std::min(c[0] + 2.0 * wy + 1.0, static_cast<double>(h)));
            const auto x0 = static_cast<std::size_t>(std::max(c[1] - 2.0 * wx, 0.0));
            const auto x1 = static_cast<std::size_t>(std::min(c[1] + 2.0 * wx + 1.0, static_cast<double>(w)));
            for (std::size_t y = y0; y < y1; ++y)
                for (std::size_t x = x0; x < x1; ++x) {
                    const Scalar dy = static_cast<Scalar>(c[0]) - static_cast<Scalar>(y);
                    const Scalar dx = static_cast<Scalar>(c[1]) - static_cast<Scalar>(x);
                    const Scalar t0 = scaled(0, y, x) - static_cast<Scalar>(c[2]);
                    Scalar colour = t0 * t0;
                    if (channels == 3) {
                        const Scalar t1 = scaled(1, y, x) - static_cast<Scalar>(c[3]);
                        const Scalar t2 = scaled(2, y, x) - static_cast<Scalar>(c[4]);
                        colour = t0 * t0 + t1 * t1 + t2 * t2;
                    }
                    const Scalar d = (dy * dy + dx * dx) * spatial_weight + colour;
                    if (d < distance[y * w + x]) {
                        distance[y * w + x] = d;
                        nearest[y * w + x] = k;
                    }
                }
        }
        std::vector<std::array<double, 5>> sums(centres.size(), std::array<double, 5>{});
        std::vector<std::size_t> members(centres.size(), 0);
        for (std::size_t y = 0; y < h; ++y)
            for (std::size_t x = 0; x < w; ++x) {
                auto& sum = sums[nearest[y * w + x]];
                ++members[nearest[y * w + x]];
                sum[0] += static_cast<double>(y);
                sum[1] += static_cast<double>(x);
                for (std::size_t ch = 0; ch < channels; ++ch) sum[2 + ch] += scaled(ch, y, x);
            }
        for (std::size_t k = 0; k < centres.size(); ++k) {
            if (members[k] == 0) {
                alive[k] = 0;
                continue;
            }
            for (std::size_t f = 0; f < 5; ++f) centres[k][f] = sums[k][f] / static_cast<double>(members[k]);
        }
    }
    return nearest;
}

}  // namespace

TEST_CASE("rgb_to_lab follows skimage's rgb2lab formulas (D65, 2 degrees)", "[superpixels][color]") {
    // Independent evaluation of the formulas for a few colours, including both branches of the
    // sRGB linearisation and of f(t).
    auto expected = [](double r, double g, double b) {
        auto lin = [](double c) { return c > 0.04045 ? std::pow((c + 0.055) / 1.055, 2.4) : c / 12.92; };
        auto f = [](double t) { return t > 0.008856 ? std::cbrt(t) : 7.787 * t + 16.0 / 116.0; };
        const double R = lin(r), G = lin(g), B = lin(b);
        const double X = (0.412453 * R + 0.357580 * G + 0.180423 * B) / 0.95047;
        const double Y = 0.212671 * R + 0.715160 * G + 0.072169 * B;
        const double Z = (0.019334 * R + 0.119193 * G + 0.950227 * B) / 1.08883;
        return std::vector<double>{116 * f(Y) - 16, 500 * (f(X) - f(Y)), 200 * (f(Y) - f(Z))};
    };
    const std::vector<std::vector<float>> colours{{1, 0, 0}, {0, 1, 0}, {0, 0, 1}, {1, 1, 1}, {0.02f, 0.03f, 0.01f}, {0.5f, 0.25f, 0.75f}};
    xai::Image image = xai::Image::from_shape({3, 1, colours.size()});
    for (std::size_t i = 0; i < colours.size(); ++i)
        for (std::size_t c = 0; c < 3; ++c) image(c, 0, i) = colours[i][c];
    const xai::Image lab = xai::rgb_to_lab(image);
    for (std::size_t i = 0; i < colours.size(); ++i) {
        const auto e = expected(colours[i][0], colours[i][1], colours[i][2]);
        for (std::size_t c = 0; c < 3; ++c) CHECK(lab(c, 0, i) == Approx(e[c]).margin(1e-4));
    }
    // Published CIELAB of the sRGB primaries (D65): red (53.24, 80.09, 67.20), blue (32.30, 79.19, −107.86).
    CHECK(lab(0, 0, 0) == Approx(53.24).margin(0.01));
    CHECK(lab(1, 0, 0) == Approx(80.09).margin(0.02));
    CHECK(lab(2, 0, 0) == Approx(67.20).margin(0.02));
    CHECK(lab(0, 0, 2) == Approx(32.30).margin(0.01));
    CHECK(lab(2, 0, 2) == Approx(-107.86).margin(0.02));
    CHECK(lab(0, 0, 3) == Approx(100.0).margin(1e-3));

    // Grey is converted as gray2rgb: a* and b* vanish up to the rounding of the white point.
    xai::Image grey = xai::Image::from_shape({1, 1, 2});
    grey(0, 0, 0) = 0.0f;
    grey(0, 0, 1) = 0.6f;
    const xai::Image grey_lab = xai::rgb_to_lab(grey);
    CHECK(grey_lab(0, 0, 0) == Approx(0.0).margin(1e-5));
    CHECK(grey_lab(0, 0, 1) == Approx(expected(0.6, 0.6, 0.6)[0]).margin(1e-4));
    CHECK(std::abs(grey_lab(1, 0, 1)) < 0.01f);

    CHECK_THROWS_AS(xai::rgb_to_lab(xai::Image(xt::zeros<float>({2, 2, 2}))), xai::shape_error);
}

TEST_CASE("the fast CIELAB conversion stays within 2e-4 of the exact one", "[superpixels][color]") {
    const std::size_t steps = 33;
    xai::Image grid = xai::Image::from_shape({3, steps * steps, steps});
    for (std::size_t r = 0; r < steps; ++r)
        for (std::size_t g = 0; g < steps; ++g)
            for (std::size_t b = 0; b < steps; ++b) {
                grid(0, r * steps + g, b) = static_cast<float>(r) / (steps - 1);
                grid(1, r * steps + g, b) = static_cast<float>(g) / (steps - 1);
                grid(2, r * steps + g, b) = static_cast<float>(b) / (steps - 1);
            }
    const xai::Image exact = xai::rgb_to_lab(grid), fast = xai::detail::rgb_to_lab_fast(grid);
    CHECK(xt::amax(xt::abs(exact - fast))() < 2e-4f);
}

TEST_CASE("fast exp2, exp and log2 meet their stated accuracy", "[superpixels][color]") {
    double worst_exp2 = 0, worst_exp = 0, worst_log2 = 0;
    for (int i = -12000; i <= 1000; ++i) {
        const float y = static_cast<float>(i) * 0.01f;
        worst_exp2 = std::max(worst_exp2, std::abs(xai::detail::exp2_approx(y) / std::exp2(static_cast<double>(y)) - 1.0));
        if (y <= 0 && y > -87) worst_exp = std::max(worst_exp, std::abs(xai::detail::exp_nonpositive(y) / std::exp(static_cast<double>(y)) - 1.0));
    }
    for (int i = 1; i <= 20000; ++i) {
        const float x = static_cast<float>(i) * 1e-4f;
        worst_log2 = std::max(worst_log2, std::abs(xai::detail::log2_approx(x) - std::log2(static_cast<double>(x))));
    }
    CHECK(worst_exp2 < 3e-7);
    CHECK(worst_exp < 5e-6);  // the rounding of x·log2(e) grows with |x|: about 6e-8·|x|
    CHECK(worst_log2 < 5e-7);
    CHECK(xai::detail::exp_nonpositive(-1000.0f) > 0.0f);  // clamped, no denormal or zero surprises
}

TEST_CASE("gaussian_filter uses scipy's taps and reflect mode", "[superpixels][filter]") {
    xai::Image line = xt::zeros<float>({1, 1, 3});
    line(0, 0, 0) = 1.0f;
    // sigma 0.5: radius ⌊4·0.5 + 0.5⌋ = 2, taps ∝ exp(−2k²). At x = 0 the reflected line is
    // [0 1 | 1 0 0], so the output is w₋₁ + w₀; at x = 1 the window reads indices −1..3 →
    // [1 1 0 0 0] (w₋₂ + w₋₁); at x = 2 only index 0, two to the left, is 1 (w₋₂).
    const double e2 = std::exp(-2.0), e8 = std::exp(-8.0), sum = 1 + 2 * e2 + 2 * e8;
    const xai::Image out = xai::gaussian_filter(line, 0.5);
    CHECK(out(0, 0, 0) == Approx((1 + e2) / sum).epsilon(1e-6));
    CHECK(out(0, 0, 1) == Approx((e2 + e8) / sum).epsilon(1e-6));
    CHECK(out(0, 0, 2) == Approx(e8 / sum).epsilon(1e-5));
    CHECK((xai::gaussian_filter(line, 0.0) == line));
    CHECK_THROWS_AS(xai::gaussian_filter(line, -1.0), xai::invalid_argument);
}

TEST_CASE("regular grid matches skimage's regular_grid examples", "[superpixels][slic]") {
    // skimage docstring: regular_grid((20, 40), 8) -> slice(5, None, 10) twice; 32 -> slice(2, None, 5).
    const auto g8 = xai::detail::regular_grid_2d(20, 40, 8);
    CHECK(g8.start_y == 5);
    CHECK(g8.step_y == 10);
    CHECK(g8.start_x == 5);
    CHECK(g8.step_x == 10);
    const auto g32 = xai::detail::regular_grid_2d(20, 40, 32);
    CHECK(g32.start_y == 2);
    CHECK(g32.step_y == 5);
    const auto all = xai::detail::regular_grid_2d(3, 3, 100);
    CHECK(all.step_y == 1);
    CHECK(all.start_x == 0);
}

TEST_CASE("every algorithm labels every pixel with contiguous labels", "[superpixels]") {
    const xai::Image image = textured_image(40, 56);
    for (const auto& [name, segment] : all_algorithms()) {
        INFO(name);
        const xai::Segmentation s = segment(image);
        check_valid(s, 40, 56);
        CHECK(s.count > 1);
    }
    // Grey images too.
    const xai::Image grey = xt::view(image, xt::range(0, 1), xt::all(), xt::all());
    for (const auto& [name, segment] : all_algorithms()) {
        INFO(name);
        check_valid(segment(grey), 40, 56);
    }
}

TEST_CASE("SLIC segments are connected", "[superpixels][slic]") {
    const xai::Image image = textured_image(48, 64);
    for (std::size_t n : {10, 40, 150}) {
        for (double compactness : {0.1, 1.0, 10.0}) {
            INFO("n_segments " << n << " compactness " << compactness);
            xai::SlicOptions options;
            options.n_segments = n;
            options.compactness = compactness;
            const xai::Segmentation s = xai::slic(image, options);
            check_valid(s, 48, 64);
            CHECK(every_segment_connected(s));
        }
    }
}

TEST_CASE("SLIC respects n_segments within the stated tolerance", "[superpixels][slic]") {
    // Stated tolerance (docs/superpixels.md): on natural-looking images the count is within
    // [0.5·n, 1.5·n]: the grid places n centres up to rounding, connectivity enforcement merges
    // fragments and splits only segments beyond 3× the nominal size.
    const xai::Image image = textured_image(96, 128);
    for (std::size_t n : {12, 25, 50, 100, 200, 400}) {
        INFO("n_segments " << n);
        xai::SlicOptions options;
        options.n_segments = n;
        const std::size_t count = xai::slic(image, options).count;
        CHECK(count >= n / 2);
        CHECK(count <= n + n / 2);
    }
    // The grid follows its formula: for 64 cells of a 96×128 image, s = 13.86, rows 7, cols 9.
    const xai::Segmentation grid = xai::grid_segments(image, {64, 0, 0});
    CHECK(grid.count == 63);
    CHECK(grid.labels(95, 127) == 62);
}

TEST_CASE("two flat colours split along the colour edge and nowhere else", "[superpixels]") {
    const std::vector<float> red{0.9f, 0.2f, 0.1f}, blue{0.1f, 0.3f, 0.8f};
    const std::size_t h = 32, w = 48, edge = 20;  // off-centre, so the split follows colour, not the grid
    const xai::Image image = two_colour_image(h, w, edge, red, blue);
    SECTION("slic") {
        xai::SlicOptions options;
        options.n_segments = 2;
        check_split_at(xai::slic(image, options), edge);
    }
    SECTION("quickshift with lime's parameters") { check_split_at(xai::quickshift(image), edge); }
    SECTION("felzenszwalb without pre-smoothing") { check_split_at(xai::felzenszwalb(image, {1.0, 0.0, 20}), edge); }
    SECTION("felzenszwalb on grey") {
        check_split_at(xai::felzenszwalb(two_colour_image(h, w, edge, {0.2f}, {0.7f}), {1.0, 0.0, 20}), edge);
    }
    SECTION("felzenszwalb with skimage's sigma = 0.8: the blurred band is split, nothing else") {
        // Smoothing turns the edge into a ramp of r = ⌊4·0.8 + 0.5⌋ = 3 columns on each side; with
        // scale 1 each ramp column (32 equal pixels, above min_size) stays a segment of its own, as
        // in skimage. Outside the ramp the two colours are one segment each.
        const xai::Segmentation s = xai::felzenszwalb(image);
        check_valid(s, h, w);
        for (std::size_t x = 0; x < w; ++x)
            for (std::size_t y = 1; y < h; ++y) REQUIRE(s.labels(y, x) == s.labels(0, x));  // whole columns
        for (std::size_t x = 0; x + 3 < edge; ++x) CHECK(s.labels(0, x) == s.labels(0, 0));
        for (std::size_t x = edge + 3; x < w; ++x) CHECK(s.labels(0, x) == s.labels(0, w - 1));
        CHECK(s.count <= 2 + 6);
    }
    SECTION("grid (colour-blind: it splits where the grid is, so the edge is put on a grid line)") {
        check_split_at(xai::grid_segments(two_colour_image(h, w, 24, red, blue), {0, 1, 2}), 24);
    }
}

TEST_CASE("single-colour and 1x1 images", "[superpixels]") {
    const xai::Image flat = two_colour_image(24, 30, 0, {0.4f, 0.5f, 0.6f}, {0.4f, 0.5f, 0.6f});
    CHECK(xai::quickshift(flat).count == 1);
    CHECK(xai::felzenszwalb(flat).count == 1);
    const xai::Segmentation slic_flat = xai::slic(flat, {12, 10.0, 10, 0.0, true, true, 0.5, 3.0});
    check_valid(slic_flat, 24, 30);
    CHECK(every_segment_connected(slic_flat));
    CHECK(slic_flat.count == 12);  // a flat image gives the bare grid: 3 rows of 4
    check_valid(xai::grid_segments(flat), 24, 30);

    const xai::Image one = xt::zeros<float>({3, 1, 1});
    for (const auto& [name, segment] : all_algorithms()) {
        INFO(name);
        const xai::Segmentation s = segment(one);
        CHECK(s.count == 1);
        CHECK(s.labels(0, 0) == 0);
    }
}

TEST_CASE("quickshift equals a direct transcription of skimage's loops", "[superpixels][quickshift]") {
    const xai::Image image = textured_image(14, 17);
    xai::QuickshiftOptions options;
    options.kernel_size = 2.0;
    options.ratio = 0.5;
    options.max_dist = 6.0;
    xai::Image lab = xai::detail::rgb_to_lab_fast(image);  // the loops are under test, not the colour conversion
    lab *= 0.5f;
    const std::vector<std::size_t> roots =
        reference_quickshift_roots(std::vector<double>(lab.begin(), lab.end()), 14, 17, options.kernel_size, options.max_dist);
    const xai::Segmentation expected = xai::detail::labels_from_ids(roots, 14, 17, roots.size());
    const xai::Segmentation actual = xai::quickshift(image, options);
    CHECK(actual.count == expected.count);
    CHECK((actual.labels == expected.labels));
    CHECK(actual.count > 1);

    // max_dist = 0 cuts every link: each pixel is its own segment.
    options.max_dist = 0.0;
    CHECK(xai::quickshift(image, options).count == 14 * 17);
}

TEST_CASE("NumPy's default_rng: the draws skimage's quickshift adds", "[superpixels][quickshift]") {
    // NumPy's own values (python3-numpy 1.24): np.random.default_rng(42).random() and
    // np.random.default_rng(42).normal(size=5), the first also printed in NumPy's documentation.
    xai::detail::NumpyPcg64 bits(42);
    CHECK(bits.next_double() == 0.7739560485559633);
    xai::detail::NumpyNormal normal(42);
    const double expected[5] = {0.30471707975443135, -1.0399841062404955, 0.7504511958064572, 0.9405647163912139,
                                -1.9510351886538364};
    for (double e : expected) CHECK(normal() == Approx(e).epsilon(1e-13));
    // Other seeds and a multi-word seed go through the same SeedSequence: default_rng(0).random()
    // and default_rng(2**40 + 7).random().
    CHECK(xai::detail::NumpyPcg64(0).next_double() == 0.6369616873214543);
    CHECK(xai::detail::NumpyPcg64((std::uint64_t{1} << 40) + 7).next_double() == 0.829812891829413);
}

TEST_CASE("quickshift's seeded-noise tie rule equals skimage's loops with NumPy's noise", "[superpixels][quickshift]") {
    // Flat rectangles (many pixels with exactly equal densities) beside a smooth gradient.
    const std::size_t h = 16, w = 21;
    xai::Image image = textured_image(h, w);
    for (std::size_t y = 0; y < h; ++y)
        for (std::size_t x = 0; x < 12; ++x)
            for (std::size_t c = 0; c < 3; ++c) image(c, y, x) = y < 8 ? 0.2f + 0.3f * static_cast<float>(c) : 0.9f;
    xai::QuickshiftOptions options;
    options.kernel_size = 2.0;
    options.ratio = 0.5;
    options.max_dist = 6.0;
    options.ties = xai::QuickshiftTies::seeded_noise;

    // skimage for a float64 image: rgb2lab in double (the formulas of the rgb2lab test above),
    // times ratio, densities from np.random.default_rng(42).normal(scale=1e-5, size=(H, W)).
    std::vector<double> lab(3 * h * w);
    for (std::size_t p = 0; p < h * w; ++p) {
        auto lin = [](double c) { return c > 0.04045 ? std::pow((c + 0.055) / 1.055, 2.4) : c / 12.92; };
        auto f = [](double t) { return t > 0.008856 ? std::cbrt(t) : 7.787 * t + 16.0 / 116.0; };
        const double R = lin(image.data()[p]), G = lin(image.data()[h * w + p]), B = lin(image.data()[2 * h * w + p]);
        const double X = (0.412453 * R + 0.357580 * G + 0.180423 * B) / 0.95047;
        const double Y = 0.212671 * R + 0.715160 * G + 0.072169 * B;
        const double Z = (0.019334 * R + 0.119193 * G + 0.950227 * B) / 1.08883;
        lab[p] = (116 * f(Y) - 16) * 0.5;
        lab[h * w + p] = 500 * (f(X) - f(Y)) * 0.5;
        lab[2 * h * w + p] = 200 * (f(Y) - f(Z)) * 0.5;
    }
    std::vector<double> noise(h * w);
    xai::detail::NumpyNormal normal(42);
    for (double& v : noise) v = 1e-5 * normal();
    const std::vector<std::size_t> roots = reference_quickshift_roots(lab, h, w, options.kernel_size, options.max_dist, noise);
    const xai::Segmentation expected = xai::detail::labels_from_ids(roots, h, w, roots.size());
    const xai::Segmentation actual = xai::quickshift(image, options);
    CHECK(actual.count == expected.count);
    CHECK((actual.labels == expected.labels));

    // The flat rectangles make ties matter: the index rule and other seeds give other segments.
    xai::QuickshiftOptions by_index = options;
    by_index.ties = xai::QuickshiftTies::pixel_index;
    CHECK_FALSE((xai::quickshift(image, by_index).labels == actual.labels));
    xai::QuickshiftOptions other_seed = options;
    other_seed.tie_seed = 7;
    CHECK_FALSE((xai::quickshift(image, other_seed).labels == actual.labels));
    CHECK((xai::quickshift(image, options).labels == actual.labels));  // the same seed, the same segments
}

TEST_CASE("SLIC's exact option converts to CIELAB in double, as skimage's rgb2lab", "[superpixels][slic]") {
    const xai::Image photo = xai::load_image(xai::data_directory() / "samples/photos/chelsea_224.png");
    xai::SlicOptions exact;
    exact.exact = true;
    const std::vector<double> features = xai::detail::slic_features<double>(photo, exact);
    // skimage: image −= min; image /= max, then rgb2lab, all in double.
    const double low = xt::amin(photo)(), high = xt::amax(photo)();
    const std::size_t n = photo.shape(1) * photo.shape(2);
    double worst = 0.0;
    for (std::size_t p = 0; p < n; ++p) {
        auto lin = [](double c) { return c > 0.04045 ? std::pow((c + 0.055) / 1.055, 2.4) : c / 12.92; };
        auto f = [](double t) { return t > 0.008856 ? std::cbrt(t) : 7.787 * t + 16.0 / 116.0; };
        auto rescaled = [&](std::size_t c) { return (static_cast<double>(photo.data()[c * n + p]) - low) / (high - low); };
        const double R = lin(rescaled(0)), G = lin(rescaled(1)), B = lin(rescaled(2));
        const double X = (0.412453 * R + 0.357580 * G + 0.180423 * B) / 0.95047;
        const double Y = 0.212671 * R + 0.715160 * G + 0.072169 * B;
        const double Z = (0.019334 * R + 0.119193 * G + 0.950227 * B) / 1.08883;
        const double expected[3] = {116 * f(Y) - 16, 500 * (f(X) - f(Y)), 200 * (f(Y) - f(Z))};
        for (std::size_t c = 0; c < 3; ++c) worst = std::max(worst, std::abs(features[c * n + p] - expected[c]));
    }
    CHECK(worst < 1e-12);  // double rounding only (the compiler may fuse a multiply-add differently)
    // The default: float with the fast conversion, within its stated 2e-4 of the exact values.
    const std::vector<float> fast = xai::detail::slic_features<float>(photo, {});
    double fast_worst = 0.0;
    for (std::size_t i = 0; i < fast.size(); ++i) fast_worst = std::max(fast_worst, std::abs(fast[i] - features[i]));
    CHECK(fast_worst > 0.0);
    CHECK(fast_worst < 2e-4);
    check_valid(xai::slic(photo, exact), photo.shape(1), photo.shape(2));
}

TEST_CASE("SLIC's k-means equals a direct transcription of skimage's loops", "[superpixels][slic]") {
    // slic.hpp's assignment runs over chunks of pixels with the centres inside, and its update
    // sums runs of labels from prefix sums; the labels must be those of the plain loops.
    struct Case {
        xai::Image image;
        std::size_t n_segments;
        double compactness;
    };
    xai::Image noisy_grey = xai::Image::from_shape({1, 37, 53});
    for (std::size_t i = 0; i < noisy_grey.size(); ++i) noisy_grey.data()[i] = static_cast<float>((i * 7919) % 1009) / 1008.0f;
    const std::vector<Case> cases = {
        {xai::load_image(xai::data_directory() / "samples" / "photos" / "chelsea_224.png", 3), 100, 10.0},
        {xai::load_image(xai::data_directory() / "samples" / "photos" / "chelsea_224.png", 3), 50, 1.0},
        {textured_image(61, 45), 30, 20.0},
        {noisy_grey, 12, 0.5},
    };
    for (const Case& c : cases) {
        CAPTURE(c.image.shape(0), c.image.shape(1), c.image.shape(2), c.n_segments, c.compactness);
        // The preprocessing slic.hpp states: rescale to [0, 1], CIELAB for RGB, divide by m.
        const float low = xt::amin(c.image)(), range = xt::amax(c.image)() - low;
        xai::Image scaled = (c.image - low) / range;
        if (scaled.shape(0) == 3) scaled = xai::detail::rgb_to_lab_fast(scaled);
        scaled *= static_cast<float>(1.0 / c.compactness);
        const std::size_t channels = c.image.shape(0), h = c.image.shape(1), w = c.image.shape(2);
        const std::vector<std::size_t> centres =
            reference_slic_centres(std::vector<float>(scaled.begin(), scaled.end()), channels, h, w, c.n_segments, 10);
        xai::SlicOptions options;
        options.n_segments = c.n_segments;
        options.compactness = c.compactness;
        options.enforce_connectivity = false;
        const xai::Segmentation expected = xai::detail::labels_from_ids(centres, h, w, centres.size() + 1);
        const xai::Segmentation actual = xai::slic(c.image, options);
        CHECK(actual.count == expected.count);
        CHECK((actual.labels == expected.labels));
        CHECK(actual.count > 1);

        // The exact option runs the same loops in double on double features.
        options.exact = true;
        std::vector<double> features = xai::detail::slic_features<double>(c.image, options);
        for (double& v : features) v *= 1.0 / c.compactness;
        const std::vector<std::size_t> exact_centres = reference_slic_centres(features, channels, h, w, c.n_segments, 10);
        const xai::Segmentation exact = xai::slic(c.image, options);
        CHECK((exact.labels == xai::detail::labels_from_ids(exact_centres, h, w, exact_centres.size() + 1).labels));
    }
}

TEST_CASE("felzenszwalb merges by the MInt criterion with k = scale/255", "[superpixels][felzenszwalb]") {
    // A 1×3 grey ramp 0, 0.1, 0.2 without smoothing: edge weights 0.1 and 0.1.
    // scale 30: k = 0.1176; first merge 0.1 < min(0 + k, 0 + k); second 0.1 < min(0.1 + k/2, 0 + k) → one segment.
    // scale 25: k = 0.098 < 0.1 → no merge, three segments.
    xai::Image ramp = xai::Image::from_shape({1, 1, 3});
    ramp(0, 0, 0) = 0.0f;
    ramp(0, 0, 1) = 0.1f;
    ramp(0, 0, 2) = 0.2f;
    CHECK(xai::felzenszwalb(ramp, {30.0, 0.0, 1}).count == 1);
    CHECK(xai::felzenszwalb(ramp, {25.0, 0.0, 1}).count == 3);
    // min_size 2 merges the leftover singletons with a neighbour.
    CHECK(xai::felzenszwalb(ramp, {25.0, 0.0, 2}).count == 1);
    // Labels follow the raster order of each segment's first pixel.
    const xai::Segmentation s = xai::felzenszwalb(ramp, {25.0, 0.0, 1});
    CHECK(s.labels(0, 0) == 0);
    CHECK(s.labels(0, 1) == 1);
    CHECK(s.labels(0, 2) == 2);
}

TEST_CASE("grid_segments numbers row-major bands", "[superpixels][grid]") {
    const xai::Segmentation s = xai::grid_segments(4, 6, {0, 2, 3});
    CHECK(s.count == 6);
    CHECK(s.labels(0, 0) == 0);
    CHECK(s.labels(0, 2) == 1);
    CHECK(s.labels(1, 5) == 2);
    CHECK(s.labels(2, 0) == 3);
    CHECK(s.labels(3, 5) == 5);
    CHECK_THROWS_WITH(xai::grid_segments(4, 6, {0, 5, 3}), Contains("does not fit"));
    CHECK_THROWS_WITH(xai::grid_segments(4, 6, {0, 2, 0}), Contains("expected both 0"));
}

TEST_CASE("boundaries, sizes and mean colours of a segmentation", "[superpixels]") {
    const xai::Image image = two_colour_image(2, 4, 2, {0.0f}, {1.0f});
    const xai::Segmentation s = xai::grid_segments(image, {0, 1, 2});
    const auto edge = xai::segment_boundaries(s);
    CHECK(edge(0, 1) == 1);
    CHECK(edge(0, 2) == 1);
    CHECK(edge(0, 0) == 0);
    CHECK(edge(1, 3) == 0);
    CHECK(xai::segment_sizes(s) == std::vector<std::size_t>{4, 4});
    const auto mean = xai::segment_mean_colors(image, s);
    CHECK(mean[0][0] == 0.0);
    CHECK(mean[1][0] == 1.0);
    const xai::Image marked = xai::mark_boundaries(image, s, {0.5f});
    CHECK(marked(0, 1, 1) == 0.5f);
    CHECK(marked(0, 1, 0) == 0.0f);
}

TEST_CASE("bad inputs are rejected with the argument named", "[superpixels][errors]") {
    const xai::Image two_channels = xt::zeros<float>({2, 4, 4});
    const xai::Image empty = xt::zeros<float>({3, 0, 4});
    xai::Image nan_image = xt::zeros<float>({3, 4, 4});
    nan_image(1, 2, 2) = std::nanf("");
    for (const auto& [name, segment] : all_algorithms()) {
        if (name == "grid") continue;  // the grid only reads the extent
        INFO(name);
        CHECK_THROWS_AS(segment(two_channels), xai::shape_error);
        CHECK_THROWS_WITH(segment(two_channels), Contains("expected 1 (grey) or 3 (RGB)"));
        CHECK_THROWS_AS(segment(empty), xai::shape_error);
        CHECK_THROWS_AS(segment(nan_image), xai::invalid_argument);
    }
    const xai::Image ok = textured_image(8, 8);
    CHECK_THROWS_WITH(xai::slic(ok, {0}), Contains("n_segments is 0"));
    CHECK_THROWS_WITH(xai::slic(ok, {10, -1.0}), Contains("compactness"));
    CHECK_THROWS_WITH(xai::quickshift(ok, {0.2, 0.5}), Contains("kernel_size"));
    xai::QuickshiftOptions bad_ties;
    bad_ties.ties = static_cast<xai::QuickshiftTies>(7);
    CHECK_THROWS_WITH(xai::quickshift(ok, bad_ties), Contains("xai::quickshift(): ties is 7"));
    CHECK_THROWS_WITH(xai::felzenszwalb(ok, {-1.0}), Contains("scale"));
    CHECK_THROWS_AS(xai::grid_segments(0, 4), xai::shape_error);

    xai::Segmentation broken = xai::grid_segments(4, 4, {0, 2, 2});
    broken.count = 5;
    CHECK_THROWS_WITH(xai::require_segmentation(broken, 4, 4, "f()"), Contains("not contiguous"));
    CHECK_THROWS_AS(xai::require_segmentation(broken, 4, 5, "f()"), xai::shape_error);
}
