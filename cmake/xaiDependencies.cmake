# Finds xai's dependencies and provides xai_link_dependencies(target).
# Used by the build tree (CMakeLists.txt) and by the installed package (xaiConfig.cmake), so
# that a consumer resolves exactly what the build resolved.
include(GNUInstallDirs)
include(CMakeFindDependencyMacro)

find_package(Threads REQUIRED)
find_package(Eigen3 3.4 REQUIRED NO_MODULE)
find_package(xtl REQUIRED)
find_package(xsimd QUIET)
if(xsimd_FOUND)
  set(XTENSOR_USE_XSIMD ON)
endif()
find_package(xtensor REQUIRED)

# stb: Debian's libstb-dev ships the headers in <prefix>/include/stb and the implementations
# compiled into libstb.so. xai links that shared library, so a program that includes xai
# needs no STB_*_IMPLEMENTATION of its own, and a program that also compiles stb's
# implementation into itself still links (its definitions take precedence over the shared
# library's, and both are the same API). tests/consumer proves it.
if(NOT TARGET xai::stb)
  find_path(XAI_STB_INCLUDE_DIR stb_image.h PATH_SUFFIXES stb REQUIRED)
  find_library(XAI_STB_LIBRARY NAMES stb REQUIRED)
  add_library(xai::stb UNKNOWN IMPORTED)
  set_target_properties(xai::stb PROPERTIES
    IMPORTED_LOCATION "${XAI_STB_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${XAI_STB_INCLUDE_DIR}")
endif()

function(xai_link_dependencies target)
  target_link_libraries(${target} INTERFACE Eigen3::Eigen xtensor xai::stb Threads::Threads)
endfunction()
