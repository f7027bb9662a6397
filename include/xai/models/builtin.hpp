#pragma once
// The shipped reference models: their architectures and loading their trained weights.
//
//   "fashion"  1×28×28 Fashion-MNIST items (Xiao, Rasul & Vollgraf 2017), 10 classes
//              conv1 3×3×32 → relu1 → pool1 → conv2 3×3×64 → relu2 → conv3 3×3×64 → relu3 → pool2
//              → conv4 3×3×128 → relu4 → gap → fc (10);   feature maps 128×7×7
//   "scenes"   1×64×64 scenes of data/scenes.hpp (one Fashion-MNIST item over clutter), 10 classes
//              conv1 3×3×16 → relu1 → pool1 → conv2 3×3×32 → relu2 → pool2 → conv3 3×3×64 → relu3
//              → pool3 → conv4 3×3×128 → relu4 → gap → fc (10);   feature maps 128×8×8
//   "scenes_biased"  the scenes architecture trained on scenes with a spurious cue (a coded badge
//              that shows the label's code in 90% of the training scenes, SpuriousCue in
//              data/scenes.hpp): a model that is right for the wrong reason (docs/bias.md)
//
//   segmentation (load_builtin_segmentation(); not among builtin_model_names(), which lists
//              the classifiers) 1×64×64 scenes → 11×64×64 class scores per pixel: the 10
//              Fashion-MNIST classes and background (class 10), flattened (models/segmentation.hpp)
//              conv1 3×3×16 → relu1 → pool1 → conv2 3×3×32 → relu2 → pool2 → conv3 3×3×64 → relu3
//              → pool3 → conv4 3×3×128 → relu4 (the scenes encoder) → up1 ×2 → conv5 3×3×32 → relu5
//              → conv6 1×1×11 → up2 ×4 → flatten;   an FCN (Long et al. 2015) without skips
//
// Every 3×3 convolution has stride 1 and padding 1; pooling is 2×2 with stride 2. The two
// classifiers end in global average pooling and one linear layer, so CAM applies (Zhou et al.
// 2016); upsampling is bilinear (align_corners=False). The class
// names are xai::fashion_mnist_classes (data/fashion_mnist.hpp). Weights are read from
// <data directory>/models/<name>.xaiw (core/data_dir.hpp); docs/models.md records how they were
// trained and their test accuracy.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "xai/core/compiled.hpp"
#include "xai/core/data_dir.hpp"
#include "xai/core/error.hpp"
#include "xai/models/sequential.hpp"

namespace xai::models {

/// The names load_builtin() accepts.
inline std::vector<std::string> builtin_model_names() { return {"fashion", "scenes", "scenes_biased"}; }

/// The untrained architecture of a built-in model, its parameters drawn from `seed`.
inline Sequential builtin_architecture(const std::string& name, std::uint64_t seed = 0) {
    if (name == "fashion")
        return Sequential({1, 28, 28},
                          {conv2d(32, 3, 1, 1), relu(), max_pool2d(2), conv2d(64, 3, 1, 1), relu(), conv2d(64, 3, 1, 1),
                           relu(), max_pool2d(2), conv2d(128, 3, 1, 1), relu(), global_avg_pool(), linear(10)},
                          seed);
    if (name == "scenes" || name == "scenes_biased")
        return Sequential({1, 64, 64},
                          {conv2d(16, 3, 1, 1), relu(), max_pool2d(2), conv2d(32, 3, 1, 1), relu(), max_pool2d(2),
                           conv2d(64, 3, 1, 1), relu(), max_pool2d(2), conv2d(128, 3, 1, 1), relu(), global_avg_pool(),
                           linear(10)},
                          seed);
    throw invalid_argument(detail::message("xai::models::builtin_architecture(): unknown model '", name,
                                           "', expected \"fashion\", \"scenes\" or \"scenes_biased\""));
}

/// Classes of the built-in segmentation network: the 10 Fashion-MNIST classes, then background.
inline constexpr std::size_t segmentation_classes = 11;
/// The background class of the built-in segmentation network.
inline constexpr std::size_t segmentation_background = 10;

/// The untrained architecture of the built-in segmentation network (see the header comment),
/// its parameters drawn from `seed`. Its first nine layers are the "scenes" classifier's.
inline Sequential builtin_segmentation_architecture(std::uint64_t seed = 0) {
    return Sequential({1, 64, 64},
                      {conv2d(16, 3, 1, 1), relu(), max_pool2d(2), conv2d(32, 3, 1, 1), relu(), max_pool2d(2),
                       conv2d(64, 3, 1, 1), relu(), max_pool2d(2), conv2d(128, 3, 1, 1), relu(), upsample2d(2),
                       conv2d(32, 3, 1, 1), relu(), conv2d(segmentation_classes, 1), upsample2d(4), flatten()},
                      seed);
}

/// The trained built-in segmentation network, from `<data directory>/models/segmentation.xaiw`
/// (docs/models.md: mean IoU 0.643 on 1,000 held-out scenes); io_error when the file is missing
/// or holds another architecture.
inline Sequential load_builtin_segmentation() {
    Sequential model = builtin_segmentation_architecture();
    model.load_parameters(data_directory() / "models" / "segmentation.xaiw");
    return model;
}

/// The path of a built-in model's weights: `<data directory>/models/<name>.xaiw`.
XAI_LIB_INLINE std::filesystem::path builtin_weights_path(const std::string& name);

/// The trained built-in model `name` ("fashion", "scenes" or "scenes_biased"); io_error when its weights file is
/// missing or does not hold that model's architecture.
XAI_LIB_INLINE Sequential load_builtin(const std::string& name);

// Defined here in header-only mode, in src/compiled.cpp in compiled mode (core/compiled.hpp).
#if XAI_LIB_DEFINITIONS
XAI_LIB_INLINE std::filesystem::path builtin_weights_path(const std::string& name) {
    builtin_architecture(name);  // rejects unknown names with the list of known ones
    return data_directory() / "models" / (name + ".xaiw");
}

XAI_LIB_INLINE Sequential load_builtin(const std::string& name) {
    Sequential model = builtin_architecture(name);
    model.load_parameters(builtin_weights_path(name));
    return model;
}
#endif

}  // namespace xai::models
