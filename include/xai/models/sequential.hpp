#pragma once
// The built-in reference CNN: include this header. It is split by job under sequential/:
//
//   sequential/layers.hpp        LayerSpec and its builders (conv2d, relu, max_pool2d,
//                                global_avg_pool, flatten, linear), Layer, resolving a layer
//                                against its input shape, automatic layer names
//   sequential/sequential.hpp    BasicSequential<Scalar> (Sequential = float): state, add(),
//                                description, parameters, the concept API; load(), load_as()
//   sequential/weights_file.hpp  the .xaiw format (WeightsFile, read/write_weights_file)
//   sequential/detail/           the internals: kernels.hpp (per-image layer kernels),
//                                engine.hpp (forward, backward, R-operator passes),
//                                initialize.hpp, describe.hpp, serialization.hpp
//
// Training is in models/training.hpp, the shipped models in models/builtin.hpp, a gradient
// checker for any model in models/gradient_check.hpp.

#include "xai/models/sequential/layers.hpp"
#include "xai/models/sequential/sequential.hpp"
#include "xai/models/sequential/weights_file.hpp"
