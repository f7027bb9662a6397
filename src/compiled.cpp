// The opt-in compiled mode's one translation unit (include/xai/core/compiled.hpp): what a
// program using xai::compiled no longer compiles itself; the declarations that keep it from
// doing so are in the headers (core/compiled.hpp, core/compiled_instances.hpp). Built by the
// CMake target xai::compiled with XAI_COMPILED_LIB defined, like every program that links it.
#define XAI_COMPILED_LIB_SOURCE 1

#include "xai/explain/cam/detail/projection.hpp"
#include "xai/explain/cam/grad_cam.hpp"
#include "xai/image/io.hpp"
#include "xai/image/overlay.hpp"
#include "xai/models/builtin.hpp"
#include "xai/models/sequential.hpp"

namespace xai {
namespace detail {
template void eigen_cam_projection<double>(const float*, std::size_t, std::size_t, float*);
template void kernel_pca_projection<double>(const float*, std::size_t, std::size_t, PcaKernel, double, double, double,
                                            float*);
}  // namespace detail
namespace models {
template class detail::Engine<float>;
template class BasicSequential<float>;
}  // namespace models
template CamResult GradientCam<models::Sequential, GradCamRule>::explain<Batch>(const Batch&, const Targets&,
                                                                                const Progress&) const;
template CamResult GradientCam<models::Sequential, GradCamRule>::explain<Image>(const Image&, Target,
                                                                                const Progress&) const;
}  // namespace xai
