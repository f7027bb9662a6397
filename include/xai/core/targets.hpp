#pragma once
// The provided target functions (core/target_function.hpp), pytorch-grad-cam's
// utils/model_targets.py, for Target::function(). With z one image's output row (D values):
//
//   class_logit(c)          z_c                         ∂ = e_c          (ClassifierOutputTarget)
//   class_probability(c)    p_c = softmax(z)_c          ∂ = p_c (e_c − p) (ClassifierOutputSoftmaxTarget)
//   binary_output(cat)      z_0 if cat = 1, −z_0 if 0   ∂ = ±e_0         (BinaryClassifierOutputTarget;
//                           a model with one output, D = 1)
//   raw_output()            Σ_j z_j                     ∂ = 1            (RawScoresOutputTarget: its
//                           vector output is summed by the backward pass)
//   region(c, mask, K,H,W)  Σ_{p ∈ mask} z_{c,p}        ∂ = 1 on class c's plane inside the mask
//                           (SemanticSegmentationTarget: (output[c] · mask).sum(); the output is
//                           a segmentation network's flattened K×H×W scores, D = K·H·W)
//
// Each checks the output's size and throws shape_error naming the function and the sizes.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "xai/core/error.hpp"
#include "xai/core/target_function.hpp"
#include "xai/core/tensor.hpp"

namespace xai::targets {

/// z_c: the class score before the softmax (what a class index explains by default).
struct ClassLogit {
    std::size_t index = 0;  ///< the class c
    /// z_c.
    double score(std::span<const float> z) const { return z[checked(z.size())]; }
    /// e_c.
    void gradient(std::span<const float> z, std::span<float> g) const { g[checked(z.size())] = 1.0f; }
    /// c.
    std::optional<std::size_t> class_index() const { return index; }
    /// "class_logit(c)".
    std::string describe() const { return detail::message("class_logit(", index, ")"); }

private:
    std::size_t checked(std::size_t d) const {
        detail::require<shape_error>(index < d, "xai::targets::class_logit(): class ", index, " of an output of ", d,
                                     " values, expected a class below ", d);
        return index;
    }
};

/// p_c = softmax(z)_c, computed stably in double.
struct ClassProbability {
    std::size_t index = 0;  ///< the class c
    /// p_c.
    double score(std::span<const float> z) const { return probabilities(z)[index]; }
    /// p_c (e_c − p).
    void gradient(std::span<const float> z, std::span<float> g) const {
        const std::vector<double> p = probabilities(z);
        for (std::size_t j = 0; j < z.size(); ++j)
            g[j] = static_cast<float>(p[index] * ((j == index ? 1.0 : 0.0) - p[j]));
    }
    /// c.
    std::optional<std::size_t> class_index() const { return index; }
    /// "class_probability(c)".
    std::string describe() const { return detail::message("class_probability(", index, ")"); }

private:
    std::vector<double> probabilities(std::span<const float> z) const {
        detail::require<shape_error>(index < z.size(), "xai::targets::class_probability(): class ", index,
                                     " of an output of ", z.size(), " values, expected a class below ", z.size());
        const double top = *std::max_element(z.begin(), z.end());
        std::vector<double> p(z.size());
        double sum = 0.0;
        for (std::size_t j = 0; j < z.size(); ++j) sum += p[j] = std::exp(static_cast<double>(z[j]) - top);
        for (double& v : p) v /= sum;
        return p;
    }
};

/// ±z_0 of a model with a single output (a binary classifier's logit): +z_0 explains
/// category 1, −z_0 category 0.
struct BinaryOutput {
    std::size_t category = 1;  ///< 1: the positive class, 0: the negative one
    /// ±z_0.
    double score(std::span<const float> z) const { return sign(z.size()) * static_cast<double>(z[0]); }
    /// ±e_0.
    void gradient(std::span<const float> z, std::span<float> g) const { g[0] = static_cast<float>(sign(z.size())); }
    /// The category.
    std::optional<std::size_t> class_index() const { return category; }
    /// "binary_output(category)".
    std::string describe() const { return detail::message("binary_output(", category, ")"); }

private:
    double sign(std::size_t d) const {
        detail::require<shape_error>(d == 1, "xai::targets::binary_output(): the output has ", d,
                                     " values, expected 1 (a model with a single output)");
        return category == 1 ? 1.0 : -1.0;
    }
};

/// Σ_j z_j: the whole output (e.g. a regression model's, or every class at once).
struct RawOutput {
    /// Σ_j z_j.
    double score(std::span<const float> z) const {
        double s = 0.0;
        for (float v : z) s += v;
        return s;
    }
    /// 1 everywhere.
    void gradient(std::span<const float>, std::span<float> g) const { std::fill(g.begin(), g.end(), 1.0f); }
    /// "raw_output()".
    std::string describe() const { return "raw_output()"; }
};

/// Σ_{p ∈ mask} z_{c,p} over a segmentation network's flattened K×H×W output.
struct Region {
    std::size_t index = 0;  ///< the class c
    std::size_t classes = 0;  ///< K of the output's K×H×W
    std::size_t height = 0;   ///< H of the output's K×H×W
    std::size_t width = 0;    ///< W of the output's K×H×W
    std::shared_ptr<const std::vector<std::size_t>> pixels;  ///< the mask's pixel indices y·W + x
    /// Σ_{p ∈ mask} z_{c,p}.
    double score(std::span<const float> z) const {
        const float* plane = z.data() + checked(z.size());
        double s = 0.0;
        for (std::size_t p : *pixels) s += plane[p];
        return s;
    }
    /// 1 at (c, p) for p in the mask.
    void gradient(std::span<const float> z, std::span<float> g) const {
        float* plane = g.data() + checked(z.size());
        for (std::size_t p : *pixels) plane[p] = 1.0f;
    }
    /// c.
    std::optional<std::size_t> class_index() const { return index; }
    /// "region(class c, n pixels)".
    std::string describe() const { return detail::message("region(class ", index, ", ", pixels->size(), " pixels)"); }

private:
    std::size_t checked(std::size_t d) const {
        detail::require<shape_error>(d == classes * height * width, "xai::targets::region(): the output has ", d,
                                     " values, expected ", classes, "×", height, "×", width, " (the shape given)");
        return index * height * width;
    }
};

/// Target function z_c (core/targets.hpp header comment).
inline ClassLogit class_logit(std::size_t c) { return {c}; }
/// Target function p_c = softmax(z)_c.
inline ClassProbability class_probability(std::size_t c) { return {c}; }
/// Target function +z_0 (category 1) or −z_0 (category 0) of a single-output model;
/// invalid_argument for another category.
inline BinaryOutput binary_output(std::size_t category) {
    detail::require(category <= 1, "xai::targets::binary_output(): category is ", category, ", expected 0 or 1");
    return {category};
}
/// Target function Σ_j z_j.
inline RawOutput raw_output() { return {}; }
/// Target function Σ_{p ∈ mask} z_{c,p} of a segmentation output of shape `output_shape`
/// (K, H, W; a DenseOutputModel's output_shape()), `mask` H×W (true = in the region).
/// invalid_argument when c ≥ K, the shape is not K×H×W, the mask's shape differs or it is empty.
inline Region region(std::size_t c, const xt::xtensor<bool, 2>& mask, const std::vector<std::size_t>& output_shape) {
    constexpr const char* where = "xai::targets::region()";
    detail::require<shape_error>(output_shape.size() == 3, where, ": the output shape has ", output_shape.size(),
                                 " axes, expected K×H×W");
    const std::size_t k = output_shape[0], h = output_shape[1], w = output_shape[2];
    detail::require(c < k, where, ": class is ", c, ", expected a class below ", k);
    detail::require<shape_error>(mask.shape(0) == h && mask.shape(1) == w, where, ": mask has shape ",
                                 shape_string(mask.shape()), ", expected [", h, ", ", w, "]");
    auto pixels = std::make_shared<std::vector<std::size_t>>();
    for (std::size_t p = 0; p < h * w; ++p)
        if (mask.data()[p]) pixels->push_back(p);
    detail::require(!pixels->empty(), where, ": mask is empty, expected at least one pixel in the region");
    return Region{c, k, h, w, std::move(pixels)};
}

static_assert(TargetFunction<ClassLogit> && TargetFunction<ClassProbability> && TargetFunction<BinaryOutput> &&
              TargetFunction<RawOutput> && TargetFunction<Region>);

}  // namespace xai::targets
