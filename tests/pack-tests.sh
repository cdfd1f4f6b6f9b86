#!/bin/sh
# tests/pack-tests.sh: the test blocks of every shipped pack pass
# (`funnel test`, each test on a fresh in-memory store and a virtual clock).
FUNNEL=${FUNNEL:-./funnel}
srcdir=${srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
"$FUNNEL" test "$srcdir"/pipelines/*.pipe
