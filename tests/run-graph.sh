#!/bin/sh
# run-graph.sh: golden tests of `funnel graph`. For every tests/golden/graph/
# NAME.pipe, runs `$FUNNEL graph --format F NAME.pipe` for F in dot, mermaid
# and json and compares the output with NAME.dot, NAME.mmd and NAME.json.
# A missing expected file is a failure. Prints the diff of each failure and
# "N passed, N failed" at the end; exits 1 if anything failed.
#
#   FUNNEL=build/funnel tests/run-graph.sh
#   tests/run-graph.sh --update     # rewrite the expected files (then review!)

FUNNEL=${FUNNEL:-funnel}
srcdir=${srcdir:-$(dirname "$0")/..}
dir=$srcdir/tests/golden/graph
update=no
[ "$1" = "--update" ] && update=yes

tmp=${TMPDIR:-/tmp}/run-graph.$$
trap 'rm -f "$tmp"' EXIT
trap 'rm -f "$tmp"; exit 1' INT TERM

passed=0
failed=0
for pipe in "$dir"/*.pipe; do
  [ -f "$pipe" ] || continue
  base=${pipe%.pipe}
  for pair in dot:dot mermaid:mmd json:json; do
    fmt=${pair%%:*}
    ext=${pair#*:}
    name="$(basename "$base").$ext"
    if ! "$FUNNEL" graph --format "$fmt" "$pipe" >"$tmp" 2>&1; then
      echo "FAIL $name: funnel graph exited with an error:"
      cat "$tmp"
      failed=$((failed + 1))
      continue
    fi
    if [ "$update" = yes ]; then
      cp "$tmp" "$base.$ext"
      echo "updated $name"
    fi
    if [ ! -f "$base.$ext" ]; then
      echo "FAIL $name: no expected file $base.$ext"
      failed=$((failed + 1))
    elif diff -u "$base.$ext" "$tmp"; then
      passed=$((passed + 1))
    else
      echo "FAIL $name: output differs from $base.$ext (diff above: - expected, + got)"
      failed=$((failed + 1))
    fi
  done
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
