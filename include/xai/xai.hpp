#pragma once
// Umbrella header: everything in xai except optional backends (models/torch.hpp) and image
// file I/O (image/io.hpp, which needs stb's implementation at link time).

#include "xai/core/concepts.hpp"
#include "xai/core/data_dir.hpp"
#include "xai/core/error.hpp"
#include "xai/core/parallel.hpp"
#include "xai/core/progress.hpp"
#include "xai/core/random.hpp"
#include "xai/core/scores.hpp"
#include "xai/core/target.hpp"
#include "xai/core/tensor.hpp"
#include "xai/image/colormap.hpp"
#include "xai/image/convert.hpp"
#include "xai/image/normalize.hpp"
#include "xai/image/overlay.hpp"
#include "xai/image/resize.hpp"
#include "xai/image/blur.hpp"
#include "xai/explain/masking.hpp"
#include "xai/explain/occlusion.hpp"
#include "xai/explain/rise.hpp"
