#!/usr/bin/env bash
# The main job: builds the example programs and explains the shipped sample images, writing
# the pictures into out/ (or $OUT_DIR). Prints where the pictures are.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh

BUILD_DIR=${BUILD_DIR:-build}
OUT_DIR=${OUT_DIR:-out}
JOBS=${JOBS:-$(nproc)}
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release -DXAI_BUILD_EXAMPLES=ON > /dev/null
cmake --build "$BUILD_DIR" -j "$JOBS" --target overlay_map
mkdir -p "$OUT_DIR"

for image in data/samples/photos/*_224.png; do
  name=$(basename "$image" .png)
  "$BUILD_DIR/examples/overlay_map" --image "$image" --out "$OUT_DIR/${name}_overlay.png"
done
echo "pictures written to $(cd "$OUT_DIR" && pwd)/"
