// xai-explain: the tool without LibTorch, which refuses TorchScript files and names the program
// that reads them.
#include <string>
#include <string_view>

#include "backends.hpp"

namespace xai_explain {

extern const std::string_view program_name = "xai-explain";

int explain_torchscript_file(const Arguments& a, ModelInfo&, Console&) {
    throw Failure(ExitCode::model, "'" + a.model + "' is a TorchScript model, and " + std::string(program_name) +
                                       " was built without LibTorch: use xai-explain-torch (built when CMake "
                                       "finds LibTorch, docs/torch.md)");
}

}  // namespace xai_explain
