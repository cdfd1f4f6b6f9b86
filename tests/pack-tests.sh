#!/bin/sh
# tests/pack-tests.sh: the test blocks of every shipped pack pass (`funnel
# test`, each test on a fresh in-memory store and a virtual clock), from the
# source and again from the pack's .pipec: a compiled pack behaves the same.
FUNNEL=${FUNNEL:-./funnel}
srcdir=${srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0; failed=0
for p in "$srcdir"/pipelines/*.pipe; do
  n=$(basename "$p" .pipe)
  "$FUNNEL" test "$p" >"$tmp/src.out" 2>&1
  st=$?
  grep -E '^(PASS|FAIL)' "$tmp/src.out" | sed 's/^\([A-Z]*\)  [^:]*: /\1  /' >"$tmp/src.res"
  cat "$tmp/src.out" | grep -v '^[0-9]* passed'
  p_=$(grep -c '^PASS' "$tmp/src.out"); f_=$(grep -c '^FAIL' "$tmp/src.out")
  passed=$((passed + p_)); failed=$((failed + f_))
  [ $st -eq 0 ] || [ "$f_" -gt 0 ] || { failed=$((failed + 1)); echo "FAIL  $n: funnel test exited $st"; }
  if "$FUNNEL" build "$p" -o "$tmp/$n.pipec" 2>/dev/null; then
    "$FUNNEL" test "$tmp/$n.pipec" 2>&1 | grep -E '^(PASS|FAIL)' | sed 's/^\([A-Z]*\)  [^:]*: /\1  /' >"$tmp/bin.res"
    if cmp -s "$tmp/src.res" "$tmp/bin.res"; then passed=$((passed + 1)); else
      failed=$((failed + 1)); echo "FAIL  $n: its .pipec tests differently"; diff "$tmp/src.res" "$tmp/bin.res"; fi
  else
    failed=$((failed + 1)); echo "FAIL  $n: does not build"
  fi
done
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
