#!/bin/sh
# bench/vm/run.sh: the funnel VM against Lua 5.4 on the same handler-like
# work (handler.pipe through bench_vm, handler.lua through lua5.4). Builds
# bench_vm, runs each side RUNS times alternating (funnel, lua, funnel,
# lua, ...), checks that both sides made the same effects (checksums), and
# prints the medians; the last line is `funnel/lua5.4 time ratio: R`.
#
#   bench/vm/run.sh
#
# Environment: BUILD, the autotools build directory (default: build at the
# top of the source tree, made with tools/build.sh if missing); N, handler
# runs per measurement (default 1000000: about half a second a side);
# RUNS, measurements per side (default 7, at least 5).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
BUILD=${BUILD:-$top/build}
N=${N:-1000000}
RUNS=${RUNS:-7}

die() {
  echo "bench/vm: $*" >&2
  exit 1
}

[ "$RUNS" -ge 5 ] || die "RUNS must be at least 5"

# ---- what it needs ------------------------------------------------------------
if [ ! -f "$BUILD/Makefile" ]; then
  echo "bench/vm: configuring and building funnel in $BUILD" >&2
  "$top/tools/build.sh" "$BUILD"
fi
# Timings from a sanitizer or unoptimized build mean nothing: say so.
flags=$(sed -n -e 's/^CFLAGS = *//p' -e 's/^SAN_CFLAGS = *//p' "$BUILD/Makefile" | tr '\n' ' ')
case $flags in
*-fsanitize*) echo "bench/vm: warning: $BUILD is a sanitizer build ($flags)" >&2 ;;
*-O[1-3s]*) ;;
*) echo "bench/vm: warning: $BUILD is not an optimized build (CFLAGS: $flags)" >&2 ;;
esac
# -j1: the library is usually built already; the benchmark is one file.
make -C "$BUILD" -j1 bench/vm/bench_vm >/dev/null || die "could not build bench_vm"
bench_vm=$BUILD/bench/vm/bench_vm

if ! command -v lua5.4 >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "bench/vm: installing lua5.4" >&2
    apt-get install -y lua5.4 >/dev/null 2>&1 || { apt-get update >/dev/null 2>&1 && apt-get install -y lua5.4 >/dev/null 2>&1; } ||
      die "could not install lua5.4"
  else
    die "lua5.4 is not installed (Debian: apt-get install lua5.4)"
  fi
fi

# ---- the runs ------------------------------------------------------------------------
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

# field NAME LINE: the value of NAME=... in a result line
field() {
  printf '%s\n' "$2" | tr ' ' '\n' | sed -n "s/^$1=//p"
}

ref=
i=1
while [ "$i" -le "$RUNS" ]; do
  for side in funnel lua; do
    if [ "$side" = funnel ]; then
      out=$("$bench_vm" "$here/handler.pipe" "$N") || die "bench_vm failed"
    else
      out=$(lua5.4 "$here/handler.lua" "$N") || die "lua5.4 failed"
    fi
    sum="$(field runs "$out") $(field effects "$out") $(field checksum "$out")"
    [ -n "$ref" ] || ref=$sum
    [ "$sum" = "$ref" ] || die "$side did different work: runs, effects, checksum = $sum, expected $ref"
    field seconds "$out" >>"$tmp/$side"
  done
  i=$((i + 1))
done

# median FILE: the middle value (the mean of the two middle ones for an even count)
median() {
  sort -n "$1" | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

fm=$(median "$tmp/funnel")
lm=$(median "$tmp/lua")
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo 2>/dev/null | head -n 1)
echo "bench/vm: $N handler runs per measurement, $RUNS measurements per side, alternating"
echo "machine: $(nproc 2>/dev/null || echo '?') CPUs, ${cpu:-unknown CPU}"
echo "work: runs, effects, checksum = $ref (the same on both sides)"
awk -v fm="$fm" -v lm="$lm" -v n="$N" -v ff="$(sort -n "$tmp/funnel" | tr '\n' ' ')" \
  -v lf="$(sort -n "$tmp/lua" | tr '\n' ' ')" 'BEGIN {
  printf "%-8s %12s %14s   %s\n", "side", "median s", "ns per run", "all runs (s, sorted)"
  printf "%-8s %12.4f %14.1f   %s\n", "funnel", fm, fm * 1e9 / n, ff
  printf "%-8s %12.4f %14.1f   %s\n", "lua5.4", lm, lm * 1e9 / n, lf
  printf "funnel/lua5.4 time ratio: %.2f\n", fm / lm
}'
