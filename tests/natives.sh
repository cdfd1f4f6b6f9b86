#!/bin/sh
# tests/natives.sh: natives through libffi with the plugin make check builds
# (tests/plugin/funnel_test_plugin.so, found through FUNNEL_PLUGIN_PATH):
# every type both ways (tests/natives/natives.pipe, from source and from a
# .pipec), a failing native (R0109 with its message, in a test and under
# funnel run), an effectful native's "native" effect line, and a missing
# library, a missing symbol and a signature mismatch, each an error when
# the pack loads (exit 1, a message naming the extern).
FUNNEL=${FUNNEL:-funnel}
srcdir=${srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
dir=$srcdir/tests/natives
FUNNEL_PLUGIN_PATH=${FUNNEL_PLUGIN_PATH:-$(dirname "$FUNNEL")/tests/plugin}
export FUNNEL_PLUGIN_PATH
tmp=${TMPDIR:-/tmp}/natives.$$
trap 'rm -rf "$tmp"' EXIT
trap 'rm -rf "$tmp"; exit 1' INT TERM
mkdir -p "$tmp" || exit 1
passed=0; failed=0

ok() { passed=$((passed + 1)); }
bad() { failed=$((failed + 1)); echo "FAIL: $1"; [ -f "$tmp/out" ] && sed 's/^/    /' "$tmp/out"; }

# expect NAME STATUS TEXT CMD...: CMD exits with STATUS and its output
# (stdout and stderr) contains TEXT
expect() {
  name=$1 status=$2 text=$3
  shift 3
  "$@" >"$tmp/out" 2>&1
  rc=$?
  if [ $rc -ne "$status" ]; then bad "$name: exit $rc, not $status"
  elif [ -n "$text" ] && ! grep -qF -- "$text" "$tmp/out"; then bad "$name: no '$text' in the output"
  else ok; fi
}

expect "every type both ways" 0 "10 passed, 0 failed" "$FUNNEL" test "$dir/natives.pipe"
expect "build a pack with natives" 0 "" "$FUNNEL" build "$dir/natives.pipe" -o "$tmp/natives.pipec"
expect "the .pipec lists its natives" 0 "nt_add(funnel_test_plugin)" "$FUNNEL" disasm "$tmp/natives.pipec"
expect "every type both ways, from the .pipec" 0 "10 passed, 0 failed" "$FUNNEL" test "$tmp/natives.pipec"
expect "a failing native in a test" 1 "native nt_fail failed: Нет связи с 1С" \
  "$FUNNEL" test "$dir/fail.pipe"
expect "an empty argument" 1 "native nt_fail: argument 1 is empty" "$FUNNEL" test "$dir/fail.pipe"
expect "an enum name that is not a value" 1 "native nt_next_kind returned 'car', not a value of small" \
  "$FUNNEL" test "$dir/fail.pipe"
expect "an unknown currency" 1 "native nt_double returned money in an unknown currency 'XYZ'" \
  "$FUNNEL" test "$dir/fail.pipe"
expect "the failing tests" 1 "0 passed, 4 failed" "$FUNNEL" test "$dir/fail.pipe"
expect "an effectful native cannot return a value" 1 \
  "native 'nt_record' is not pure, so it runs after the command commits and cannot return a value" \
  "$FUNNEL" check "$dir/impure.pipe"
expect "an effectful native under a guard, through a function" 1 \
  "sneaky() acts, so it cannot be called in a condition" "$FUNNEL" check "$dir/impure.pipe"

printf '%s\n' '{"op":"clock","at":"2026-01-12T10:00:00+03:00"}' \
  '{"op":"create","entity":"deal","ref":"d1","direction":"sales","fields":{"title":"Кулер"}}' \
  '{"op":"move","ref":"d1","stage":"broken"}' >"$tmp/in.jsonl"
expect "an effectful native is an effect" 0 '"effect":"native","ref":"d1","at":"2026-01-12T10:00:00+03:00","native":"nt_touch","args":["Кулер"]' \
  sh -c '"$1" run --db "$2" "$3" <"$4"' sh "$FUNNEL" "$tmp/f.db" "$dir/fail.pipe" "$tmp/in.jsonl"
expect "a failing native in a handler" 0 'runtime error[R0109]: native nt_fail failed: Нет связи с 1С' \
  sh -c '"$1" run --db "$2" "$3" <"$4"' sh "$FUNNEL" "$tmp/f2.db" "$dir/fail.pipe" "$tmp/in.jsonl"

expect "a missing library" 1 "extern nt_add: library 'libfunnel_nowhere' not found" \
  "$FUNNEL" test "$dir/missing-lib.pipe"
expect "a missing library under run" 1 "extern nt_add: library 'libfunnel_nowhere' not found" \
  sh -c '"$1" run --db "$2" "$3" </dev/null' sh "$FUNNEL" "$tmp/m.db" "$dir/missing-lib.pipe"
expect "a missing symbol" 1 "extern nt_absent: " "$FUNNEL" test "$dir/missing-sym.pipe"
expect "a missing symbol names it" 1 "has no function funnel_nt_absent" "$FUNNEL" test "$dir/missing-sym.pipe"
expect "a signature mismatch" 1 "extern nt_mismatch: signature mismatch: the pack declares (int)->int" \
  "$FUNNEL" test "$dir/mismatch.pipe"
expect "a library given by path" 1 "library './nowhere/x.so' not found (looked for $dir/./nowhere/x.so)" \
  "$FUNNEL" test "$dir/by-path.pipe"
rm -f "$tmp/out"
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
