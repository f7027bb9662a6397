// Catch2's main(), compiled once for every test executable.
// GCC 12 at -O2 with sanitizers reports false -Wmaybe-uninitialized warnings inside <regex>,
// which Catch includes; they are not in our code, so they are silenced for this file only.
#if defined(__GNUC__) && !defined(__clang__)  // clang has no such warning (and would warn about the name)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
