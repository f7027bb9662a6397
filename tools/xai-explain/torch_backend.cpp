// xai-explain-torch: the tool with LibTorch, which reads TorchScript files (torch_model.hpp).
#include "xai/torch.hpp"  // first: LibTorch, with GCC 12's false AVX-512 warnings silenced

#include <string_view>

#include "backends.hpp"
#include "explain.hpp"
#include "torch_model.hpp"

namespace xai_explain {

extern const std::string_view program_name = "xai-explain-torch";

int explain_torchscript_file(const Arguments& a, ModelInfo& info, Console& console) {
    const xai::models::TorchModel model = load_torch_model(a, info);
    return explain_images(model, info, a, console);
}

}  // namespace xai_explain
