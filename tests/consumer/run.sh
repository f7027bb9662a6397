#!/usr/bin/env bash
# Builds and runs tests/consumer, a downstream project, in each of the three ways README shows:
# against xai installed from the build tree $1 into a temporary prefix (find_package), with
# add_subdirectory on this source tree, and with FetchContent from this git repository (a
# file:// clone of HEAD, so no network). Subprojects get no tests, examples or benchmarks.
set -euo pipefail
build_dir=$(cd "$1" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
source_dir=$(cd "$here/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

consume() {  # mode, extra cmake arguments...
  local mode=$1
  shift
  cmake -S "$here" -B "$work/build-$mode" -G Ninja -DCMAKE_BUILD_TYPE=Release -DXAI_CONSUMER_MODE="$mode" "$@" > "$work/$mode.log" 2>&1 ||
    { cat "$work/$mode.log"; return 1; }
  cmake --build "$work/build-$mode" >> "$work/$mode.log" 2>&1 || { cat "$work/$mode.log"; return 1; }
  "$work/build-$mode/consumer"
  echo "consumer ($mode): ok"
}

cmake --install "$build_dir" --prefix "$work/prefix" > /dev/null
consume find_package -DCMAKE_PREFIX_PATH="$work/prefix"
consume subdirectory -DXAI_SOURCE_DIR="$source_dir"
if git -C "$source_dir" rev-parse HEAD > /dev/null 2>&1; then
  consume fetchcontent -DXAI_GIT_REPOSITORY="file://$source_dir" -DXAI_GIT_TAG="$(git -C "$source_dir" rev-parse HEAD)"
else
  echo "consumer (fetchcontent): skipped, $source_dir is not a git repository"
fi
