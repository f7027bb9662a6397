#pragma once
// Compiled mode (core/compiled.hpp): the explicit instantiation declarations of the explainers
// that src/compiled.cpp instantiates for the built-in model type. Included by
// models/sequential/sequential.hpp and explain/cam/grad_cam.hpp, by whichever of the two comes
// second (each defines its marker macro), so a program pays nothing for the pair it does not use.
// It includes neither: both are in when it is reached, and models never include explainers
// (docs/architecture.md).

#if defined(XAI_COMPILED_LIB)  // always, where it is included; keeps it out of the API reference
namespace xai {
extern template CamResult GradientCam<models::Sequential, GradCamRule>::explain<Batch>(const Batch&, const Targets&,
                                                                                       const Progress&) const;
extern template CamResult GradientCam<models::Sequential, GradCamRule>::explain<Image>(const Image&, Target,
                                                                                       const Progress&) const;
}  // namespace xai
#endif
