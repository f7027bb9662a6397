#pragma once
// The ONNX adapter (link target xai::onnx; docs/onnx.md): OnnxModel runs an ONNX classifier
// with OpenCV's DNN module (Classifier and LayerActivationModel: the black-box methods,
// Score-CAM and Eigen-CAM; no gradients), and export_onnx writes the built-in CNN as an ONNX
// file. Not part of the umbrella header xai/xai.hpp: only programs that link OpenCV include it.
// Exporting a LibTorch network needs LibTorch too: include "xai/models/onnx/export_torch.hpp".

#include "xai/models/onnx/export.hpp"
#include "xai/models/onnx/model.hpp"
