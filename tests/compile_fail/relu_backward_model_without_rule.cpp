// expect: ReluBackwardModel
// Guided backpropagation changes the backward pass through the ReLUs: a model that offers only
// the ordinary input gradient (no input_gradients(batch, seed, ReluBackward)) is refused,
// naming the concept.
#include "classifier_parts.hpp"
#include "xai/explain/gradients/guided_backprop.hpp"

struct OnlyInputGradients {
    XAI_COMPILE_FAIL_CLASSIFIER
    XAI_COMPILE_FAIL_INPUT_GRADIENTS
};

int main() {
    const OnlyInputGradients model;
    const xai::GuidedBackprop<OnlyInputGradients> guided(model);
    return static_cast<int>(guided.explain(xai::Batch(xt::zeros<float>({1, 1, 4, 4}))).targets.size());
}
