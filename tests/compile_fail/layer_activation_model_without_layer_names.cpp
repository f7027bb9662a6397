// expect: LayerActivationModel
// Score-CAM needs the activations of a named layer: a model without layer_names() is refused.
#include <string>

#include "classifier_parts.hpp"
#include "xai/cam.hpp"

struct NoLayerNames {
    XAI_COMPILE_FAIL_CLASSIFIER
    xai::LayerOutput layer_activations(const xai::Batch&, const std::string&) const { return {}; }
};

int main() {
    const NoLayerNames model;
    const xai::ScoreCam<NoLayerNames> score_cam(model);
    return static_cast<int>(score_cam.explain(xai::Image(xt::zeros<float>({1, 4, 4}))).size());
}
