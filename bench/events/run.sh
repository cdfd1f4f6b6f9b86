#!/bin/sh
# bench/events/run.sh: events per second through the engine on a file
# database, next to a plain C program doing the same SQLite writes, at
# groups of 1, 100 and 1000 events per commit; then the timers: 1,000,000
# pending, the database size, the memory, and the rate of firing due
# timers bare and with their actions, the store's clustered timer table
# against a rowid table with an index on due, each with and without an
# index on record (the store cancels timers lazily and has none). See
# bench/README.md.
#
#   bench/events/run.sh
#
# An event (bench.pipe): a deal is created, moved into work, and a field
# changed there, which runs a robot (a notification: an outbox row) and
# plans the stage's timer anew. The sides, alternating, RUNS times each:
#   - funnel: bench_events, the engine through its API (engine_create,
#     engine_move, engine_update), G events per engine_group_begin/commit
#     (3G commands, each in its savepoint): what `funnel run --batch`
#     does, without JSON;
#   - sqlite: sqlite_peer, the same rows in the same tables (made from an
#     empty funnel database), the same PRAGMAs, the same groups;
#   - funnel run: `funnel run --batch 3G` on the same events as JSON lines
#     (for information: the batch interface's cost on top of the engine).
# Both programs count the rows they leave in each table; run.sh refuses to
# report unless they agree. Prints a table of medians; the last line is
# `funnel/sqlite events ratio: R`, the smallest of the three ratios.
#
# Environment: BUILD, the autotools build directory (default: build at the
# top of the source tree, made with tools/build.sh if missing); RUNS
# (default 5, at least 5); N1, events at group 1 (default 500); N, events
# at groups 100 and 1000 (default 10000); TIMERS, pending timers (default
# 1000000; 0 skips the timer part); SAMPLE, timers fired bare and then
# with actions (default 100000), in SLICES timed slices (default 5);
# EVENTS=0 skips the events part (and the ratio line); DIR,
# where the databases go (default $TMPDIR or /tmp: a real disk, not tmpfs,
# or synchronous=FULL means nothing).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
BUILD=${BUILD:-$top/build}
RUNS=${RUNS:-5}
N1=${N1:-500}
N=${N:-10000}
TIMERS=${TIMERS:-1000000}
SAMPLE=${SAMPLE:-100000}
SLICES=${SLICES:-5}
DIR=${DIR:-${TMPDIR:-/tmp}}
EVENTS=${EVENTS:-1}

die() {
  echo "bench/events: $*" >&2
  exit 1
}

[ "$RUNS" -ge 5 ] || die "RUNS must be at least 5"

# ---- what it needs ------------------------------------------------------------
if [ ! -f "$BUILD/Makefile" ]; then
  echo "bench/events: configuring and building funnel in $BUILD" >&2
  "$top/tools/build.sh" "$BUILD"
fi
flags=$(sed -n -e 's/^CFLAGS = *//p' -e 's/^SAN_CFLAGS = *//p' "$BUILD/Makefile" | tr '\n' ' ')
case $flags in
*-fsanitize*) echo "bench/events: warning: $BUILD is a sanitizer build ($flags)" >&2 ;;
*-O[1-3s]*) ;;
*) echo "bench/events: warning: $BUILD is not an optimized build (CFLAGS: $flags)" >&2 ;;
esac
make -C "$BUILD" -j1 funnel bench/events/bench_events bench/events/sqlite_peer >/dev/null ||
  die "could not build funnel, bench_events and sqlite_peer"

tmp=$(mktemp -d "$DIR/bench-events.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
# private copies: a rebuild in $BUILD during the runs changes nothing here
for p in funnel bench/events/bench_events bench/events/sqlite_peer; do
  cp "$BUILD/$p" "$tmp/" || die "no $BUILD/$p"
done
funnel=$tmp/funnel
bench_events=$tmp/bench_events
sqlite_peer=$tmp/sqlite_peer
pack=$here/bench.pipe

# field NAME LINE: the value of NAME=... in a result line
field() {
  printf '%s\n' "$2" | tr ' ' '\n' | sed -n "s/^$1=//p"
}
median() {
  sort -n "$1" | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
fresh() {
  rm -f "$1" "$1-wal" "$1-shm"
}
now_ns() {
  date +%s%N
}

echo "bench/events: $(nproc 2>/dev/null || echo '?') CPUs, $(sed -n 's/^model name[^:]*: *//p' /proc/cpuinfo 2>/dev/null | head -1)"
echo "bench/events: load before: $(uptime | sed 's/.*load average: *//')"

# the peer's tables: those of an empty funnel database for the pack
"$funnel" run --db "$tmp/template.db" "$pack" </dev/null >/dev/null || die "funnel run cannot open the pack"

# the same events as JSON lines, for funnel run (the setup runs untimed)
printf '%s\n' '{"op":"user","id":"u1","name":"Иван"}' '{"op":"clock","at":"2026-03-02T09:00:00+03:00"}' >"$tmp/setup.jsonl"
# N events as JSON lines: the callbacks are 2026-03-04T09:00:00+03:00 plus
# i - 1 seconds, as in bench_events and sqlite_peer
gen() {
  awk -v n="$1" 'BEGIN {
    for (i = 1; i <= n; i++) {
      s = i - 1 + 9 * 3600
      printf "{\"op\":\"create\",\"entity\":\"deal\",\"ref\":\"d%d\",\"direction\":\"sales\",\"owner\":\"u1\",\"fields\":{\"title\":\"Сделка %d\"}}\n", i, i
      printf "{\"op\":\"move\",\"ref\":\"d%d\",\"stage\":\"work\"}\n", i
      printf "{\"op\":\"update\",\"ref\":\"d%d\",\"fields\":{\"callback\":\"2026-03-%02dT%02d:%02d:%02d+03:00\"}}\n", i,
        4 + int(s / 86400), int(s % 86400 / 3600), int(s % 3600 / 60), s % 60
    }
  }'
}

# ---- events -------------------------------------------------------------------------
groups="1 100 1000"
[ "$EVENTS" = 0 ] && groups=
for g in $groups; do
  n=$N
  [ "$g" = 1 ] && n=$N1
  gen "$n" >"$tmp/events.jsonl"
  rows=
  i=1
  while [ "$i" -le "$RUNS" ]; do
    fresh "$tmp/f.db"
    out=$("$bench_events" events "$pack" "$tmp/f.db" "$g" "$n") || die "bench_events failed"
    field rate "$out" >>"$tmp/funnel.$g"
    r=$(field rows "$out")
    fresh "$tmp/s.db"
    out=$("$sqlite_peer" events "$tmp/template.db" "$tmp/s.db" "$g" "$n") || die "sqlite_peer failed"
    field rate "$out" >>"$tmp/sqlite.$g"
    [ "$r" = "$(field rows "$out")" ] || die "different rows at group $g: funnel $r, sqlite $(field rows "$out")"
    rows=$r
    fresh "$tmp/r.db"
    "$funnel" run --db "$tmp/r.db" "$pack" <"$tmp/setup.jsonl" >/dev/null
    t0=$(now_ns)
    "$funnel" run --batch $((3 * g)) --db "$tmp/r.db" "$pack" <"$tmp/events.jsonl" >"$tmp/r.out"
    t1=$(now_ns)
    bad=$(grep -c '^{"ok":false' "$tmp/r.out" || true)
    [ "$bad" = 0 ] || die "funnel run: $bad commands failed: $(grep -m1 '^{"ok":false' "$tmp/r.out")"
    awk -v n="$n" -v ns=$((t1 - t0)) 'BEGIN { printf "%.0f\n", n / (ns / 1e9) }' >>"$tmp/run.$g"
    i=$((i + 1))
  done
  echo "bench/events: group $g: $n events a run, rows: $rows"
done

if [ -n "$groups" ]; then
  echo
  echo "events per second on a file database (WAL, synchronous=FULL), median of $RUNS runs"
  echo "an event: create a deal, move it, change a field (a robot notifies, the timer is planned anew)"
  echo
  printf '%6s  %14s  %14s  %6s  %22s\n' group "funnel engine" "plain SQLite" ratio "funnel run --batch 3G"
  worst=
  for g in 1 100 1000; do
    f=$(median "$tmp/funnel.$g")
    s=$(median "$tmp/sqlite.$g")
    r=$(median "$tmp/run.$g")
    ratio=$(awk -v f="$f" -v s="$s" 'BEGIN { printf "%.3f", f / s }')
    printf '%6s  %14.0f  %14.0f  %6.2f  %22.0f\n' "$g" "$f" "$s" "$ratio" "$r"
    worst=$(awk -v a="$ratio" -v b="${worst:-99}" 'BEGIN { print (a < b) ? a : b }')
  done
  echo "(all runs, events/s: funnel $(sort -n "$tmp/funnel.1000" | tr '\n' ' ')at 1000; sqlite $(sort -n "$tmp/sqlite.1000" | tr '\n' ' ')at 1000)"
  echo "bench/events: load after the events: $(uptime | sed 's/.*load average: *//')"
fi

# ---- timers ---------------------------------------------------------------------------
if [ "$TIMERS" -gt 0 ]; then
  echo
  echo "timers: $TIMERS pending; fired: $SAMPLE bare (an empty handler), then $SAMPLE with a notify;"
  echo "1,000 per commit; the rates are medians of $SLICES slices"
  fresh "$tmp/t.db"
  "$bench_events" timers "$pack" "$tmp/t.db" "$TIMERS" "$SAMPLE" "$SLICES" >"$tmp/t.funnel" || die "bench_events timers failed"
  grep -v ' slice=' "$tmp/t.funnel"
  fresh "$tmp/t.db"
  for v in clustered rowid clustered-norecord rowid-norecord; do
    "$sqlite_peer" timers "$tmp/template.db" "$tmp/t.db" "$TIMERS" "$SAMPLE" "$SLICES" "$v" >"$tmp/t.$v" ||
      die "sqlite_peer timers $v failed"
    grep -v ' slice=' "$tmp/t.$v"
    fresh "$tmp/t.db"
  done
  printf '%-34s  %12s  %12s\n' "firing rate, timers/s" bare "with notify"
  for side in funnel clustered rowid clustered-norecord rowid-norecord; do
    for kind in bare act; do
      grep " fire=$kind " "$tmp/t.$side" | sed 's/.* rate=//' >"$tmp/t.$side.$kind"
    done
    case $side in
    funnel) label="funnel (engine, clustered table)" ;;
    clustered) label="sqlite, clustered + record index" ;;
    rowid) label="sqlite, rowid + due + record idx" ;;
    clustered-norecord) label="sqlite, clustered (the store's)" ;;
    rowid-norecord) label="sqlite, rowid + index on due" ;;
    esac
    printf '%-34s  %12.0f  %12.0f\n' "$label" "$(median "$tmp/t.$side.bare")" "$(median "$tmp/t.$side.act")"
  done
  awk -v c="$(median "$tmp/t.clustered.bare")" -v r="$(median "$tmp/t.rowid.bare")" \
    -v ca="$(median "$tmp/t.clustered.act")" -v ra="$(median "$tmp/t.rowid.act")" \
    -v cn="$(median "$tmp/t.clustered-norecord.bare")" -v rn="$(median "$tmp/t.rowid-norecord.bare")" \
    -v can="$(median "$tmp/t.clustered-norecord.act")" -v ran="$(median "$tmp/t.rowid-norecord.act")" \
    'BEGIN { printf "clustered/rowid firing rate: %.2f bare, %.2f with notify (with an index on record, as the store had before)\n", c / r, ca / ra
             printf "clustered/rowid firing rate: %.2f bare, %.2f with notify (without it, as the store is now)\n", cn / rn, can / ran }'
  echo "bench/events: load after the timers: $(uptime | sed 's/.*load average: *//')"
fi

if [ -n "$groups" ]; then
  echo
  echo "funnel/sqlite events ratio: $(awk -v w="$worst" 'BEGIN { printf "%.2f", w }')"
fi
