#!/bin/sh
# tools/build.sh [DIR] [configure options...]: configures and builds funnel
# out of tree in DIR (default: build).
set -e
top=$(cd "$(dirname "$0")/.." && pwd)
dir=${1:-build}
[ $# -gt 0 ] && shift
cd "$top"
[ -x configure ] && [ configure -nt configure.ac ] && [ Makefile.in -nt Makefile.am ] || autoreconf -fi >/dev/null 2>&1
mkdir -p "$dir"
cd "$dir"
if [ ! -f Makefile ] || [ "$*" != "$(cat .configured 2>/dev/null)" ]; then
  "$top/configure" -q "$@"
  echo "$*" > .configured
fi
make -j"$(nproc 2>/dev/null || echo 2)" >/dev/null
