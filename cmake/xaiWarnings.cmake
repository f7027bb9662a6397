# Settings for the project's own targets (tests, examples, benchmarks): warnings are errors,
# optional sanitizers, optional -march=native. Never applied to the INTERFACE target, so a
# consumer's flags are theirs.
function(xai_project_target target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Werror)
  if(XAI_NATIVE)
    target_compile_options(${target} PRIVATE -march=native)
  endif()
  if(XAI_SANITIZE)
    # GCC 12's -Wmaybe-uninitialized gives false positives in instrumented code (inside
    # <functional> and <regex>); the sanitizers check the real thing at run time.
    target_compile_options(${target} PRIVATE -fsanitize=${XAI_SANITIZE} -fno-omit-frame-pointer -fno-sanitize-recover=all
                           -Wno-maybe-uninitialized)
    target_link_options(${target} PRIVATE -fsanitize=${XAI_SANITIZE})
  endif()
endfunction()
