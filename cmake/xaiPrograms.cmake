# What scripts/test.sh (README's test command, and CI's) builds: the target xai_check.
#
# The programs that no test runs — the docs' figure programs, the training programs, the
# cross-check program and the benchmarks — are added with xai_add_program. Each stays a normal
# executable of `all` (`ninja -C build efficiency` builds it as the docs say), and gets a twin,
# <target>_syntax: an OBJECT library of the same sources, definitions, options and libraries,
# compiled with -fsyntax-only. GCC then runs its whole front end — every template the program
# uses is instantiated, so a compile error or a front-end warning (an error under -Werror) still
# fails — but generates no code and links nothing. xai_check builds every other target of `all`
# (the tests, the programs the tests run, the examples) and these twins instead of the programs:
# on test_bad_inputs.cpp -fsyntax-only costs 38 CPU-s against 87 at -O3, and the programs were
# a third of a cold build (1,599 of 4,930 CPU-s; their twins cost 748) (docs/performance.md, "Build and CI time"). What the twins cannot
# catch (a link error, the middle end's -Warray-bounds and the like) shows in a full build.

# xai_add_program(<target> <source>...): add_executable, plus its -fsyntax-only twin, which copies
# the program's settings when the directory has been read (after the caller's
# target_link_libraries and the like).
function(xai_add_program target)
  add_executable(${target} ${ARGN})
  set_property(GLOBAL APPEND PROPERTY XAI_PROGRAMS ${target})
  cmake_language(EVAL CODE "cmake_language(DEFER CALL _xai_add_syntax_twin [[${target}]])")
endfunction()

function(_xai_add_syntax_twin target)
  get_target_property(sources ${target} SOURCES)
  add_library(${target}_syntax OBJECT EXCLUDE_FROM_ALL ${sources})
  # The target's own settings (raw properties, not their transitive closure: the libraries bring
  # their usage requirements, with their -isystem directories, by being linked).
  foreach(property LINK_LIBRARIES COMPILE_DEFINITIONS COMPILE_OPTIONS INCLUDE_DIRECTORIES COMPILE_FEATURES)
    get_target_property(value ${target} ${property})
    if(value)
      set_property(TARGET ${target}_syntax PROPERTY ${property} "${value}")
    endif()
  endforeach()
  target_compile_options(${target}_syntax PRIVATE -fsyntax-only)
  # -fsyntax-only writes no object file; the launcher creates it (empty) after a successful
  # compile, so that an unchanged twin is not compiled again on the next build.
  get_target_property(launcher ${target}_syntax CXX_COMPILER_LAUNCHER)
  if(NOT launcher)
    set(launcher "")
  endif()
  set_property(TARGET ${target}_syntax PROPERTY CXX_COMPILER_LAUNCHER
               sh "${CMAKE_CURRENT_FUNCTION_LIST_DIR}/xai_syntax_only.sh" ${launcher})
endfunction()

# xai_define_check_target(): call last in the top-level CMakeLists.txt. xai_check depends on every
# target of `all` in the source tree except the programs of xai_add_program, and on their twins.
function(xai_define_check_target)
  get_property(programs GLOBAL PROPERTY XAI_PROGRAMS)
  set(directories "${PROJECT_SOURCE_DIR}")
  set(wanted "")
  while(directories)
    list(POP_FRONT directories directory)
    get_property(subdirectories DIRECTORY "${directory}" PROPERTY SUBDIRECTORIES)
    list(APPEND directories ${subdirectories})
    get_property(targets DIRECTORY "${directory}" PROPERTY BUILDSYSTEM_TARGETS)
    foreach(target IN LISTS targets)
      get_target_property(type ${target} TYPE)
      get_target_property(excluded ${target} EXCLUDE_FROM_ALL)
      if(type STREQUAL "INTERFACE_LIBRARY" OR type STREQUAL "UTILITY" OR excluded)
        continue()
      endif()
      if(target IN_LIST programs)
        list(APPEND wanted ${target}_syntax)
      else()
        list(APPEND wanted ${target})
      endif()
    endforeach()
  endwhile()
  add_custom_target(xai_check)
  if(wanted)
    add_dependencies(xai_check ${wanted})
  endif()
endfunction()
