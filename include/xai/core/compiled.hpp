#pragma once
// The opt-in compiled mode (docs/performance.md, "Compile cost"), like spdlog's
// SPDLOG_COMPILED_LIB: with XAI_COMPILED_LIB defined (the CMake target xai::compiled defines it
// and links src/compiled.cpp), the code that every program calling the common path would
// otherwise compile at -O2 in its own translation unit is compiled once, in that file:
//   - the eigen-solver projections of Eigen-CAM, Eigen-Grad-CAM and every CAM's eigen_smooth
//     (explain/cam/detail/projection.hpp), reachable from every CAM explainer through a run-time
//     option, as explicit instantiations for double;
//   - the single-precision Sequential model and its engine (models/sequential/sequential.hpp);
//   - Grad-CAM of that model (core/compiled_instances.hpp);
//   - image file loading and saving (image/io.hpp), overlay() (image/overlay.hpp) and
//     load_builtin() (models/builtin.hpp), whose functions are then declared, not defined, in
//     the headers.
// Without the macro (the default) xai stays header-only and nothing here changes a result: the
// compiled file holds the same definitions.
//
// XAI_LIB_INLINE: `inline` in header-only mode, nothing in compiled mode.
// XAI_LIB_DEFINITIONS: 1 where the definitions are compiled (header-only mode, or
// src/compiled.cpp, which defines XAI_COMPILED_LIB_SOURCE), else 0.

#if defined(XAI_COMPILED_LIB)
#define XAI_LIB_INLINE
#if defined(XAI_COMPILED_LIB_SOURCE)
#define XAI_LIB_DEFINITIONS 1
#else
#define XAI_LIB_DEFINITIONS 0
#endif
#else
#define XAI_LIB_INLINE inline
#define XAI_LIB_DEFINITIONS 1
#endif
