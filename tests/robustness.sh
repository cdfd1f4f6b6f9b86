#!/bin/sh
# robustness.sh: `funnel check` must survive any input.
#
# Feeds the checker inputs no one would write: an empty file, seeded
# pseudo-random bytes, invalid UTF-8, a 1 MB line, 10,000 nested brackets,
# and every shipped pack cut short at 50 places and damaged at 50 places
# (one byte replaced by each of { } " NUL 0xFF). Every input is made here,
# deterministically, so a failure can be reproduced.
#
# For each input: the exit status must be 0 or 1 (2 is a usage error, 86 a
# sanitizer's report, >= 128 a signal, including SIGXCPU after 20 s of
# CPU), stderr must hold no sanitizer report, and an exit of 1 must come
# with at least one located diagnostic ("file:line:col: error["). Inputs
# known to be broken must exit 1; the empty file and the long valid lines
# must exit 0. Failing inputs are kept in $ROBUSTNESS_KEEP (default
# ./robustness-failures) for a rerun.
#
# Environment: FUNNEL (default ./funnel), srcdir (default .),
# ROBUSTNESS_STEPS (cuts and damage places per pack, default 50).
# Prints "N passed, N failed"; exits 1 on any failure.

FUNNEL=${FUNNEL:-./funnel}
srcdir=${srcdir:-.}
STEPS=${ROBUSTNESS_STEPS:-50}
KEEP=${ROBUSTNESS_KEEP:-robustness-failures}

LC_ALL=C
export LC_ALL
# Sanitizer builds: report leaks too, stop at the first report, and exit
# with a status of their own (86), so a report can never pass for the
# ordinary exit 1 of a broken input. Appended, so they win over the caller's.
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=1:exitcode=86"
UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}halt_on_error=1:print_stacktrace=1:exitcode=86"
export ASAN_OPTIONS UBSAN_OPTIONS

# A hang or a runaway loop is a failure too: each process gets 20 s of CPU
# (SIGXCPU gives exit >= 128). A ulimit costs no process per run, unlike
# timeout(1): this script runs its checker about 2,000 times.
ulimit -t 20 2>/dev/null || true

tmp=$(mktemp -d "${TMPDIR:-/tmp}/funnel-robust.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' HUP INT TERM

npass=0
nfail=0

fail() {
  nfail=$((nfail + 1))
  echo "FAIL: $1: $2"
  sed -n '1,5s/^/    /p' "$tmp/err"
  mkdir -p "$KEEP" 2>/dev/null &&
    cp "$3" "$KEEP/$(printf '%s' "$1" | tr -c 'A-Za-z0-9._-' '_').pipe" 2>/dev/null
}

# run NAME FILE EXPECT: EXPECT is ok (exit 0), bad (exit 1) or any.
run() {
  "$FUNNEL" check "$2" >/dev/null 2>"$tmp/err" </dev/null
  st=$?
  case $st in
    0)
      if [ "$3" = bad ]; then
        fail "$1" "expected exit 1 for broken input, got 0" "$2"
        return
      fi
      ;;
    1)
      if [ "$3" = ok ]; then
        fail "$1" "expected exit 0, got 1" "$2"
        return
      fi
      # Fast path, no process: diagnostics are sorted, so a located error
      # is usually the first line. Otherwise one pass over all of stderr:
      # 2 = a sanitizer's report, 1 = no located error.
      first=
      IFS= read -r first <"$tmp/err"
      case $first in
        *:[0-9]*:[0-9]*": error["*) ;;
        *)
          awk '/ERROR: [A-Za-z]*Sanitizer|runtime error:/ { san = 1 }
               /:[0-9]+:[0-9]+: error\[/ { loc = 1 }
               END { exit san ? 2 : loc ? 0 : 1 }' "$tmp/err"
          case $? in
            2) fail "$1" "sanitizer report" "$2"; return ;;
            1) fail "$1" "exit 1 without a located 'file:line:col: error[' line" "$2"; return ;;
          esac
          ;;
      esac
      ;;
    86)
      fail "$1" "sanitizer report" "$2"
      return
      ;;
    *)
      fail "$1" "exit status $st" "$2"
      return
      ;;
  esac
  npass=$((npass + 1))
}

if ! "$FUNNEL" --version >/dev/null 2>&1; then
  echo "robustness.sh: cannot run FUNNEL=$FUNNEL" >&2
  exit 1
fi

# ---- inputs of our own ------------------------------------------------------

d=$tmp/gen
mkdir "$d"

# Pseudo-random bytes: Park-Miller "minimal standard" generator (exact in
# awk's doubles), written as octal escapes and turned into bytes by printf.
# rand_bytes SEED COUNT FILE
rand_bytes() {
  fmt=$(awk -v seed="$1" -v n="$2" 'BEGIN {
    x = seed
    for (i = 0; i < n; i++) {
      x = (x * 16807) % 2147483647
      printf "\\%03o", int(x / 256) % 256
    }
  }')
  printf "$fmt" >"$3"
}

# Seeded soup of the language's own tokens: parses further than raw bytes
# and reaches the checker's corners. token_soup SEED COUNT FILE
token_soup() {
  awk -v seed="$1" -v n="$2" 'BEGIN {
    ntok = split("direction stage entity deal contact field on enter leave change event after at every " \
          "in trigger when from guard require access move to set let if else for return create " \
          "notify task due message document webhook convert into with test expect refused advance " \
          "emit answer user role calendar default fn extern pure import pack version and or not " \
          "null true false { } { } ( ) [ ] , . : = == != < > + - * / ?? success failure auto " \
          "x y sum owner won 3 1.5 \"t\" \"a${x}b\" 2026-01-12 3_days 10:00 100_RUB", tok, " ")
    x = seed
    for (i = 0; i < n; i++) {
      x = (x * 16807) % 2147483647
      t = tok[int(x / 7) % ntok + 1]
      gsub(/_/, " ", t)
      printf "%s%s", t, (i % 12 == 11) ? "\n" : " "
    }
    printf "\n"
  }' >"$3"
}

# repeat STRING COUNT: STRING repeated COUNT times, no newline.
repeat() {
  awk -v s="$1" -v n="$2" 'BEGIN {
    out = ""
    r = s
    while (n > 0) {
      if (n % 2) out = out r
      r = r r
      n = int(n / 2)
    }
    printf "%s", out
  }'
}

: >"$d/empty.pipe"
run "empty file" "$d/empty.pipe" ok
printf '\n\n  \t\n# only a comment' >"$d/blank.pipe"
run "blank file" "$d/blank.pipe" ok

for seed in 1 2 3 4 5; do
  size=$((seed * seed * 700))
  rand_bytes "$seed" "$size" "$d/random$seed.pipe"
  run "random bytes seed $seed ($size bytes)" "$d/random$seed.pipe" bad
done
for seed in 11 12 13 14 15 16; do
  token_soup "$seed" 600 "$d/soup$seed.pipe"
  run "token soup seed $seed" "$d/soup$seed.pipe" any
done

printf '\377' >"$d/ff.pipe"
run "lone byte 0xFF" "$d/ff.pipe" bad
printf 'role r "\300\257"\n' >"$d/overlong.pipe"
run "overlong UTF-8 in a title" "$d/overlong.pipe" bad
printf '# \355\240\200 surrogate\nrole r\n' >"$d/surrogate.pipe"
run "surrogate in a comment" "$d/surrogate.pipe" bad
printf 'role r "\320' >"$d/cut-utf8.pipe"
run "UTF-8 cut at the end of file" "$d/cut-utf8.pipe" bad
printf 'direction \320\275\320\260 {\n  stage \200 "x"\n}\n' >"$d/bad-names.pipe"
run "invalid UTF-8 and Cyrillic in names" "$d/bad-names.pipe" bad
printf 'role r\000 "x"\n' >"$d/nul.pipe"
run "NUL byte" "$d/nul.pipe" bad
printf '\357\273\277role r\n' >"$d/bom.pipe"
run "byte order mark" "$d/bom.pipe" any

# 1 MB lines
{ printf 'role r "'; repeat 'x' 1048576; printf '"\n'; } >"$d/long-title.pipe"
run "1 MB title" "$d/long-title.pipe" ok
{ printf 'fn f(): int = 1'; repeat '+1' 524288; printf '\n'; } >"$d/long-sum.pipe"
run "1 MB sum on one line" "$d/long-sum.pipe" any
{ printf '# '; repeat 'comment ' 131072; printf '\nrole r\n'; } >"$d/long-comment.pipe"
run "1 MB comment" "$d/long-comment.pipe" ok
repeat '@' 1048576 >"$d/long-junk.pipe"
run "1 MB of junk, no newline" "$d/long-junk.pipe" bad

# deep nesting
{ printf 'fn f(): int = '; repeat '(' 10000; printf '1'; repeat ')' 10000; printf '\n'; } \
  >"$d/parens.pipe"
run "10000 nested parentheses" "$d/parens.pipe" bad
{ printf 'fn f() '; repeat '{' 10000; repeat '}' 10000; printf '\n'; } >"$d/braces.pipe"
run "10000 nested braces" "$d/braces.pipe" bad
{ printf 'fn f() = '; repeat '[(' 5000; printf '\n'; } >"$d/open.pipe"
run "10000 brackets left open" "$d/open.pipe" bad
{ printf 'fn f(): bool = '; repeat 'not ' 10000; printf 'true\n'; } >"$d/nots.pipe"
run "10000 nested not" "$d/nots.pipe" bad
{ printf 'fn f(): text = '; repeat '"${' 10000; printf '\n'; } >"$d/interp.pipe"
run "10000 nested interpolations" "$d/interp.pipe" bad
{ printf 'fn f(): int {\n  '; repeat 'if true { ' 3000; printf 'return 1'; repeat ' }' 3000
  printf '\n  return 0\n}\n'; } >"$d/ifs.pipe"
run "3000 nested ifs" "$d/ifs.pipe" bad

# ---- the shipped packs, cut short and damaged ---------------------------------

# Damaged copies are written next to copies of all the packs, so that their
# imports of sibling files still resolve and the checker gets to run.
p=$tmp/packs
mkdir "$p"
npacks=0
for f in "$srcdir"/pipelines/*.pipe; do
  [ -f "$f" ] || continue
  cp "$f" "$p/"
  npacks=$((npacks + 1))
done
if [ $npacks -eq 0 ]; then
  echo "robustness.sh: no packs in $srcdir/pipelines" >&2
fi

# Each pack's damaged copies are made by one awk process (a process per
# copy would cost more than checking it): STEPS cuts, and at the middle of
# each of STEPS equal slices one byte replaced by { } " NUL and 0xFF.
# Names: _cut<OFFSET>.pipe, _dmg<OFFSET>_<BYTE>.pipe.
damage() {
  awk -v steps="$STEPS" -v size="$2" -v dir="$p" '
    { text = NR == 1 ? $0 : text "\n" $0 }
    END {
      if (length(text) < size) text = text "\n"
      n = length(text)
      for (i = 1; i <= steps; i++) {
        off = int(i * n / (steps + 1))
        if (off < 1) off = 1
        out = sprintf("%s/_cut%09d.pipe", dir, off)
        printf "%s", substr(text, 1, off) >out
        close(out)
      }
      split("123 125 34 0 255", code, " ")
      for (i = 0; i < steps; i++) {
        off = int((2 * i + 1) * n / (2 * steps))
        for (j = 1; j <= 5; j++) {
          out = sprintf("%s/_dmg%09d_%d.pipe", dir, off, code[j])
          printf "%s", substr(text, 1, off) >out
          printf "%c", code[j] + 0 >out
          printf "%s", substr(text, off + 2) >out
          close(out)
        }
      }
    }' "$1"
}

for f in "$p"/*.pipe; do
  [ -f "$f" ] || continue
  case $f in */_*) continue ;; esac
  name=${f##*/}
  size=$(wc -c <"$f")
  size=$((size + 0))
  [ "$size" -gt 1 ] || continue
  rm -f "$p"/_*.pipe
  damage "$f" "$size"
  # an awk that cannot write a NUL byte would quietly test less
  for c in "$p"/_dmg*_0.pipe; do
    if [ "$(wc -c <"$c")" -ne "$size" ]; then
      echo "robustness.sh: awk wrote a wrong ${c##*/} ($(wc -c <"$c") bytes, want $size)" >&2
      nfail=$((nfail + 1))
    fi
    break
  done
  for c in "$p"/_cut*.pipe; do
    off=${c##*/_cut}
    off=${off%.pipe}
    run "$name cut at byte $((1$off - 1000000000))" "$c" any
  done
  for c in "$p"/_dmg*.pipe; do
    off=${c##*/_dmg}
    byte=${off#*_}
    byte=${byte%.pipe}
    off=${off%%_*}
    case $byte in
      0 | 255) want=bad ;;
      *) want=any ;;
    esac
    run "$name byte $((1$off - 1000000000)) replaced by $byte" "$c" $want
  done
done
rm -f "$p"/_*.pipe

echo "$npass passed, $nfail failed"
[ $nfail -eq 0 ]
