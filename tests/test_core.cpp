// Tests of include/xai/core: tensors, errors, random streams, the parallel loop, targets and scores.
#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <set>
#include <vector>

#include "xai/xai.hpp"

using Catch::Matchers::Contains;

TEST_CASE("stack and image_at round-trip and reject mismatched shapes", "[core][tensor]") {
    xai::Image a = xt::arange<float>(12.0f).reshape({3, 2, 2});
    xai::Image b = a + 100.0f;
    const xai::Batch batch = xai::stack({a, b});
    REQUIRE(batch.shape(0) == 2);
    CHECK((xai::image_at(batch, 0) == a));
    CHECK((xai::image_at(batch, 1) == b));
    CHECK(xai::as_batch(a).shape(0) == 1);
    CHECK(xai::image_shape(batch) == xai::ImageShape{3, 2, 2});

    xai::Image c = xt::zeros<float>({1, 2, 2});
    CHECK_THROWS_AS(xai::stack({a, c}), xai::shape_error);
    CHECK_THROWS_WITH(xai::stack({a, c}), Contains("images[1] is 1x2x2"));
    CHECK_THROWS_AS(xai::stack({}), xai::shape_error);
    CHECK_THROWS_AS(xai::image_at(batch, 2), xai::shape_error);
}

TEST_CASE("finite and rank checks name the argument", "[core][tensor]") {
    xai::Map m = xt::zeros<float>({2, 2});
    CHECK(xai::all_finite(m));
    m(1, 1) = std::nanf("");
    CHECK_FALSE(xai::all_finite(m));
    CHECK_THROWS_WITH(xai::detail::require_finite(m, "saliency"), Contains("saliency contains NaN or Inf"));
    xai::Map empty = xt::zeros<float>({0, 3});
    CHECK_THROWS_AS(xai::detail::require_nonempty(empty, "map"), xai::shape_error);
    xai::Activations a = xt::zeros<float>({2, 3, 4});
    CHECK_THROWS_WITH(xai::detail::require_rank(a, 4, "activations", "N×C×h×w"), Contains("has rank 3"));
}

TEST_CASE("every xai exception is an xai::error and a std::exception", "[core][error]") {
    CHECK_THROWS_AS(throw xai::shape_error("x"), xai::invalid_argument);
    CHECK_THROWS_AS(throw xai::io_error("x"), xai::error);
    CHECK_THROWS_AS(throw xai::model_error("x"), std::exception);
    CHECK_THROWS_WITH(xai::detail::require(false, "f(): n must be > 0, got ", 0), "f(): n must be > 0, got 0");
}

TEST_CASE("Rng streams are reproducible and independent", "[core][random]") {
    xai::Rng a = xai::Rng::stream(42, 7), b = xai::Rng::stream(42, 7);
    for (int i = 0; i < 100; ++i) REQUIRE(a() == b());
    xai::Rng c = xai::Rng::stream(42, 8), d = xai::Rng::stream(43, 7);
    xai::Rng e = xai::Rng::stream(42, 7);
    const auto first = e();
    CHECK(c() != first);
    CHECK(d() != first);
}

TEST_CASE("Rng distributions have the right moments", "[core][random]") {
    xai::Rng rng(1);
    const int n = 200000;
    double sum = 0, sum_sq = 0, normal_sum = 0, normal_sq = 0;
    int ones = 0;
    std::vector<int> counts(7, 0);
    for (int i = 0; i < n; ++i) {
        const double u = rng.uniform();
        REQUIRE(u >= 0.0);
        REQUIRE(u < 1.0);
        sum += u;
        sum_sq += u * u;
        const float f = rng.uniform_float();
        REQUIRE((f >= 0.0f && f < 1.0f));
        ones += rng.bernoulli(0.3) ? 1 : 0;
        const double z = rng.normal();
        normal_sum += z;
        normal_sq += z * z;
        ++counts[rng.uniform_index(7)];
    }
    // Standard errors: mean of U(0,1) 0.29/sqrt(n) = 6.5e-4; tolerances are about 5 standard errors.
    CHECK(sum / n == Approx(0.5).margin(3e-3));
    CHECK(sum_sq / n - (sum / n) * (sum / n) == Approx(1.0 / 12).margin(2e-3));
    CHECK(static_cast<double>(ones) / n == Approx(0.3).margin(5e-3));
    CHECK(normal_sum / n == Approx(0.0).margin(1.2e-2));
    CHECK(normal_sq / n == Approx(1.0).margin(1.6e-2));
    for (int c : counts) CHECK(static_cast<double>(c) / n == Approx(1.0 / 7).margin(4e-3));
}

TEST_CASE("Rng::normal_float (the ziggurat) is the standard normal: moments, CDF and tails", "[core][random]") {
    // 10^6 draws over 8 streams. Standard errors: mean 1e-3, second moment (√2/√n) 1.4e-3, third
    // (√15/√n) 3.9e-3, fourth (√96/√n) 9.8e-3, a CDF value ≤ 5e-4; tolerances are about 5 of them.
    const std::size_t n = 1000000, per_stream = n / 8;
    std::vector<double> z;
    z.reserve(n);
    for (std::uint64_t s = 0; s < 8; ++s) {
        xai::Rng rng = xai::Rng::stream(12, s);
        for (std::size_t i = 0; i < per_stream; ++i) z.push_back(rng.normal_float());
    }
    double m1 = 0, m2 = 0, m3 = 0, m4 = 0;
    CHECK(std::all_of(z.begin(), z.end(), [](double v) { return std::isfinite(v); }));
    for (double v : z) {
        m1 += v;
        m2 += v * v;
        m3 += v * v * v;
        m4 += v * v * v * v;
    }
    const double count = static_cast<double>(n);
    CHECK(m1 / count == Approx(0.0).margin(5e-3));
    CHECK(m2 / count == Approx(1.0).margin(7e-3));
    CHECK(m3 / count == Approx(0.0).margin(2e-2));
    CHECK(m4 / count == Approx(3.0).margin(5e-2));
    // The empirical CDF against Φ every 0.05 on [−4.5, 4.5]: the grid crosses every layer of the
    // ziggurat's 128 (its wedges are where a wrong table shows) and the tail beyond r = 3.44.
    std::sort(z.begin(), z.end());
    double worst = 0.0;
    for (int k = -90; k <= 90; ++k) {
        const double x = 0.05 * k;
        const double empirical = static_cast<double>(std::upper_bound(z.begin(), z.end(), x) - z.begin()) / count;
        worst = std::max(worst, std::abs(empirical - 0.5 * std::erfc(-x / std::sqrt(2.0))));
    }
    CHECK(worst < 2.5e-3);  // 5 standard errors of a CDF value near the median; Kolmogorov's 99.9 % bound is 1.95e-3
    // The tails, relative: P(|z| > 3) = 2.70e-3 (2,700 draws, ±10 %), P(|z| > r) = 5.76e-4 (576,
    // ±21 %), P(|z| > 4) = 6.33e-5 (63, ±63 %): the tail algorithm, not the fast path, makes these.
    const auto beyond = [&](double t) {
        const auto below = std::upper_bound(z.begin(), z.end(), -t) - z.begin();
        const auto above = z.end() - std::upper_bound(z.begin(), z.end(), t);
        return static_cast<double>(below + above) / count;
    };
    CHECK(beyond(3.0) == Approx(std::erfc(3.0 / std::sqrt(2.0))).epsilon(0.1));
    CHECK(beyond(3.442619855899) == Approx(std::erfc(3.442619855899 / std::sqrt(2.0))).epsilon(0.21));
    CHECK(beyond(4.0) == Approx(std::erfc(4.0 / std::sqrt(2.0))).epsilon(0.65));
    // A stream's values depend on (seed, index) only.
    xai::Rng a = xai::Rng::stream(12, 3), b = xai::Rng::stream(12, 3);
    int same = 0;
    for (int i = 0; i < 1000; ++i) same += a.normal_float() == b.normal_float() ? 1 : 0;
    CHECK(same == 1000);
}

TEST_CASE("parallel_for visits every index once and rethrows", "[core][parallel]") {
    for (std::size_t threads : {1u, 2u, 3u, 8u}) {
        std::vector<std::atomic<int>> visits(101);
        xai::parallel_for(visits.size(), threads, [&](std::size_t i) { visits[i]++; });
        for (auto& v : visits) REQUIRE(v.load() == 1);
    }
    CHECK_THROWS_AS(xai::parallel_for(10, 4,
                                      [](std::size_t i) {
                                          if (i == 5) throw xai::invalid_argument("boom");
                                      }),
                    xai::invalid_argument);
    std::size_t calls = 0;
    xai::parallel_for(0, 4, [&](std::size_t) { ++calls; });
    CHECK(calls == 0);
    CHECK(xai::resolve_threads(0) >= 1);
    CHECK(xai::resolve_threads(3) == 3);
    // Absurd requests are clamped (the results never depend on the thread count).
    CHECK(xai::resolve_threads(std::numeric_limits<std::size_t>::max()) ==
          std::max<std::size_t>(xai::thread_request_ceiling, xai::resolve_threads(0)));
}

TEST_CASE("softmax and log_softmax are stable and consistent", "[core][scores]") {
    xai::Scores logits = {{1.0f, 2.0f, 3.0f}, {1000.0f, 1000.0f, -1000.0f}};
    const xai::Scores p = xai::softmax(logits);
    const double e1 = std::exp(1.0), e2 = std::exp(2.0), e3 = std::exp(3.0);
    CHECK(p(0, 0) == Approx(e1 / (e1 + e2 + e3)));
    CHECK(p(0, 2) == Approx(e3 / (e1 + e2 + e3)));
    CHECK(p(1, 0) == Approx(0.5));
    CHECK(p(1, 2) == Approx(0.0).margin(1e-30));
    const xai::Scores lp = xai::log_softmax(logits);
    CHECK(lp(0, 1) == Approx(std::log(e2 / (e1 + e2 + e3))));
    CHECK(lp(1, 2) == Approx(-2000.0f - std::log(2.0f)));
    CHECK(xai::all_finite(lp));
    CHECK(xai::argmax_rows(logits) == std::vector<std::size_t>{2, 0});
}

TEST_CASE("target_score_gradient matches finite differences for every score kind", "[core][scores]") {
    const xai::Scores logits = {{0.3f, -1.2f, 2.0f, 0.5f}};
    const std::vector<std::size_t> target{1};
    for (auto kind : {xai::ScoreKind::logit, xai::ScoreKind::probability, xai::ScoreKind::log_probability}) {
        const xai::Scores g = xai::target_score_gradient(logits, target, kind);
        for (std::size_t j = 0; j < 4; ++j) {
            const float h = 1e-2f;
            xai::Scores up = logits, down = logits;
            up(0, j) += h;
            down(0, j) -= h;
            const double numeric =
                (xai::scores_of_kind(up, kind)(0, 1) - xai::scores_of_kind(down, kind)(0, 1)) / (2.0 * h);
            CHECK(g(0, j) == Approx(numeric).margin(1e-4));
        }
    }
}

TEST_CASE("targets resolve to predicted or explicit classes and reject bad input", "[core][target]") {
    const xai::Scores scores = {{0.1f, 0.9f, 0.0f}, {0.7f, 0.2f, 0.1f}};
    CHECK(xai::resolve_targets({}, scores, "f()") == std::vector<std::size_t>{1, 0});
    CHECK(xai::resolve_targets({2}, scores, "f()") == std::vector<std::size_t>{2, 2});
    CHECK(xai::resolve_targets({xai::Target::predicted(), 2}, scores, "f()") == std::vector<std::size_t>{1, 2});
    CHECK_THROWS_WITH(xai::resolve_targets({3}, scores, "f()"), Contains("target class 3 for image 0 is out of range"));
    CHECK_THROWS_AS(xai::resolve_targets({0, 1, 2}, scores, "f()"), xai::shape_error);
    CHECK_THROWS_AS(xai::Target::predicted().index(), xai::invalid_argument);
}

namespace {
// The smallest Classifier: logits are the per-channel means. Used to check the concept and
// the model-output checks.
struct MeanPerChannel {
    xai::Scores forward(const xai::Batch& x) const {
        xai::Scores s = xt::zeros<float>({x.shape(0), x.shape(1)});
        for (std::size_t i = 0; i < x.shape(0); ++i)
            for (std::size_t c = 0; c < x.shape(1); ++c)
                s(i, c) = xt::mean(xt::view(x, i, c))();
        return s;
    }
    std::size_t num_classes() const { return 3; }
    xai::ImageShape input_shape() const { return {3, 4, 4}; }
};
}  // namespace

static_assert(xai::Classifier<MeanPerChannel>);
static_assert(!xai::LayerGradientModel<MeanPerChannel>);
static_assert(!xai::Classifier<int>);

TEST_CASE("model input and output checks", "[core][concepts]") {
    MeanPerChannel model;
    xai::Batch ok = xt::ones<float>({2, 3, 4, 4});
    CHECK_NOTHROW(xai::detail::require_model_input(model, ok, "f()"));
    xai::Batch wrong = xt::ones<float>({2, 1, 4, 4});
    CHECK_THROWS_WITH(xai::detail::require_model_input(model, wrong, "f()"), Contains("model expects 3x4x4"));
    xai::Batch empty = xt::ones<float>({0, 3, 4, 4});
    CHECK_THROWS_AS(xai::detail::require_model_input(model, empty, "f()"), xai::shape_error);
    ok(0, 0, 0, 0) = INFINITY;
    CHECK_THROWS_AS(xai::detail::require_model_input(model, ok, "f()"), xai::invalid_argument);
    xai::Scores bad = {{1.0f, NAN, 0.0f}};
    CHECK_THROWS_AS(xai::detail::require_model_scores(bad, 1, 3, "f()"), xai::model_error);
    CHECK_THROWS_AS(xai::detail::require_model_scores(bad, 2, 3, "f()"), xai::model_error);
    CHECK(xai::detail::checked_forward(model, xt::ones<float>({1, 3, 4, 4}), "f()")(0, 2) == Approx(1.0));
}

TEST_CASE("data_directory finds the shipped data", "[core][data_dir]") {
    const auto dir = xai::data_directory();
    CHECK(std::filesystem::exists(dir / "samples" / "photos" / "SOURCES.md"));
}
