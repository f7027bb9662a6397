#pragma once
// --metrics: how faithful each map is, scored with the library's metrics (include/xai/metrics/)
// on the images of a batch and the maps a method gave them:
//
//   deletion   the area under the deletion curve (Petsiuk et al., RISE, BMVC 2018): lower is better
//   insertion  the area under the insertion curve: higher is better
//   drop       100 · max(0, Y − O) / Y, Y the target's probability on the image and O on the image
//              multiplied by the map (Chattopadhay et al., Grad-CAM++, WACV 2018): its mean over
//              images is the Average Drop %, lower is better
//   increase   1 when O > Y, else 0: its mean × 100 is the Increase in Confidence %, higher is better
//
// with the library's defaults (CausalMetricOptions, ConfidenceOptions): the image as the model
// takes it (normalized for TorchScript and ONNX models, so "deleted" pixels become the mean
// colour, as the references do on their normalized tensors), the method's display maps at the
// input's size, the explained class as the target.

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "xai/core/concepts.hpp"
#include "xai/core/progress.hpp"
#include "xai/core/target.hpp"
#include "xai/core/tensor.hpp"
#include "xai/metrics/confidence.hpp"
#include "xai/metrics/deletion_insertion.hpp"

namespace xai_explain {

/// Per image, the named figures of `metrics` (names of metric_names) for maps N×H×W on images
/// N×C×H×W and the classes explained. `progress(name)` gives the callback of each metric.
template <xai::Classifier Model, class ProgressFor>
std::vector<std::vector<std::pair<std::string, double>>> score_maps(const Model& model, const xai::Batch& images,
                                                                    const xai::Maps& maps,
                                                                    const std::vector<std::size_t>& targets,
                                                                    const std::vector<std::string>& metrics,
                                                                    std::size_t threads, ProgressFor&& progress) {
    const std::size_t n = images.shape(0);
    xai::Targets explained;
    for (std::size_t t : targets) explained.push_back(xai::Target::class_index(t));
    std::vector<std::vector<std::pair<std::string, double>>> out(n);
    bool confidence_done = false;
    for (const std::string& metric : metrics) {
        if (metric == "deletion" || metric == "insertion") {
            xai::CausalMetricOptions options;
            options.threads = threads;
            const xai::Progress callback = progress(metric);
            const xai::CausalCurves curves = metric == "deletion"
                                                 ? xai::deletion(model, images, maps, explained, options, callback)
                                                 : xai::insertion(model, images, maps, explained, options, callback);
            for (std::size_t i = 0; i < n; ++i) out[i].emplace_back(metric + "_auc", curves.auc[i]);
        } else if (!confidence_done) {  // drop and increase come from one pass
            xai::ConfidenceOptions options;
            options.threads = threads;
            const xai::ConfidenceResult r = xai::confidence_change(model, images, maps, explained, options);
            for (std::size_t i = 0; i < n; ++i) {
                for (const std::string& m : metrics) {
                    if (m == "drop") out[i].emplace_back("drop_percent", 100.0 * r.drop[i]);
                    if (m == "increase") out[i].emplace_back("confidence_increased", r.explained[i] > r.original[i] ? 1.0 : 0.0);
                }
            }
            confidence_done = true;
        }
    }
    return out;
}

}  // namespace xai_explain
