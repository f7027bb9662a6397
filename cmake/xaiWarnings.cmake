# Settings for the project's own targets (tests, examples, benchmarks): warnings are errors,
# optional sanitizers, optional -march=native. Never applied to the INTERFACE target, so a
# consumer's flags are theirs.
# Sanitizer builds compile at -O1 with line tables only (-g1), after the build type's flags so
# they win: the reports keep function, file and line, and the build costs a fraction of -O2 -g
# (GCC's variable tracking of the command-line tool's large functions under ASan took most of an
# hour of CI). Set XAI_SANITIZE_CODEGEN empty to keep the build type's flags.
set(XAI_SANITIZE_CODEGEN "-O1;-g1" CACHE STRING "Optimization and debug flags of sanitizer builds (XAI_SANITIZE)")

function(xai_project_target target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Werror)
  if(XAI_NATIVE)
    target_compile_options(${target} PRIVATE -march=native)
  endif()
  if(XAI_SANITIZE)
    target_compile_options(${target} PRIVATE -fsanitize=${XAI_SANITIZE} -fno-omit-frame-pointer -fno-sanitize-recover=all
                           ${XAI_SANITIZE_CODEGEN})
    if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
      # GCC 12's -Wmaybe-uninitialized gives false positives in instrumented code (inside
      # <functional> and <regex>); the sanitizers check the real thing at run time.
      target_compile_options(${target} PRIVATE -Wno-maybe-uninitialized)
    endif()
    target_link_options(${target} PRIVATE -fsanitize=${XAI_SANITIZE})
  endif()
endfunction()

# UBSan's vptr check needs the typeinfo of every polymorphic class it checks a cast to, and
# Debian's LibTorch does not export c10::DynamicType's (TorchScript's graph API reaches it:
# models/torch/script.hpp), so targets that compile or link LibTorch code go without that check.
function(xai_without_vptr_check target)
  if(XAI_SANITIZE MATCHES "undefined")
    target_compile_options(${target} PRIVATE -fno-sanitize=vptr)
    target_link_options(${target} PRIVATE -fno-sanitize=vptr)
  endif()
endfunction()
