#pragma once
// Eigen's core module, included so that GCC 12's false -Wmaybe-uninitialized/-Wuninitialized
// reports inside Eigen's AVX-512 packet code (GCC bug 105593: _mm512_undefined_ps in
// avx512fintrin.h, reached from Eigen's GEMM packing and transposes when compiling with
// -march=native on an AVX-512 machine) do not break -Werror builds.
//
// GCC decides by the location of the warned statement, which is inside the intrinsics header,
// so the suppression must be active when that header is first included: include this header
// (directly or through any xai header) before anything else that includes Eigen.

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif

#include <Eigen/Core>

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
