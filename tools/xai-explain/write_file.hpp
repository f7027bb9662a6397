#pragma once
// xai-explain's one way of writing an output file: the whole content in one write(2) on a file
// descriptor, without a stream buffer.
//
// A file that exists already (a rerun with --overwrite) is removed and created anew instead of
// truncated: ext4 (the default file system on Linux; mount option auto_da_alloc, on by default)
// flushes a file that was truncated to zero and rewritten when it is closed, to keep its old or
// new content across a crash, and that flush cost a synchronous write-back start in close() for
// every file of every image (docs/cli.md, "Performance"). A new file is only written back when
// the kernel decides. So an output that is a symbolic link is replaced by a file, not written
// through.

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <filesystem>
#include <string>

#include "arguments.hpp"

namespace xai_explain {

/// Writes `size` bytes to `path` (created, or removed and created anew: see the header);
/// Failure(failure) naming the file and the reason when it cannot be written.
inline void write_file(const std::filesystem::path& path, const void* data, std::size_t size) {
    const auto failure = [&](int error) {
        return Failure(ExitCode::failure, "cannot write '" + path.string() + "': " + std::strerror(error));
    };
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0 && errno == EEXIST) {
        if (::unlink(path.c_str()) != 0 && errno != ENOENT) throw failure(errno);
        fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    }
    if (fd < 0) throw failure(errno);
    const char* bytes = static_cast<const char*>(data);
    while (size > 0) {
        const ssize_t n = ::write(fd, bytes, size);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            const int error = n < 0 ? errno : ENOSPC;
            ::close(fd);
            throw failure(error);
        }
        bytes += n;
        size -= static_cast<std::size_t>(n);
    }
    if (::close(fd) != 0) throw failure(errno);
}

/// Writes `text` to `path` (see write_file()).
inline void write_text(const std::filesystem::path& path, const std::string& text) {
    write_file(path, text.data(), text.size());
}

}  // namespace xai_explain
