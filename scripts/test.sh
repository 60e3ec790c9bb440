#!/usr/bin/env bash
# Runs every test once and ends with one line: "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
PNPM=${PNPM:-$(command -v pnpm >/dev/null 2>&1 && echo pnpm || echo "npx -y pnpm@10")}
mkdir -p test-artifacts
report=test-artifacts/vitest.json
$PNPM exec vitest run --reporter=default --reporter=json --outputFile.json="$report"
status=$?
if [ -f "$report" ]; then
  node -e '
    const r = require(process.argv[1]);
    const skipped = r.numPendingTests + r.numTodoTests;
    console.log(`${r.numPassedTests} passed, ${r.numFailedTests} failed` + (skipped ? `, ${skipped} skipped` : ""));
  ' "$PWD/$report"
else
  echo "0 passed, 1 failed"
  status=1
fi
exit $status
