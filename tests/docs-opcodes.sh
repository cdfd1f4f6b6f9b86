#!/bin/sh
# tests/docs-opcodes.sh: docs/vm.md documents every opcode of opcodes.def.
srcdir=${srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
passed=0; failed=0
for op in $(sed -n 's/^OP(\([A-Z0-9]*\),.*/\1/p' "$srcdir/src/bytecode/opcodes.def"); do
  if grep -q "| \`$op\` |" "$srcdir/docs/vm.md"; then passed=$((passed + 1)); else
    failed=$((failed + 1)); echo "FAIL: docs/vm.md does not document $op"; fi
done
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
