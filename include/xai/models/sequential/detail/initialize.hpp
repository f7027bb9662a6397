#pragma once
// The initialisation of the built-in CNN's parameters (models/sequential.hpp): He-uniform
// weights, U(−√(6/fan_in), √(6/fan_in)) (He et al. 2015, "Delving Deep into Rectifiers", suited
// to ReLU), and PyTorch's default biases, U(−1/√fan_in, 1/√fan_in). Layer l draws from
// Rng::stream(seed, l), weights then biases in storage order, so a layer's initial values depend
// only on the seed, its index and its shape: reinitializing one layer with the model's seed
// restores exactly its initial values (the cascading-randomization sanity check relies on it).

#include <cmath>
#include <cstddef>
#include <cstdint>

#include "xai/core/random.hpp"
#include "xai/models/sequential/layers.hpp"

namespace xai::models::detail {

/// Draws the parameters of layer `l`, the model's layer number `index`, from
/// Rng::stream(seed, index) into the flat parameter buffer `params` (see the header comment).
/// Layers without parameters are left alone.
template <class Scalar>
void initialize_layer(const Layer& l, std::size_t index, std::uint64_t seed, Scalar* params) {
    if (!l.has_parameters()) return;
    Rng rng = Rng::stream(seed, index);
    const double fan_in = static_cast<double>(l.fan_in());
    const double weight_bound = std::sqrt(6.0 / fan_in), bias_bound = 1.0 / std::sqrt(fan_in);
    for (std::size_t i = 0; i < l.weight_size; ++i)
        params[l.weight_offset + i] = static_cast<Scalar>(rng.uniform(-weight_bound, weight_bound));
    for (std::size_t i = 0; i < l.bias_size; ++i)
        params[l.bias_offset + i] = static_cast<Scalar>(rng.uniform(-bias_bound, bias_bound));
}

}  // namespace xai::models::detail
