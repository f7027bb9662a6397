#!/usr/bin/env bash
# What including xai costs a user's translation unit: user CPU seconds and peak RSS of
# `g++ -O2 -fsyntax-only` (parsing and template instantiation) and of a full `g++ -O2 -c`
# (plus code generation), for
#   floor       a TU with only the Eigen and xtensor headers the library itself uses
#   xai.hpp     the umbrella header
#   <family>    each family header alone (xai/cam.hpp, xai/lime.hpp, …)
#   quickstart  README's first program (examples/quickstart.cpp), header-only and in the opt-in
#               compiled mode (-DXAI_COMPILED_LIB, what linking xai::compiled does), and that
#               mode's one library file src/compiled.cpp (compiled once per build)
# Each measurement is the fastest of $REPEATS runs (default 3), since the machine may be shared;
# the ratios over the floor are what to compare across machines (docs/performance.md).
# Reporting only: CI runs it and prints the table, it never fails on a figure.
#   scripts/compile_cost.sh [output.md]      (default: print to stdout)
#   CXX=clang++ REPEATS=5 scripts/compile_cost.sh
set -euo pipefail
cd "$(dirname "$0")/.."
CXX=${CXX:-g++}
REPEATS=${REPEATS:-3}
OUT=${1:-/dev/stdout}
TIME=/usr/bin/time
[ -x "$TIME" ] || { echo "compile_cost.sh: needs GNU time (/usr/bin/time, Debian package 'time')" >&2; exit 2; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
FLAGS=(-std=c++20 -O2 -Iinclude -I/usr/include/eigen3 -I/usr/include/stb "-DXAI_DEFAULT_DATA_DIR=\"$PWD/data\"")

cat > "$work/floor.cpp" <<'CPP'
// The floor: the third-party headers xai itself includes, and nothing of xai.
#include <Eigen/Cholesky>
#include <Eigen/Core>
#include <Eigen/Eigenvalues>
#include <Eigen/QR>
#include <xtensor/xarray.hpp>
#include <xtensor/xtensor.hpp>
#include <xtensor/xview.hpp>
int main() {}
CPP

# measure FILE MODE [DEFINE] → "user_seconds peak_kb" (the fastest of REPEATS runs)
measure() {
    local file=$1 mode=$2 best_t="" best_m="" t m
    local flags=("${FLAGS[@]}" ${3:+"$3"})
    for _ in $(seq "$REPEATS"); do
        if [ "$mode" = syntax ]; then
            "$TIME" -f "%U %M" -o "$work/t" "$CXX" "${flags[@]}" -fsyntax-only "$file"
        else
            "$TIME" -f "%U %M" -o "$work/t" "$CXX" "${flags[@]}" -c "$file" -o "$work/o.o"
        fi
        read -r t m < "$work/t"
        if [ -z "$best_t" ] || awk "BEGIN{exit !($t < $best_t)}"; then best_t=$t; fi
        if [ -z "$best_m" ] || [ "$m" -lt "$best_m" ]; then best_m=$m; fi
    done
    echo "$best_t $best_m"
}

rows=("floor|$work/floor.cpp")
add_header() { echo "#include <$1>" > "$work/$2.cpp"; echo 'int main() {}' >> "$work/$2.cpp"; rows+=("$1|$work/$2.cpp"); }
add_header xai/xai.hpp umbrella
for h in include/xai/*.hpp; do
    name=$(basename "$h" .hpp)
    [ "$name" = xai ] && continue
    # the LibTorch and ONNX adapters need their frameworks' headers: not measured against this floor
    [ "$name" = torch ] && continue
    [ "$name" = onnx ] && continue
    add_header "xai/$name.hpp" "family_$name"
done
rows+=("README's first program (examples/quickstart.cpp)|examples/quickstart.cpp")
rows+=("README's first program, compiled mode (xai::compiled)|examples/quickstart.cpp|-DXAI_COMPILED_LIB")
rows+=("src/compiled.cpp (xai::compiled, once per build)|src/compiled.cpp|-DXAI_COMPILED_LIB")

{
    echo "Compile cost on $(nproc) cores of $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $($CXX --version | head -1), fastest of $REPEATS runs, -O2."
    echo
    echo "| translation unit | -fsyntax-only CPU s | × floor | full -O2 CPU s | × floor | peak RSS (full) MB |"
    echo "| --- | ---: | ---: | ---: | ---: | ---: |"
    floor_s="" floor_f=""
    for row in "${rows[@]}"; do
        IFS='|' read -r name file define <<< "$row"
        read -r ts _ < <(measure "$file" syntax "$define")
        read -r tf mf < <(measure "$file" full "$define")
        if [ -z "$floor_s" ]; then floor_s=$ts floor_f=$tf; fi
        awk -v n="$name" -v ts="$ts" -v fs="$floor_s" -v tf="$tf" -v ff="$floor_f" -v m="$mf" \
            'BEGIN { printf "| %s | %.2f | %.1f | %.2f | %.1f | %.0f |\n", n, ts, ts / fs, tf, tf / ff, m / 1024 }'
    done
} > "$OUT"
