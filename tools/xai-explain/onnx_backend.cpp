// The tool's ONNX adapter (onnx_model.hpp), in builds with OpenCV's dnn (XAI_WITH_ONNX).
#include "xai/core/eigen.hpp"  // first: before anything that includes Eigen

#include "backends.hpp"
#include "explain.hpp"
#include "onnx_model.hpp"

namespace xai_explain {

int explain_onnx_file(const Arguments& a, ModelInfo& info, Console& console) {
    const xai::models::OnnxModel model = load_onnx_model(a, info);
    return explain_images(model, info, a, console);
}

}  // namespace xai_explain
