#!/bin/sh
# tests/pipec.sh: the .pipec file on the shipped packs: building is
# deterministic, a .pipec lists the same as its source (round trip), and a
# damaged .pipec (truncated, or one byte changed, at many offsets) is
# refused with a message and exit status 1, never a crash.
FUNNEL=${FUNNEL:-./funnel}
srcdir=${srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0; failed=0
ok() { passed=$((passed + 1)); }
bad() { failed=$((failed + 1)); echo "FAIL: $*"; }

# A damaged file must give exit 1 and an error line, and no sanitizer report.
refused() {
  "$FUNNEL" disasm "$1" >/dev/null 2>"$tmp/err"
  st=$?
  if [ $st -eq 1 ] && grep -q "error" "$tmp/err" && ! grep -q "Sanitizer\|runtime error:" "$tmp/err"; then
    ok
  else
    bad "$2 (status $st): $(head -c 300 "$tmp/err")"
  fi
}

for p in "$srcdir"/pipelines/*.pipe; do
  n=$(basename "$p" .pipe)
  if ! "$FUNNEL" build "$p" -o "$tmp/$n.pipec" 2>"$tmp/err"; then
    bad "build $n: $(cat "$tmp/err")"; continue
  fi
  "$FUNNEL" build "$p" -o "$tmp/$n.2.pipec" 2>/dev/null
  if cmp -s "$tmp/$n.pipec" "$tmp/$n.2.pipec"; then ok; else bad "build $n twice: different files"; fi
  "$FUNNEL" disasm "$p" >"$tmp/src.dis" 2>/dev/null
  "$FUNNEL" disasm "$tmp/$n.pipec" >"$tmp/bin.dis" 2>/dev/null
  if cmp -s "$tmp/src.dis" "$tmp/bin.dis"; then ok; else
    bad "disasm $n: the .pipec lists differently from its source"; diff "$tmp/src.dis" "$tmp/bin.dis" | head -5
  fi
  if "$FUNNEL" check "$tmp/$n.pipec" 2>/dev/null; then ok; else bad "check $n.pipec"; fi
  size=$(wc -c <"$tmp/$n.pipec")
  k=1
  while [ $k -le 24 ]; do
    off=$((size * k / 25))
    head -c "$off" "$tmp/$n.pipec" >"$tmp/cut.pipec"
    refused "$tmp/cut.pipec" "$n truncated at $off"
    # change one byte: the next value modulo 256, with dd
    byte=$(od -An -tu1 -j "$off" -N1 "$tmp/$n.pipec" | tr -d ' ')
    new=$(( (byte + 1 + k) % 256 ))
    cp "$tmp/$n.pipec" "$tmp/flip.pipec"
    printf "$(printf '\\%03o' "$new")" | dd of="$tmp/flip.pipec" bs=1 seek="$off" conv=notrunc 2>/dev/null
    refused "$tmp/flip.pipec" "$n byte $off changed"
    k=$((k + 1))
  done
done
printf 'not a pipec' >"$tmp/text.pipec"
"$FUNNEL" disasm "$tmp/text.pipec" >/dev/null 2>&1
[ $? -eq 1 ] && ok || bad "a text file named .pipec is not refused"
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
