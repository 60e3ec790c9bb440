#!/usr/bin/env node
// The published entry point runs the compiled CLI. A shim (instead of pointing `bin` at dist/)
// lets pnpm link the command before the first build, and says what to do when dist/ is missing.
/* global console, process */
import { existsSync } from 'node:fs'

const cli = new URL('../dist/matrix/cli.js', import.meta.url)
if (!existsSync(cli)) {
  console.error(
    'better-auth-interop: not built yet; run `pnpm --filter @better-auth/integration build`',
  )
  process.exit(2)
}
await import(cli.href)
