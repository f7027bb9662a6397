// expect: Explainer
// The metrics take any Explainer: a type with only the batch form of explain() (no
// explain(const Image&, Target, const Progress&)) is not one, and deletion() says so.
#include "classifier_parts.hpp"
#include "xai/metrics.hpp"

struct Classifier {
    XAI_COMPILE_FAIL_CLASSIFIER
};

struct BatchOnly {
    xai::Explanation explain(const xai::Batch&, const xai::Targets& = {}, const xai::Progress& = {}) const { return {}; }
};

int main() {
    const Classifier model;
    const xai::Batch images = xt::zeros<float>({1, 1, 4, 4});
    return static_cast<int>(xai::deletion(model, images, BatchOnly{}).auc.size());
}
