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

# The system decoders: PNG through libpng and JPEG through libjpeg-turbo (Debian's libpng-dev and
# libjpeg62-turbo-dev, which scripts/install-deps.sh installs), continuously fuzzed upstream and
# security-supported by Debian, instead of stb for the two formats users feed most
# (include/xai/image/decode/, docs/image.md). ON by default when both libraries are found; a
# cache value given by the user (or left by an earlier configure) wins, and ON without the
# libraries is an error rather than a silent fallback to stb. The choice travels with the target
# (a compile definition and two link libraries, recorded in the exported xai::xai), and the
# installed package finds both libraries again in the consumer's configure.
find_package(PNG QUIET)
find_package(JPEG QUIET)
if(PNG_FOUND AND JPEG_FOUND)
  set(XAI_SYSTEM_DECODERS_FOUND ON)
else()
  set(XAI_SYSTEM_DECODERS_FOUND OFF)
endif()
option(XAI_WITH_SYSTEM_DECODERS "Decode PNG and JPEG with libpng and libjpeg-turbo (ON when both are found)"
       ${XAI_SYSTEM_DECODERS_FOUND})
if(XAI_WITH_SYSTEM_DECODERS AND NOT XAI_SYSTEM_DECODERS_FOUND)
  message(FATAL_ERROR "XAI_WITH_SYSTEM_DECODERS is ON but libpng and libjpeg were not both found "
                      "(PNG_FOUND=${PNG_FOUND}, JPEG_FOUND=${JPEG_FOUND}); install libpng-dev and "
                      "libjpeg62-turbo-dev (scripts/install-deps.sh) or configure with -DXAI_WITH_SYSTEM_DECODERS=OFF")
endif()

function(xai_link_dependencies target)
  target_link_libraries(${target} INTERFACE Eigen3::Eigen xtensor xai::stb Threads::Threads)
  if(XAI_WITH_SYSTEM_DECODERS)
    # include/xai/image/io.hpp includes the libpng and libjpeg backends when this is defined.
    target_link_libraries(${target} INTERFACE PNG::PNG JPEG::JPEG)
    target_compile_definitions(${target} INTERFACE XAI_HAS_SYSTEM_DECODERS=1)
  endif()
endfunction()
