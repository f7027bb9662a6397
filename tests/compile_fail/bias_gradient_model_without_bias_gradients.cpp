// expect: BiasGradientModel
// FullGrad sums the bias-gradients of every layer: a model that offers only the input gradient
// (no bias_gradients(batch, seed)) is refused, naming the concept.
#include "classifier_parts.hpp"
#include "xai/explain/cam/full_grad.hpp"

struct OnlyInputGradients {
    XAI_COMPILE_FAIL_CLASSIFIER
    XAI_COMPILE_FAIL_INPUT_GRADIENTS
};

int main() {
    const OnlyInputGradients model;
    const xai::FullGrad<OnlyInputGradients> full_grad(model);
    return static_cast<int>(full_grad.explain(xai::Batch(xt::zeros<float>({1, 1, 4, 4}))).targets.size());
}
