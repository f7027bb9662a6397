#!/usr/bin/env bash
# Builds the API reference from the headers' comments (Doxygen, docs/Doxyfile) into
# build/doxygen/html and fails on any Doxygen warning: every public class, member, function,
# enum and typedef of include/xai must be documented (namespace detail is excluded) and every
# comment must be well-formed. The warnings are printed on failure (also in
# build/doxygen/warnings.log). Needs Debian's doxygen (scripts/install-deps.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v doxygen > /dev/null; then
  echo "docs.sh: doxygen is not installed (scripts/install-deps.sh installs it)" >&2
  exit 1
fi

out=build/doxygen
log="$out/warnings.log"
mkdir -p "$out"
rm -f "$log"

# WARN_AS_ERROR = FAIL_ON_WARNINGS: doxygen finishes the run, then exits non-zero if it warned.
status=0
doxygen docs/Doxyfile || status=$?
if [[ $status -ne 0 || -s $log ]]; then
  count=$( [[ -f $log ]] && grep -c . "$log" || echo 0)
  echo "docs.sh: doxygen failed (exit status $status, $count warning lines in $log):" >&2
  [[ -f $log ]] && cat "$log" >&2
  exit $(( status != 0 ? status : 1 ))
fi
echo "docs.sh: API reference built without warnings: $out/html/index.html"
