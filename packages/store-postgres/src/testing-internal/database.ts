import { randomId } from '@better-auth/server/testing'
import { createServer } from 'node:net'
import { Pool, type PoolConfig } from 'pg'

/** The server the e2e suites run against; unset means they are skipped. */
export const DATABASE_URL = process.env.DATABASE_URL ?? ''

const SKIP_REASON =
  'DATABASE_URL is not set: start PostgreSQL with scripts/services.sh (bash scripts/test.sh does)'

/** A suite's name, carrying the reason it is skipped when there is no server to run against. */
export function e2e(name: string): string {
  return DATABASE_URL ? name : `${name} [skipped: ${SKIP_REASON}]`
}

/** A schema name no other test file uses, so files running in parallel never share rows. */
export function uniqueSchema(label: string): string {
  return `better_auth_test_${label}_${randomId().slice(0, 12)}`
}

/** A pool for tests, with the listener pg needs so that a killed idle connection is harmless. */
export function testPool(config: PoolConfig = {}): Pool {
  const pool = new Pool({ connectionString: DATABASE_URL, ...config })
  pool.on('error', () => undefined)
  return pool
}

/** A free port on 127.0.0.1 that nothing listens on (it was bound and released). */
export function unusedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() =>
        typeof address === 'object' && address !== null
          ? resolve(address.port)
          : reject(new Error('no TCP address')),
      )
    })
  })
}
