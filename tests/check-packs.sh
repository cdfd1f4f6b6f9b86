#!/bin/sh
# tests/check-packs.sh: every shipped pack checks with no error and no
# warning, and draws in every graph format.
FUNNEL=${FUNNEL:-./funnel}
srcdir=${srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
passed=0; failed=0
for p in "$srcdir"/pipelines/*.pipe; do
  out=$("$FUNNEL" check -W error --no-color "$p" 2>&1)
  st=$?
  if [ $st -eq 0 ] && [ -z "$out" ]; then passed=$((passed + 1)); else
    failed=$((failed + 1)); echo "FAIL: funnel check $p (status $st)"; echo "$out"; fi
  for f in dot mermaid json; do
    if "$FUNNEL" graph --format "$f" "$p" >/dev/null 2>&1; then passed=$((passed + 1)); else
      failed=$((failed + 1)); echo "FAIL: funnel graph --format $f $p"; fi
  done
done
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
