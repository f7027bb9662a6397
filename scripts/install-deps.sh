#!/usr/bin/env bash
# Installs every Debian package the project needs. Idempotent: it runs `apt-get update`
# once per machine (a stamp under /var/lib/xai) and skips packages that are already there.
# Used by scripts/test.sh, scripts/demo.sh and .ci/run, so the list lives in one place.
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build ccache pkg-config
  libeigen3-dev xtensor-dev xtl-dev libxsimd-dev
  catch2 libstb-dev libbenchmark-dev zlib1g-dev libpng-dev libjpeg62-turbo-dev
  nlohmann-json3-dev libcli11-dev
  dataset-fashion-mnist
  libtorch-dev libopenblas0-pthread
  libopencv-dnn-dev
  clang libclang-rt-14-dev
  doxygen time
  libopenmpi-dev openmpi-bin
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
$SUDO apt-get install -y --no-install-recommends "${missing[@]}"
