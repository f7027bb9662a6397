#pragma once
// The model adapters that depend on optional packages, as functions defined in their own files so
// that each is compiled once and a build without the package links the file that refuses instead
// (tools/CMakeLists.txt picks):
//   explain_torchscript_file  torch_backend.cpp (LibTorch: xai-explain-torch) or without_torch.cpp
//   explain_onnx_file         onnx_backend.cpp (OpenCV's dnn, XAI_WITH_ONNX) or without_onnx.cpp

#include "arguments.hpp"
#include "models.hpp"
#include "run.hpp"

namespace xai_explain {

/// Loads the TorchScript file(s) of --model and explains the images with it; or, in a build
/// without LibTorch, Failure(model) naming the program that reads them.
int explain_torchscript_file(const Arguments& a, ModelInfo& info, Console& console);

/// Loads the ONNX file of --model and explains the images with it; or, in a build without
/// OpenCV's dnn, Failure(model) saying what to install.
int explain_onnx_file(const Arguments& a, ModelInfo& info, Console& console);

}  // namespace xai_explain
