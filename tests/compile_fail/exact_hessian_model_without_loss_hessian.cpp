// expect: ExactHessianModel
// The exact inverse-Hessian solver forms the Hessian: a twice-differentiable model without
// loss_hessian() can use conjugate gradients or LiSSA, but not ExactSolver.
#include <vector>

#include "classifier_parts.hpp"
#include "xai/influence.hpp"

struct NoExactHessian {
    XAI_COMPILE_FAIL_CLASSIFIER
    XAI_COMPILE_FAIL_LOSS_GRADIENTS
    Eigen::VectorXd loss_hessian_vector_product(const xai::Batch&, const xai::Labels&, const Eigen::VectorXd& v) const {
        return v;
    }
};

int main() {
    const NoExactHessian model;
    const xai::Batch images = xt::zeros<float>({2, 1, 4, 4});
    const xai::Labels labels{0, 1};
    const xai::Influence<NoExactHessian, xai::ExactSolver> influence(model, images, labels);
    return static_cast<int>(influence.explain(xai::Image(xt::zeros<float>({1, 4, 4}))).size());
}
