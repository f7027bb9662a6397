#pragma once
// Which layer a layer-based CAM method explains: the one asked for, checked against the
// model's layer names, or, when none is asked for, the model's default feature layer.
//
// The default is the input of global average pooling (the layer CAM explains, and the one
// Grad-CAM's paper and pytorch-grad-cam's examples use: the last convolutional block), as the
// model reports it with feature_layer(); a model without one falls back to its last layer
// whose activations are C×h×w when it can tell shapes without a pass (layer_shape()).

#include <algorithm>
#include <concepts>
#include <optional>
#include <string>
#include <vector>

#include "xai/core/concepts.hpp"
#include "xai/core/error.hpp"

namespace xai {

namespace detail {

/// "[a, b, c]" for messages.
inline std::string join_names(const std::vector<std::string>& names) {
    std::string out = "[";
    for (std::size_t i = 0; i < names.size(); ++i) out += (i ? ", " : "") + names[i];
    return out + "]";
}

/// The model's default feature layer among `names` (see the header comment), or nothing.
template <LayerActivationModel Model>
std::optional<std::string> feature_layer_of(const Model& model, const std::vector<std::string>& names) {
    if constexpr (requires { { model.feature_layer() } -> std::convertible_to<std::string>; }) {
        try {
            std::string layer = model.feature_layer();
            if (!layer.empty()) return layer;
        } catch (const model_error&) {
            // a model without global average pooling has no feature layer: fall through
        }
    }
    if constexpr (requires { model.layer_shape(names.back()); }) {  // models that know their shapes without a pass
        for (auto it = names.rbegin(); it != names.rend(); ++it)
            if (model.layer_shape(*it).size() == 3) return *it;
    }
    return std::nullopt;
}

/// Throws invalid_argument unless `layer` is one of `names`.
inline void require_layer_in(const std::vector<std::string>& names, const std::string& layer, const char* where) {
    require(std::find(names.begin(), names.end(), layer) != names.end(), where, ": layer '", layer,
            "' is not a layer of the model, expected one of ", join_names(names));
}

/// Throws invalid_argument unless `layer` is one of the model's layer names.
template <LayerActivationModel Model>
void require_layer(const Model& model, const std::string& layer, const char* where) {
    require_layer_in(model.layer_names(), layer, where);
}

/// The layer an explainer built with options.layer = `layer` explains: `layer` itself when
/// given, else the model's default feature layer; invalid_argument (prefixed by `where`, the
/// explainer's constructor) when the layer is unknown or there is no default.
template <LayerActivationModel Model>
std::string resolve_layer(const Model& model, const std::string& layer, const char* where) {
    const std::vector<std::string> names = model.layer_names();
    if (layer.empty()) {
        require(!names.empty(), where, ": options.layer is empty and the model has no layers, expected at least one");
        std::optional<std::string> found = feature_layer_of(model, names);
        require(found.has_value(), where, ": options.layer is empty and the model names no feature layer, expected "
                "options.layer to be one of ", join_names(names));
        require_layer_in(names, *found, where);
        return *found;
    }
    require_layer_in(names, layer, where);
    return layer;
}

}  // namespace detail

/// The layer the layer-based CAM methods explain when CamOptions::layer is empty: the model's
/// feature layer (the input of global average pooling, as `feature_layer()` reports it), else
/// the last layer whose activations are N×C×h×w (for models with `layer_shape()`);
/// invalid_argument when there is neither.
template <LayerActivationModel Model>
std::string default_layer(const Model& model) {
    const std::vector<std::string> names = model.layer_names();
    detail::require(!names.empty(), "xai::default_layer(): the model has no layers, expected at least one");
    std::optional<std::string> found = detail::feature_layer_of(model, names);
    if (!found)
        throw invalid_argument(detail::message("xai::default_layer(): the model names no feature layer, expected "
                                               "a layer to be chosen from ", detail::join_names(names)));
    return *found;
}

}  // namespace xai
