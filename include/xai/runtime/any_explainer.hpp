#pragma once
// A method chosen at run time: one type, AnyExplainer, for every explainer of every family, and
// one result type, AnyExplanation, for a batch.
//
//   xai::AnyExplainer e = xai::make_explainer("gradcam++", model);   // runtime/methods.hpp
//   xai::AnyExplanation x = e.explain(image);                         // the predicted class
//   x.map()  (H×W display map in [0, 1])   x.raw_map()  (the method's signed map)   x.statistic("r2")
//
// This is mlpack's KDEWrapperBase / KDEModel pattern (run-time choice of a templated type
// through a small virtual interface) with std::shared_ptr instead of owning raw pointers. Since
// every explainer has the same calling shape (core/explainer.hpp), one wrapper template holds
// any of them; what differs per family is only how a result is described (its extras as named
// maps and numbers), which each family's table (runtime/<family>_methods.hpp) supplies.
// AnyExplainer is itself an Explainer: the metrics take it as they take any other.
//
// AnyExplanation (a batch):
//   the core        maps, raw, targets, scores, score_kind, logits (core/explanation.hpp)
//   layer           the layer(s) explained, comma-separated ("" for methods without a layer)
//   extra_maps      further named N×H×W maps (RISE "standard_error"; LIME "weight_std")
//   statistics      named numbers per image: the explained score under its ScoreKind's name
//                   ("logit", "probability", "log_probability"), then the family's own (LIME
//                   "r2", RISE "masks_used", occlusion "windows", …; see each family's table)
//
// explain() is const and safe to call from several threads at once, like every explainer;
// copies of an AnyExplainer share the (immutable) explainer.

#include <algorithm>
#include <concepts>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "xai/core/error.hpp"
#include "xai/core/explainer.hpp"
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

/// The explanation of a batch by any method: the core every explainer returns (maps, raw,
/// targets, scores, score_kind, logits) and the method's extras as named maps and numbers.
struct AnyExplanation : Explanation {
    std::string method;  ///< MethodInfo::name
    std::string layer;   ///< the layer(s) explained, comma-separated; "" for methods without a layer
    /// Further named N×H×W maps: RISE "standard_error"; LIME "weight_std" with the stability report.
    std::vector<std::pair<std::string, Maps>> extra_maps;
    /// Named numbers, one per image: the explained score under its ScoreKind's name, plus the
    /// family's own (LIME "r2", RISE "masks_used", occlusion "windows", …; see the family tables).
    std::vector<std::pair<std::string, std::vector<double>>> statistics;

    /// Statistic `name` of image `i`; invalid_argument when the method does not report it.
    double statistic(std::string_view name, std::size_t i = 0) const {
        for (const auto& [key, values] : statistics)
            if (key == name) {
                detail::require<shape_error>(i < values.size(), "xai::AnyExplanation::statistic(): image ", i,
                                             " is out of range, expected an index below ", values.size());
                return values[i];
            }
        throw invalid_argument(detail::message("xai::AnyExplanation::statistic(): method '", method,
                                               "' reports no statistic '", name, "'"));
    }

    /// Extra map `name` of image `i` (H×W); invalid_argument when the method has no such map.
    Map extra_map(std::string_view name, std::size_t i = 0) const {
        for (const auto& [key, maps] : extra_maps)
            if (key == name) {
                const std::size_t n = maps.shape(0), h = maps.shape(1), w = maps.shape(2);
                detail::require<shape_error>(i < n, "xai::AnyExplanation::extra_map(): image ", i,
                                             " is out of range, expected an index below ", n);
                Map out = Map::from_shape({h, w});
                std::copy_n(maps.data() + i * h * w, h * w, out.data());
                return out;
            }
        throw invalid_argument(detail::message("xai::AnyExplanation::extra_map(): method '", method,
                                               "' has no map '", name, "'"));
    }
};

namespace detail {

/// The core of a result as an AnyExplanation, with the explained score of each image under its
/// kind's name. The families add their extras to it.
inline AnyExplanation describe_core(std::string_view method, const Explanation& r) {
    AnyExplanation out;
    static_cast<Explanation&>(out) = r;
    out.method = method;
    out.statistics.emplace_back(std::string(to_string(r.score_kind)),
                                std::vector<double>(r.scores.begin(), r.scores.end()));
    return out;
}

/// The virtual interface behind AnyExplainer (mlpack's KDEWrapperBase).
class ExplainerBase {
public:
    virtual ~ExplainerBase() = default;
    virtual AnyExplanation explain(const Batch& images, const Targets& targets, const Progress& progress) const = 0;
};

/// One explainer (anything with explain(batch, targets, progress)) and how its results are
/// described: describe(method name, result) → AnyExplanation.
template <class E, class Describe>
class HeldExplainer final : public ExplainerBase {
public:
    HeldExplainer(std::string_view method, E explainer, Describe describe)
        : method_(method), explainer_(std::move(explainer)), describe_(std::move(describe)) {}
    AnyExplanation explain(const Batch& images, const Targets& targets, const Progress& progress) const override {
        return describe_(method_, explainer_.explain(images, targets, progress));
    }

private:
    std::string_view method_;
    E explainer_;
    Describe describe_;
};

}  // namespace detail

/// An explainer chosen at run time; copies share the (immutable) explainer. Made by
/// make_explainer() (runtime/methods.hpp).
/// It is an Explainer like the others (core/explainer.hpp), so the metrics take it as it is.
class AnyExplainer {
public:
    /// Holds `explainer` (anything with explain(const Batch&, const Targets&, const Progress&))
    /// for method `info`; `describe(method, result)` turns its result into an AnyExplanation.
    template <class E, class Describe>
    AnyExplainer(const MethodInfo& info, E explainer, Describe describe)
        : info_(&info),
          impl_(std::make_shared<const detail::HeldExplainer<E, Describe>>(info.name, std::move(explainer),
                                                                          std::move(describe))) {}

    /// Holds `explainer` for method `info`, its results described by their core alone (the
    /// explained score as the only statistic): for explainers without extras.
    template <class E>
    AnyExplainer(const MethodInfo& info, E explainer) : AnyExplainer(info, std::move(explainer), detail::describe_core) {}

    /// The method this explainer runs (name, what model it needs, …).
    const MethodInfo& method() const { return *info_; }

    /// Explains a batch (N×C×H×W, the model's input shape) for its targets (empty: each image's
    /// predicted class). `progress` is called by the methods with reports_progress.
    template <std::same_as<Batch> B>
    AnyExplanation explain(const B& images, const Targets& targets = {}, const Progress& progress = {}) const {
        return impl_->explain(images, targets, progress);
    }

    /// Explains one image (C×H×W) for `target` (default: the predicted class).
    template <std::same_as<Image> I>
    AnyExplanation explain(const I& image, Target target = Target::predicted(), const Progress& progress = {}) const {
        return impl_->explain(detail::single_image_batch(image, "xai::AnyExplainer::explain()"), Targets{target},
                              progress);
    }

private:
    const MethodInfo* info_;
    std::shared_ptr<const detail::ExplainerBase> impl_;  // shared: copies explain with the same, immutable explainer
};

}  // namespace xai
