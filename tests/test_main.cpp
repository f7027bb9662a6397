// Catch2's main(), compiled once for every test executable.
// GCC 12 at -O2 with sanitizers reports false -Wmaybe-uninitialized warnings inside <regex>,
// which Catch includes; they are not in our code, so they are silenced for this file only.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
#pragma GCC diagnostic pop
