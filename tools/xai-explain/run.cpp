// xai-explain's command line and the built-in models (run.hpp declares; docs/cli.md is the
// manual). The TorchScript and ONNX adapters are in their own files (backends.hpp).
#include "xai/core/eigen.hpp"  // first: before anything that includes Eigen

#include "run.hpp"

#include <exception>
#include <iostream>
#include <string>
#include <vector>

#include <unistd.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include "arguments.hpp"
#include "backends.hpp"
#include "explain.hpp"
#include "models.hpp"

namespace xai_explain {

namespace {

/// glibc's malloc serves blocks above 128 KiB (a 192×192 RGB picture in float is 432 KiB) with
/// fresh mmap()s and gives freed memory back to the system early, so each image's pictures
/// fault their pages in again: 530 page faults and about 13 % of the tool's CPU time per 64×64
/// image with Grad-CAM (docs/cli.md, "Performance"). Blocks up to 32 MiB now come from the heap
/// and up to 128 MiB of freed heap is kept for the next image; a 12-megapixel photo in float is
/// larger and still gets its own mapping. Process-wide, set once, as suits a command-line tool.
void keep_freed_memory() {
#if defined(__GLIBC__)
    static const bool once = [] {
        mallopt(M_MMAP_THRESHOLD, 32 << 20);
        mallopt(M_TRIM_THRESHOLD, 128 << 20);
        return true;
    }();
    (void)once;
#endif
}

}  // namespace

int run(const std::vector<std::string>& args, Console console) {
    keep_freed_memory();
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
        if (is_torchscript(a.model)) return explain_torchscript_file(a, info, console);
        if (is_onnx(a.model)) return explain_onnx_file(a, info, console);
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

int run(int argc, char** argv) {
    const std::vector<std::string> args(argv + 1, argv + argc);
    return run(args, Console{std::cout, std::cerr, isatty(STDERR_FILENO) == 1});
}

}  // namespace xai_explain
