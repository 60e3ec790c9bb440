#!/usr/bin/env bash
# Runs every test once and ends with one line: "N passed, N failed".
#
# The e2e suites of the PostgreSQL and Redis stores need running servers: they use DATABASE_URL,
# REDIS_URL and REDIS_CLUSTER_NODES (a three-master Redis Cluster) when set; otherwise this
# script starts throwaway servers with scripts/services.sh for the run and stops them afterwards.
# A suite whose server is missing is skipped, and the run says so.
#
# COVERAGE=1 also collects V8 coverage of packages/*/src (test-artifacts/coverage/, see
# vitest.config.ts) in the same run; scripts/coverage-floors.mjs then checks it.
set -uo pipefail
cd "$(dirname "$0")/.."
PNPM=${PNPM:-$(command -v pnpm >/dev/null 2>&1 && echo pnpm || echo "npx -y pnpm@10")}
mkdir -p test-artifacts
report=test-artifacts/vitest.json
rm -f "$report"

services=()
[ -z "${DATABASE_URL:-}" ] && services+=(postgres)
[ -z "${REDIS_URL:-}" ] && services+=(redis)
[ -z "${REDIS_CLUSTER_NODES:-}" ] && services+=(redis-cluster)
started_services=0
stop_services() {
  if [ "$started_services" -eq 1 ]; then
    bash scripts/services.sh stop
    rm -f "$BETTER_AUTH_SERVICES_STATE"
    started_services=0
  fi
}
if [ ${#services[@]} -gt 0 ]; then
  # A state file of this run's own, so runs in parallel (or a developer's services started by
  # hand) never stop each other's servers.
  BETTER_AUTH_SERVICES_STATE=$(mktemp "${TMPDIR:-/tmp}/better-auth-test-services.XXXXXX")
  export BETTER_AUTH_SERVICES_STATE
  started_services=1
  trap stop_services EXIT
  trap 'exit 130' INT TERM
  # shellcheck source=services.sh
  source scripts/services.sh start "${services[@]}"
fi

skipped_suites=()
[ -z "${DATABASE_URL:-}" ] && skipped_suites+=("@better-auth/store-postgres e2e suites: DATABASE_URL unset and no PostgreSQL could be started")
[ -z "${REDIS_URL:-}" ] && skipped_suites+=("@better-auth/store-redis e2e suites: REDIS_URL unset and no Redis could be started")
[ -z "${REDIS_CLUSTER_NODES:-}" ] && skipped_suites+=("@better-auth/store-redis cluster suites: REDIS_CLUSTER_NODES unset and no Redis Cluster could be started")

coverage=()
[ "${COVERAGE:-}" = 1 ] && coverage=(--coverage)
$PNPM exec vitest run --reporter=default --reporter=json --outputFile.json="$report" "${coverage[@]}"
status=$?

# Stopped before the summary, so that the summary stays the last line.
stop_services
for suite in "${skipped_suites[@]}"; do
  echo "skipped: $suite"
done
# CI installs the servers (.ci/run), so there a missing one is a failure, not a quiet skip.
missing=0
if [ "${CI:-}" = true ] && [ ${#skipped_suites[@]} -gt 0 ]; then
  missing=${#skipped_suites[@]}
  echo "CI: counting ${missing} skipped e2e group(s) as failed"
  status=1
fi

if [ -f "$report" ]; then
  node -e '
    const r = require(process.argv[1]);
    const skipped = r.numPendingTests + r.numTodoTests;
    const failed = r.numFailedTests + Number(process.argv[2]);
    console.log(`${r.numPassedTests} passed, ${failed} failed` + (skipped ? `, ${skipped} skipped` : ""));
  ' "$PWD/$report" "$missing"
else
  echo "0 passed, $((1 + missing)) failed"
  status=1
fi
exit $status
