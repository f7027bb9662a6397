#pragma once
// Weights trained in PyTorch, loaded by name into a C++-frontend module (docs/torch.md):
//
//   Python:  torch.save(dict(model.state_dict()), "resnet18_weights.pt")
//   C++:     torch::nn::Sequential net = xai::models::torch_resnet();
//            xai::models::load_state_dict(*net, "resnet18_weights.pt");
//
// The file is what torch.save writes for a plain dict of tensors (the zip format, PyTorch ≥ 1.6),
// read with LibTorch's unpickler (torch::pickle_load). It must be a dict: LibTorch 1.13's
// unpickler cannot read the OrderedDict that state_dict() returns (pytorch/pytorch#100741),
// hence `dict(...)` in the snippet. Keys are the module's parameter and buffer names
// (named_parameters / named_buffers: "layer4.1.conv2.weight", "bn1.running_mean", …), which
// torch_resnet shares with torchvision's ResNets.
//
// Every parameter and buffer of the module must be in the file with the same shape, and every
// tensor of the file must belong to the module: a renamed layer or a different architecture is
// an error that lists the differences, never a half-loaded model. Values are converted to the
// module's dtype.

#include "xai/core/eigen.hpp"  // first: silences GCC 12's false AVX-512 warnings (also reached through LibTorch)

#include <algorithm>
#include <cstddef>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <torch/script.h>
#include <torch/torch.h>

#include "xai/core/error.hpp"

namespace xai::models {

namespace detail {

/// The tensors of a file written by torch.save(dict_of_tensors), by name.
inline std::map<std::string, torch::Tensor> read_tensor_dict(const std::filesystem::path& file, const char* where) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(file, ec))
        throw io_error(xai::detail::message(where, ": '", file.string(),
                                            "' does not exist or is not a file, expected a dict of tensors written by torch.save"));
    std::ifstream in(file, std::ios::binary);
    const std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (!in.good() && !in.eof()) throw io_error(xai::detail::message(where, ": cannot read '", file.string(), "'"));
    c10::IValue value;
    try {
        value = torch::pickle_load(bytes);
    } catch (const c10::Error& e) {
        throw io_error(xai::detail::message(where, ": '", file.string(),
                                            "' is not a file written by torch.save: ", e.what_without_backtrace()));
    }
    if (!value.isGenericDict())
        throw io_error(xai::detail::message(where, ": '", file.string(), "' holds a ", value.tagKind(),
                                            ", expected a dict of tensors (torch.save(dict(model.state_dict()), file))"));
    std::map<std::string, torch::Tensor> tensors;
    for (const auto& entry : value.toGenericDict()) {
        if (!entry.key().isString() || !entry.value().isTensor())
            throw io_error(xai::detail::message(where, ": '", file.string(), "' maps a ", entry.key().tagKind(), " to a ",
                                                entry.value().tagKind(), ", expected names mapped to tensors"));
        tensors.emplace(entry.key().toStringRef(), entry.value().toTensor());
    }
    return tensors;
}

}  // namespace detail

/// Copies the parameters and buffers saved by torch.save(dict(model.state_dict()), file) into
/// `module`, by name. Throws io_error for a missing or unreadable file, and invalid_argument
/// (before changing anything) when names or shapes differ, listing every difference.
inline void load_state_dict(torch::nn::Module& module, const std::filesystem::path& file) {
    constexpr const char* where = "xai::models::load_state_dict()";
    std::map<std::string, torch::Tensor> saved = detail::read_tensor_dict(file, where);
    std::vector<std::pair<std::string, torch::Tensor>> targets;
    for (const auto& p : module.named_parameters()) targets.emplace_back(p.key(), p.value());
    for (const auto& b : module.named_buffers()) targets.emplace_back(b.key(), b.value());

    std::string problems;
    std::size_t count = 0;
    auto note = [&](const std::string& text) {
        if (count++ < 8) problems += "\n  " + text;
    };
    for (const auto& [name, tensor] : targets) {
        const auto it = saved.find(name);
        if (it == saved.end())
            note("'" + name + "' is missing from the file");
        else if (it->second.sizes() != tensor.sizes())
            note("'" + name + "' has shape " + c10::str(it->second.sizes()) + " in the file and " + c10::str(tensor.sizes()) +
                 " in the module");
    }
    for (const auto& [name, tensor] : saved) {
        const bool known = std::any_of(targets.begin(), targets.end(), [&](const auto& t) { return t.first == name; });
        if (!known) note("'" + name + "' of the file is not a parameter or buffer of the module");
    }
    if (count > 8) problems += "\n  … and " + std::to_string(count - 8) + " more";
    xai::detail::require(count == 0, where, ": '", file.string(), "' does not fit the module:", problems);

    torch::NoGradGuard no_grad;
    for (auto& [name, tensor] : targets) tensor.copy_(saved.at(name));
}

}  // namespace xai::models
