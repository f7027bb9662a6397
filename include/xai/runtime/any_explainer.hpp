#pragma once
// A method chosen at run time: one type, AnyExplainer, for every explainer of every family, and
// one result type, AnyExplanation, for one image.
//
//   xai::AnyExplainer e = xai::make_explainer("gradcam++", model);   // runtime/methods.hpp
//   xai::AnyExplanation x = e.explain(image);                         // the predicted class
//   x.map  (H×W display map in [0, 1])   x.raw  (the method's signed map)   x.statistics
//
// This is mlpack's KDEWrapperBase / KDEModel pattern (run-time choice of a templated type
// through a small virtual interface) with std::unique_ptr instead of owning raw pointers. Since
// every explainer has the same calling shape (core/explainer.hpp), one wrapper template holds
// any of them; what differs per family is only how a result is described (its extras as named
// maps and numbers), which each family's table (runtime/<family>_methods.hpp) supplies.
//
// AnyExplanation, per image:
//   map, raw, target   the core of the explainer's result for that image (core/explanation.hpp)
//   layer              the layer(s) explained, comma-separated ("" for methods without a layer)
//   extra_maps         further named H×W maps (RISE "standard_error"; LIME "weight_std")
//   statistics         named numbers: the explained score under its ScoreKind's name ("logit",
//                      "probability", "log_probability"), then the family's own (LIME "r2",
//                      RISE "masks_used", occlusion "windows", …; see each family's table)
//
// explain() is const and safe to call from several threads at once, like every explainer.

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "xai/core/error.hpp"
#include "xai/core/explanation.hpp"
#include "xai/core/progress.hpp"
#include "xai/core/scores.hpp"
#include "xai/core/target.hpp"
#include "xai/core/tensor.hpp"

namespace xai {

/// What the run-time layer knows about a method.
struct MethodInfo {
    std::string_view name;          ///< what make_explainer() accepts, e.g. "gradcam++"
    std::string_view title;         ///< how pictures label it, e.g. "Grad-CAM++"
    std::string_view paper;         ///< the paper it implements
    std::string_view needs;         ///< the weakest model concept it needs (core/concepts.hpp)
    bool uses_layer = false;        ///< explains ExplainerSettings::layers
    bool reports_progress = false;  ///< many forward passes; calls the progress callback as it goes
};

/// One explanation of one image, whatever the method (see the header comment).
struct AnyExplanation {
    std::string method;                  ///< MethodInfo::name
    std::size_t target = 0;              ///< the class explained
    std::string layer;                   ///< the layer(s) explained, comma-separated; "" for the others
    Map map;                             ///< H×W display map in [0, 1]
    Map raw;                             ///< the method's signed map (its own resolution)
    std::vector<std::pair<std::string, Map>> extra_maps;         ///< further named H×W maps
    std::vector<std::pair<std::string, double>> statistics;      ///< named numbers (see the header)

    /// The statistic called `name`; invalid_argument when the method does not report it.
    double statistic(std::string_view name) const {
        for (const auto& [key, value] : statistics)
            if (key == name) return value;
        throw invalid_argument(detail::message("xai::AnyExplanation::statistic(): method '", method,
                                               "' reports no statistic '", name, "'"));
    }
};

namespace detail {

/// The core of image 0 of a result as an AnyExplanation: target, display and raw map, and the
/// explained score under its kind's name. The families add their extras to it.
inline AnyExplanation describe_core(std::string_view method, const Explanation& r) {
    AnyExplanation out;
    out.method = method;
    out.target = r.targets.at(0);
    out.map = r.map(0);
    out.raw = r.raw_map(0);
    out.statistics.emplace_back(std::string(to_string(r.score_kind)), r.scores.at(0));
    return out;
}

/// The virtual interface behind AnyExplainer (mlpack's KDEWrapperBase).
class ExplainerBase {
public:
    virtual ~ExplainerBase() = default;
    virtual AnyExplanation explain(const Image& image, Target target, const Progress& progress) const = 0;
};

/// One explainer (anything with explain(image, target, progress)) and how its results are
/// described: describe(method name, result) → AnyExplanation.
template <class E, class Describe>
class HeldExplainer final : public ExplainerBase {
public:
    HeldExplainer(std::string_view method, E explainer, Describe describe)
        : method_(method), explainer_(std::move(explainer)), describe_(std::move(describe)) {}
    AnyExplanation explain(const Image& image, Target target, const Progress& progress) const override {
        return describe_(method_, explainer_.explain(image, target, progress));
    }

private:
    std::string_view method_;
    E explainer_;
    Describe describe_;
};

}  // namespace detail

/// An explainer chosen at run time; move-only. Made by make_explainer() (runtime/methods.hpp).
class AnyExplainer {
public:
    /// Holds `explainer` (anything with explain(const Image&, Target, const Progress&)) for method
    /// `info`; `describe(method, result)` turns its result into an AnyExplanation.
    template <class E, class Describe>
    AnyExplainer(const MethodInfo& info, E explainer, Describe describe)
        : info_(&info),
          impl_(std::make_unique<const detail::HeldExplainer<E, Describe>>(info.name, std::move(explainer),
                                                                          std::move(describe))) {}

    /// The method this explainer runs (name, what model it needs, …).
    const MethodInfo& method() const { return *info_; }

    /// Explains one image (C×H×W, the model's input shape) for `target` (default: the
    /// predicted class). `progress` is called by the methods with reports_progress.
    AnyExplanation explain(const Image& image, Target target = Target::predicted(), const Progress& progress = {}) const {
        return impl_->explain(image, target, progress);
    }

private:
    const MethodInfo* info_;
    std::unique_ptr<const detail::ExplainerBase> impl_;
};

}  // namespace xai
