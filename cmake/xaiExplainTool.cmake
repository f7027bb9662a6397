# xai-explain's code (tools/xai-explain/) compiled once, as object libraries that the programs
# (tools/CMakeLists.txt), their tests (tests/test_cli.cpp, test_torch_cli.cpp, test_onnx_cli.cpp)
# and their benchmark (benchmarks/bench_cli.cpp) link, instead of each of the six compiling the
# whole tool again (about two CPU-minutes each in Release, far more under the sanitizers):
#   xai_explain_core           the command line, the built-in models, every method, the outputs,
#                              and the ONNX adapter when OpenCV's dnn is found (else its refusal)
#   xai_explain_without_torch  xai-explain: TorchScript files refused, naming xai-explain-torch
#   xai_explain_with_torch     xai-explain-torch: TorchScript files read through LibTorch
# The options are declared with CLI11 and the records written with nlohmann-json (Debian's
# libcli11-dev and nlohmann-json3-dev; the library's headers use neither).
find_package(nlohmann_json 3 REQUIRED)
find_package(CLI11 REQUIRED)
find_package(ZLIB REQUIRED)

set(XAI_EXPLAIN_DIR "${CMAKE_CURRENT_LIST_DIR}/../tools/xai-explain")

function(xai_explain_objects target)
  add_library(${target} OBJECT ${ARGN})
  target_link_libraries(${target} PUBLIC xai::xai ZLIB::ZLIB nlohmann_json::nlohmann_json CLI11::CLI11)
  target_include_directories(${target} PUBLIC "${XAI_EXPLAIN_DIR}")
  xai_project_target(${target})
endfunction()

if(XAI_WITH_ONNX)
  xai_explain_objects(xai_explain_core "${XAI_EXPLAIN_DIR}/run.cpp" "${XAI_EXPLAIN_DIR}/onnx_backend.cpp")
  target_link_libraries(xai_explain_core PUBLIC xai::onnx)
else()
  xai_explain_objects(xai_explain_core "${XAI_EXPLAIN_DIR}/run.cpp" "${XAI_EXPLAIN_DIR}/without_onnx.cpp")
endif()
xai_explain_objects(xai_explain_without_torch "${XAI_EXPLAIN_DIR}/without_torch.cpp")
if(XAI_WITH_TORCH)
  xai_explain_objects(xai_explain_with_torch "${XAI_EXPLAIN_DIR}/torch_backend.cpp")
  target_link_libraries(xai_explain_with_torch PUBLIC xai::torch)
  xai_without_vptr_check(xai_explain_with_torch)
endif()

# Links the tool into `target`: xai-explain's objects, or with `torch` xai-explain-torch's. (An
# object library's objects reach only the targets that link it directly, so both are named.)
function(xai_link_explain_tool target flavour)
  if(flavour STREQUAL "torch")
    target_link_libraries(${target} PRIVATE xai_explain_core xai_explain_with_torch)
    xai_without_vptr_check(${target})
  else()
    target_link_libraries(${target} PRIVATE xai_explain_core xai_explain_without_torch)
  endif()
endfunction()
