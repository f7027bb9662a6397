#pragma once
// Choosing an explanation method by name at run time.
//
// Every explainer of explain/ is a class template on the model type, constructed from its own
// options struct, and each returns its own result type (CamResult, LimeExplanation,
// RiseExplanation, OcclusionExplanation). A program that reads the method from a command line,
// a request or a configuration file wants one type instead:
//
//   xai::AnyExplainer e = xai::make_explainer("gradcam++", model);        // any model type
//   xai::AnyExplanation x = e.explain(image);                              // the predicted class
//   x.map  (H×W display map in [0, 1])   x.raw  (the method's signed map)   x.statistics
//
// This is mlpack's KDEWrapperBase / KDEModel pattern (run-time choice of a templated type
// through a small virtual interface), with std::unique_ptr instead of owning raw pointers: the
// model's type is fixed when the explainer is made, and from then on the program handles
// AnyExplainer only. The model must outlive the explainer, as with every explainer.
//
// Settings (ExplainerSettings) are each method's own options struct, so the defaults are the
// library's, in one place: a command-line tool that fills ExplainerSettings from its flags
// never restates a default. `layers` replaces the `layer` field of the CAM option structs
// (one layer, or several to fuse); empty means the model's feature layer, the input of global
// average pooling (default_explained_layer()). CAM always explains the final feature maps.
//
// What the result holds, per method:
//   map   the display map, H×W at the input's resolution, in [0, 1]: the CAM family's own
//         display map (normalize(upsample(ReLU(raw))), cam_options.hpp; the fused map with
//         several layers); for LIME, RISE and occlusion normalize_min_max(max(raw, 0)), the
//         evidence for the class with the CAM family's convention.
//   raw   the method's unnormalized, signed map: the CAM family's raw map at the layer's
//         resolution (with several layers: the fused display map, there is no single raw map);
//         LIME: each pixel holds the surrogate weight β_s of its superpixel; RISE: S_c(p);
//         occlusion: the mean score drop of the windows covering p. The last three are H×W.
//   extra_maps   RISE: "standard_error" (per-pixel SE of S_c); LIME with the stability report:
//         "weight_std" (per pixel, the standard deviation of its superpixel's weight over seeds).
//   statistics   named numbers: the explained score under its ScoreKind's name ("logit",
//         "probability", "log_probability"); LIME: "r2" (weighted R² of the surrogate),
//         "intercept", "local_prediction", "model_prediction", "superpixels", "samples" and,
//         with the stability report, "stability_repeats", "stability_mean_jaccard",
//         "stability_min_jaccard", "stability_mean_r2"; RISE: "masks_used",
//         "relative_standard_error", "converged" (0 or 1); occlusion: "windows".
//
// explain() is const and safe to call from several threads at once (each call builds its
// explainer from the stored options, which costs a copy of the options).

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "xai/core/concepts.hpp"
#include "xai/core/error.hpp"
#include "xai/core/progress.hpp"
#include "xai/core/scores.hpp"
#include "xai/core/target.hpp"
#include "xai/core/tensor.hpp"
#include "xai/explain/ablation_cam.hpp"
#include "xai/explain/cam.hpp"
#include "xai/explain/cam_options.hpp"
#include "xai/explain/eigen_cam.hpp"
#include "xai/explain/grad_cam.hpp"
#include "xai/explain/lime.hpp"
#include "xai/explain/occlusion.hpp"
#include "xai/explain/rise.hpp"
#include "xai/explain/score_cam.hpp"
#include "xai/image/normalize.hpp"
#include "xai/image/quickshift.hpp"
#include "xai/image/segments.hpp"

namespace xai {

/// What the run-time wrapper knows about a method.
struct MethodInfo {
    std::string_view name;       ///< what make_explainer() accepts, e.g. "gradcam++"
    std::string_view title;      ///< how pictures label it, e.g. "Grad-CAM++"
    std::string_view paper;      ///< the paper it implements
    std::string_view needs;      ///< the weakest model concept it needs (core/concepts.hpp)
    bool uses_layer = false;     ///< explains ExplainerSettings::layers
    bool reports_progress = false;  ///< many forward passes; calls the progress callback
};

/// Every method make_explainer() accepts, in the order a gallery shows them.
inline constexpr std::array<MethodInfo, 12> explanation_methods = {{
    {"cam", "CAM", "Zhou et al., CVPR 2016", "FeatureModel", false, false},
    {"gradcam", "Grad-CAM", "Selvaraju et al., ICCV 2017", "LayerGradientModel", true, false},
    {"gradcam++", "Grad-CAM++", "Chattopadhay et al., WACV 2018", "LayerGradientModel", true, false},
    {"xgradcam", "XGrad-CAM", "Fu et al., BMVC 2020", "LayerGradientModel", true, false},
    {"hirescam", "HiResCAM", "Draelos & Carin, 2020", "LayerGradientModel", true, false},
    {"layercam", "LayerCAM", "Jiang et al., IEEE TIP 2021", "LayerGradientModel", true, false},
    {"scorecam", "Score-CAM", "Wang et al., CVPR Workshops 2020", "LayerActivationModel", true, true},
    {"eigencam", "Eigen-CAM", "Muhammad & Yeasin, IJCNN 2020", "LayerActivationModel", true, false},
    {"ablationcam", "Ablation-CAM", "Desai & Ramaswamy, WACV 2020", "LayerForwardModel", true, true},
    {"lime", "LIME", "Ribeiro et al., KDD 2016", "Classifier", false, true},
    {"rise", "RISE", "Petsiuk et al., BMVC 2018", "Classifier", false, true},
    {"occlusion", "Occlusion", "Zeiler & Fergus, ECCV 2014", "Classifier", false, true},
}};

namespace detail {
[[noreturn]] inline void unknown_method(std::string_view name) {
    std::string known;
    for (const MethodInfo& m : explanation_methods) known += (known.empty() ? "" : ", ") + std::string(m.name);
    throw invalid_argument(message("xai::method_info(): unknown method '", name, "', expected one of ", known));
}
}  // namespace detail

/// The entry of `name` (case-sensitive); invalid_argument listing the known names otherwise.
constexpr const MethodInfo& method_info(std::string_view name) {
    for (const MethodInfo& m : explanation_methods)
        if (m.name == name) return m;
    detail::unknown_method(name);
}

/// The options of every method, with the library's defaults.
struct ExplainerSettings {
    /// The layer(s) the layer-based methods explain: one, or several whose maps are fused
    /// (FusedCamResult). Empty: default_explained_layer(model). Replaces `layer` in the three
    /// CAM option structs below.
    std::vector<std::string> layers;
    CamOptions cam;                   ///< CAM, Grad-CAM, Grad-CAM++, XGrad-CAM, HiResCAM, LayerCAM, Eigen-CAM
    ScoreCamOptions score_cam;        ///< Score-CAM
    AblationCamOptions ablation_cam;  ///< Ablation-CAM
    LimeOptions lime;                 ///< its `progress` is replaced by explain()'s callback
    /// LIME's superpixels: any SegmentationAlgorithm (Slic{…}, Felzenszwalb{…}, GridSegmenter{…},
    /// a lambda); by default lime's quick shift, as Lime's own default policy.
    std::function<Segmentation(const Image&)> lime_segmentation = Quickshift{};
    /// LIME's stability report (Lime::stability): repeats < 2 turns it off, which saves
    /// repeats − 1 further explanations.
    LimeStabilityOptions lime_stability;
    RiseOptions rise;                 ///< its `progress` is replaced by explain()'s callback
    OcclusionOptions occlusion;       ///< its `progress` is replaced by explain()'s callback
};

/// One explanation of one image, whatever the method (see the header comment).
struct AnyExplanation {
    std::string method;                  ///< MethodInfo::name
    std::size_t target = 0;              ///< the class explained
    std::string layer;                   ///< the layer(s) explained, comma-separated; "" for the others
    Map map;                             ///< H×W display map in [0, 1]
    Map raw;                             ///< the method's signed map
    /// Further named H×W maps: RISE "standard_error"; LIME "weight_std" with the stability report.
    std::vector<std::pair<std::string, Map>> extra_maps;
    /// Named numbers: the explained score under its ScoreKind's name, plus per-method
    /// statistics (LIME "r2", RISE "masks_used", occlusion "windows", …; see the header).
    std::vector<std::pair<std::string, double>> statistics;

    /// The statistic called `name`; invalid_argument when the method does not report it.
    double statistic(std::string_view name) const {
        for (const auto& [key, value] : statistics)
            if (key == name) return value;
        throw invalid_argument(detail::message("xai::AnyExplanation::statistic(): method '", method,
                                               "' reports no statistic '", name, "'"));
    }
};

/// Whether make_explainer() can build `method` for the model type, by the concept it needs
/// (a model may still refuse at run time, e.g. CAM on a network without global average pooling).
template <Classifier Model>
constexpr bool model_supports(const MethodInfo& method) {
    if (method.needs == "FeatureModel") return FeatureModel<Model>;
    if (method.needs == "LayerGradientModel") return LayerGradientModel<Model>;
    if (method.needs == "LayerActivationModel") return LayerActivationModel<Model>;
    if (method.needs == "LayerForwardModel") return LayerForwardModel<Model>;
    return true;
}

/// The layer the layer-based methods explain when none is given: the model's feature layer
/// (the input of global average pooling, as `feature_layer()` reports it), else the last
/// layer whose activations are N×C×h×w; invalid_argument when there is neither.
template <LayerActivationModel Model>
std::string default_explained_layer(const Model& model) {
    if constexpr (requires { { model.feature_layer() } -> std::convertible_to<std::string>; }) {
        try {
            std::string layer = model.feature_layer();
            if (!layer.empty()) return layer;
        } catch (const model_error&) {
            // a model without global average pooling has no feature layer: fall through
        }
    }
    const std::vector<std::string> names = model.layer_names();
    detail::require(!names.empty(), "xai::default_explained_layer(): the model has no layers, expected at least one");
    if constexpr (requires { model.layer_shape(names.back()); }) {  // models that know their shapes without a pass
        for (auto it = names.rbegin(); it != names.rend(); ++it)
            if (model.layer_shape(*it).size() == 3) return *it;
    }
    throw invalid_argument(detail::message("xai::default_explained_layer(): the model names no feature layer, expected "
                                           "a layer to be chosen from ", detail::join_names(names)));
}

namespace detail {

/// The virtual interface behind AnyExplainer (mlpack's KDEWrapperBase).
class ExplainerBase {
public:
    virtual ~ExplainerBase() = default;
    virtual AnyExplanation explain(const Image& image, const Target& target, const Progress& progress) const = 0;
};

/// One method on one model type: `Function` is called as f(image, target, progress).
template <class Function>
class ExplainerWrapper final : public ExplainerBase {
public:
    explicit ExplainerWrapper(Function function) : function_(std::move(function)) {}
    AnyExplanation explain(const Image& image, const Target& target, const Progress& progress) const override {
        return function_(image, target, progress);
    }

private:
    Function function_;
};

/// Plane `i` of a stack of maps (a copy).
inline Map plane(const Maps& maps, std::size_t i) {
    const std::size_t h = maps.shape(1), w = maps.shape(2);
    Map out = Map::from_shape({h, w});
    std::copy_n(maps.data() + i * h * w, h * w, out.data());
    return out;
}

/// normalize_min_max(max(raw, 0)): the display map of the black-box methods.
inline Map positive_display_map(const Map& raw) {
    Map positive = raw;
    for (float& v : positive) v = std::max(v, 0.0f);
    return normalize_min_max(positive);
}

inline std::string join_layers(const std::vector<std::string>& layers) {
    std::string out;
    for (const std::string& l : layers) out += (out.empty() ? "" : ",") + l;
    return out;
}

/// A CAM-family result for image 0 as an AnyExplanation.
inline AnyExplanation from_cam(std::string_view method, const CamResult& r) {
    AnyExplanation out;
    out.method = method;
    out.target = r.targets.at(0);
    out.layer = r.layer;
    out.map = plane(r.maps, 0);
    out.raw = plane(r.raw, 0);
    out.statistics.emplace_back(std::string(to_string(r.score_kind)), r.scores.at(0));
    return out;
}

inline AnyExplanation from_fused(std::string_view method, const FusedCamResult& r, const std::vector<std::string>& layers) {
    AnyExplanation out = from_cam(method, r.layers.at(0));
    out.layer = join_layers(layers);
    out.map = plane(r.maps, 0);
    out.raw = out.map;
    return out;
}

/// Explains image 0 at one layer or fuses several: `explainer` has explain_layer() and
/// explain_fused(), with or without a trailing progress argument.
template <class Explainer>
AnyExplanation explain_cam_layers(std::string_view method, const Explainer& explainer, const Image& image,
                                  const Target& target, const std::vector<std::string>& layers,
                                  const Progress& progress) {
    const Batch batch = as_batch(image);
    const Targets targets{target};
    if constexpr (requires { explainer.explain_layer(batch, targets, layers[0], progress); }) {
        if (layers.size() == 1) return from_cam(method, explainer.explain_layer(batch, targets, layers[0], progress));
        return from_fused(method, explainer.explain_fused(batch, layers, targets, progress), layers);
    } else {
        if (layers.size() == 1) return from_cam(method, explainer.explain_layer(batch, targets, layers[0]));
        return from_fused(method, explainer.explain_fused(batch, layers, targets), layers);
    }
}

/// A progress callback that counts the samples of `repeats` LIME runs as one total: each run
/// reports samples 1..n of n, and a report of n closes a run.
class RepeatedProgress {
public:
    RepeatedProgress(Progress inner, std::size_t repeats) : inner_(std::move(inner)), repeats_(repeats) {}
    void operator()(const ProgressReport& p) {
        if (!inner_) return;
        inner_(ProgressReport{offset_ + p.done, p.total * repeats_, p.stage});
        if (p.done == p.total) offset_ += p.total;
    }

private:
    Progress inner_;
    std::size_t repeats_;
    std::size_t offset_ = 0;
};

template <Classifier Model>
AnyExplanation explain_lime(const Model& model, const ExplainerSettings& settings, const Image& image,
                            const Target& target, const Progress& progress) {
    LimeOptions options = settings.lime;
    const bool stable = settings.lime_stability.repeats >= 2;
    const std::size_t runs = stable ? settings.lime_stability.repeats : 1;
    options.progress = progress ? Progress(RepeatedProgress(progress, runs)) : Progress{};
    const Lime<Model, std::function<Segmentation(const Image&)>> lime(model, std::move(options), settings.lime_segmentation);
    const Targets targets{target};
    LimeStability stability;
    LimeExplanation explanation;
    if (stable) {
        stability = lime.stability(image, settings.lime_stability, targets);
        explanation = std::move(stability.runs.front());
    } else {
        explanation = lime.explain(image, targets);
    }
    const LimeLabelExplanation& e = explanation.labels.at(0);
    const std::size_t h = image.shape(1), w = image.shape(2);
    const std::int32_t* labels = explanation.segmentation.labels.data();
    const auto per_pixel = [&](const std::vector<double>& values) {
        Map m = Map::from_shape({h, w});
        for (std::size_t p = 0; p < h * w; ++p) m.data()[p] = static_cast<float>(values[static_cast<std::size_t>(labels[p])]);
        return m;
    };
    AnyExplanation out;
    out.method = "lime";
    out.target = e.label;
    out.raw = per_pixel(e.weights);
    out.map = positive_display_map(out.raw);
    out.statistics = {{"r2", e.score},
                      {"intercept", e.intercept},
                      {"local_prediction", e.local_prediction},
                      {"model_prediction", e.model_prediction},
                      {"superpixels", static_cast<double>(explanation.segmentation.count)},
                      {"samples", static_cast<double>(explanation.num_samples)}};
    if (stable) {
        const LimeLabelStability& s = stability.labels.at(0);
        out.extra_maps.emplace_back("weight_std", per_pixel(s.weight_std));
        out.statistics.insert(out.statistics.end(), {{"stability_repeats", static_cast<double>(runs)},
                                                     {"stability_mean_jaccard", s.mean_jaccard},
                                                     {"stability_min_jaccard", s.min_jaccard},
                                                     {"stability_mean_r2", s.mean_score}});
    }
    return out;
}

template <Classifier Model>
AnyExplanation explain_rise(const Model& model, const ExplainerSettings& settings, const Image& image,
                            const Target& target, const Progress& progress) {
    RiseOptions options = settings.rise;
    options.progress = progress;
    const RiseExplanation r = Rise<Model>(model, std::move(options)).explain(image, Targets{target});
    AnyExplanation out;
    out.method = "rise";
    out.target = r.classes.at(0);
    out.raw = plane(r.saliency, 0);
    out.map = positive_display_map(out.raw);
    out.extra_maps.emplace_back("standard_error", plane(r.standard_error, 0));
    out.statistics = {{"masks_used", static_cast<double>(r.masks_used.at(0))},
                      {"relative_standard_error", r.relative_standard_error.at(0)},
                      {"converged", r.converged.at(0) ? 1.0 : 0.0}};
    return out;
}

template <Classifier Model>
AnyExplanation explain_occlusion(const Model& model, const ExplainerSettings& settings, const Image& image,
                                 const Target& target, const Progress& progress) {
    OcclusionOptions options = settings.occlusion;
    options.progress = progress;
    const ScoreKind kind = options.score;
    const OcclusionExplanation r = Occlusion<Model>(model, std::move(options)).explain(image, Targets{target});
    AnyExplanation out;
    out.method = "occlusion";
    out.target = r.classes.at(0);
    out.raw = plane(r.saliency, 0);
    out.map = positive_display_map(out.raw);
    out.statistics = {{std::string(to_string(kind)), r.scores.at(0)}, {"windows", static_cast<double>(r.windows)}};
    return out;
}

[[noreturn]] inline void unsupported(const MethodInfo& info) {
    throw invalid_argument(message("xai::make_explainer(): method '", info.name, "' needs a ", info.needs,
                                   " (core/concepts.hpp), and this model type is not one"));
}

}  // namespace detail

/// An explainer chosen at run time; move-only. Made by make_explainer().
class AnyExplainer {
public:
    /// Wraps an implementation of method `info`; use make_explainer() rather than this.
    AnyExplainer(const MethodInfo& info, std::unique_ptr<const detail::ExplainerBase> impl)
        : info_(&info), impl_(std::move(impl)) {}

    /// The method this explainer runs (name, what model it needs, …).
    const MethodInfo& method() const { return *info_; }

    /// Explains one image (C×H×W, the model's input shape) for `target` (default: the
    /// predicted class). `progress` is called by the methods with reports_progress.
    AnyExplanation explain(const Image& image, const Target& target = Target::predicted(),
                           const Progress& progress = {}) const {
        return impl_->explain(image, target, progress);
    }

private:
    const MethodInfo* info_;
    std::unique_ptr<const detail::ExplainerBase> impl_;
};

/// The explainer of method `name` (one of explanation_methods) on `model`, which must outlive
/// it. invalid_argument for an unknown name, a method the model type cannot serve (CAM needs
/// a FeatureModel, …), an unknown layer, or options the method's constructor refuses (each
/// explainer is built once here to run its checks, then once per explain() call, when the
/// progress callback is known).
template <Classifier Model>
AnyExplainer make_explainer(std::string_view name, const Model& model, ExplainerSettings settings = {}) {
    const MethodInfo& info = method_info(name);
    const std::string_view n = info.name;
    const Model* m = &model;
    const auto wrap = [&info](auto function) {
        using Function = decltype(function);
        return AnyExplainer(info, std::make_unique<const detail::ExplainerWrapper<Function>>(std::move(function)));
    };
    if (n == "cam") {
        if constexpr (FeatureModel<Model>) {
            CamOptions options = settings.cam;
            options.layer.clear();
            const Cam<Model> check(model, options);
            return wrap([m, options](const Image& image, const Target& target, const Progress&) {
                return detail::from_cam("cam", Cam<Model>(*m, options).explain(as_batch(image), Targets{target}));
            });
        }
    }
    if constexpr (LayerActivationModel<Model>) {
        if (info.uses_layer) {
            const std::vector<std::string> layers =
                settings.layers.empty() ? std::vector<std::string>{default_explained_layer(model)} : settings.layers;
            for (const std::string& layer : layers) detail::require_layer(model, layer, "xai::make_explainer()");
            const auto cam_family = [&]<class Explainer>(std::type_identity<Explainer>, auto options) {
                options.layer = layers.front();
                const Explainer check(model, options);
                return wrap([m, options, layers, n](const Image& image, const Target& target, const Progress& progress) {
                    return detail::explain_cam_layers(n, Explainer(*m, options), image, target, layers, progress);
                });
            };
            if constexpr (LayerGradientModel<Model>) {
                if (n == "gradcam") return cam_family(std::type_identity<GradCam<Model>>{}, settings.cam);
                if (n == "gradcam++") return cam_family(std::type_identity<GradCamPlusPlus<Model>>{}, settings.cam);
                if (n == "xgradcam") return cam_family(std::type_identity<XGradCam<Model>>{}, settings.cam);
                if (n == "hirescam") return cam_family(std::type_identity<HiResCam<Model>>{}, settings.cam);
                if (n == "layercam") return cam_family(std::type_identity<LayerCam<Model>>{}, settings.cam);
            }
            if (n == "scorecam") return cam_family(std::type_identity<ScoreCam<Model>>{}, settings.score_cam);
            if (n == "eigencam") return cam_family(std::type_identity<EigenCam<Model>>{}, settings.cam);
            if constexpr (LayerForwardModel<Model>) {
                if (n == "ablationcam") return cam_family(std::type_identity<AblationCam<Model>>{}, settings.ablation_cam);
            }
        }
    }
    if (n == "lime") {
        detail::require(static_cast<bool>(settings.lime_segmentation),
                        "xai::make_explainer(): settings.lime_segmentation is empty, expected a segmentation policy");
        const Lime<Model> check(model, settings.lime);
        return wrap([m, settings](const Image& image, const Target& target, const Progress& progress) {
            return detail::explain_lime(*m, settings, image, target, progress);
        });
    }
    if (n == "rise") {
        const Rise<Model> check(model, settings.rise);
        return wrap([m, settings](const Image& image, const Target& target, const Progress& progress) {
            return detail::explain_rise(*m, settings, image, target, progress);
        });
    }
    if (n == "occlusion") {
        const Occlusion<Model> check(model, settings.occlusion);
        return wrap([m, settings](const Image& image, const Target& target, const Progress& progress) {
            return detail::explain_occlusion(*m, settings, image, target, progress);
        });
    }
    detail::unsupported(info);  // a CAM-family method this model type cannot serve
}

/// The explainer keeps a pointer to the model: a temporary would dangle.
template <Classifier Model>
AnyExplainer make_explainer(std::string_view, const Model&&, ExplainerSettings = {}) = delete;

}  // namespace xai
