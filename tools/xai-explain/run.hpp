#pragma once
// xai-explain as a function: run(arguments, console) → exit status, so that the tests call the
// tool directly (tests/test_cli*.cpp) and main() is one line (tools/xai-explain/main.cpp). It
// parses the command line (arguments.hpp), answers --help and the --list-* questions, loads the
// model — picking the adapter from the file: a built-in name or a weights file (.xaiw) is the
// built-in CNN, .onnx the ONNX adapter (onnx_model.hpp, in a build with XAI_WITH_ONNX), .pt the
// LibTorch adapter (torch_model.hpp, xai-explain-torch) — and hands it to explain_images()
// (explain.hpp). docs/cli.md is the manual.

#include <exception>
#include <iostream>
#include <string>
#include <vector>

#include <unistd.h>

#include "arguments.hpp"
#include "explain.hpp"
#include "models.hpp"
#ifdef XAI_EXPLAIN_WITH_TORCH
#include "torch_model.hpp"
#endif
#ifdef XAI_EXPLAIN_WITH_ONNX
#include "onnx_model.hpp"
#endif

namespace xai_explain {

/// The whole tool: parses `args` (without the program name), explains, returns the exit status.
inline int run(const std::vector<std::string>& args, Console console) {
    const std::string program(program_name);
    try {
        const Arguments a = parse_arguments(args);
        if (a.help) {
            console.out << usage_text();
            return 0;
        }
        if (a.list_methods) {
            for (const xai::MethodInfo& m : xai::explanation_methods) {
                const std::string name(m.name);
                console.out << name << std::string(name.size() < 13 ? 13 - name.size() : 1, ' ') << m.title << " ("
                            << m.paper << "), needs a " << m.needs << "\n";
            }
            console.out << "influence    Influence functions (Koh & Liang, ICML 2017), of the last layer: needs a "
                           "FeatureModel and --train; not part of all\n";
            return 0;
        }
        if (a.list_models) {
            list_models(console.out);
            return 0;
        }
        if (a.model.empty()) throw Failure(ExitCode::usage, "--model is required (see --help)");
        ModelInfo info;
        if (is_torchscript(a.model)) {
#ifdef XAI_EXPLAIN_WITH_TORCH
            const xai::models::TorchModel model = load_torch_model(a, info);
            return explain_images(model, info, a, console);
#else
            throw Failure(ExitCode::model, "'" + a.model + "' is a TorchScript model, and " + program +
                                               " was built without LibTorch: use xai-explain-torch (built when CMake "
                                               "finds LibTorch, docs/torch.md)");
#endif
        }
        if (is_onnx(a.model)) {
#ifdef XAI_EXPLAIN_WITH_ONNX
            const xai::models::OnnxModel model = load_onnx_model(a, info);
            return explain_images(model, info, a, console);
#else
            throw Failure(ExitCode::model, "'" + a.model + "' is an ONNX model, and " + program +
                                               " was built without the ONNX adapter: install OpenCV's DNN module "
                                               "(libopencv-dnn-dev) and build again (XAI_WITH_ONNX, docs/onnx.md)");
#endif
        }
        const xai::models::Sequential model = load_sequential(a, info);
        return explain_images(model, info, a, console);
    } catch (const Failure& f) {
        console.err << program << ": " << first_line(f.what()) << "\n";
        return static_cast<int>(f.code());
    } catch (const std::exception& e) {
        console.err << program << ": " << first_line(e.what()) << "\n";
        return static_cast<int>(ExitCode::failure);
    }
}

/// run() on main()'s arguments, with the process's streams.
inline int run(int argc, char** argv) {
    const std::vector<std::string> args(argv + 1, argv + argc);
    return run(args, Console{std::cout, std::cerr, isatty(STDERR_FILENO) == 1});
}

}  // namespace xai_explain
