#pragma once
// Progress reporting for long work (LIME, RISE, Score-CAM, occlusion, influence over a data set).
//
// Explainers call the callback from the thread that called explain(), after each batch, with
// the units done so far (samples, masks, channels, training examples) and the total. The
// callback returns nothing; to stop early use the explainer's own stopping options.

#include <cstddef>
#include <functional>
#include <string_view>

namespace xai {

/// One progress report.
struct Progress {
    std::size_t done = 0;     ///< units of work finished
    std::size_t total = 0;    ///< units of work planned (an upper bound when early stopping is on)
    std::string_view stage;   ///< what is being counted, e.g. "masks", "samples", "training examples"
};

/// The callback type; an empty std::function means "no reporting".
using ProgressCallback = std::function<void(const Progress&)>;

namespace detail {
inline void report(const ProgressCallback& callback, std::size_t done, std::size_t total, std::string_view stage) {
    if (callback) callback(Progress{done, total, stage});
}
}  // namespace detail

}  // namespace xai
