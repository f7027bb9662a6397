#pragma once
// Data the library ships or reads (docs/models.md): the Fashion-MNIST reader (Debian's
// dataset-fashion-mnist) and the scenes generator with exact boxes and masks, and where the
// shipped weights and samples live (data_directory()).

#include "xai/core/data_dir.hpp"
#include "xai/data/fashion_mnist.hpp"
#include "xai/data/scenes.hpp"
