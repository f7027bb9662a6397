#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz with clang (AddressSanitizer + UndefinedBehavior-
# Sanitizer) in their own build directory and runs each for a bounded time.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]
#     SECONDS  time per target (default 60, what CI runs; give more by hand, e.g. 3600)
#     TARGET   fuzz_image_decode, fuzz_weights_file, fuzz_superpixels, fuzz_explainer_options
#              (default: all of them)
#   BUILD_DIR  build directory (default build-fuzz)
#   JOBS       parallel compile jobs (default: the number of cores)
#
# Each target starts from its committed seed corpus (tests/fuzz/corpus/<target>) plus what
# earlier runs found ($BUILD_DIR/corpus/<target>, kept between runs, never committed). A crash,
# a leak, an uncaught non-xai exception, a broken invariant, an allocation over 2 GB or an
# input slower than 25 s stops the target, leaves the input in $BUILD_DIR/artifacts/ and makes
# the script fail. Replay one with: $BUILD_DIR/tests/fuzz/<target> <artifact>
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh

SECONDS_PER_TARGET=${1:-60}
if [ $# -gt 0 ]; then shift; fi
BUILD_DIR=${BUILD_DIR:-build-fuzz}
JOBS=${JOBS:-$(nproc)}
CLANG=$(command -v clang++-14 || command -v clang++)

if [ $# -gt 0 ]; then
  targets=("$@")
else
  targets=()
  for source in tests/fuzz/fuzz_*.cpp; do targets+=("$(basename "$source" .cpp)"); done
fi

cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER="$CLANG" \
  -DXAI_BUILD_FUZZERS=ON -DXAI_BUILD_TESTS=OFF -DXAI_BUILD_EXAMPLES=OFF -DXAI_BUILD_BENCHMARKS=OFF \
  -DXAI_INSTALL=OFF -DXAI_NATIVE=OFF > /dev/null
cmake --build "$BUILD_DIR" --target "${targets[@]}" -j "$JOBS"

mkdir -p "$BUILD_DIR/artifacts"
failed=()
for target in "${targets[@]}"; do
  corpus="$BUILD_DIR/corpus/$target"
  mkdir -p "$corpus"
  echo "== $target: ${SECONDS_PER_TARGET} s"
  # New inputs go to the first directory; the committed seeds are read only.
  if ! "$BUILD_DIR/tests/fuzz/$target" "$corpus" "tests/fuzz/corpus/$target" \
      -max_total_time="$SECONDS_PER_TARGET" -timeout=25 -rss_limit_mb=2048 -print_final_stats=1 \
      -artifact_prefix="$BUILD_DIR/artifacts/$target-" 2> "$BUILD_DIR/$target.log"; then
    failed+=("$target")
    tail -n 60 "$BUILD_DIR/$target.log"
  else
    grep -E "^stat::(number_of_executed_units|peak_rss_mb)|^#[0-9]+.*DONE" "$BUILD_DIR/$target.log" || true
  fi
done

if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzzing found problems in: ${failed[*]} (inputs in $BUILD_DIR/artifacts/)" >&2
  exit 1
fi
echo "fuzzing: no problems in ${targets[*]} (${SECONDS_PER_TARGET} s each)"
