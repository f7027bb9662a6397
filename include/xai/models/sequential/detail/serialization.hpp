#pragma once
// The built-in CNN's parameters to and from the tensors of a WeightsFile (the .xaiw format of
// weights_file.hpp): one float32 tensor per parameter block, named and shaped as
// parameter_blocks() and PyTorch lay them out ("conv1.weight" O×C×k×k, "conv1.bias" O, …), in
// the order of the flat parameter vector. BasicSequential::to_weights_file(),
// from_weights_file(), save() and load_parameters() are built on these.

#include <cstddef>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "xai/core/error.hpp"
#include "xai/core/tensor.hpp"
#include "xai/models/sequential/detail/describe.hpp"
#include "xai/models/sequential/layers.hpp"
#include "xai/models/sequential/weights_file.hpp"

namespace xai::models::detail {

/// The architecture and parameters of a model as a WeightsFile (parameters rounded to float32).
template <class Scalar>
WeightsFile weights_file_of(const ImageShape& input, std::size_t num_classes, double l2_regularization,
                            const std::vector<Layer>& layers, std::span<const Scalar> params) {
    WeightsFile file;
    file.input = input;
    file.num_classes = num_classes;
    file.l2_regularization = l2_regularization;
    for (const Layer& l : layers) {
        file.layers.push_back(l.spec);
        if (!l.has_parameters()) continue;
        for (bool weight : {true, false}) {
            NamedTensor t{l.spec.name + (weight ? ".weight" : ".bias"), parameter_shape(l, weight), {}};
            const std::size_t offset = weight ? l.weight_offset : l.bias_offset;
            const std::size_t size = weight ? l.weight_size : l.bias_size;
            t.values.resize(size);
            for (std::size_t i = 0; i < size; ++i) t.values[i] = static_cast<float>(params[offset + i]);
            file.tensors.push_back(std::move(t));
        }
    }
    return file;
}

/// The layers of `file` decide how many parameters a model built from it allocates: io_error
/// unless the file's tensors hold that many values. The tensors were checked against the
/// file's real size when it was read, so checking this BEFORE building the model refuses a small
/// file that declares a huge architecture without allocating it. Shapes only; `where` names the
/// builder in the messages of invalid layers (invalid_argument, shape_error).
inline void require_stored_parameters(const WeightsFile& file, const char* where) {
    std::size_t stored = 0, needed = 0;
    for (const NamedTensor& t : file.tensors) stored += t.values.size();
    FeatureShape shape{file.input.channels, file.input.height, file.input.width, true};
    for (const LayerSpec& spec : file.layers) {
        const Layer l = resolve_layer(spec, shape, where);
        needed += l.weight_size + l.bias_size;
        require<io_error>(needed <= stored, "its layers need more than ", stored,
                          " parameters, the number of values it holds");
        shape = l.output;
    }
}

/// Copies the tensors of `file` into `params`, the parameter buffer of the model built from
/// its layers (`layers`, resolved): io_error naming `source` when a tensor is missing, extra,
/// misnamed, misshapen or not finite.
template <class Scalar>
void read_parameters(const WeightsFile& file, const std::vector<Layer>& layers, std::span<Scalar> params,
                     const std::string& source) {
    std::size_t t = 0;
    for (const Layer& l : layers) {
        if (!l.has_parameters()) continue;
        for (bool weight : {true, false}) {
            const std::string name = l.spec.name + (weight ? ".weight" : ".bias");
            const std::vector<std::size_t> shape = parameter_shape(l, weight);
            require<io_error>(t < file.tensors.size(), "xai::models::load(): '", source, "' lacks tensor '", name, "'");
            const NamedTensor& tensor = file.tensors[t++];
            require<io_error>(tensor.name == name && tensor.shape == shape, "xai::models::load(): '", source,
                              "': tensor ", t - 1, " is '", tensor.name, "' ", shape_string(tensor.shape),
                              ", expected '", name, "' ", shape_string(shape));
            require<io_error>(all_finite(tensor.values), "xai::models::load(): '", source, "': tensor '", name,
                              "' contains NaN or Inf");
            const std::size_t offset = weight ? l.weight_offset : l.bias_offset;
            for (std::size_t i = 0; i < tensor.values.size(); ++i) params[offset + i] = static_cast<Scalar>(tensor.values[i]);
        }
    }
    require<io_error>(t == file.tensors.size(), "xai::models::load(): '", source, "' has ", file.tensors.size(),
                      " tensors, the architecture needs ", t);
}

}  // namespace xai::models::detail
