#pragma once
// Test doubles of the CAM tests (test_cam.cpp, test_cam_variants.cpp): linear models whose
// activations and gradients are known in closed form, so every variant is checked against
// values computed by hand, and the hand-computed 2-channel 2×2 case.
#include "xai/cam.hpp"
#include "xai/core/random.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

namespace {

// LinearNet: input C×H×W. Layers:
//   "input"   the image itself (C×H×W)
//   "pooled"  f×f average pooling of the input (C×(H/f)×(W/f))
// logits_c = Σ_{k,i,j} V[c,k,i,j] · pooled_k^ij + b_c, so ∂logit_c/∂pooled = V[c] and
// ∂logit_c/∂input_k^yx = V[c,k,y/f,x/f] / f².
struct LinearNet {
    std::size_t channels = 2, height = 2, width = 2, factor = 1;
    xt::xtensor<float, 4> v;  // K×C×(H/f)×(W/f)
    std::vector<float> bias;

    std::size_t num_classes() const { return v.shape(0); }
    xai::ImageShape input_shape() const { return {channels, height, width}; }
    std::vector<std::string> layer_names() const { return {"input", "pooled"}; }

    xai::Batch pool(const xai::Batch& x) const {
        const std::size_t n = x.shape(0), h = height / factor, w = width / factor;
        xai::Batch out = xt::zeros<float>({n, channels, h, w});
        const float scale = 1.0f / static_cast<float>(factor * factor);
        for (std::size_t i = 0; i < n; ++i)
            for (std::size_t k = 0; k < channels; ++k)
                for (std::size_t y = 0; y < height; ++y)
                    for (std::size_t xx = 0; xx < width; ++xx) out(i, k, y / factor, xx / factor) += scale * x(i, k, y, xx);
        return out;
    }
    xai::Scores head(const xai::Activations& pooled) const {
        const std::size_t n = pooled.shape(0), k = num_classes(), size = v.size() / k;
        xai::Scores out = xt::zeros<float>({n, k});
        for (std::size_t i = 0; i < n; ++i)
            for (std::size_t c = 0; c < k; ++c) {
                float s = bias[c];
                for (std::size_t e = 0; e < size; ++e) s += v.data()[c * size + e] * pooled.data()[i * size + e];
                out(i, c) = s;
            }
        return out;
    }
    void require_known(const std::string& layer) const {
        if (layer != "input" && layer != "pooled") throw xai::invalid_argument("LinearNet: unknown layer " + layer);
    }

    xai::Scores forward(const xai::Batch& x) const { return head(xai::Activations(pool(x))); }
    xai::LayerOutput layer_activations(const xai::Batch& x, const std::string& layer) const {
        require_known(layer);
        const xai::Batch pooled = pool(x);
        return {layer == "input" ? xai::Activations(x) : xai::Activations(pooled), head(xai::Activations(pooled))};
    }
    xai::LayerGradients layer_gradients(const xai::Batch& x, const std::string& layer, const xai::ScoreSeed& seed) const {
        require_known(layer);
        const xai::Activations pooled = pool(x);
        xai::Scores logits = head(pooled);
        const xai::Scores s = seed(logits);
        const std::size_t n = x.shape(0), k = num_classes(), size = v.size() / k;
        xai::Activations grad_pooled = xt::zeros<float>(pooled.shape());
        for (std::size_t i = 0; i < n; ++i)
            for (std::size_t c = 0; c < k; ++c)
                for (std::size_t e = 0; e < size; ++e) grad_pooled.data()[i * size + e] += s(i, c) * v.data()[c * size + e];
        if (layer == "pooled") return {pooled, grad_pooled, logits};
        xai::Activations grad_input = xt::zeros<float>(x.shape());
        const float scale = 1.0f / static_cast<float>(factor * factor);
        for (std::size_t i = 0; i < n; ++i)
            for (std::size_t ch = 0; ch < channels; ++ch)
                for (std::size_t y = 0; y < height; ++y)
                    for (std::size_t xx = 0; xx < width; ++xx)
                        grad_input(i, ch, y, xx) = scale * grad_pooled(i, ch, y / factor, xx / factor);
        return {xai::Activations(x), grad_input, logits};
    }
    xai::Scores forward_from(const std::string& layer, const xai::Activations& a) const {
        require_known(layer);
        if (layer == "pooled") return head(a);
        xai::Batch x = xai::Batch::from_shape({a.shape(0), a.shape(1), a.shape(2), a.shape(3)});
        std::copy(a.begin(), a.end(), x.begin());
        return head(xai::Activations(pool(x)));
    }
};
static_assert(xai::LayerGradientModel<LinearNet>);
static_assert(xai::LayerForwardModel<LinearNet>);

// GapNet: a LinearNet whose head is global average pooling + linear (W: K×C), with the
// pooled maps as the final features: a FeatureModel for CAM.
struct GapNet : LinearNet {
    xt::xtensor<float, 2> w;
    xai::FeatureOutput forward_features(const xai::Batch& x) const {
        xai::Batch features = pool(x);
        xai::Scores logits = head(xai::Activations(features));
        return {std::move(features), std::move(logits)};
    }
    xt::xtensor<float, 2> classifier_weights() const { return w; }
};
static_assert(xai::FeatureModel<GapNet>);

GapNet make_gap_net(std::size_t channels, std::size_t size, std::size_t factor, const xt::xtensor<float, 2>& w,
                    std::vector<float> bias) {
    GapNet net;
    net.channels = channels;
    net.height = net.width = size;
    net.factor = factor;
    net.w = w;
    net.bias = std::move(bias);
    const std::size_t h = size / factor, k = w.shape(0);
    net.v = xai::Batch::from_shape({k, channels, h, h});
    for (std::size_t c = 0; c < k; ++c)
        for (std::size_t ch = 0; ch < channels; ++ch)
            for (std::size_t e = 0; e < h * h; ++e) net.v(c, ch, e / h, e % h) = w(c, ch) / static_cast<float>(h * h);
    return net;
}

// The hand-computed case: 2 channels of 2×2 activations (the input, at layer "pooled" with
// f = 1), class 0 with gradient G (logit_0 = Σ G⊙A + 10), class 1 with gradient 0.
//   A0 = [[1, 2], [0, 1]]    A1 = [[2, 1], [0, 3]]     Σ A0 = 4, Σ A1 = 6
//   G0 = [[1,-1], [2, 0]]    G1 = [[-4,1], [0, 1]]
//   logit_0 = (1 − 2) + (−8 + 1 + 3) + 10 = 5, logit_1 = 0: the predicted class is 0.
LinearNet hand_net() {
    LinearNet net;
    net.v = xt::zeros<float>({2, 2, 2, 2});
    xt::view(net.v, 0, 0) = xt::xtensor<float, 2>{{1, -1}, {2, 0}};
    xt::view(net.v, 0, 1) = xt::xtensor<float, 2>{{-4, 1}, {0, 1}};
    net.bias = {10.0f, 0.0f};
    return net;
}
xai::Batch hand_input() {
    xai::Batch x = xai::Batch::from_shape({1, 2, 2, 2});
    xt::view(x, 0, 0) = xt::xtensor<float, 2>{{1, 2}, {0, 1}};
    xt::view(x, 0, 1) = xt::xtensor<float, 2>{{2, 1}, {0, 3}};
    return x;
}

xai::CamOptions at_layer(const std::string& layer) {
    xai::CamOptions o;
    o.layer = layer;
    return o;
}

void check_map(const xai::Maps& maps, std::size_t i, const xt::xtensor<float, 2>& expected, double eps = 1e-5) {
    REQUIRE(maps.shape(1) == expected.shape(0));
    REQUIRE(maps.shape(2) == expected.shape(1));
    for (std::size_t y = 0; y < expected.shape(0); ++y)
        for (std::size_t x = 0; x < expected.shape(1); ++x) {
            INFO("image " << i << " at (" << y << ", " << x << ")");
            CHECK(maps(i, y, x) == Approx(expected(y, x)).margin(eps));
        }
}

xai::Batch random_batch(std::size_t n, std::size_t c, std::size_t h, std::size_t w, std::uint64_t seed) {
    xai::Batch x = xai::Batch::from_shape({n, c, h, w});
    xai::Rng rng(seed);
    for (float& v : x) v = rng.uniform_float() * 2.0f - 0.5f;
    return x;
}

}  // namespace
