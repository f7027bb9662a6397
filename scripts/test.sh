#!/usr/bin/env bash
# Installs the dependencies, builds the tests into $BUILD_DIR (default build/), runs them with
# ctest, then builds and runs the consumer project against an installed copy of the library.
#   XAI_CMAKE_ARGS  extra arguments for the CMake configure step (e.g. a sanitizer build)
#   XAI_CTEST_ARGS  extra arguments for ctest (e.g. -E to leave tests out)
#   XAI_CONSUMER=0  skip the consumer project
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh

BUILD_DIR=${BUILD_DIR:-build}
JOBS=${JOBS:-$(nproc)}
# shellcheck disable=SC2086
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release -DXAI_BUILD_TESTS=ON ${XAI_CMAKE_ARGS:-}
# xai_check: the tests, the programs they run and the examples; the figure programs and the
# benchmarks, which no test runs, only through the compiler's front end (cmake/xaiPrograms.cmake).
# `cmake --build "$BUILD_DIR"` builds those programs too.
cmake --build "$BUILD_DIR" -j "$JOBS" --target xai_check
# shellcheck disable=SC2086
ctest --test-dir "$BUILD_DIR" --output-on-failure --no-tests=error -j "$JOBS" ${XAI_CTEST_ARGS:-}

if [ "${XAI_CONSUMER:-1}" != 0 ]; then
  tests/consumer/run.sh "$BUILD_DIR"
fi
