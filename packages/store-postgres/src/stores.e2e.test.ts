import {
  InvalidDeviceError,
  InvalidHashError,
  StorageUnavailableError,
} from '@better-auth/protocol'
import {
  expectBetterAuthError,
  newDeviceKey,
  randomId,
  rejectionOf,
} from '@better-auth/server/testing'
import { Client, type Pool } from 'pg'
import { afterAll, describe, expect, it } from 'vitest'
import { PostgresStores, migrate } from './index.js'
import { main } from './migrate-cli.js'
import {
  DATABASE_URL,
  e2e,
  testPool,
  unusedPort,
  uniqueSchema,
} from './testing-internal/database.js'
import { startTcpProxy } from '@better-auth/server/testing/node'

const schemas: string[] = []
const pools: Pool[] = []
const opened: PostgresStores[] = []

function pool(max = 10, applicationName = 'better-auth-test'): Pool {
  const created = testPool({ max, application_name: applicationName })
  pools.push(created)
  return created
}

function schema(label: string): string {
  const name = uniqueSchema(label)
  schemas.push(name)
  return name
}

async function connect(
  options: Partial<Parameters<typeof PostgresStores.connect>[0]> = {},
): Promise<PostgresStores> {
  const stores = await PostgresStores.connect({
    pool: options.connectionString === undefined ? pool() : undefined,
    schema: schema('stores'),
    ...options,
  })
  opened.push(stores)
  return stores
}

function expectUnavailable(error: unknown): void {
  const unavailable = expectBetterAuthError(error, StorageUnavailableError)
  expect(unavailable.context).toEqual({ backend: 'postgres' })
}

async function until(condition: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 10_000
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

afterAll(async () => {
  await Promise.all(opened.splice(0).map((stores) => stores.close()))
  if (DATABASE_URL) {
    const admin = pool(1)
    for (const name of schemas) await admin.query(`DROP SCHEMA IF EXISTS ${name} CASCADE`)
  }
  await Promise.all(pools.splice(0).map((created) => created.end()))
})

describe.skipIf(!DATABASE_URL)(e2e('postgres stores'), () => {
  describe('migrations', () => {
    it('creates the schema, its tables and the version row', async () => {
      const db = pool(1)
      const name = schema('migrate')
      expect(await migrate(db, name)).toBe(5)
      const { rows: tables } = await db.query<{ table_name: string }>(
        `SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY 1`,
        [name],
      )
      expect(tables.map((row) => row.table_name)).toEqual([
        'account_events',
        'authentication_nonces',
        'devices',
        'identities',
        'key_set_chain',
        'key_set_endorsements',
        'rate_limits',
        'recovery_hashes',
        'schema_migrations',
        'time_locks',
        'webhook_cursors',
        'webhook_dead_letters',
        'webhook_deliveries',
      ])
      const { rows: columns } = await db.query<{ table_name: string; data_type: string }>(
        `SELECT table_name, data_type FROM information_schema.columns
         WHERE table_schema = $1 AND column_name = 'expires_at' ORDER BY 1`,
        [name],
      )
      expect(columns).toEqual([
        { table_name: 'authentication_nonces', data_type: 'bigint' },
        { table_name: 'key_set_endorsements', data_type: 'bigint' },
        { table_name: 'time_locks', data_type: 'bigint' },
      ])
      const { rows: indexes } = await db.query<{ indexname: string }>(
        `SELECT indexname FROM pg_indexes WHERE schemaname = $1 AND indexname LIKE '%expires_at'
         ORDER BY 1`,
        [name],
      )
      expect(indexes.map((row) => row.indexname)).toEqual([
        'authentication_nonces_expires_at',
        'time_locks_expires_at',
      ])
      const { rows: versions } = await db.query(
        `SELECT version FROM ${name}.schema_migrations ORDER BY version`,
      )
      expect(versions).toEqual([
        { version: 1 },
        { version: 2 },
        { version: 3 },
        { version: 4 },
        { version: 5 },
      ])
    })

    it('is idempotent', async () => {
      const db = pool(1)
      const name = schema('migrate')
      expect(await migrate(db, name)).toBe(5)
      expect(await migrate(db, name)).toBe(5)
      const { rows } = await db.query(`SELECT count(*)::int AS n FROM ${name}.schema_migrations`)
      expect(rows).toEqual([{ n: 5 }])
    })

    it('applies each step once when several processes migrate a fresh schema at once', async () => {
      const name = schema('migrate')
      // A pool each, as separate processes would have: they really race for the advisory lock.
      const results = await Promise.all(Array.from({ length: 8 }, () => migrate(pool(1), name)))
      expect(results).toEqual(Array.from({ length: 8 }, () => 5))
      const { rows } = await pool(1).query(
        `SELECT version FROM ${name}.schema_migrations ORDER BY version`,
      )
      expect(rows).toEqual([
        { version: 1 },
        { version: 2 },
        { version: 3 },
        { version: 4 },
        { version: 5 },
      ])
    })

    it('upgrades a version 2 schema (the account event log) to the current one, keeping its rows', async () => {
      const db = pool(2)
      const name = schema('upgrade')
      const before = await connect({ pool: db, schema: name })
      const key = newDeviceKey()
      const created = { id: randomId('event-'), type: 'account-created', at: 1, ...key } as const
      await before.authenticationKey.registerIdentity(key, created)
      // Versions 3 to 5 only added tables (rate limits, the key set, webhook delivery state):
      // without them and their rows, the schema is what version 2 of this library wrote.
      await db.query(`DROP TABLE ${name}.rate_limits, ${name}.key_set_chain,
        ${name}.key_set_endorsements, ${name}.webhook_cursors, ${name}.webhook_deliveries,
        ${name}.webhook_dead_letters`)
      await db.query(`DELETE FROM ${name}.schema_migrations WHERE version > 2`)

      const upgraded = await connect({ pool: db, schema: name })
      const { rows } = await db.query(`SELECT version FROM ${name}.schema_migrations ORDER BY 1`)
      expect(rows).toEqual([
        { version: 1 },
        { version: 2 },
        { version: 3 },
        { version: 4 },
        { version: 5 },
      ])
      expect(await upgraded.authenticationKey.publicKey(key.identity, key.device)).toBe(
        key.publicKey,
      )
      expect(await upgraded.accountEvents.history(key.identity)).toMatchObject([{ id: created.id }])
      const now = Date.now()
      expect(await upgraded.rateLimit.hit([{ key: 'k', cost: 2, windowMs: 1_000 }], now)).toEqual([
        { count: 2, resetAtMs: now + 1_000 },
      ])
      await upgraded.webhookDeliveries.enqueue('audit', [{ ...created, sequence: 1 }], now)
      expect(await upgraded.webhookDeliveries.cursor('audit')).toBe(1)
    })

    it('refuses a schema written by a newer version', async () => {
      const db = pool(1)
      const name = schema('migrate')
      await migrate(db, name)
      await db.query(`INSERT INTO ${name}.schema_migrations (version) VALUES (99)`)
      const error = await rejectionOf(PostgresStores.connect({ pool: db, schema: name }))
      expect(error).toMatchObject({ name: 'ConfigurationError', code: 'BA001' })
      await expect(migrate(db, name)).rejects.toMatchObject({ code: 'BA001' })
    })

    it('runs from the better-auth-postgres-migrate command', async () => {
      const name = schema('cli')
      const out: string[] = []
      const io = { out: (line: string) => out.push(line), err: (line: string) => out.push(line) }
      expect(await main(['--schema', name], { DATABASE_URL }, io)).toBe(0)
      expect(out.join('\n')).toContain(`schema ${name} is at version 5`)
      const { rows } = await pool(1).query(
        `SELECT version FROM ${name}.schema_migrations ORDER BY version`,
      )
      expect(rows).toEqual([
        { version: 1 },
        { version: 2 },
        { version: 3 },
        { version: 4 },
        { version: 5 },
      ])
    })
  })

  describe('concurrency', () => {
    it('lets exactly 1 of 200 concurrent rotations revealing the same key succeed', async () => {
      // 20 connections, so the rotations really race inside PostgreSQL.
      const racing = pool(20)
      const stores = await connect({ pool: racing })
      const key = newDeviceKey()
      await stores.authenticationKey.registerIdentity(key)
      const candidates = Array.from({ length: 200 }, () => newDeviceKey(key.identity, key.device))
      const results = await Promise.allSettled(
        candidates.map((next) => stores.authenticationKey.rotate(next, key.rotationHash)),
      )
      expect(racing.totalCount).toBeGreaterThan(1)
      const fulfilled = results.flatMap((result, index) =>
        result.status === 'fulfilled' ? [index] : [],
      )
      expect(fulfilled).toHaveLength(1)
      for (const result of results) {
        if (result.status === 'rejected') expect(result.reason).toBeInstanceOf(InvalidHashError)
      }
      const winner = candidates[fulfilled[0]!]!
      expect(await stores.authenticationKey.publicKey(key.identity, key.device)).toBe(
        winner.publicKey,
      )
    })

    it('grants exactly 1 of 1000 concurrent reservations of one access nonce', async () => {
      const racing = pool(20)
      const stores = await connect({ pool: racing })
      const now = Date.now()
      const nonce = randomId('nonce-')
      const results = await Promise.allSettled(
        Array.from({ length: 1000 }, () => stores.accessNonce.reserve(nonce, now + 30_000, now)),
      )
      expect(racing.totalCount).toBeGreaterThan(1)
      expect(results.filter((result) => result.status === 'rejected')).toEqual([])
      const granted = results.filter((result) => result.status === 'fulfilled' && result.value)
      expect(granted).toHaveLength(1)
    })

    it('gives a challenge to exactly 1 of 200 concurrent consumers', async () => {
      const stores = await connect({ pool: pool(20) })
      const now = Date.now()
      const nonce = randomId('nonce-')
      await stores.authenticationNonce.put(nonce, 'identity', now + 60_000, now)
      const results = await Promise.all(
        Array.from({ length: 200 }, () => stores.authenticationNonce.consume(nonce, now)),
      )
      expect(results.filter((identity) => identity !== undefined)).toEqual(['identity'])
    })
  })

  describe('time locks and challenges', () => {
    it('keeps access key hashes and access nonces in separate namespaces', async () => {
      const stores = await connect()
      const now = Date.now()
      const value = randomId('value-')
      expect(await stores.accessKeyHash.reserve(value, now + 30_000, now)).toBe(true)
      expect(await stores.accessNonce.reserve(value, now + 30_000, now)).toBe(true)
      expect(await stores.accessKeyHash.reserve(value, now + 30_000, now)).toBe(false)
    })

    it('stores times beyond 32 bits exactly', async () => {
      const stores = await connect()
      const now = 8_000_000_000_000
      const nonce = randomId('nonce-')
      await stores.authenticationNonce.put(nonce, 'identity', now + 1, now)
      expect(await stores.authenticationNonce.consume(nonce, now)).toBe('identity')
      const value = randomId('value-')
      expect(await stores.accessNonce.reserve(value, now + 1, now)).toBe(true)
      expect(await stores.accessNonce.reserve(value, now + 2, now)).toBe(false)
      expect(await stores.accessNonce.reserve(value, now + 2, now + 1)).toBe(true)
    })
  })

  describe('sweeping', () => {
    it('deletes only the rows that expired at `now`', async () => {
      const name = schema('sweep')
      const stores = await connect({ schema: name, sweepIntervalMs: Number.POSITIVE_INFINITY })
      const now = Date.now()
      await stores.authenticationNonce.put(randomId('nonce-'), 'identity', now + 1_000, now)
      const live = randomId('nonce-')
      await stores.authenticationNonce.put(live, 'identity', now + 1_001, now)
      const lock = randomId('lock-')
      await stores.accessKeyHash.reserve(lock, now + 1_000, now)
      await stores.accessNonce.reserve(lock, now + 500, now)
      const liveLock = randomId('lock-')
      await stores.accessNonce.reserve(liveLock, now + 2_000, now)
      await stores.rateLimit.hit(
        [
          { key: randomId('lapsed-'), cost: 1, windowMs: 1_000 },
          { key: randomId('counting-'), cost: 1, windowMs: 1_001 },
        ],
        now,
      )

      expect(await stores.sweep(now + 499)).toBe(0)
      expect(await stores.sweep(now + 500)).toBe(1)
      expect(await stores.sweep(now + 999)).toBe(0)
      expect(await stores.sweep(now + 1_000)).toBe(3)
      expect(await stores.sweep(now + 1_000)).toBe(0)
      const { rows } = await pool(1).query<{ n: number }>(
        `SELECT (SELECT count(*) FROM ${name}.authentication_nonces)::int
              + (SELECT count(*) FROM ${name}.time_locks)::int
              + (SELECT count(*) FROM ${name}.rate_limits)::int AS n`,
      )
      expect(rows).toEqual([{ n: 3 }])
      expect(await stores.authenticationNonce.consume(live, now + 1_000)).toBe('identity')
      expect(await stores.accessNonce.reserve(liveLock, now + 3_000, now + 1_000)).toBe(false)
    })

    it('sweeps on writes at most once per interval', async () => {
      const name = schema('sweep')
      const stores = await connect({ schema: name, sweepIntervalMs: 1_000 })
      const db = pool(1)
      const rows = async (): Promise<number> =>
        (
          await db.query<{ n: number }>(
            `SELECT (SELECT count(*) FROM ${name}.authentication_nonces)::int
                  + (SELECT count(*) FROM ${name}.time_locks)::int AS n`,
          )
        ).rows[0]!.n
      const now = Date.now()
      // The first write sweeps (nothing yet) and schedules the next sweep for now + 1000.
      await stores.authenticationNonce.put(randomId('nonce-'), 'identity', now + 10, now)
      await stores.accessKeyHash.reserve(randomId('lock-'), now + 10, now)
      // Within the interval: both rows have expired but stay until the next sweep.
      await stores.accessNonce.reserve(randomId('lock-'), now + 5_000, now + 999)
      expect(await rows()).toBe(3)
      // The interval has passed: this write sweeps the two expired rows first.
      await stores.authenticationNonce.put(randomId('nonce-'), 'identity', now + 5_000, now + 1_000)
      expect(await rows()).toBe(2)
    })
  })

  describe('failures', () => {
    it('fails to connect to a port where nothing listens, without leaking the password', async () => {
      const port = await unusedPort()
      const started = Date.now()
      const error = await rejectionOf(
        PostgresStores.connect({
          connectionString: `postgres://user:hunter2secret@127.0.0.1:${port}/db`,
        }),
      )
      expect(Date.now() - started).toBeLessThan(5_000)
      expectUnavailable(error)
      const unavailable = error as StorageUnavailableError
      expect(unavailable.message).not.toContain('hunter2secret')
      expect(JSON.stringify(unavailable)).not.toContain('hunter2secret')
      expect(String((unavailable.cause as Error).message)).not.toContain('hunter2secret')
    })

    it('fails every operation with StorageUnavailableError once the server is gone', async () => {
      const port = Number(new URL(DATABASE_URL).port || 5432)
      const proxy = await startTcpProxy({ targetPort: port })
      const url = new URL(DATABASE_URL)
      url.port = String(proxy.port)
      const stores = await connect({ connectionString: url.toString() })
      const key = newDeviceKey()
      await stores.authenticationKey.registerIdentity(key)
      await stores.recoveryHash.register(key.identity, 'recovery')
      await proxy.close()

      const now = Date.now()
      const calls: Promise<unknown>[] = [
        stores.authenticationKey.registerIdentity(newDeviceKey()),
        stores.authenticationKey.registerDevice(newDeviceKey(key.identity)),
        stores.authenticationKey.rotate(newDeviceKey(key.identity, key.device), key.rotationHash),
        stores.authenticationKey.publicKey(key.identity, key.device),
        stores.authenticationKey.revokeDevice(key.identity, key.device),
        stores.authenticationKey.replaceAllDevices(newDeviceKey(key.identity)),
        stores.authenticationKey.deleteIdentity(key.identity),
        stores.recoveryHash.register(randomId('identity-'), 'a'),
        stores.recoveryHash.rotate(key.identity, 'recovery', 'b'),
        stores.recoveryHash.replace(key.identity, 'b'),
        stores.recoveryHash.delete(key.identity),
        stores.authenticationNonce.put('nonce', key.identity, now + 1_000, now),
        stores.authenticationNonce.consume('nonce', now),
        stores.accessKeyHash.reserve('value', now + 1_000, now),
        stores.accessNonce.reserve('value', now + 1_000, now),
        stores.sweep(now),
      ]
      const results = await Promise.allSettled(calls)
      for (const result of results) {
        expect(result.status).toBe('rejected')
        if (result.status === 'rejected') expectUnavailable(result.reason)
      }
    })

    it('leaves the old devices active when a replaceAllDevices is cut off midway', async () => {
      const name = schema('interrupt')
      const racing = pool(2, 'better-auth-test-interrupt')
      const stores = await connect({ pool: racing, schema: name })
      const first = newDeviceKey()
      const second = newDeviceKey(first.identity)
      await stores.authenticationKey.registerIdentity(first)
      await stores.authenticationKey.registerDevice(second)

      // A test-only trigger makes inserting the replacement wait for an advisory lock the test
      // holds, so the transaction is caught after it revoked the old devices and before it
      // inserted the new one; its connection is then terminated by the server.
      const replacement = newDeviceKey(first.identity, randomId('blocked-'))
      const admin = new Client({ connectionString: DATABASE_URL })
      await admin.connect()
      try {
        await admin.query(`
          CREATE FUNCTION ${name}.wait_for_test() RETURNS trigger LANGUAGE plpgsql AS $$
          BEGIN
            IF NEW.device LIKE 'blocked-%' THEN PERFORM pg_advisory_xact_lock(424242); END IF;
            RETURN NEW;
          END $$;
          CREATE TRIGGER wait_for_test BEFORE INSERT ON ${name}.devices
            FOR EACH ROW EXECUTE FUNCTION ${name}.wait_for_test();
        `)
        await admin.query('BEGIN')
        await admin.query('SELECT pg_advisory_xact_lock(424242)')

        const replacing = rejectionOf(stores.authenticationKey.replaceAllDevices(replacement))
        // Watched from outside any transaction: within one, PostgreSQL keeps returning the
        // pg_stat_activity snapshot taken at its first read.
        const monitor = pool(1)
        let pid = 0
        await until(async () => {
          const { rows } = await monitor.query<{ pid: number; query: string }>(
            `SELECT pid, query FROM pg_stat_activity
             WHERE application_name = 'better-auth-test-interrupt' AND wait_event_type = 'Lock'`,
          )
          pid = rows[0]?.pid ?? 0
          // Statements run in order, so waiting in the INSERT means the revocation is done.
          if (pid !== 0) expect(rows[0]!.query).toMatch(/^INSERT INTO .*devices/)
          return pid !== 0
        }, 'replaceAllDevices to block')
        // The old devices are revoked inside the open transaction at this point.
        await monitor.query('SELECT pg_terminate_backend($1)', [pid])

        expectUnavailable(await replacing)
        await admin.query('ROLLBACK')
      } finally {
        await admin.end()
      }

      expect(await stores.authenticationKey.publicKey(first.identity, first.device)).toBe(
        first.publicKey,
      )
      expect(await stores.authenticationKey.publicKey(second.identity, second.device)).toBe(
        second.publicKey,
      )
      expect(
        await rejectionOf(
          stores.authenticationKey.publicKey(replacement.identity, replacement.device),
        ),
      ).toBeInstanceOf(InvalidDeviceError)
      // The pool dropped the dead connection: the next operations work.
      await stores.authenticationKey.rotate(
        newDeviceKey(first.identity, first.device),
        first.rotationHash,
      )
    })

    it('survives its idle connections being terminated, then works on new ones', async () => {
      const idle = pool(4, 'better-auth-test-idle')
      const stores = await connect({ pool: idle })
      const now = Date.now()
      await Promise.all(
        Array.from({ length: 4 }, () =>
          stores.accessNonce.reserve(randomId('value-'), now + 1_000, now),
        ),
      )
      expect(idle.idleCount).toBeGreaterThan(0)
      const admin = pool(1)
      await admin.query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
         WHERE application_name = 'better-auth-test-idle'`,
      )
      await until(() => Promise.resolve(idle.totalCount === 0), 'the pool to drop the connections')
      expect(await stores.accessNonce.reserve(randomId('value-'), now + 1_000, now)).toBe(true)
    })

    it('fails every call after close, and close is idempotent', async () => {
      const stores = await connect({ connectionString: DATABASE_URL })
      await stores.close()
      await stores.close()
      expectUnavailable(await rejectionOf(stores.authenticationKey.publicKey('a', 'b')))
      expectUnavailable(await rejectionOf(stores.accessNonce.reserve('v', 2, 1)))
      expectUnavailable(await rejectionOf(stores.sweep(1)))
    })

    it('leaves a pool it was given open on close', async () => {
      const given = pool(1)
      const stores = await connect({ pool: given })
      await stores.close()
      expect(await given.query('SELECT 1 AS one')).toMatchObject({ rows: [{ one: 1 }] })
    })
  })
})
