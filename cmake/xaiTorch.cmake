# LibTorch support: the target xai::torch (xai::xai + LibTorch's `torch`), for programs that
# include xai/torch.hpp. Nothing else in xai links LibTorch.
#
# Used in two places:
#  - xai's own build (included from CMakeLists.txt): looks for LibTorch quietly (Debian's
#    libtorch-dev installs /usr/lib/<triplet>/cmake/Torch). The option XAI_WITH_TORCH defaults to
#    ON when it is found; ON defines xai::torch and builds tests/test_torch*.cpp,
#    examples/torch_*.cpp and benchmarks/bench_torch*.cpp (each links xai::torch).
#  - the installed package (included from xaiConfig.cmake): defines the imported target
#    xai::torch when the consumer's LibTorch is found, i.e. when the consumer called
#    find_package(Torch) first, or asked for the component:
#        find_package(xai REQUIRED COMPONENTS torch)   # fails if LibTorch is not found
#        find_package(xai OPTIONAL_COMPONENTS torch)   # xai_torch_FOUND says whether it was
#
# LibTorch's headers do not compile cleanly with -Wpedantic -Werror; `torch` is an imported
# target, so CMake passes its include directories with -isystem and its warnings stay quiet
# without weakening anyone's flags.
#
# The installed package's xai::torch needs the consumer's LibTorch, found by the component or by
# an earlier find_package(Torch); in an add_subdirectory() build, xai's own search is used
# (see the GLOBAL promotion below).

get_target_property(_xai_imported xai::xai IMPORTED)

if(_xai_imported)
  # ---- installed package -------------------------------------------------------------------
  if(NOT TARGET xai::torch)
    if(NOT TARGET torch AND "torch" IN_LIST xai_FIND_COMPONENTS)
      find_package(Torch QUIET)
    endif()
    if(TARGET torch)
      add_library(xai::torch INTERFACE IMPORTED)
      set_target_properties(xai::torch PROPERTIES INTERFACE_LINK_LIBRARIES "xai::xai;torch")
    endif()
  endif()
  if(TARGET xai::torch)
    set(xai_torch_FOUND TRUE)
  else()
    set(xai_torch_FOUND FALSE)
  endif()
else()
  # ---- xai's own build ---------------------------------------------------------------------
  # Imported targets are visible only in the directory that created them. When xai is pulled
  # in with add_subdirectory(), the consumer's directory links xai::torch → torch, which it
  # could not see unless it had called find_package(Torch) itself. The targets LibTorch's
  # package creates here are therefore promoted to GLOBAL (a later find_package(Torch) of the
  # consumer then finds them defined and defines nothing twice).
  get_directory_property(_xai_before IMPORTED_TARGETS)
  find_package(Torch QUIET)
  get_directory_property(_xai_after IMPORTED_TARGETS)
  foreach(_xai_target IN LISTS _xai_after)
    if(NOT _xai_target IN_LIST _xai_before)
      set_property(TARGET ${_xai_target} PROPERTY IMPORTED_GLOBAL TRUE)
    endif()
  endforeach()
  unset(_xai_before)
  unset(_xai_after)
  unset(_xai_target)
  option(XAI_WITH_TORCH "Build the LibTorch adapter's tests, examples and benchmarks (needs libtorch-dev)" ${Torch_FOUND})
  if(XAI_WITH_TORCH)
    if(NOT TARGET torch)
      message(FATAL_ERROR "XAI_WITH_TORCH is ON but LibTorch was not found: install libtorch-dev "
                          "(scripts/install-deps.sh), point Torch_DIR at TorchConfig.cmake, or configure with "
                          "-DXAI_WITH_TORCH=OFF")
    endif()
    add_library(xai_torch INTERFACE)
    add_library(xai::torch ALIAS xai_torch)
    target_link_libraries(xai_torch INTERFACE xai::xai torch)
    message(STATUS "xai: LibTorch ${Torch_VERSION} found, building the torch adapter's tests, examples and benchmarks")
  endif()
endif()
unset(_xai_imported)
