#!/bin/sh
# tests/stdlib.sh: the standard library. Every module checks on its own with
# no error and no warning; the tests under tests/stdlib/ (one file per
# module, importing it) pass, from source and from a built .pipec; the
# examples of docs/stdlib.md check; and every
# shipped pack imports the stdlib rather than repeating it.
FUNNEL=${FUNNEL:-./funnel}
srcdir=${srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
FUNNEL_STDLIB=$srcdir/stdlib; export FUNNEL_STDLIB
tmp=$(mktemp -d) || exit 2
trap 'rm -rf "$tmp"' EXIT
passed=0; failed=0
ok() { passed=$((passed + 1)); }
bad() { failed=$((failed + 1)); echo "FAIL: $*"; }

for m in "$srcdir"/stdlib/*.pipe; do
  out=$("$FUNNEL" check -W error --no-color "$m" 2>&1)
  if [ $? -eq 0 ] && [ -z "$out" ]; then ok; else bad "funnel check $m"; echo "$out"; fi
done
for t in "$srcdir"/tests/stdlib/*.pipe; do
  n=$(basename "$t" .pipe)
  if out=$("$FUNNEL" test "$t" 2>&1); then ok; else bad "funnel test $t"; echo "$out"; fi
  if "$FUNNEL" build "$t" -o "$tmp/$n.pipec" >/dev/null 2>&1 &&
     out2=$("$FUNNEL" test "$tmp/$n.pipec" 2>&1) &&
     [ "$(echo "$out" | tail -n 1)" = "$(echo "$out2" | tail -n 1)" ]; then ok
  else bad "funnel test $n.pipec differs from the source's"; fi
done
# the examples of docs/stdlib.md check clean
awk -v dir="$tmp" '/^```pipe$/ { n++; f = dir "/doc" n ".pipe"; inb = 1; next }
  /^```/ { inb = 0; next } inb { print > f }' "$srcdir/docs/stdlib.md"
for e in "$tmp"/doc*.pipe; do
  [ -e "$e" ] || { bad "no examples in docs/stdlib.md"; break; }
  out=$("$FUNNEL" check -W error --no-color "$e" 2>&1)
  if [ $? -eq 0 ] && [ -z "$out" ]; then ok; else bad "docs/stdlib.md example $(basename "$e")"; echo "$out"; fi
done
for p in "$srcdir"/pipelines/*.pipe; do
  if grep -q '^import std\.' "$p"; then ok; else bad "$p imports no stdlib module"; fi
done
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
