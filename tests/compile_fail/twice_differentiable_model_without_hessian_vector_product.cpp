// expect: TwiceDifferentiableModel
// Influence functions need Hessian-vector products of the training loss: a model without
// loss_hessian_vector_product() is refused, naming the concept.
#include <vector>

#include "classifier_parts.hpp"
#include "xai/influence.hpp"

struct NoHessianVectorProduct {
    XAI_COMPILE_FAIL_CLASSIFIER
    std::size_t num_parameters() const { return 1; }
    Eigen::VectorXd parameters() const { return Eigen::VectorXd::Zero(1); }
    std::vector<xai::ParameterBlock> parameter_blocks() const { return {{"w", 0, 1}}; }
    double l2_regularization() const { return 0.0; }
    Eigen::VectorXd per_example_losses(const xai::Batch& x, const xai::Labels&) const {
        return Eigen::VectorXd::Zero(static_cast<Eigen::Index>(x.shape(0)));
    }
    Eigen::MatrixXd per_example_loss_gradients(const xai::Batch& x, const xai::Labels&) const {
        return Eigen::MatrixXd::Zero(1, static_cast<Eigen::Index>(x.shape(0)));
    }
};

int main() {
    const NoHessianVectorProduct model;
    const xai::Batch images = xt::zeros<float>({2, 1, 4, 4});
    const xai::Labels labels{0, 1};
    const xai::Influence<NoHessianVectorProduct> influence(model, images, labels);
    return static_cast<int>(influence.explain(xai::Image(xt::zeros<float>({1, 4, 4}))).size());
}
