// expect: FeatureModel
// CAM needs the final feature maps and the classifier weights after global average pooling: a
// model with forward_features() but no classifier_weights() is refused, naming the concept.
#include "classifier_parts.hpp"
#include "xai/cam.hpp"

struct NoClassifierWeights {
    XAI_COMPILE_FAIL_CLASSIFIER
    xai::FeatureOutput forward_features(const xai::Batch&) const { return {}; }
};

int main() {
    const NoClassifierWeights model;
    const xai::Cam<NoClassifierWeights> cam(model);
    return static_cast<int>(cam.explain(xai::Image(xt::zeros<float>({1, 4, 4}))).size());
}
