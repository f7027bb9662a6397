# ONNX support: the target xai::onnx (xai::xai + OpenCV's core and dnn libraries), for programs
# that include xai/onnx.hpp. Nothing else in xai links OpenCV, and only these two of its
# libraries are linked.
#
# OpenCV is found through its CMake package when there is one (OpenCVConfig.cmake), else by
# its headers and libraries: Debian's libopencv-dnn-dev installs /usr/include/opencv4 and
# libopencv_{core,dnn}.so without a CMake package (that comes with the whole libopencv-dev).
# Either way the result is the imported target xai::opencv_dnn, GLOBAL so that a project that
# pulls xai in with add_subdirectory() sees it too.
#
# Used in two places, like xaiTorch.cmake:
#  - xai's own build: the option XAI_WITH_ONNX defaults to ON when OpenCV's dnn is found; ON
#    defines xai::onnx and builds tests/test_onnx*.cpp and benchmarks/bench_onnx*.cpp.
#  - the installed package (xaiConfig.cmake): defines xai::onnx when OpenCV's dnn is found,
#        find_package(xai REQUIRED COMPONENTS onnx)   # fails if it is not
#        find_package(xai OPTIONAL_COMPONENTS onnx)   # xai_onnx_FOUND says whether it was

if(NOT TARGET xai::opencv_dnn)
  get_directory_property(_xai_before IMPORTED_TARGETS)
  find_package(OpenCV QUIET COMPONENTS core dnn)
  # As in xaiTorch.cmake: OpenCV's targets must be visible from a consumer's directory.
  get_directory_property(_xai_after IMPORTED_TARGETS)
  foreach(_xai_target IN LISTS _xai_after)
    if(NOT _xai_target IN_LIST _xai_before)
      set_property(TARGET ${_xai_target} PROPERTY IMPORTED_GLOBAL TRUE)
    endif()
  endforeach()
  unset(_xai_before)
  unset(_xai_after)
  unset(_xai_target)
  if(OpenCV_FOUND AND TARGET opencv_dnn)
    add_library(xai::opencv_dnn INTERFACE IMPORTED GLOBAL)
    set_target_properties(xai::opencv_dnn PROPERTIES INTERFACE_LINK_LIBRARIES "opencv_dnn;opencv_core")
  else()
    find_path(XAI_OPENCV_INCLUDE_DIR opencv2/dnn.hpp PATH_SUFFIXES opencv4)
    find_library(XAI_OPENCV_CORE_LIBRARY opencv_core)
    find_library(XAI_OPENCV_DNN_LIBRARY opencv_dnn)
    if(XAI_OPENCV_INCLUDE_DIR AND XAI_OPENCV_CORE_LIBRARY AND XAI_OPENCV_DNN_LIBRARY)
      # An imported target's include directories are passed with -isystem: OpenCV's headers
      # do not meet -Wpedantic -Werror, and this keeps them quiet without weakening any flag.
      add_library(xai::opencv_dnn INTERFACE IMPORTED GLOBAL)
      set_target_properties(xai::opencv_dnn PROPERTIES
        INTERFACE_INCLUDE_DIRECTORIES "${XAI_OPENCV_INCLUDE_DIR}"
        INTERFACE_LINK_LIBRARIES "${XAI_OPENCV_DNN_LIBRARY};${XAI_OPENCV_CORE_LIBRARY}")
    endif()
  endif()
endif()

get_target_property(_xai_imported xai::xai IMPORTED)
if(_xai_imported)
  # ---- installed package -------------------------------------------------------------------
  if(NOT TARGET xai::onnx AND TARGET xai::opencv_dnn)
    add_library(xai::onnx INTERFACE IMPORTED)
    set_target_properties(xai::onnx PROPERTIES INTERFACE_LINK_LIBRARIES "xai::xai;xai::opencv_dnn")
  endif()
  if(TARGET xai::onnx)
    set(xai_onnx_FOUND TRUE)
  else()
    set(xai_onnx_FOUND FALSE)
  endif()
else()
  # ---- xai's own build ---------------------------------------------------------------------
  if(TARGET xai::opencv_dnn)
    set(_xai_onnx_found ON)
  else()
    set(_xai_onnx_found OFF)
  endif()
  option(XAI_WITH_ONNX "Build the ONNX adapter's tests and benchmarks (needs libopencv-dnn-dev)" ${_xai_onnx_found})
  if(XAI_WITH_ONNX)
    if(NOT TARGET xai::opencv_dnn)
      message(FATAL_ERROR "XAI_WITH_ONNX is ON but OpenCV's dnn module was not found: install libopencv-dnn-dev "
                          "(scripts/install-deps.sh) or configure with -DXAI_WITH_ONNX=OFF")
    endif()
    add_library(xai_onnx INTERFACE)
    add_library(xai::onnx ALIAS xai_onnx)
    target_link_libraries(xai_onnx INTERFACE xai::xai xai::opencv_dnn)
    message(STATUS "xai: OpenCV's dnn module found, building the ONNX adapter's tests and benchmarks")
  endif()
  unset(_xai_onnx_found)
endif()
unset(_xai_imported)
