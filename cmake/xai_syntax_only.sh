#!/bin/sh
# Compiler launcher of the -fsyntax-only twins (cmake/xaiPrograms.cmake): runs the compile command
# it is given (with the launcher after it, ccache, if any), then creates the empty object file
# that -fsyntax-only does not write. Without it the build tool finds the twin's output missing
# and compiles every twin again on every build.
"$@" || exit
object=
previous=
for argument in "$@"; do
  if [ "$previous" = "-o" ]; then object=$argument; fi
  previous=$argument
done
if [ -n "$object" ]; then : > "$object"; fi
