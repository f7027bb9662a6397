#pragma once
// The exception hierarchy of xai.
//
// Every error a caller can provoke is an xai::error, so `catch (const xai::error&)` catches
// them all. Messages name the function and the argument and say what was expected, e.g.
//   "GradCam::explain(): targets has 3 entries, expected 1 or the batch size (4)".
// Build them with xai::detail::message(...) so the format stays the same everywhere.

#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>

namespace xai {

/// Base of every exception thrown by xai.
class error : public std::runtime_error {
public:
    /// An error whose what() is `what` (built with xai::detail::message so it names the
    /// function, the argument and what was expected).
    explicit error(const std::string& what) : std::runtime_error(what) {}
};

/// An argument has a value outside its documented range (a count of 0, a probability above 1,
/// an unknown layer or method name, a NaN in an input that must be finite).
class invalid_argument : public error {
public:
    using error::error;
};

/// A tensor argument has the wrong rank or extents, or two arguments disagree in shape.
class shape_error : public invalid_argument {
public:
    using invalid_argument::invalid_argument;
};

/// A file is missing, unreadable, truncated, corrupt or of an unsupported format.
class io_error : public error {
public:
    using error::error;
};

/// The model misbehaved: non-finite outputs, an untrained (empty) model, a result of the
/// wrong shape from a user-supplied model.
class model_error : public error {
public:
    using error::error;
};

/// A numerical procedure failed: a singular system without damping, a solver that diverged.
class numerical_error : public error {
public:
    using error::error;
};

namespace detail {

/// Concatenates its arguments with operator<< into one string.
template <class... Parts>
std::string message(Parts&&... parts) {
    std::ostringstream out;
    (out << ... << std::forward<Parts>(parts));
    return out.str();
}

/// Throws Error(message(parts...)) when `condition` is false.
template <class Error = invalid_argument, class... Parts>
void require(bool condition, Parts&&... parts) {
    if (!condition) throw Error(message(std::forward<Parts>(parts)...));
}

}  // namespace detail
}  // namespace xai
