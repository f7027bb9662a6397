# cmake -DA=<program> -DB=<program> -P compare.cmake: runs both, fails unless their outputs are
# identical and non-empty (tests/compiled/results.cpp).
execute_process(COMMAND "${A}" OUTPUT_VARIABLE out_a RESULT_VARIABLE rc_a)
execute_process(COMMAND "${B}" OUTPUT_VARIABLE out_b RESULT_VARIABLE rc_b)
if(NOT rc_a EQUAL 0 OR NOT rc_b EQUAL 0)
  message(FATAL_ERROR "exit codes ${rc_a} (header-only) and ${rc_b} (compiled)")
endif()
if(out_a STREQUAL "" OR NOT out_a STREQUAL out_b)
  message(FATAL_ERROR "header-only:\n${out_a}\ncompiled mode:\n${out_b}")
endif()
message(STATUS "identical:\n${out_a}")
