#!/usr/bin/env bash
# Builds and runs tests/consumer, a downstream project, in each of the ways README shows:
# against xai installed from the build tree $1 into a temporary prefix (find_package), against
# the build tree itself without installing (find_package with CMAKE_PREFIX_PATH=$1), with
# add_subdirectory on this source tree, and with FetchContent from this git repository (a
# file:// clone of HEAD, so no network). Subprojects get no tests, examples or benchmarks.
# The installed package and add_subdirectory also build programs that link xai::torch and
# xai::onnx when the build tree $1 was configured with them (XAI_WITH_TORCH, XAI_WITH_ONNX):
# the consumer never calls find_package(Torch) or find_package(OpenCV) itself.
set -euo pipefail
build_dir=$(cd "$1" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
source_dir=$(cd "$here/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cache_value() {  # name: its value in the build tree's CMakeCache.txt, or OFF
  sed -n "s/^$1:[A-Z]*=//p" "$build_dir/CMakeCache.txt" | head -n 1 | grep . || echo OFF
}
with_torch=$(cache_value XAI_WITH_TORCH)
with_onnx=$(cache_value XAI_WITH_ONNX)

consume() {  # label, mode, extra cmake arguments...
  local label=$1 mode=$2
  shift 2
  cmake -S "$here" -B "$work/build-$label" -G Ninja -DCMAKE_BUILD_TYPE=Release -DXAI_CONSUMER_MODE="$mode" "$@" \
    > "$work/$label.log" 2>&1 || { cat "$work/$label.log"; return 1; }
  cmake --build "$work/build-$label" >> "$work/$label.log" 2>&1 || { cat "$work/$label.log"; return 1; }
  "$work/build-$label/consumer"
  for extra in consumer_torch consumer_onnx; do
    if [ -x "$work/build-$label/$extra" ]; then "$work/build-$label/$extra"; fi
  done
  echo "consumer ($label): ok"
}

cmake --install "$build_dir" --prefix "$work/prefix" > /dev/null
consume find_package find_package -DCMAKE_PREFIX_PATH="$work/prefix" -DXAI_CONSUMER_TORCH="$with_torch" \
  -DXAI_CONSUMER_ONNX="$with_onnx"
consume build_tree find_package -DCMAKE_PREFIX_PATH="$build_dir" -DXAI_CONSUMER_ONNX="$with_onnx"
consume subdirectory subdirectory -DXAI_SOURCE_DIR="$source_dir" -DXAI_CONSUMER_TORCH="$with_torch" \
  -DXAI_CONSUMER_ONNX="$with_onnx"
if git -C "$source_dir" rev-parse HEAD > /dev/null 2>&1; then
  consume fetchcontent fetchcontent -DXAI_GIT_REPOSITORY="file://$source_dir" -DXAI_GIT_TAG="$(git -C "$source_dir" rev-parse HEAD)"
else
  echo "consumer (fetchcontent): skipped, $source_dir is not a git repository"
fi
