#pragma once
// Choosing a method by name at run time (docs/architecture.md): AnyExplainer, make_explainer(),
// the method table explanation_methods and ExplainerSettings. Not part of the umbrella header
// xai/xai.hpp: it instantiates every method for the model type it is used with.

#include "xai/runtime/any_explainer.hpp"
#include "xai/runtime/methods.hpp"
#include "xai/runtime/settings.hpp"
