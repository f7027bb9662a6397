#!/usr/bin/env bash
# A CMAKE_CXX_COMPILER_LAUNCHER that logs each compilation's CPU time to $XAI_CPU_LOG (default
# /tmp/cputimes.log), one line per translation unit: user s, system s, peak RSS KB, object file.
# CPU time barely depends on what else the machine runs, unlike ninja's wall-clock log; it is how
# docs/performance.md ("Build and CI time") measured what each step of CI compiles:
#   cmake -S . -B build-measure -G Ninja -DCMAKE_CXX_COMPILER_LAUNCHER=$PWD/scripts/cpu_time_launcher.sh …
#   XAI_CPU_LOG=/tmp/cpu.log ninja -C build-measure && sort -rn /tmp/cpu.log | head
# (It replaces ccache for that build directory, so every file is really compiled.)
out=""; prev=""
for a in "$@"; do [ "$prev" = "-o" ] && out=$a; prev=$a; done
exec /usr/bin/time -f "%U %S %M $out" -a -o "${XAI_CPU_LOG:-/tmp/cputimes.log}" "$@"
