// expect: ElementwiseRule
// An element-wise rule without `name` (the explainer's name in error messages) is not an
// ElementwiseRule: the concept promises everything GradientCam uses, so a rule that lacks
// part of it is refused by the concept, not by an error deep inside the explainer.
#include "xai/cam.hpp"

struct NamelessProduct {
    static float element(float a, float g) { return a * g; }
};

template <xai::ElementwiseRule Rule>
float term(float a, float g) {
    return Rule::element(a, g);
}

int main() { return static_cast<int>(term<NamelessProduct>(1.0f, 2.0f)); }
