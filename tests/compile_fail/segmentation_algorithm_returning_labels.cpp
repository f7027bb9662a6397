// expect: SegmentationAlgorithm
// LIME's superpixels are a policy: a callable that returns raw labels instead of a
// xai::Segmentation is refused, naming the policy's concept.
#include <vector>

#include "classifier_parts.hpp"
#include "xai/lime.hpp"

struct Classifier {
    XAI_COMPILE_FAIL_CLASSIFIER
};

struct LabelsOnly {
    std::vector<int> operator()(const xai::Image& image) const { return std::vector<int>(image.size(), 0); }
};

int main() {
    const Classifier model;
    const xai::Lime<Classifier, LabelsOnly> lime(model);
    return static_cast<int>(lime.explain(xai::Image(xt::zeros<float>({1, 4, 4}))).size());
}
