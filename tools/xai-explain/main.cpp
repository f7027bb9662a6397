// xai-explain: explains an image classifier's decisions from the command line, with every
// method of the library (docs/cli.md; `xai-explain --help`).
//
//   xai-explain --model fashion --image data/samples/fashion --method all --out out
//
// The program is run.hpp's run(); the tests call the same function (tests/test_cli.cpp).
// Built as xai-explain, and with LibTorch also as xai-explain-torch, which reads TorchScript
// models (XAI_EXPLAIN_WITH_TORCH, tools/CMakeLists.txt).
#ifdef XAI_EXPLAIN_WITH_TORCH
#include "xai/torch.hpp"  // first: LibTorch, with GCC 12's false AVX-512 warnings silenced
#endif

#include "run.hpp"

int main(int argc, char** argv) { return xai_explain::run(argc, argv); }
