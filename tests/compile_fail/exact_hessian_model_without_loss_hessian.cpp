// expect: ExactHessianModel
// ExactHessianModel is an optional capability: ExactSolver uses loss_hessian() when a model has
// it and forms the Hessian from Hessian-vector products otherwise, so no explainer requires it.
// A function constrained on the concept must still refuse a model without loss_hessian(),
// naming the concept.
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

template <xai::ExactHessianModel M>
Eigen::Index hessian_size(const M& model, const xai::Batch& images, const xai::Labels& labels) {
    return model.loss_hessian(images, labels).rows();
}

int main() {
    const NoExactHessian model;
    const xai::Batch images = xt::zeros<float>({2, 1, 4, 4});
    return static_cast<int>(hessian_size(model, images, xai::Labels{0, 1}));
}
