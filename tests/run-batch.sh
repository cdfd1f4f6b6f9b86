#!/bin/sh
# run-batch.sh: the cases of `funnel run`, the JSON-lines batch interface.
# Each tests/run/NAME.jsonl is fed to `$FUNNEL run --db DB tests/run/pack.pipe`
# on a fresh database; when NAME.then.jsonl exists, it is fed to a second
# run on the same database (what persists between runs). The output of
# both runs (stdout and stderr, then "exit N" after each) must equal
# NAME.out. Every case sets the virtual clock first, so times are stable.
# Last, docs/runtime.md must show the session case (session.jsonl and
# session.out) verbatim, so the walk-through stays true. Each case is also
# run with --batch 1 (one transaction per command), whose output must be
# the same as with groups (optimistic, then with savepoints on a failure).
# Prints the diff of each failure and "N passed, N failed" at the end;
# exits 1 if anything failed.
#
#   FUNNEL=build/funnel tests/run-batch.sh
#   tests/run-batch.sh --update     # rewrite the .out files (then review!)

FUNNEL=${FUNNEL:-funnel}
srcdir=${srcdir:-$(dirname "$0")/..}
dir=$srcdir/tests/run
update=no
[ "$1" = "--update" ] && update=yes

tmp=${TMPDIR:-/tmp}/run-batch.$$
trap 'rm -rf "$tmp"' EXIT
trap 'rm -rf "$tmp"; exit 1' INT TERM
mkdir -p "$tmp" || exit 1

passed=0
failed=0

for input in "$dir"/*.jsonl; do
  case $input in *.then.jsonl) continue ;; esac
  name=$(basename "$input" .jsonl)
  db=$tmp/$name.db
  rm -f "$db" "$db-wal" "$db-shm"
  {
    "$FUNNEL" run --db "$db" "$dir/pack.pipe" <"$input" 2>&1
    echo "exit $?"
    if [ -f "$dir/$name.then.jsonl" ]; then
      "$FUNNEL" run --db "$db" "$dir/pack.pipe" <"$dir/$name.then.jsonl" 2>&1
      echo "exit $?"
    fi
  } >"$tmp/$name.got"
  if [ "$update" = yes ]; then
    cp "$tmp/$name.got" "$dir/$name.out"
    echo "updated $name.out"
  fi
  if [ ! -f "$dir/$name.out" ]; then
    echo "FAIL $name: no expected file $name.out"
    failed=$((failed + 1))
  elif diff -u "$dir/$name.out" "$tmp/$name.got"; then
    passed=$((passed + 1))
  else
    echo "FAIL $name: output differs from $name.out (diff above: - expected, + got)"
    failed=$((failed + 1))
  fi
  # one command per transaction gives the same answers, effects and keys as
  # groups (which run without savepoints, and again with them when a
  # command of the group fails)
  rm -f "$db" "$db-wal" "$db-shm"
  {
    "$FUNNEL" run --db "$db" --batch 1 "$dir/pack.pipe" <"$input" 2>&1
    echo "exit $?"
    if [ -f "$dir/$name.then.jsonl" ]; then
      "$FUNNEL" run --db "$db" --batch 1 "$dir/pack.pipe" <"$dir/$name.then.jsonl" 2>&1
      echo "exit $?"
    fi
  } >"$tmp/$name.one"
  if cmp -s "$tmp/$name.got" "$tmp/$name.one"; then
    passed=$((passed + 1))
  else
    echo "FAIL $name: --batch 1 differs from groups:"
    diff "$tmp/$name.got" "$tmp/$name.one" | head -n 10
    failed=$((failed + 1))
  fi
done

# docs/runtime.md walks through the session case: its inputs and outputs
# must appear there verbatim (the schema line is shown shortened).
doc=$srcdir/docs/runtime.md
missing=0
while IFS= read -r line; do
  case $line in '{"ok":true,"pack"'*|exit*) continue ;; esac
  if ! grep -qxF -- "$line" "$doc"; then
    [ $missing -eq 0 ] && echo "FAIL docs/runtime.md: lines of the session case it does not show:"
    echo "  $line"
    missing=$((missing + 1))
  fi
done <<EOF_LINES
$(cat "$dir/session.jsonl" "$dir/session.out")
EOF_LINES
if [ $missing -eq 0 ]; then
  passed=$((passed + 1))
else
  failed=$((failed + 1))
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
