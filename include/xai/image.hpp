#pragma once
// The image family (docs/image.md): files ⇄ C×H×W float images in [0, 1], resizing and
// upsampling (PyTorch's conventions, and Pillow's antialiased shrinking), the torchvision-style
// input pipeline (squash or resize-and-centre-crop) and maps drawn back on the photo, colour conversions,
// normalization, Gaussian blur, what hidden pixels become (Baseline), colormaps and overlays.
// Superpixels are in xai/image/superpixels.hpp (and come with xai/lime.hpp).

#include "xai/image/antialias.hpp"
#include "xai/image/baseline.hpp"
#include "xai/image/blur.hpp"
#include "xai/image/colormap.hpp"
#include "xai/image/convert.hpp"
#include "xai/image/framing.hpp"
#include "xai/image/io.hpp"
#include "xai/image/map_back.hpp"
#include "xai/image/normalize.hpp"
#include "xai/image/overlay.hpp"
#include "xai/image/preprocess.hpp"
#include "xai/image/resize.hpp"
