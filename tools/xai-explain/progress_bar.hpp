#pragma once
// The status line xai-explain draws on stderr when stderr is a terminal and --quiet is not
// given: the run across images (done / total, the rate, the time left) and, while a method that
// reports progress runs (LIME, RISE, Score-CAM, Ablation-CAM, occlusion, the metrics), its bar:
//
//   12/50 images (3 resumed)  2.4 images/s  ETA 0:19 | rise [#########-----] 2400/4000 masks
//
// The line is redrawn in place ("\r") only when its text changes (a method's bar moves by whole
// percents), and erased before anything else is printed and at the end, so the terminal keeps
// just the results. The rate counts the images explained in this run (not the resumed ones), so
// the time left is what the remaining images will take at the pace seen so far.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <ostream>
#include <string>
#include <string_view>

#include "xai/core/progress.hpp"

namespace xai_explain {

/// "0:09", "4:07", "1:05:03": a duration for the status line (rounded to the second).
inline std::string clock_text(double seconds) {
    const auto s = static_cast<long long>(std::llround(std::max(0.0, seconds)));
    char buffer[32];
    if (s >= 3600) std::snprintf(buffer, sizeof buffer, "%lld:%02lld:%02lld", s / 3600, s / 60 % 60, s % 60);
    else std::snprintf(buffer, sizeof buffer, "%lld:%02lld", s / 60, s % 60);
    return buffer;
}

/// The run's part of the status line: `done` of `total` images finished (explained, failed or
/// resumed), `resumed` of them skipped because their outputs exist, `measured` explained in
/// `elapsed` seconds of this run. The rate and the time left appear once an image is measured.
inline std::string run_progress_text(std::size_t done, std::size_t total, std::size_t resumed, std::size_t measured,
                                     double elapsed) {
    std::string text = std::to_string(done) + "/" + std::to_string(total) + " images";
    if (resumed > 0) text += " (" + std::to_string(resumed) + " resumed)";
    if (measured > 0 && elapsed > 0.0) {
        const double rate = static_cast<double>(measured) / elapsed;
        char buffer[48];
        if (rate >= 1.0) std::snprintf(buffer, sizeof buffer, "  %.1f images/s", rate);
        else std::snprintf(buffer, sizeof buffer, "  %.1f s/image", 1.0 / rate);
        text += buffer;
        text += "  ETA " + clock_text(static_cast<double>(total - std::min(total, done)) / rate);
    }
    return text;
}

/// The one status line (see the header). A disabled line ignores everything.
class StatusLine {
public:
    StatusLine(std::ostream& out, bool enabled) : out_(out), enabled_(enabled) {}
    StatusLine(const StatusLine&) = delete;
    StatusLine& operator=(const StatusLine&) = delete;
    ~StatusLine() { erase(); }

    /// Sets the run's part (run_progress_text) and redraws.
    void set_run(std::string text) {
        run_ = std::move(text);
        draw();
    }

    /// A callback for a method's progress reports, shown as `label`'s bar until end_task();
    /// the line must outlive it. Empty when the line is disabled.
    xai::Progress task(std::string label) {
        task_label_ = std::move(label);
        task_.clear();
        if (!enabled_) return {};
        return [this](const xai::ProgressReport& p) { report(p); };
    }

    /// Removes the method's bar.
    void end_task() {
        task_.clear();
        task_label_.clear();
        draw();
    }

    /// Takes the line off the terminal, e.g. before other output; the next draw brings it back.
    void erase() {
        if (!enabled_ || drawn_.empty()) return;
        out_ << '\r' << std::string(drawn_.size(), ' ') << '\r' << std::flush;
        drawn_.clear();
    }

    /// Redraws the line if its text changed since it was last drawn.
    void draw() {
        if (!enabled_) return;
        std::string line = run_;
        if (!task_.empty()) line += (line.empty() ? "" : " | ") + task_;
        if (line == drawn_) return;
        const std::size_t previous = drawn_.size();
        out_ << '\r' << line;
        if (line.size() < previous) out_ << std::string(previous - line.size(), ' ') << '\r' << line;
        out_ << std::flush;
        drawn_ = std::move(line);
    }

    /// The method's bar for a report: "rise [######----] 2400/4000 masks", moving by whole percents.
    static std::string task_text(std::string_view label, const xai::ProgressReport& p) {
        const std::size_t percent = p.total == 0 ? 100 : std::min<std::size_t>(100, p.done * 100 / p.total);
        const std::size_t filled = percent * width / 100;
        return std::string(label) + " [" + std::string(filled, '#') + std::string(width - filled, '-') + "] " +
               std::to_string(p.done) + "/" + std::to_string(p.total) + " " + std::string(p.stage);
    }

private:
    void report(const xai::ProgressReport& p) {
        if (p.total == 0) return;
        const std::size_t percent = std::min<std::size_t>(100, p.done * 100 / p.total);
        if (!task_.empty() && percent == percent_) return;
        percent_ = percent;
        task_ = task_text(task_label_, p);
        draw();
    }

    static constexpr std::size_t width = 20;
    std::ostream& out_;
    bool enabled_;
    std::string run_, task_label_, task_, drawn_;
    std::size_t percent_ = 0;
};

}  // namespace xai_explain
