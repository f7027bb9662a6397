#!/usr/bin/env bash
# Builds tests/test_thread_safety.cpp under ThreadSanitizer (-DXAI_SANITIZE=thread) in its own
# build directory and runs it: every explainer called from 4 threads at once on one shared
# model, each result compared bit for bit with the single-threaded one, and TSan reporting any
# data race on the way (a race fails the run: -fno-sanitize-recover and halt_on_error). Built at
# -O1 -g1 like every sanitizer build (XAI_SANITIZE_CODEGEN, cmake/xaiWarnings.cmake).
#
#   scripts/tsan.sh
#   BUILD_DIR  build directory (default build-tsan)
#   JOBS       parallel compile jobs (default: the number of cores)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh

BUILD_DIR=${BUILD_DIR:-build-tsan}
JOBS=${JOBS:-$(nproc)}

cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release -DXAI_SANITIZE=thread \
  -DXAI_BUILD_TESTS=ON -DXAI_BUILD_EXAMPLES=OFF -DXAI_BUILD_BENCHMARKS=OFF -DXAI_INSTALL=OFF > /dev/null
cmake --build "$BUILD_DIR" --target test_thread_safety -j "$JOBS"
TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 ${TSAN_OPTIONS:-}" \
  "$BUILD_DIR/tests/test_thread_safety"
