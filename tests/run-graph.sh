#!/bin/sh
# run-graph.sh: golden tests of `funnel graph`. For every tests/golden/graph/
# NAME.pipe, runs `$FUNNEL graph --format F NAME.pipe` for F in dot, mermaid
# and json and compares the output with NAME.dot, NAME.mmd and NAME.json.
# Then it compiles NAME.pipe with `$FUNNEL build` and compares the diagrams
# of the compiled pack with NAME.pipec.dot, NAME.pipec.mmd and
# NAME.pipec.json (drawn from the bytecode: same arrows, conditions read
# "(condition)"). A missing expected file is a failure.
# Last, a smoke test: every pack in pipelines/ builds, and `funnel graph`
# draws its .pipec in each format without an error.
# Prints the diff of each failure and "N passed, N failed" at the end;
# exits 1 if anything failed.
#
#   FUNNEL=build/funnel tests/run-graph.sh
#   tests/run-graph.sh --update     # rewrite the expected files (then review!)

FUNNEL=${FUNNEL:-funnel}
srcdir=${srcdir:-$(dirname "$0")/..}
dir=$srcdir/tests/golden/graph
update=no
[ "$1" = "--update" ] && update=yes

tmp=${TMPDIR:-/tmp}/run-graph.$$
trap 'rm -f "$tmp" "$tmp.pipec"' EXIT
trap 'rm -f "$tmp" "$tmp.pipec"; exit 1' INT TERM

passed=0
failed=0

# compare NAME INPUT EXPECTED-BASE: the three formats of INPUT against
# EXPECTED-BASE.dot, .mmd and .json (sh has no locals: it sets pair, fmt,
# ext and what).
compare() {
  for pair in dot:dot mermaid:mmd json:json; do
    fmt=${pair%%:*}
    ext=${pair#*:}
    what="$1.$ext"
    if ! "$FUNNEL" graph --format "$fmt" "$2" >"$tmp" 2>&1; then
      echo "FAIL $what: funnel graph exited with an error:"
      cat "$tmp"
      failed=$((failed + 1))
      continue
    fi
    if [ "$update" = yes ]; then
      cp "$tmp" "$3.$ext"
      echo "updated $what"
    fi
    if [ ! -f "$3.$ext" ]; then
      echo "FAIL $what: no expected file $3.$ext"
      failed=$((failed + 1))
    elif diff -u "$3.$ext" "$tmp"; then
      passed=$((passed + 1))
    else
      echo "FAIL $what: output differs from $3.$ext (diff above: - expected, + got)"
      failed=$((failed + 1))
    fi
  done
}

for pipe in "$dir"/*.pipe; do
  [ -f "$pipe" ] || continue
  base=${pipe%.pipe}
  name=$(basename "$base")
  compare "$name" "$pipe" "$base"
  if ! "$FUNNEL" build "$pipe" -o "$tmp.pipec" >"$tmp" 2>&1; then
    echo "FAIL $name.pipec: funnel build exited with an error:"
    cat "$tmp"
    failed=$((failed + 1))
    continue
  fi
  compare "$name.pipec" "$tmp.pipec" "$base.pipec"
done

# smoke: the shipped packs, compiled, draw in every format
for pipe in "$srcdir"/pipelines/*.pipe; do
  [ -f "$pipe" ] || continue
  name=$(basename "$pipe" .pipe).pipec
  if ! "$FUNNEL" build "$pipe" -o "$tmp.pipec" >"$tmp" 2>&1; then
    echo "FAIL $name: funnel build exited with an error:"
    cat "$tmp"
    failed=$((failed + 1))
    continue
  fi
  for fmt in dot mermaid json; do
    if "$FUNNEL" graph --format "$fmt" "$tmp.pipec" >"$tmp" 2>&1 && [ -s "$tmp" ]; then
      passed=$((passed + 1))
    else
      echo "FAIL $name ($fmt): funnel graph failed or drew nothing:"
      cat "$tmp"
      failed=$((failed + 1))
    fi
  done
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
