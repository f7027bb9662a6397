// The tool in a build without OpenCV's dnn: ONNX files are refused with what to install.
#include <string>

#include "backends.hpp"

namespace xai_explain {

int explain_onnx_file(const Arguments& a, ModelInfo&, Console&) {
    throw Failure(ExitCode::model, "'" + a.model + "' is an ONNX model, and " + std::string(program_name) +
                                       " was built without the ONNX adapter: install OpenCV's DNN module "
                                       "(libopencv-dnn-dev) and build again (XAI_WITH_ONNX, docs/onnx.md)");
}

}  // namespace xai_explain
