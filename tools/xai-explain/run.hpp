#pragma once
// xai-explain as a function: run(arguments, console) → exit status, so that the tests call the
// tool directly (tests/test_cli*.cpp) and main() is one line (main.cpp). run.cpp parses the
// command line (arguments.hpp), answers --help and the --list-* questions, loads the model —
// picking the adapter from the file: a built-in name or a weights file (.xaiw) is the built-in
// CNN, .onnx the ONNX adapter (onnx_backend.cpp), .pt the LibTorch adapter (torch_backend.cpp,
// xai-explain-torch) — and hands it to explain_images() (explain.hpp). docs/cli.md is the manual.
//
// This header only declares: the tool's code is compiled once (tools/CMakeLists.txt's object
// libraries) and linked into the programs, their tests and their benchmark, instead of being
// compiled again in each of them.

#include <ostream>
#include <string>
#include <vector>

namespace xai_explain {

/// Where the tool writes: results on `out`, notes, progress and errors on `err`.
struct Console {
    std::ostream& out;
    std::ostream& err;
    bool err_is_terminal = false;  ///< draw the status line (unless --quiet)
};

/// The whole tool: parses `args` (without the program name), explains, returns the exit status.
int run(const std::vector<std::string>& args, Console console);

/// run() on main()'s arguments, with the process's streams.
int run(int argc, char** argv);

}  // namespace xai_explain
