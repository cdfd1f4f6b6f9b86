#!/bin/sh
#
# run-errors.sh: the negative tests of the front end. Each case is a small
# .pipe file holding one mistake a consultant makes, and says what
# `funnel check` must report with comment lines anywhere in the file:
#
#   # expect: error E0203 at 12:11
#   # expect: warning W0501 at 5:3
#
# (line:col as funnel prints them; columns count code points). The match is
# exact: every expected diagnostic is reported at that place with that code,
# nothing else is reported (notes do not count), and the exit status is 1
# when errors are expected, 0 otherwise. A case without expect lines must
# check clean. A diagnostic in another file (an import) is written with its
# path as funnel prints it: `# expect: error E0101 at PATH:3:5`.
#
# Cases: tests/errors/*.pipe (tests/errors/lib/ holds files they import).
# Exact-output cases: tests/errors/caret/NAME.pipe, whose stderr must be
# byte for byte tests/errors/caret/NAME.out (with --no-color).
#
# A case also fails if funnel crashes (status >= 128) or a sanitizer speaks.
#
# Environment: FUNNEL (default ./funnel), srcdir (default: the directory
# above this script's). Runs from $srcdir, so paths read tests/errors/....
# Prints one line per failing case, then "N passed, N failed". Exit status:
# 0 if all passed, 1 if any failed, 2 if it could not run.

FUNNEL=${FUNNEL:-./funnel}
if [ -z "${srcdir:-}" ]; then
  srcdir=$(cd "$(dirname "$0")/.." && pwd) || exit 2
fi

# FUNNEL is relative to where we were started, not to $srcdir.
case $FUNNEL in
  /*) ;;
  */*) FUNNEL=$(pwd)/$FUNNEL ;;
esac
if [ ! -x "$FUNNEL" ] && ! command -v "$FUNNEL" >/dev/null 2>&1; then
  echo "run-errors.sh: cannot run '$FUNNEL' (set FUNNEL)" >&2
  exit 2
fi
cd "$srcdir" || exit 2
if [ ! -d tests/errors ]; then
  echo "run-errors.sh: no tests/errors in $srcdir" >&2
  exit 2
fi

# Byte-wise text tools: cases hold invalid UTF-8 on purpose.
LC_ALL=C
export LC_ALL

tmp=$(mktemp -d "${TMPDIR:-/tmp}/run-errors.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT
trap 'exit 2' HUP INT TERM

pass=0
fail=0

# expectations FILE: "POS KIND CODE" per expect line, sorted; a malformed
# expect line gives "BAD <line>".
expectations() {
  sed -n \
    -e 's/^[[:space:]]*#[[:space:]]*expect:[[:space:]]*\(error\)[[:space:]][[:space:]]*\([EW][0-9][0-9][0-9][0-9]\)[[:space:]][[:space:]]*at[[:space:]][[:space:]]*\([^[:space:]]*[0-9]:[0-9][0-9]*\)[[:space:]]*$/\3 \1 \2/p' \
    -e 't' \
    -e 's/^[[:space:]]*#[[:space:]]*expect:[[:space:]]*\(warning\)[[:space:]][[:space:]]*\([EW][0-9][0-9][0-9][0-9]\)[[:space:]][[:space:]]*at[[:space:]][[:space:]]*\([^[:space:]]*[0-9]:[0-9][0-9]*\)[[:space:]]*$/\3 \1 \2/p' \
    -e 't' \
    -e 's/^[[:space:]]*#[[:space:]]*expect:\(.*\)$/BAD\1/p' \
    "$1" | sort
}

# reported FILE OUTPUT: "POS KIND CODE" per error or warning funnel printed,
# POS without the path when it is FILE, sorted. Diagnostics without a
# position read "?:? KIND CODE".
reported() {
  sed -n \
    -e 's/^\([^ ]*\):\([0-9][0-9]*:[0-9][0-9]*\): \(error\)\[\([A-Z][0-9]*\)\]: .*/\1 \2 \3 \4/p' \
    -e 't' \
    -e 's/^\([^ ]*\):\([0-9][0-9]*:[0-9][0-9]*\): \(warning\)\[\([A-Z][0-9]*\)\]: .*/\1 \2 \3 \4/p' \
    -e 't' \
    -e 's/^[^ ]*: \(error\)\[\([A-Z][0-9]*\)\]: .*/- ?:? \1 \2/p' \
    -e 't' \
    -e 's/^[^ ]*: \(warning\)\[\([A-Z][0-9]*\)\]: .*/- ?:? \1 \2/p' \
    "$2" |
  while read -r path pos kind code; do
    if [ "$path" = "$1" ] || [ "$path" = - ]; then
      echo "$pos $kind $code"
    else
      echo "$path:$pos $kind $code"
    fi
  done | sort
}

# Runs funnel on FILE into $tmp/out; sets $status. Returns 1 (after
# printing nothing) if funnel crashed or a sanitizer reported, with the
# reason in $crash.
run_funnel() {
  crash=
  "$FUNNEL" check --no-color "$1" >"$tmp/stdout" 2>"$tmp/out"
  status=$?
  if [ "$status" -ge 128 ]; then
    crash="crashed (exit status $status)"
  elif [ "$status" -eq 126 ] || [ "$status" -eq 127 ]; then
    crash="could not run $FUNNEL (exit status $status)"
  else
    sanitizer=$(cat "$tmp/out" "$tmp/stdout" |
      grep -e AddressSanitizer -e LeakSanitizer -e 'runtime error:' | sed -n 1p)
    [ -n "$sanitizer" ] && crash="sanitizer report: $sanitizer"
  fi
  [ -z "$crash" ]
}

# "a; b; c" from lines, each with a prefix.
join_lines() {
  sed "s/^/$1/" | tr '\n' ';' | sed 's/;$//; s/;/; /g'
}

for f in tests/errors/*.pipe; do
  [ -e "$f" ] || continue
  expectations "$f" >"$tmp/want"
  if grep -q '^BAD' "$tmp/want"; then
    echo "FAIL $f: malformed expect line:$(grep -m1 '^BAD' "$tmp/want" | sed 's/^BAD//')"
    fail=$((fail + 1))
    continue
  fi
  if ! run_funnel "$f"; then
    echo "FAIL $f: $crash"
    fail=$((fail + 1))
    continue
  fi
  reported "$f" "$tmp/out" >"$tmp/got"
  problems=
  missing=$(comm -23 "$tmp/want" "$tmp/got" | sed 's/^\([^ ]*\) \([^ ]*\) \([^ ]*\)$/\2 \3 at \1/' | join_lines 'missing ')
  extra=$(comm -13 "$tmp/want" "$tmp/got" | sed 's/^\([^ ]*\) \([^ ]*\) \([^ ]*\)$/\2 \3 at \1/' | join_lines 'unexpected ')
  [ -n "$missing" ] && problems="$missing"
  [ -n "$extra" ] && problems="${problems:+$problems; }$extra"
  want_status=0
  grep -q ' error ' "$tmp/want" && want_status=1
  if [ "$status" -ne "$want_status" ]; then
    problems="${problems:+$problems; }exit status $status, expected $want_status"
  fi
  if [ -n "$problems" ]; then
    echo "FAIL $f: $problems"
    fail=$((fail + 1))
  else
    pass=$((pass + 1))
  fi
done

for f in tests/errors/caret/*.pipe; do
  [ -e "$f" ] || continue
  want=${f%.pipe}.out
  if [ ! -r "$want" ]; then
    echo "FAIL $f: no $want"
    fail=$((fail + 1))
    continue
  fi
  if ! run_funnel "$f"; then
    echo "FAIL $f: $crash"
    fail=$((fail + 1))
    continue
  fi
  if cmp -s "$want" "$tmp/out"; then
    pass=$((pass + 1))
  else
    first=$(diff "$want" "$tmp/out" | grep '^[<>]' | head -n 2 | tr '\n' ' ')
    echo "FAIL $f: output differs from $want: $first"
    fail=$((fail + 1))
  fi
done

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
