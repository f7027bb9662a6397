#pragma once
// The LibTorch adapter (link target xai::torch; docs/torch.md): TorchModel wraps a C++-frontend
// module or TorchScript files and satisfies every model concept; the built-in CNN and
// ResNet-18 written with LibTorch's C++ frontend; weights saved by torch.save. Not part of the
// umbrella header xai/xai.hpp: only programs that link LibTorch include it.

#include "xai/image/preprocess.hpp"  // the input pipeline of torchvision-style models (needs no LibTorch)
#include "xai/models/torch/model.hpp"
#include "xai/models/torch/builtin.hpp"
#include "xai/models/torch/resnet.hpp"
#include "xai/models/torch/weights.hpp"
