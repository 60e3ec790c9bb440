/**
 * The example of README.md, run against the test PostgreSQL (DATABASE_URL): connected as it says, a client signs up, signs in
 * and makes an access request through the example's server and verifier, and the stores close.
 */
import { BetterAuthServer } from '@better-auth/server'
import { PostgresStores } from '@better-auth/store-postgres'
import { existsSync, readFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import {
  expectBlocksRunIn,
  fencedBlocks,
  runShell,
  shellCommands,
} from '../../server/src/testing-internal/readme-examples.js'
import { quickStart, serve } from '../../server/src/testing-internal/readme-serve.js'
import { SCHEMA_VERSION } from './migrations.js'
import { DATABASE_URL, e2e, testPool } from './testing-internal/database.js'

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8')
const source = readFileSync(new URL('readme.e2e.test.ts', import.meta.url), 'utf8')

/** The README's example, word for word; `crypto` and `encoding` are the server quick start's. */
async function readmeExample({ crypto, encoding }: ReturnType<typeof quickStart>): Promise<void> {
  const stores = await PostgresStores.connect({ connectionString: process.env.DATABASE_URL })

  // `crypto` and `encoding` as in the @better-auth/server README's quick start.
  const server = new BetterAuthServer({ crypto, encoding, stores })
  const verifier = server.accessVerifier({ accessNonce: stores.accessNonce })
  // Your HTTP layer: a framework adapter (@better-auth/fastify, express, hono) or BetterAuthHttp.
  await serve(server, verifier)

  // On shutdown:
  await stores.close()
}

it('runs every line of the README examples', () => {
  expectBlocksRunIn(fencedBlocks(readme, 'ts'), [source])
})

describe.skipIf(!DATABASE_URL)(e2e('README'), () => {
  it('serves a client on the stores the example connects', async () => {
    await readmeExample(quickStart())
  })
})

const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url))

describe.skipIf(!DATABASE_URL || !existsSync(cli))(
  e2e('README: the migration commands, on the built CLI (needs the build)'),
  () => {
    it('runs each command of "Migrations" and prints what the README says', async () => {
      const [block] = fencedBlocks(readme, 'sh', { from: '## Migrations', to: 'How it works' })
      const commands = shellCommands(block ?? '')
      expect(commands).toHaveLength(2)
      const dir = await mkdtemp(join(tmpdir(), 'better-auth-migrate-readme-'))
      const pool = testPool()
      try {
        for (const [index, command] of commands.entries()) {
          // The README's database is the test's; `npx` runs the package's built command, as it
          // does where the package is installed.
          const local = command
            .replace('postgres://owner:secret@db.internal:5432/app', DATABASE_URL)
            .replace('DATABASE_URL=…', `DATABASE_URL=${DATABASE_URL}`)
          expect(local).not.toContain('…')
          const result = await runShell(local, dir, {
            npx: `[ "$1" = better-auth-postgres-migrate ] || exit 127\nshift\nexec "${process.execPath}" "${cli}" "$@"`,
          })
          expect(result, command).toMatchObject({ status: 0, err: '' })
          const schema = index === 0 ? 'better_auth' : 'auth'
          expect(result.out.trim()).toBe(
            `better-auth-postgres-migrate: schema ${schema} is at version ${SCHEMA_VERSION}`,
          )
          if (index === 0) expect(readme).toContain(`It prints \`${result.out.trim()}\``)
        }
        const tables = await pool.query<{ version: number }>(
          'SELECT max(version)::int AS version FROM auth.schema_migrations',
        )
        expect(tables.rows[0]?.version).toBe(SCHEMA_VERSION)
      } finally {
        await pool.query('DROP SCHEMA IF EXISTS auth CASCADE')
        await pool.end()
        await rm(dir, { recursive: true, force: true })
      }
    }, 60_000)
  },
)
