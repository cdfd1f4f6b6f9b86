#!/bin/sh
# durability.sh: no acknowledged command is lost and no effect is emitted
# twice when `funnel run --db` is killed (SIGKILL) in the middle of a
# stream and run again on the same database.
#
# A stream of about 3,400 commands (tests/durability/pack.pipe: deals
# created, their priority changed, moved into work, some won, the clock
# advanced so that stage timers fire) is first run whole on a fresh
# database: the reference. Then, for each of three kill points K:
#   1. `funnel run --db DB` (group commit, the default --batch) reads the
#      stream from a FIFO, fed by a shell loop that records what it sent;
#      once K result lines are out, funnel is killed with SIGKILL;
#   2. A = the complete result lines it printed (its acknowledged
#      commands: the first A lines of the stream); funnel runs again on
#      the same database with the stream from line A+1. Re-sending a
#      command whose earlier attempt committed without an answer is
#      harmless: a create fails as "exists already" (accounted for: only
#      creates the first run had sent may fail so), a move into the stage
#      the deal is in does nothing, an update to the same value changes
#      nothing, an advance to a moment passed fires nothing. At most one
#      group (--batch 64 lines) can have committed unanswered, and no two
#      commands of the stream that undo each other (a deal's move into
#      work, then into won) are that close;
#   3. from the database ({"op":"log"}, {"op":"outbox"}): every
#      acknowledged create, update and move is in the event log; no
#      outbox key appears twice and no effect twice; and the outbox holds
#      the same effects as the reference (compared without the command
#      numbers in the keys, which re-sent commands shift).
# What a SIGKILL can show: that nothing is answered before its group has
# committed (a variant printing each result as its command ran, before
# the COMMIT, fails here every time: acknowledged creates missing). What
# it cannot: the fsync itself (a killed process loses nothing SQLite has
# written), nor the few microseconds between a COMMIT's write and the
# answer; synchronous=FULL covers the power cut.
# Prints one line per check and "N passed, N failed"; exits 1 on failure.
#
#   FUNNEL=build/funnel tests/durability.sh
#   DEALS=2000 tests/durability.sh        # a longer stream
#   KEEP=1 tests/durability.sh            # keep the databases and outputs

FUNNEL=${FUNNEL:-funnel}
srcdir=${srcdir:-$(dirname "$0")/..}
pack=$srcdir/tests/durability/pack.pipe
DEALS=${DEALS:-1000}
BATCH=64

tmp=${TMPDIR:-/tmp}/durability.$$
cleanup() {
  [ -n "$fpid" ] && kill -9 "$fpid" 2>/dev/null
  [ -n "$feeder" ] && kill "$feeder" 2>/dev/null
  if [ -n "$KEEP" ]; then echo "kept $tmp"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
trap 'cleanup; exit 1' INT TERM
mkdir -p "$tmp" || exit 1

passed=0
failed=0
ok() { passed=$((passed + 1)); echo "PASS $*"; }
bad() { failed=$((failed + 1)); echo "FAIL $*"; }

# The stream. `out LINE` writes a line; the feeder's `out` also records it.
out() { printf '%s\n' "$1"; }
stream() {
  out '{"op":"user","id":"u1","name":"Иван","roles":["manager"],"supervisor":"boss"}'
  out '{"op":"user","id":"u2","name":"Мария","roles":["manager"],"supervisor":"boss"}'
  out '{"op":"clock","at":"2026-03-02T09:00:00+03:00"}'
  i=1
  h=0
  while [ $i -le "$DEALS" ]; do
    u=u$((i % 2 + 1))
    out '{"op":"create","entity":"deal","ref":"d'$i'","direction":"sales","owner":"'$u'","fields":{"title":"Сделка '$i'"}}'
    out '{"op":"update","ref":"d'$i'","fields":{"priority":'$((i % 5 + 1))'}}'
    out '{"op":"move","ref":"d'$i'","stage":"work"}'
    # won 40 deals (about 130 lines) later: further apart than a group
    if [ $((i % 3)) -eq 0 ] && [ $i -gt 40 ]; then
      out '{"op":"move","ref":"d'$((i - 40))'","stage":"won"}'
    fi
    if [ $((i % 25)) -eq 0 ]; then
      h=$((h + 1))
      # an hour later, as a moment (re-sent, it fires nothing)
      out '{"op":"advance","to":"'"$(moment $h)"'"}'
    fi
    i=$((i + 1))
  done
  out '{"op":"advance","to":"2026-04-01T09:00:00+03:00"}'
}
# 2026-03-02T09:00 plus h hours, as text (h < 24 * 28)
moment() {
  d=$(($1 / 24 + 2))
  hh=$(($1 % 24 + 9))
  [ $hh -ge 24 ] && { hh=$((hh - 24)); d=$((d + 1)); }
  printf '2026-03-%02dT%02d:00:00+03:00' "$d" "$hh"
}

# The result lines of a run's output (complete lines only: a line cut by
# the kill was not acknowledged).
acks() {
  n=$(wc -l <"$1")
  head -n "$n" "$1" | grep -c '^{"ok"'
}

# What the database holds, one item a line:
#   DB.log: "op ref" of every command in the event log (sorted)
#   DB.keys: the outbox keys (sorted)
#   DB.effects: the outbox rows without row ids and command numbers (sorted)
inspect() {
  printf '%s\n' '{"op":"log"}' '{"op":"outbox"}' | "$FUNNEL" run --db "$1" "$pack" >"$1.dump" 2>&1
  sed -n 1p "$1.dump" | awk '{ gsub(/\},\{"seq":/, "}\n{\"seq\":"); print }' |
    sed -n 's/.*"entry":{"command":"\([a-z]*\)","ref":"\([^"]*\)".*/\1 \2/p' | sort >"$1.log"
  sed -n 2p "$1.dump" | awk '{ gsub(/\},\{"id":/, "}\n{\"id\":"); print }' >"$1.rows"
  sed -n 's/.*"key":"\([^"]*\)".*/\1/p' "$1.rows" | sort >"$1.keys"
  sed -e 's/^.*"outbox":\[//' -e 's/\]}$//' -e 's/^{"id":[0-9]*,//' -e 's/"key":"[0-9]*\.[0-9]*\//"key":"/' \
    "$1.rows" | sort >"$1.effects"
}

stream >"$tmp/stream.jsonl"
total=$(wc -l <"$tmp/stream.jsonl")

# The reference: the whole stream, uninterrupted, on a fresh database.
"$FUNNEL" run --db "$tmp/ref.db" "$pack" <"$tmp/stream.jsonl" >"$tmp/ref.out" 2>&1
if [ "$(grep -c '^{"ok":true' "$tmp/ref.out")" -eq "$total" ]; then
  ok "reference: $total commands, all ok"
else
  bad "reference: not every command succeeded:"
  grep -n '^{"ok":false' "$tmp/ref.out" | head -5
fi
inspect "$tmp/ref.db"
if [ ! -s "$tmp/ref.db.effects" ]; then
  bad "reference: an empty outbox"
  cat "$tmp/ref.db.dump" | head -c 500
fi

for K in 300 1200 2500; do
  db=$tmp/k$K.db
  fifo=$tmp/k$K.fifo
  mkfifo "$fifo" || exit 1
  : >"$db.out1" # (funnel's own redirection waits for the feeder to open the FIFO)
  "$FUNNEL" run --batch $BATCH --db "$db" "$pack" <"$fifo" >"$db.out1" 2>"$db.err1" &
  fpid=$!
  # the feeder: the stream, line by line, each line also recorded
  (
    trap - EXIT INT TERM
    out() { printf '%s\n' "$1" || exit 0; printf '%s\n' "$1" >&4; }
    stream
  ) >"$fifo" 4>"$db.sent" 2>/dev/null &
  feeder=$!
  while [ "$(acks "$db.out1")" -lt $K ] && kill -0 "$fpid" 2>/dev/null; do
    sleep 0.01 2>/dev/null || sleep 1
  done
  kill -9 "$fpid" 2>/dev/null
  wait "$fpid" 2>/dev/null
  fpid=
  kill "$feeder" 2>/dev/null
  wait "$feeder" 2>/dev/null
  feeder=
  A=$(acks "$db.out1")
  sent=$(wc -l <"$db.sent")
  if [ "$A" -ge "$total" ]; then
    bad "kill at $K: funnel had finished the stream ($A of $total) before the kill"
    continue
  fi
  if head -n "$sent" "$tmp/stream.jsonl" | cmp -s - "$db.sent"; then :; else
    bad "kill at $K: the feeder's record is not the stream's beginning"
  fi
  # again, from the first unacknowledged command
  tail -n +$((A + 1)) "$tmp/stream.jsonl" >"$db.rest"
  "$FUNNEL" run --db "$db" "$pack" <"$db.rest" >"$db.out2" 2>&1
  # results of the second run, numbered by their line in the stream; the
  # only failures allowed: creates re-sent after an unanswered commit
  grep '^{"ok"' "$db.out2" | awk -v a="$A" '{ print a + NR "\t" $0 }' >"$db.res2"
  resent=0
  badres=0
  while IFS='	' read -r n res; do
    case $res in
    '{"ok":true'*) ;;
    *"exists already"*)
      line=$(sed -n "${n}p" "$tmp/stream.jsonl")
      case $line in
      '{"op":"create"'*) if [ "$n" -le "$sent" ]; then resent=$((resent + 1)); else badres=$((badres + 1)); fi ;;
      *) badres=$((badres + 1)) ;;
      esac
      ;;
    *) badres=$((badres + 1)); echo "  line $n: $res" ;;
    esac
  done <"$db.res2"
  if [ "$(wc -l <"$db.res2")" -eq $((total - A)) ] && [ $badres -eq 0 ]; then
    ok "kill at $K: $A acknowledged, $sent sent, killed; the rest ($((total - A))) ran again" \
      "($resent re-sent creates had committed unanswered)"
  else
    bad "kill at $K: the second run: $(wc -l <"$db.res2") results for $((total - A)) lines, $badres unexpected failures"
  fi
  inspect "$db"
  # every acknowledged create, update and move is in the event log
  head -n "$A" "$tmp/stream.jsonl" |
    sed -n -e 's/^{"op":"\(create\)".*"ref":"\([^"]*\)".*/\1 \2/p' \
      -e 's/^{"op":"\(update\)".*"ref":"\([^"]*\)".*/\1 \2/p' \
      -e 's/^{"op":"\(move\)".*"ref":"\([^"]*\)".*/\1 \2/p' | sort -u >"$db.acked"
  missing=$(comm -23 "$db.acked" "$db.log" | wc -l)
  if [ "$missing" -eq 0 ] && [ -s "$db.acked" ]; then
    ok "kill at $K: all $(wc -l <"$db.acked") acknowledged creates, updates and moves are in the event log"
  else
    bad "kill at $K: $missing acknowledged commands are not in the event log:"
    comm -23 "$db.acked" "$db.log" | head -5
  fi
  # no key twice, no effect twice
  dupk=$(uniq -d "$db.keys" | wc -l)
  dupe=$(uniq -d "$db.effects" | wc -l)
  if [ "$dupk" -eq 0 ] && [ "$dupe" -eq 0 ]; then
    ok "kill at $K: no outbox key and no effect twice ($(wc -l <"$db.keys") rows)"
  else
    bad "kill at $K: $dupk keys and $dupe effects twice in the outbox:"
    uniq -d "$db.effects" | head -3
  fi
  # the same effects as the uninterrupted run
  if cmp -s "$tmp/ref.db.effects" "$db.effects"; then
    ok "kill at $K: the outbox equals the uninterrupted run's ($(wc -l <"$db.effects") effects)"
  else
    bad "kill at $K: the outbox differs from the uninterrupted run's (- reference, + killed and resumed):"
    diff "$tmp/ref.db.effects" "$db.effects" | head -10
  fi
done

echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
