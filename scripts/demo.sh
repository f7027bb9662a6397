#!/usr/bin/env bash
# The README's first command: installs the Debian packages, builds xai-explain, and explains
# the shipped sample images with every method of the library, writing the pictures, the raw
# maps (.npy) and a summary.json per model into out/ (or $OUT_DIR). Prints where the gallery
# pictures are. A few minutes on 2 cores, most of it the one compilation.
#
#   BUILD_DIR (default build)  OUT_DIR (default out)  JOBS (default: the number of cores)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh

BUILD_DIR=${BUILD_DIR:-build}
OUT_DIR=${OUT_DIR:-out}
JOBS=${JOBS:-$(nproc)}
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release -DXAI_BUILD_TOOLS=ON > /dev/null
cmake --build "$BUILD_DIR" -j "$JOBS" --target xai_explain
tool="$BUILD_DIR/tools/xai-explain"

# The fashion model: one Fashion-MNIST test item of each class (data/samples/fashion/labels.json).
# On 28×28 items lime's default quick shift (kernel_size 4) finds one or two superpixels, so LIME
# uses the setting of lime's own MNIST tutorial, kernel_size 1; occlusion uses a 5-pixel window
# and stride 2 (docs/methods/occlusion.md: the defaults are for 224×224 inputs).
fashion=()
for i in 0 1 2 3 4 5 6 7 8 9; do fashion+=(--image "data/samples/fashion/fashion_$i.png"); done
"$tool" --model fashion "${fashion[@]}" --method all --out "$OUT_DIR/fashion" \
  --superpixels quickshift:kernel_size=1 --window 5 --stride 2

# The scenes model: four held-out scenes (an item over clutter, data/samples/scenes/ground_truth.json).
# SLIC with a compactness for grey values in [0, 1] (docs/superpixels.md), 9-pixel occlusion windows.
scenes=()
for i in 0 1 2 3; do scenes+=(--image "data/samples/scenes/scene_$i.png"); done
"$tool" --model scenes "${scenes[@]}" --method all --out "$OUT_DIR/scenes" \
  --superpixels slic:n_segments=40,compactness=0.1 --window 9 --stride 4

echo
echo "gallery pictures:"
ls "$(cd "$OUT_DIR" && pwd)"/*/*_gallery.png
