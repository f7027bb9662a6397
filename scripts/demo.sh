#!/usr/bin/env bash
# The README's first command: installs the Debian packages, builds xai-explain, and explains
# the shipped sample images with every method of the library, writing the pictures, the raw
# maps (.npy), a summary.json and an HTML report per model into out/ (or $OUT_DIR); then a
# folder of photos as users have them (mixed sizes, subfolders, a grey photo, a corrupt file)
# with the scenes model, the map drawn back on each photo. Prints where the pictures and the
# reports are. A few minutes on 2 cores, most of it the compilation.
#
#   BUILD_DIR (default build)  OUT_DIR (default out)  JOBS (default: the number of cores)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh

BUILD_DIR=${BUILD_DIR:-build}
OUT_DIR=${OUT_DIR:-out}
JOBS=${JOBS:-$(nproc)}
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release -DXAI_BUILD_TOOLS=ON > /dev/null
cmake --build "$BUILD_DIR" -j "$JOBS" --target xai_explain photo_folder
tool="$BUILD_DIR/tools/xai-explain"

# The fashion model: one Fashion-MNIST test item of each class (data/samples/fashion/labels.json).
# On 28×28 items lime's default quick shift (kernel_size 4) finds one or two superpixels, so LIME
# uses the setting of lime's own MNIST tutorial, kernel_size 1; occlusion uses a 5-pixel window
# and stride 2 (docs/methods/occlusion.md: the defaults are for 224×224 inputs).
fashion=()
for i in 0 1 2 3 4 5 6 7 8 9; do fashion+=(--image "data/samples/fashion/fashion_$i.png"); done
"$tool" --model fashion "${fashion[@]}" --method all --out "$OUT_DIR/fashion" --report \
  --lime-superpixels quickshift:kernel_size=1 --occlusion-window 5 --occlusion-stride 2

# The scenes model: four held-out scenes (an item over clutter, data/samples/scenes/ground_truth.json).
# SLIC with a compactness for grey values in [0, 1] (docs/superpixels.md), 9-pixel occlusion windows.
scenes=()
for i in 0 1 2 3; do scenes+=(--image "data/samples/scenes/scene_$i.png"); done
"$tool" --model scenes "${scenes[@]}" --method all --out "$OUT_DIR/scenes" --report \
  --lime-superpixels slic:n_segments=40,compactness=0.1 --occlusion-window 9 --occlusion-stride 4

# A folder as users have it (tools/figures/photo_folder.cpp): 50 photos of mixed sizes cut from
# the shipped photos, in subfolders, a grey one and a corrupt one. Each photo's short side is
# resized and its centre cropped to the scenes model's 64×64 (grey) input, as torchvision's
# evaluation transform does, and every map is drawn back on the whole photo, the part the model
# did not see hatched. The corrupt file is reported and the others explained (exit status 4
# says that an image could not be read); a rerun skips the photos already explained. The
# scenes model knows Fashion-MNIST items, not cats: this shows the pipeline, not a classifier.
"$BUILD_DIR/tools/photo_folder" --out "$OUT_DIR/photo_folder"
status=0
"$tool" --model scenes --image "$OUT_DIR/photo_folder" --method gradcam,scorecam,occlusion --out "$OUT_DIR/photos" \
  --report --quiet || status=$?
if [ "$status" -ne 4 ]; then echo "demo: the photo folder's run ended with status $status, expected 4" >&2; exit 1; fi

echo
echo "gallery pictures:"
ls "$(cd "$OUT_DIR" && pwd)"/{fashion,scenes}/*_gallery.png
echo "reports (open in a browser):"
ls "$(cd "$OUT_DIR" && pwd)"/*/report.html
