#pragma once
// Target functions: what is explained, when it is not one class's score. pytorch-grad-cam's
// "targets" (utils/model_targets.py): any scalar function of one image's model output, with
// its gradient (the seed of the backward pass). The provided ones are in core/targets.hpp
// (xai::targets::class_logit, class_probability, binary_output, raw_output, region); a user's
// own type only needs the two members of the TargetFunction concept. Wrap one in a Target with
// Target::function(f) (core/target.hpp) and pass it where a class index goes.
//
// One image's output is its row of forward(): K class scores for a classifier, the flattened
// K×H×W scores of a segmentation network (DenseOutputModel, core/concepts.hpp).

#include <concepts>
#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <type_traits>
#include <utility>

namespace xai {

/// A scalar function of one image's model output (its row of D scores): `f.score(output)`, the
/// explained value, and `f.gradient(output, gradient)`, which writes ∂score/∂output (D values,
/// zero-filled on entry). Optional: `f.class_index()` -> std::optional<std::size_t>, the class
/// the function is about (reported in Explanation::targets), and `f.describe()` -> std::string.
template <class F>
concept TargetFunction = std::copy_constructible<F> && requires(const F& f, std::span<const float> output,
                                                                std::span<float> gradient) {
    { f.score(output) } -> std::convertible_to<double>;
    f.gradient(output, gradient);
};

namespace detail {

/// The type-erased target function a Target holds (shared, immutable: Targets copy cheaply).
class AnyTargetFunction {
public:
    virtual ~AnyTargetFunction() = default;
    /// The explained value of one output row.
    virtual double score(std::span<const float> output) const = 0;
    /// ∂score/∂output of one output row, into `gradient` (zero-filled by the caller).
    virtual void gradient(std::span<const float> output, std::span<float> gradient) const = 0;
    /// The class the function is about, if any.
    virtual std::optional<std::size_t> class_index() const = 0;
    /// A short description for error messages ("region(class 3, 120 pixels)").
    virtual std::string describe() const = 0;
};

template <TargetFunction F>
class TargetFunctionHolder final : public AnyTargetFunction {
public:
    explicit TargetFunctionHolder(F f) : f_(std::move(f)) {}
    double score(std::span<const float> output) const override { return static_cast<double>(f_.score(output)); }
    void gradient(std::span<const float> output, std::span<float> gradient) const override { f_.gradient(output, gradient); }
    std::optional<std::size_t> class_index() const override {
        if constexpr (requires { { f_.class_index() } -> std::convertible_to<std::optional<std::size_t>>; })
            return f_.class_index();
        else
            return std::nullopt;
    }
    std::string describe() const override {
        if constexpr (requires { { f_.describe() } -> std::convertible_to<std::string>; })
            return f_.describe();
        else
            return "a target function";
    }

private:
    F f_;
};

}  // namespace detail

}  // namespace xai
