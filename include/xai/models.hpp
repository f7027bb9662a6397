#pragma once
// The built-in models (docs/models.md): the Sequential CNN written with Eigen (every model
// concept, exact Hessian-vector products), the two trained CNNs that ship with the library
// (load_builtin), L2 logistic regression, training (Adam/SGD), and the gradient checker users
// run on their own models. The LibTorch and ONNX adapters have their own headers and link
// targets (xai/torch.hpp).

#include "xai/models/builtin.hpp"
#include "xai/models/gradient_check.hpp"
#include "xai/models/logistic_regression.hpp"
#include "xai/models/sequential.hpp"
#include "xai/models/training.hpp"
