#!/bin/sh
#
# run-docs.sh: every example of docs/language.md must check as it claims.
#
# A block fenced with ```pipe is a complete file: `funnel check` must exit 0
# and print nothing (no errors, no warnings). A block fenced with
# ```pipe-error starts with a line `# expect: E0203` (one or more codes) and
# `funnel check -W error` must exit 1 and name every code listed (so a
# block may show a warning, W05xx, as well as an error).
#
# A fence may name its file, as in ```pipe file=shared/calendars.pipe: the
# block is then written under that name, so that other examples can import
# it. All blocks are extracted into one temporary directory before any is
# checked, then each is checked on its own.
#
# Environment: FUNNEL (default ./funnel), srcdir (default: the directory
# above this script's), VERBOSE (non-empty: also show the checker's whole
# output for each failing block). Prints one line per failing block, with
# the line of its fence in the document, then "N passed, N failed". Exit
# status: 0 if all passed, 1 if any failed, 2 if it could not run.

FUNNEL=${FUNNEL:-./funnel}
if [ -z "${srcdir:-}" ]; then
  srcdir=$(cd "$(dirname "$0")/.." && pwd) || exit 2
fi
doc="$srcdir/docs/language.md"

if [ ! -r "$doc" ]; then
  echo "run-docs.sh: cannot read $doc" >&2
  exit 2
fi
if [ ! -x "$FUNNEL" ] && ! command -v "$FUNNEL" >/dev/null 2>&1; then
  echo "run-docs.sh: cannot run '$FUNNEL' (set FUNNEL)" >&2
  exit 2
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/run-docs.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT
trap 'exit 2' HUP INT TERM

# Extract: one manifest line per block, "LINE KIND PATH", where KIND is
# pipe or pipe-error and PATH is relative to $tmp.
awk -v dir="$tmp" '
  function fail(msg) { printf "%s:%d: %s\n", FILENAME, NR, msg > "/dev/stderr"; bad = 1 }
  !inblock && /^```pipe(-error)?([ \t]|$)/ {
    kind = ($0 ~ /^```pipe-error/) ? "pipe-error" : "pipe"
    name = "block-" NR ".pipe"
    if (match($0, /file=[^ \t]+/)) {
      name = substr($0, RSTART + 5, RLENGTH - 5)
      if (name !~ /^[A-Za-z0-9_][A-Za-z0-9_.\/-]*$/ || name ~ /\.\./) {
        fail("bad file name in fence: " name)
        name = "block-" NR ".pipe"
      }
      if (name in seen) fail("file name used twice: " name)
      seen[name] = 1
      if (name ~ /\//) {
        sub_dir = name
        sub(/\/[^\/]*$/, "", sub_dir)
        system("mkdir -p \"" dir "/" sub_dir "\"")
      }
    }
    path = dir "/" name
    printf "" > path
    print NR, kind, name
    inblock = 1
    next
  }
  inblock && /^```[ \t]*$/ { close(path); inblock = 0; next }
  inblock { print > path; next }
  END {
    if (inblock) fail("unclosed block at end of file")
    exit bad
  }
' "$doc" >"$tmp/manifest" || exit 2

pass=0
fail=0
out="$tmp/out.txt"

# The first diagnostic line of a check, for the one-line report, with the
# temporary directory taken out of file names.
first_line() {
  awk -v p="$tmp/" 'NR == 1 {
    while ((i = index($0, p)) > 0) $0 = substr($0, 1, i - 1) substr($0, i + length(p))
    sub(/^[ \t]+/, "")
    print substr($0, 1, 160)
    exit
  }' "$out"
}

while read -r line kind name; do
  file="$tmp/$name"
  if [ "$kind" = pipe ]; then
    "$FUNNEL" check "$file" >"$out" 2>&1 </dev/null
  else
    "$FUNNEL" check -W error "$file" >"$out" 2>&1 </dev/null
  fi
  rc=$?
  why=""
  if [ "$kind" = pipe ]; then
    if [ "$rc" -ne 0 ]; then
      why="exit $rc, expected 0: $(first_line)"
    elif [ -s "$out" ]; then
      why="exit 0 but output: $(first_line)"
    fi
  else
    codes=$(sed -n "1s/^#[[:blank:]]*expect:[[:blank:]]*//p" "$file")
    if [ -z "$codes" ]; then
      why="a pipe-error block must start with '# expect: CODE'"
    elif [ "$rc" -ne 1 ]; then
      why="exit $rc, expected 1: $(first_line)"
    else
      for code in $codes; do
        if ! grep -q "\[$code\]" "$out"; then
          why="expected $code, got: $(first_line)"
          break
        fi
      done
    fi
  fi
  if [ -n "$why" ]; then
    fail=$((fail + 1))
    echo "docs/language.md:$line: $kind block: $why"
    if [ -n "${VERBOSE:-}" ]; then
      sed "s|$tmp/||g; s/^/    /" "$out"
    fi
  else
    pass=$((pass + 1))
  fi
done <"$tmp/manifest"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
