// expect: TwiceDifferentiableModel
// Influence functions need Hessian-vector products of the training loss: a model without
// loss_hessian_vector_product() is refused, naming the concept.
#include <vector>

#include "classifier_parts.hpp"
#include "xai/influence.hpp"

struct NoHessianVectorProduct {
    XAI_COMPILE_FAIL_CLASSIFIER
    XAI_COMPILE_FAIL_LOSS_GRADIENTS
};

int main() {
    const NoHessianVectorProduct model;
    const xai::Batch images = xt::zeros<float>({2, 1, 4, 4});
    const xai::Labels labels{0, 1};
    const xai::Influence<NoHessianVectorProduct> influence(model, images, labels);
    return static_cast<int>(influence.explain(xai::Image(xt::zeros<float>({1, 4, 4}))).size());
}
