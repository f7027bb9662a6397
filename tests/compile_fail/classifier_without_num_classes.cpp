// expect: Classifier
// A model without num_classes() is not a Classifier: a function constrained on the concept
// must refuse it at compile time, and the error must name the concept.
#include "xai/xai.hpp"

struct NoNumClasses {
    xai::Scores forward(const xai::Batch& x) const { return xt::zeros<float>({x.shape(0), std::size_t{2}}); }
    xai::ImageShape input_shape() const { return {1, 2, 2}; }
};

int main() {
    const xai::Batch x = xt::zeros<float>({1, 1, 2, 2});
    return static_cast<int>(xai::detail::checked_forward(NoNumClasses{}, x, "compile_fail").size());
}
