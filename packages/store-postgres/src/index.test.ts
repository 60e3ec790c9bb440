import { ConfigurationError } from '@better-auth/protocol'
import { Pool } from 'pg'
import { describe, expect, it } from 'vitest'
import { PostgresStores, migrate } from './index.js'
import { main } from './migrate-cli.js'

// Option checks happen before any connection, so these run without a database.

describe('public API', () => {
  it('exports exactly the documented runtime values', async () => {
    expect(Object.keys(await import('./index.js')).sort()).toEqual([
      'PostgresRevocationFeed',
      'PostgresStores',
      'migrate',
    ])
  })
})

describe('PostgresStores.connect options', () => {
  const url = 'postgres://user:secret@127.0.0.1:1/db'
  const pool = new Pool({ connectionString: url })

  it.each([
    ['no options', undefined],
    ['neither pool nor connectionString', {}],
    ['both pool and connectionString', { pool, connectionString: url }],
    ['a pool that is not one', { pool: {} as Pool }],
    ['a connection string that is not a URL', { connectionString: 'user:secret@host/db' }],
    ['a URL of another scheme', { connectionString: 'mysql://user:secret@127.0.0.1/db' }],
    ['an empty schema', { connectionString: url, schema: '' }],
    ['a schema needing quotes', { connectionString: url, schema: 'Better-Auth' }],
    ['a schema that injects SQL', { connectionString: url, schema: 'a; DROP TABLE x' }],
    ['a reserved schema prefix', { connectionString: url, schema: 'pg_auth' }],
    ['a schema over 63 characters', { connectionString: url, schema: 'a'.repeat(64) }],
    ['a negative sweep interval', { connectionString: url, sweepIntervalMs: -1 }],
    ['a NaN sweep interval', { connectionString: url, sweepIntervalMs: Number.NaN }],
    ['a zero query timeout', { connectionString: url, queryTimeoutMs: 0 }],
    ['an infinite query timeout', { connectionString: url, queryTimeoutMs: Infinity }],
    ['a fractional query timeout', { connectionString: url, queryTimeoutMs: 1.5 }],
    ['a negative connection timeout', { connectionString: url, connectionTimeoutMs: -1 }],
    ['a connection timeout of 2^31 ms', { connectionString: url, connectionTimeoutMs: 2 ** 31 }],
  ])('rejects %s with ConfigurationError', async (_, options) => {
    const error: unknown = await PostgresStores.connect(
      options as unknown as Parameters<typeof PostgresStores.connect>[0],
    ).then(
      () => expect.unreachable('connect resolved'),
      (caught: unknown) => caught,
    )
    expect(error).toBeInstanceOf(ConfigurationError)
    expect((error as ConfigurationError).code).toBe('BA001')
    expect(JSON.stringify(error)).not.toContain('secret')
    expect((error as ConfigurationError).message).not.toContain('secret')
  })

  it('rejects an invalid schema in migrate with ConfigurationError', async () => {
    await expect(migrate(pool, 'x"; DROP SCHEMA public; --')).rejects.toBeInstanceOf(
      ConfigurationError,
    )
  })
})

describe('better-auth-postgres-migrate', () => {
  function run(args: string[], env: Record<string, string | undefined>) {
    const out: string[] = []
    const err: string[] = []
    const io = { out: (line: string) => out.push(line), err: (line: string) => err.push(line) }
    return main(args, env, io).then((code) => ({ code, out: out.join('\n'), err: err.join('\n') }))
  }

  it('prints usage on --help', async () => {
    const result = await run(['--help'], {})
    expect(result.code).toBe(0)
    expect(result.out).toContain('DATABASE_URL')
  })

  it('fails with status 2 without DATABASE_URL or on unknown arguments', async () => {
    expect((await run([], {})).code).toBe(2)
    expect((await run(['--frobnicate'], { DATABASE_URL: 'postgres://x@127.0.0.1/db' })).code).toBe(
      2,
    )
    expect((await run(['--schema'], { DATABASE_URL: 'postgres://x@127.0.0.1/db' })).code).toBe(2)
  })

  it('reports an invalid schema without touching the database', async () => {
    const result = await run(['--schema', 'Bad Name'], {
      DATABASE_URL: 'postgres://user:secret@127.0.0.1:1/db',
    })
    expect(result.code).toBe(1)
    expect(result.err).toContain('ConfigurationError (BA001)')
    expect(result.err).not.toContain('secret')
  })
})
