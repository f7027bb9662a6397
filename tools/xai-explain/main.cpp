// xai-explain: explains an image classifier's decisions from the command line, with every
// method of the library (docs/cli.md; `xai-explain --help`).
//
//   xai-explain --model fashion --image data/samples/fashion --method all --out out
//
// The program is run() (run.hpp; its code in run.cpp and the backend files, compiled once into
// the object libraries of tools/CMakeLists.txt); the tests call the same function
// (tests/test_cli.cpp). Built as xai-explain, and with LibTorch also as xai-explain-torch, which
// reads TorchScript models (torch_backend.cpp).
#include "run.hpp"

int main(int argc, char** argv) { return xai_explain::run(argc, argv); }
