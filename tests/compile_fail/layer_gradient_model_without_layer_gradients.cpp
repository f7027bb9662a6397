// expect: LayerGradientModel
// Grad-CAM needs the gradient of the target score at a layer: a model that only gives
// activations is refused, naming the concept.
#include <string>
#include <vector>

#include "classifier_parts.hpp"
#include "xai/cam.hpp"

struct ActivationsOnly {
    XAI_COMPILE_FAIL_CLASSIFIER
    std::vector<std::string> layer_names() const { return {"conv"}; }
    xai::LayerOutput layer_activations(const xai::Batch&, const std::string&) const { return {}; }
};

int main() {
    const ActivationsOnly model;
    const xai::GradCam<ActivationsOnly> grad_cam(model);
    return static_cast<int>(grad_cam.explain(xai::Image(xt::zeros<float>({1, 4, 4}))).size());
}
