#pragma once
// What every explainer returns: one core, the same for every method, with the method's own
// extras beside it in the derived result type (CamResult's channel weights, LIME's surrogates,
// RISE's standard error, influence's rankings).
//
//   maps        N×H×W display maps at the input's resolution, in [0, 1]: evidence for the
//               target, ReLU'd, upsampled if need be and min-max normalized per map (a flat map
//               is all zeros, never 0/0). What an overlay shows.
//   raw         N×h×w signed maps at the method's own resolution (a CAM layer's h×w; the input's
//               H×W for LIME, RISE and occlusion), before any ReLU or normalization: negative
//               evidence and comparisons across images live here.
//   targets     the class explained for each image (the resolved Target: an explicit index or
//               the model's prediction).
//   scores      the target's score (of `score_kind`) for each unperturbed image.
//   score_kind  which score the method explained (logit, probability or log-probability).
//   logits      N×K logits of the unperturbed images.
//
// map(i) and raw_map(i) copy one image's map out (H×W), so a single-image caller never needs
// xt::view: `explainer.explain(image).map()`.
//
// Influence functions explain with training examples rather than pixels: their result has
// the same core with maps and raw of shape N×0×0 (see InfluenceExplanation); map(i) then
// throws, naming the reason.

#include <algorithm>
#include <cstddef>
#include <vector>

#include "xai/core/error.hpp"
#include "xai/core/scores.hpp"
#include "xai/core/tensor.hpp"

namespace xai {

/// The core every explainer's result shares (see the header comment).
struct Explanation {
    Maps maps;                          ///< N×H×W display maps at the input's size, in [0, 1]
    Maps raw;                           ///< N×h×w signed maps at the method's own resolution
    std::vector<std::size_t> targets;   ///< the class explained for each image
    std::vector<float> scores;          ///< the target's score (score_kind) for each unperturbed image
    ScoreKind score_kind = ScoreKind::logit;  ///< the kind of score explained
    Scores logits;                      ///< N×K logits of the unperturbed images

    /// The number of images explained.
    std::size_t size() const { return targets.size(); }

    /// Image i's display map (H×W, a copy); shape_error when i is out of range or the method
    /// has no pixel maps (influence functions).
    Map map(std::size_t i = 0) const { return plane(maps, i, "map"); }
    /// Image i's signed raw map (h×w, a copy); shape_error as for map().
    Map raw_map(std::size_t i = 0) const { return plane(raw, i, "raw_map"); }

private:
    static Map plane(const Maps& maps, std::size_t i, const char* function) {
        const std::size_t n = maps.shape(0), h = maps.shape(1), w = maps.shape(2);
        detail::require<shape_error>(i < n, "xai::Explanation::", function, "(): index ", i,
                                     " is out of range, expected an image index below ", n);
        detail::require<shape_error>(h > 0 && w > 0, "xai::Explanation::", function,
                                     "(): this explanation has no pixel maps (influence functions explain "
                                     "with training examples: see helpful and harmful)");
        Map out = Map::from_shape({h, w});
        std::copy_n(maps.data() + i * h * w, h * w, out.data());
        return out;
    }
};

}  // namespace xai
