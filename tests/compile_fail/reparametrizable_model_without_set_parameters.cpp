// expect: ReparametrizableModel
// I_pert,loss needs the mixed derivative (∇x∇θ L) v: in closed form (MixedDerivativeModel) or by
// a central difference over copies of the model with new parameters (ReparametrizableModel). A
// twice-differentiable model with input gradients but neither is refused, naming both concepts.
#include "classifier_parts.hpp"
#include "xai/influence.hpp"

struct NoSetParameters {
    XAI_COMPILE_FAIL_CLASSIFIER
    XAI_COMPILE_FAIL_LOSS_GRADIENTS
    Eigen::VectorXd loss_hessian_vector_product(const xai::Batch&, const xai::Labels&, const Eigen::VectorXd& v) const {
        return v;
    }
    xai::InputGradients input_gradients(const xai::Batch& x, const xai::ScoreSeed&) const {
        return {xai::Batch(xt::zeros<float>(x.shape())), forward(x)};
    }
};

int main() {
    const NoSetParameters model;
    const xai::Batch images = xt::zeros<float>({2, 1, 4, 4});
    const xai::Labels labels{0, 1};
    const xai::Influence<NoSetParameters> influence(model, images, labels);
    const xai::Image test = xt::zeros<float>({1, 4, 4});
    return static_cast<int>(influence.perturbation_influence(test, xai::Target::class_index(0), {0}).size());
}
