// expect: InputGradientModel
// The gradient checker's input check differentiates the scores with respect to the input: a
// model without input_gradients() is refused, naming the concept.
#include "classifier_parts.hpp"
#include "xai/models/gradient_check.hpp"

struct NoInputGradients {
    XAI_COMPILE_FAIL_CLASSIFIER
};

int main() {
    const NoInputGradients model;
    const xai::Batch images = xt::zeros<float>({1, 1, 4, 4});
    return static_cast<int>(xai::models::check_input_gradients(model, images).probes);
}
