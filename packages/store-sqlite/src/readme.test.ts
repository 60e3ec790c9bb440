/**
 * The example of README.md, run against a SQLite file in a temp directory: connected as it says, a client signs up, signs in
 * and makes an access request through the example's server and verifier, and the stores close.
 */
import { BetterAuthServer } from '@better-auth/server'
import { SqliteStores } from '@better-auth/store-sqlite'
import { readFileSync } from 'node:fs'
import { describe, it } from 'vitest'
import {
  expectBlocksRunIn,
  fencedBlocks,
} from '../../server/src/testing-internal/readme-examples.js'
import { quickStart, serve } from '../../server/src/testing-internal/readme-serve.js'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8')
const source = readFileSync(new URL('readme.test.ts', import.meta.url), 'utf8')

/** The README's example, word for word; `crypto` and `encoding` are the server quick start's. */
async function readmeExample({ crypto, encoding }: ReturnType<typeof quickStart>): Promise<void> {
  const stores = SqliteStores.open({ filename: process.env.DATABASE_FILE ?? './data/auth.db' })

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

describe('README', () => {
  it('serves a client on the file the example opens', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'better-auth-sqlite-readme-'))
    const before = process.env.DATABASE_FILE
    process.env.DATABASE_FILE = join(dir, 'auth.db')
    try {
      await readmeExample(quickStart())
    } finally {
      if (before === undefined) delete process.env.DATABASE_FILE
      else process.env.DATABASE_FILE = before
      await rm(dir, { recursive: true, force: true })
    }
  })
})
