# MPI support: the target xai::mpi (xai::xai + MPI, its C API compiled as C++) for programs that include
# xai/explain/influence/mpi.hpp, the distributed influence pass. Nothing else in xai links MPI.
#
# Used in two places, as cmake/xaiTorch.cmake:
#  - xai's own build (included from CMakeLists.txt): the option XAI_WITH_MPI defaults to ON when
#    MPI is found (Debian: libopenmpi-dev and openmpi-bin, installed by scripts/install-deps.sh).
#    ON defines xai::mpi and, for the project's own build, the MPI test (tests/mpi/, run by ctest
#    with `mpirun -np 2`, which as root needs --allow-run-as-root; --oversubscribe lets two ranks
#    share fewer cores) and the MPI benchmark (benchmarks/mpi/). The test is not built in
#    sanitizer builds: LeakSanitizer reports Open MPI's own allocations as leaks.
#  - the installed package (included from xaiConfig.cmake): defines the imported target xai::mpi
#    when the consumer's MPI is found, i.e. when the consumer called find_package(MPI) first, or
#    asked for the component:
#        find_package(xai REQUIRED COMPONENTS mpi)   # fails if MPI is not found
#        find_package(xai OPTIONAL_COMPONENTS mpi)   # xai_mpi_FOUND says whether it was

get_target_property(_xai_imported xai::xai IMPORTED)

if(_xai_imported)
  # ---- installed package -------------------------------------------------------------------
  if(NOT TARGET xai::mpi)
    if(NOT TARGET MPI::MPI_CXX AND "mpi" IN_LIST xai_FIND_COMPONENTS)
      find_package(MPI QUIET COMPONENTS CXX)
    endif()
    if(TARGET MPI::MPI_CXX)
      add_library(xai::mpi INTERFACE IMPORTED)
      set_target_properties(xai::mpi PROPERTIES INTERFACE_LINK_LIBRARIES "xai::xai;MPI::MPI_CXX")
    endif()
  endif()
  if(TARGET xai::mpi)
    set(xai_mpi_FOUND TRUE)
  else()
    set(xai_mpi_FOUND FALSE)
  endif()
else()
  # ---- xai's own build -----------------------------------------------------------------------
  find_package(MPI QUIET COMPONENTS CXX)
  option(XAI_WITH_MPI "Build the MPI target xai::mpi, its test and benchmark (needs libopenmpi-dev)" ${MPI_CXX_FOUND})
  if(XAI_WITH_MPI)
    if(NOT MPI_CXX_FOUND)
      message(FATAL_ERROR "XAI_WITH_MPI is ON but MPI was not found: install libopenmpi-dev and openmpi-bin "
                          "(scripts/install-deps.sh) or configure with -DXAI_WITH_MPI=OFF")
    endif()
    add_library(xai_mpi INTERFACE)
    add_library(xai::mpi ALIAS xai_mpi)
    target_link_libraries(xai_mpi INTERFACE xai::xai MPI::MPI_CXX)
    message(STATUS "xai: MPI found (${MPIEXEC_EXECUTABLE}), building xai::mpi, its test and benchmark")

    if(PROJECT_IS_TOP_LEVEL)
      find_package(ZLIB REQUIRED)
      if(XAI_BUILD_TESTS AND NOT XAI_SANITIZE)
        add_executable(test_influence_mpi "${CMAKE_CURRENT_LIST_DIR}/../tests/mpi/test_influence_mpi.cpp")
        target_link_libraries(test_influence_mpi PRIVATE xai::mpi ZLIB::ZLIB)
        xai_project_target(test_influence_mpi)
        set_target_properties(test_influence_mpi PROPERTIES RUNTIME_OUTPUT_DIRECTORY "${CMAKE_BINARY_DIR}/tests")
        enable_testing()
        add_test(NAME "mpi: distributed influence equals one process (2 ranks)"
                 COMMAND ${MPIEXEC_EXECUTABLE} ${MPIEXEC_NUMPROC_FLAG} 2 --allow-run-as-root --oversubscribe
                         $<TARGET_FILE:test_influence_mpi>)
        set_tests_properties("mpi: distributed influence equals one process (2 ranks)" PROPERTIES TIMEOUT 600)
      endif()
      if(XAI_BUILD_BENCHMARKS)
        find_package(benchmark REQUIRED)
        xai_add_program(bench_influence_mpi "${CMAKE_CURRENT_LIST_DIR}/../benchmarks/mpi/bench_influence_mpi.cpp")
        target_link_libraries(bench_influence_mpi PRIVATE xai::mpi benchmark::benchmark ZLIB::ZLIB)
        xai_project_target(bench_influence_mpi)
        set_target_properties(bench_influence_mpi PROPERTIES RUNTIME_OUTPUT_DIRECTORY "${CMAKE_BINARY_DIR}/benchmarks")
      endif()
    endif()
  endif()
endif()
unset(_xai_imported)
