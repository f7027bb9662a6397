#pragma once
// xai-explain's writing thread: the pictures, maps and records of an image are drawn, encoded
// and written while the next images are explained, so that in wall-clock time the writing hides
// behind the model's passes when the machine has two cores or more (docs/cli.md, "Performance").
// `--threads` still counts the explaining threads; the writer is one more.
//
// The tasks run in the order they were submitted, one at a time, each with the writer's
// Scratch (its PNG encoder and gallery canvas, reused from image to image), so the files are
// the same as when written inline. The queue is bounded (submit() waits while it is full), so a
// slow disk holds the explaining back instead of piling up explanations in memory. The first task
// that throws stops the writing: the tasks after it are dropped and its exception comes out of
// the next submit() or of finish(), in the explaining thread, where the run reports it as before
// (the message names the image and the file; exit status 1). The destructor runs what is queued
// (unless a task failed) and joins, so every output is complete when the run returns, whichever
// way it returns. With one core (std::thread::hardware_concurrency() < 2) the tasks run inline.

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <utility>

#include "png_writer.hpp"
#include "xai/core/tensor.hpp"

namespace xai_explain {

/// What a writing task may reuse from one image to the next.
struct Scratch {
    PngEncoder png;     ///< the PNG encoder, its deflate state and buffers
    xai::Image canvas;  ///< the gallery's canvas (gallery.hpp's compose_gallery)
};

/// The bounded queue of writing tasks and the thread that runs them (see the header).
class OutputWriter {
public:
    using Task = std::function<void(Scratch&)>;

    /// A writer holding at most `capacity` waiting tasks, with a thread of its own when `threaded`.
    explicit OutputWriter(std::size_t capacity, bool threaded = std::thread::hardware_concurrency() >= 2)
        : capacity_(capacity < 1 ? 1 : capacity) {
        if (threaded) thread_ = std::thread([this] { work(); });
    }
    ~OutputWriter() {
        try {
            finish();
        } catch (...) {  // reported by finish() when the run gets that far; a destructor must not throw
        }
    }
    OutputWriter(const OutputWriter&) = delete;
    OutputWriter& operator=(const OutputWriter&) = delete;

    /// Queues `task` (runs it at once without a thread), waiting while the queue is full;
    /// rethrows the first failure of an earlier task.
    void submit(Task task) {
        if (!thread_.joinable()) {
            rethrow();
            run(task);
            rethrow();
            return;
        }
        std::unique_lock lock(mutex_);
        changed_.wait(lock, [&] { return queue_.size() < capacity_ || error_; });
        if (error_) std::rethrow_exception(error_);
        queue_.push_back(std::move(task));
        changed_.notify_all();
    }

    /// Waits until every queued task has run and stops the thread; rethrows the first failure.
    void finish() {
        if (thread_.joinable()) {
            {
                std::lock_guard lock(mutex_);
                closing_ = true;
            }
            changed_.notify_all();
            thread_.join();
        }
        rethrow();
    }

private:
    void rethrow() {
        std::lock_guard lock(mutex_);
        if (error_) std::rethrow_exception(error_);
    }

    /// Runs one task, keeping its exception (the first one) for the explaining thread.
    void run(Task& task) {
        try {
            task(scratch_);
        } catch (...) {
            std::lock_guard lock(mutex_);
            if (!error_) error_ = std::current_exception();
        }
    }

    void work() {
        while (true) {
            Task task;
            {
                std::unique_lock lock(mutex_);
                changed_.wait(lock, [&] { return !queue_.empty() || closing_; });
                if (queue_.empty() || error_) {
                    queue_.clear();
                    changed_.notify_all();
                    if (closing_ || error_) return;
                    continue;
                }
                task = std::move(queue_.front());
                queue_.pop_front();
                changed_.notify_all();
            }
            run(task);
        }
    }

    std::size_t capacity_;
    std::mutex mutex_;
    std::condition_variable changed_;
    std::deque<Task> queue_;
    bool closing_ = false;
    std::exception_ptr error_;
    Scratch scratch_;
    std::thread thread_;  ///< last: started once everything it uses is constructed
};

}  // namespace xai_explain
