#pragma once
// Progress reporting for long work (LIME, RISE, Score-CAM, occlusion, influence over a data set).
//
// Every explainer takes a `const Progress&` as the last argument of explain() (never as an
// option, so one options struct can serve calls with different callbacks). Explainers call it
// from the thread that called explain(), after each batch, with the units done so far
// (samples, masks, channels, windows, training examples) and the total. To stop early use the
// explainer's own stopping options (RISE's tolerance, for example).

#include <cstddef>
#include <functional>
#include <string_view>

namespace xai {

/// One progress report.
struct ProgressReport {
    std::size_t done = 0;     ///< units of work finished
    std::size_t total = 0;    ///< units of work planned (an upper bound when early stopping is on)
    std::string_view stage;   ///< what is being counted, e.g. "masks", "samples", "training examples"
};

/// The progress callback every long-running call takes; an empty function means "no reporting".
using Progress = std::function<void(const ProgressReport&)>;

namespace detail {
inline void report(const Progress& callback, std::size_t done, std::size_t total, std::string_view stage) {
    if (callback) callback(ProgressReport{done, total, stage});
}
}  // namespace detail

}  // namespace xai
