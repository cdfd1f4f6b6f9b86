#!/bin/sh
# tests/natives.sh: natives through libffi with the plugin make check builds
# (tests/plugin/funnel_test_plugin.so, found through FUNNEL_PLUGIN_PATH):
# every type both ways (tests/natives/natives.pipe, from source and from a
# .pipec), a failing native (R0109 with its message, in a test and under
# funnel run), an effectful native's "native" effect line, and a missing
# library, a missing symbol and a signature mismatch, each an error when
# the pack loads (exit 1, a message naming the extern); and effectful natives
# recorded by handlers, called after the commit by funnel deliver ([natives]
# pack), retried, dead-lettered, never twice (tests/natives/deferred.pipe).
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
# effectful natives run after the commit, from the outbox (deferred.pipe)
calls=$tmp/calls.txt
printf '%s\n' '{"op":"clock","at":"2026-01-12T10:00:00+03:00"}' \
  "{\"op\":\"create\",\"entity\":\"deal\",\"ref\":\"d1\",\"direction\":\"sales\",\"fields\":{\"title\":\"Кулер\",\"log_path\":\"$calls\"}}" \
  '{"op":"move","ref":"d1","stage":"paid"}' \
  '{"op":"update","ref":"d1","fields":{"amount":"1500.50 RUB"}}' \
  '{"op":"move","ref":"d1","stage":"paid"}' \
  '{"op":"create","entity":"deal","ref":"d2","direction":"sales","fields":{"title":"Сбой","log_path":"fail:Нет связи с 1С"}}' \
  >"$tmp/def.jsonl"
expect "a handler's effectful native is recorded, with its exact arguments kept for the call" 0 \
  '"native":"nt_append","args":["'"$calls"'","оплата 1500.50 RUB: Кулер"]' \
  sh -c '"$1" run --db "$2" "$3" <"$4"' sh "$FUNNEL" "$tmp/def.db" "$dir/deferred.pipe" "$tmp/def.jsonl"
if [ -e "$calls" ]; then bad "the native ran inside the command"; else ok; fi
printf '[retry]\nbase = 10s\nmax_attempts = 2\n[natives]\npack = %s\n' "$dir/deferred.pipe" >"$tmp/def.ini"
expect "funnel deliver calls them after the commit" 0 "2 delivered, 1 to retry, 0 dead" \
  "$FUNNEL" deliver --db "$tmp/def.db" --config "$tmp/def.ini" --once --now 2026-01-12T10:00:00+03:00
if [ "$(cat "$calls" 2>/dev/null)" = "$(printf 'вход: Кулер\nоплата 1500.50 RUB: Кулер')" ]; then ok
else bad "the calls made: $(cat "$calls" 2>/dev/null | tr '\n' '|') (want the two, in order; the refused move none)"; fi
expect "a failing native is retried with the native's message" 0 "native nt_append failed: Нет связи с 1С" \
  "$FUNNEL" outbox --db "$tmp/def.db"
expect "and dead after the last attempt" 0 "0 delivered, 0 to retry, 1 dead" \
  "$FUNNEL" deliver --db "$tmp/def.db" --config "$tmp/def.ini" --once --now 2026-01-12T10:05:00+03:00
expect "nothing is called twice" 0 "0 delivered, 0 to retry, 0 dead" \
  "$FUNNEL" deliver --db "$tmp/def.db" --config "$tmp/def.ini" --once --now 2026-01-12T11:00:00+03:00
if [ "$(wc -l <"$calls")" -eq 2 ]; then ok; else bad "the calls file has $(wc -l <"$calls") lines, not 2"; fi
printf '[natives]\npack = %s\n' "$dir/natives.pipe" >"$tmp/other.ini"
"$FUNNEL" outbox --db "$tmp/def.db" --retry 3 >/dev/null 2>&1   # due now (the wall clock)
expect "a pack without the native: dead at once" 0 "the pack has no native 'nt_append'" \
  "$FUNNEL" deliver --db "$tmp/def.db" --config "$tmp/other.ini" --once --now 2030-01-01T12:00:00+03:00

rm -f "$tmp/out"
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
