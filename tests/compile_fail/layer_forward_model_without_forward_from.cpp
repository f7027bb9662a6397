// expect: LayerForwardModel
// Ablation-CAM reruns the network from the explained layer: a model without forward_from() is
// refused, naming the concept.
#include <string>
#include <vector>

#include "classifier_parts.hpp"
#include "xai/cam.hpp"

struct NoForwardFrom {
    XAI_COMPILE_FAIL_CLASSIFIER
    std::vector<std::string> layer_names() const { return {"conv"}; }
    xai::LayerOutput layer_activations(const xai::Batch&, const std::string&) const { return {}; }
};

int main() {
    const NoForwardFrom model;
    const xai::AblationCam<NoForwardFrom> ablation_cam(model);
    return static_cast<int>(ablation_cam.explain(xai::Image(xt::zeros<float>({1, 4, 4}))).size());
}
