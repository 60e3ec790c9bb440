#!/usr/bin/env bash
# Checks the built packages the way users consume them: publint (package.json and exports) and
# are-the-types-wrong (types resolve under every module resolution). Run after `pnpm build`.
set -uo pipefail
cd "$(dirname "$0")/.."
PNPM=${PNPM:-$(command -v pnpm >/dev/null 2>&1 && echo pnpm || echo "npx -y pnpm@10")}
status=0
for dir in packages/*/; do
  name=$(node -p "require('./${dir}package.json').name")
  echo "::: $name"
  (cd "$dir" && $PNPM exec publint --strict) || status=1
  # ESM-only packages: CommonJS `require` resolution is not a supported way to consume them.
  (cd "$dir" && $PNPM exec attw --pack . --profile esm-only --format ascii) || status=1
done
exit $status
