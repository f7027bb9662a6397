#pragma once
// The three functions every model concept starts from (a complete Classifier), shared by the
// compile-fail tests so that each test adds, on top of it, all but one function of its concept.
#include <cstddef>

#include <vector>

#include "xai/core/concepts.hpp"
#include "xai/core/tensor.hpp"

#define XAI_COMPILE_FAIL_CLASSIFIER                                                                        \
    xai::Scores forward(const xai::Batch& x) const { return xt::zeros<float>({x.shape(0), std::size_t{2}}); } \
    std::size_t num_classes() const { return 2; }                                                         \
    xai::ImageShape input_shape() const { return {1, 4, 4}; }

// The plain input gradient (InputGradientModel), zeros: what the guided and FullGrad tests add
// to the classifier to show that it is not enough.
#define XAI_COMPILE_FAIL_INPUT_GRADIENTS                                                            \
    xai::InputGradients input_gradients(const xai::Batch& batch, const xai::ScoreSeed&) const {     \
        return {xai::Batch(xt::zeros<float>(batch.shape())), forward(batch)};                       \
    }

// Everything of TwiceDifferentiableModel but loss_hessian_vector_product().
#define XAI_COMPILE_FAIL_LOSS_GRADIENTS                                                           \
    std::size_t num_parameters() const { return 1; }                                              \
    Eigen::VectorXd parameters() const { return Eigen::VectorXd::Zero(1); }                       \
    std::vector<xai::ParameterBlock> parameter_blocks() const { return {{"w", 0, 1}}; }           \
    double l2_regularization() const { return 0.0; }                                              \
    Eigen::VectorXd per_example_losses(const xai::Batch& x, const xai::Labels&) const {           \
        return Eigen::VectorXd::Zero(static_cast<Eigen::Index>(x.shape(0)));                      \
    }                                                                                             \
    Eigen::MatrixXd per_example_loss_gradients(const xai::Batch& x, const xai::Labels&) const {   \
        return Eigen::MatrixXd::Zero(1, static_cast<Eigen::Index>(x.shape(0)));                   \
    }
