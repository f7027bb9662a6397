// The opt-in compiled mode's one translation unit (include/xai/core/compiled.hpp): what a
// program using xai::compiled no longer compiles itself. Built by the CMake target xai::compiled
// with XAI_COMPILED_LIB defined, like every program that links it.
#define XAI_COMPILED_LIB_SOURCE 1

#include "xai/explain/cam/detail/projection.hpp"
#include "xai/image/io.hpp"
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
}  // namespace xai
