#pragma once
// The progress bar xai-explain draws on stderr for the methods that report progress (LIME,
// RISE, Score-CAM, Ablation-CAM, occlusion), when stderr is a terminal and --quiet is not
// given. It redraws one line in place ("\r"), only when the shown percentage changes, and
// erases itself when the method is done, so the terminal keeps just the results.

#include <algorithm>
#include <cstddef>
#include <ostream>
#include <string>
#include <string_view>

#include "xai/core/progress.hpp"

namespace xai_explain {

class ProgressBar {
public:
    /// A disabled bar ignores every report.
    ProgressBar(std::ostream& out, bool enabled, std::string label) : out_(out), enabled_(enabled), label_(std::move(label)) {}
    ProgressBar(const ProgressBar&) = delete;
    ProgressBar& operator=(const ProgressBar&) = delete;
    ~ProgressBar() { erase(); }

    void operator()(const xai::ProgressReport& p) {
        if (!enabled_ || p.total == 0) return;
        const std::size_t percent = std::min<std::size_t>(100, p.done * 100 / p.total);
        if (drawn_ && percent == percent_) return;
        percent_ = percent;
        const std::size_t filled = percent * width / 100;
        std::string line = "\r  " + label_ + std::string(label_.size() < 12 ? 12 - label_.size() : 1, ' ') + "[" +
                           std::string(filled, '#') + std::string(width - filled, '-') + "] " + std::to_string(p.done) +
                           "/" + std::to_string(p.total) + " " + std::string(p.stage);
        length_ = std::max(length_, line.size());
        out_ << line << std::flush;
        drawn_ = true;
    }

    /// A callback for the explainers; the bar must outlive it.
    xai::Progress callback() {
        if (!enabled_) return {};
        return [this](const xai::ProgressReport& p) { (*this)(p); };
    }

    /// Removes the bar from the terminal (also done by the destructor).
    void erase() {
        if (!drawn_) return;
        out_ << '\r' << std::string(length_, ' ') << '\r' << std::flush;
        drawn_ = false;
    }

private:
    static constexpr std::size_t width = 30;
    std::ostream& out_;
    bool enabled_;
    std::string label_;
    bool drawn_ = false;
    std::size_t percent_ = 0;
    std::size_t length_ = 0;
};

}  // namespace xai_explain
