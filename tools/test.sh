#!/bin/sh
# tools/test.sh: the whole test suite. Installs what is missing, builds with
# AddressSanitizer and UndefinedBehaviorSanitizer (build-san/), runs
# `make check`, and ends with the summary line "N passed, N failed".
set -e
top=$(cd "$(dirname "$0")/.." && pwd)
sh "$top/tools/deps.sh"
sh "$top/tools/build.sh" build-san --enable-asan --enable-ubsan
cd "$top/build-san"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
status=0
make -j"$(nproc 2>/dev/null || echo 2)" check >make-check.out 2>&1 || status=$?
grep -E '^(PASS|FAIL|XPASS|ERROR|SKIP|# )' make-check.out || true
if [ $status -ne 0 ]; then
  for log in $(grep -l -E '^(FAIL|ERROR)' tests/*.log tests/unit/*.log 2>/dev/null); do
    echo "---- $log"; tail -n 40 "$log"
  done
fi
# Count individual checks: the scripts' own "N passed, N failed" lines and
# Check's "Checks: N, Failures: N, Errors: N" lines.
passed=0; failed=0
for log in tests/*.log tests/unit/*.log; do
  [ -f "$log" ] || continue
  [ "$(basename "$log")" = test-suite.log ] && continue
  line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
  if [ -n "$line" ]; then
    p=$(echo "$line" | sed 's/ passed.*//'); f=$(echo "$line" | sed 's/.*passed, //; s/ failed.*//')
  else
    line=$(grep -E 'Checks: [0-9]+, Failures: [0-9]+, Errors: [0-9]+' "$log" | tail -n 1)
    [ -n "$line" ] || continue
    n=$(echo "$line" | sed 's/.*Checks: \([0-9]*\),.*/\1/')
    fl=$(echo "$line" | sed 's/.*Failures: \([0-9]*\),.*/\1/')
    er=$(echo "$line" | sed 's/.*Errors: \([0-9]*\).*/\1/')
    f=$((fl + er)); p=$((n - f))
  fi
  passed=$((passed + p)); failed=$((failed + f))
done
[ $status -ne 0 ] && [ $failed -eq 0 ] && failed=1
echo "$passed passed, $failed failed"
exit $status
