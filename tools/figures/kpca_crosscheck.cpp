// kpca_crosscheck: the input of scripts/kpca_sklearn.py, the by-hand cross-check of KPCA-CAM's
// projection (explain/cam/detail/projection.hpp) against sklearn's KernelPCA (docs/methods/cam.md).
//
//   build/tools/kpca_crosscheck > kpca.txt && /usr/bin/python3 scripts/kpca_sklearn.py kpca.txt
//
// Prints a random 5-channel block of 16 locations (Rng seed 7, row-major C×pixels) and, one line
// per kernel (sigmoid, rbf, polynomial, linear; γ = 1/C, c₀ = 1, d = 3: sklearn's defaults), the
// library's first kernel principal component of it.
#include <cstdio>

#include "xai/core/random.hpp"
#include "xai/explain/cam/detail/projection.hpp"

int main() {
    constexpr std::size_t channels = 5, pixels = 16;
    float a[channels * pixels];
    xai::Rng rng(7);
    for (float& v : a) v = rng.uniform_float();
    for (std::size_t i = 0; i < channels * pixels; ++i) std::printf("%.9g%c", a[i], i + 1 == channels * pixels ? '\n' : ' ');
    for (const auto kernel : {xai::PcaKernel::sigmoid, xai::PcaKernel::rbf, xai::PcaKernel::polynomial, xai::PcaKernel::linear}) {
        float map[pixels];
        xai::detail::kernel_pca_projection(a, channels, pixels, kernel, 1.0 / channels, 1.0, 3.0, map);
        for (std::size_t i = 0; i < pixels; ++i) std::printf("%.9g%c", map[i], i + 1 == pixels ? '\n' : ' ');
    }
    return 0;
}
