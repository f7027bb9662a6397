#pragma once
// The three functions every model concept starts from (a complete Classifier), shared by the
// compile-fail tests so that each test adds, on top of it, all but one function of its concept.
#include <cstddef>

#include "xai/core/tensor.hpp"

#define XAI_COMPILE_FAIL_CLASSIFIER                                                                        \
    xai::Scores forward(const xai::Batch& x) const { return xt::zeros<float>({x.shape(0), std::size_t{2}}); } \
    std::size_t num_classes() const { return 2; }                                                         \
    xai::ImageShape input_shape() const { return {1, 4, 4}; }
