// expect: RandomizableModel
// The sanity check re-initialises the model's layers: a model that cannot is refused, naming
// the concept.
#include <string>
#include <vector>

#include "classifier_parts.hpp"
#include "xai/metrics.hpp"
#include "xai/occlusion.hpp"

struct Fixed {
    XAI_COMPILE_FAIL_CLASSIFIER
    std::vector<std::string> layer_names() const { return {"fc"}; }
};

int main() {
    const Fixed model;
    const xai::Batch images = xt::zeros<float>({1, 1, 4, 4});
    const auto result = xai::model_randomization_test(
        model, [](const Fixed& m) { return xai::Occlusion<Fixed>(m, {.window = 2, .stride = 2}); }, images);
    return static_cast<int>(result.steps.size());
}
