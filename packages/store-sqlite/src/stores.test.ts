import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import { Worker } from 'node:worker_threads'
import {
  ConfigurationError,
  InvalidHashError,
  StorageUnavailableError,
} from '@better-auth/protocol'
import { checkStores } from '@better-auth/server'
import { newDeviceKey, randomId, rejectionOf } from '@better-auth/server/testing'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { SqliteStores, migrate } from './index.js'

let directory: string
let filename: string
const opened: { close(): unknown }[] = []

function open(options: { sweepIntervalMs?: number; busyTimeoutMs?: number } = {}): SqliteStores {
  const stores = SqliteStores.open({ filename, ...options })
  opened.push(stores)
  return stores
}

function raw(): DatabaseSync {
  const db = new DatabaseSync(filename)
  opened.push(db)
  return db
}

/** The first column of the first row `sql` returns. */
function scalar(db: DatabaseSync, sql: string): unknown {
  const row = db.prepare(sql).get()
  return row === undefined ? undefined : Object.values(row)[0]
}

beforeEach(() => {
  directory = mkdtempSync(join(tmpdir(), 'better-auth-sqlite-'))
  filename = join(directory, 'stores.db')
})

afterEach(async () => {
  for (const connection of opened.splice(0).reverse()) await connection.close()
  rmSync(directory, { recursive: true, force: true })
})

describe('public API', () => {
  it('exports exactly the documented runtime values', async () => {
    expect(Object.keys(await import('./index.js')).sort()).toEqual(['SqliteStores', 'migrate'])
  })
})

describe('SqliteStores.open', () => {
  it('creates the file in WAL mode at the current schema version', () => {
    open()
    const db = raw()
    expect(scalar(db, 'PRAGMA journal_mode')).toBe('wal')
    expect(scalar(db, 'PRAGMA user_version')).toBe(5)
  })

  it('opens a private in-memory database', async () => {
    const a = SqliteStores.open({ filename: ':memory:' })
    const b = SqliteStores.open({ filename: ':memory:' })
    opened.push(a, b)
    const now = Date.now()
    expect(await a.accessNonce.reserve('value', now + 1_000, now)).toBe(true)
    expect(await b.accessNonce.reserve('value', now + 1_000, now)).toBe(true)
  })

  it('rejects invalid options with ConfigurationError', () => {
    const invalid = [
      { filename: '' },
      { filename: 42 as unknown as string },
      { filename, sweepIntervalMs: -1 },
      { filename, sweepIntervalMs: Number.NaN },
      { filename, busyTimeoutMs: 1.5 },
      { filename, busyTimeoutMs: -1 },
      { filename, busyTimeoutMs: 2 ** 31 },
    ]
    for (const options of invalid) {
      expect(() => SqliteStores.open(options)).toThrow(ConfigurationError)
    }
  })

  it('reports a file that cannot be opened as StorageUnavailableError', () => {
    const missing = join(directory, 'no-such-directory', 'stores.db')
    let error: unknown
    try {
      SqliteStores.open({ filename: missing })
    } catch (caught) {
      error = caught
    }
    expect(error).toBeInstanceOf(StorageUnavailableError)
    expect((error as StorageUnavailableError).code).toBe('BA603')
    expect((error as StorageUnavailableError).cause).toBeInstanceOf(Error)
  })

  it('refuses a database written by a newer schema version', () => {
    const db = raw()
    db.exec('PRAGMA user_version = 99')
    expect(() => SqliteStores.open({ filename })).toThrow(ConfigurationError)
  })
})

describe('ping', () => {
  it('answers while open; once closed, readiness names sqlite and nothing else', async () => {
    const stores = open()
    const all = {
      authenticationKey: stores.authenticationKey,
      accountEvents: stores.accountEvents,
      recoveryHash: stores.recoveryHash,
      authenticationNonce: stores.authenticationNonce,
      accessKeyHash: stores.accessKeyHash,
      accessNonce: stores.accessNonce,
    }
    const ready = await checkStores(all)
    expect(ready.ready).toBe(true)
    expect(Object.values(ready.stores)).toEqual(Array(6).fill({ status: 'ok' }))
    await stores.close()
    expect(await rejectionOf(stores.accessNonce.ping!())).toBeInstanceOf(StorageUnavailableError)
    const report = await checkStores(all)
    expect(report.ready).toBe(false)
    expect(Object.values(report.stores)).toEqual(
      Array(6).fill({ status: 'failed', reason: 'unavailable', code: 'BA603', backend: 'sqlite' }),
    )
    expect(JSON.stringify(report)).not.toContain(directory)
  })
})

describe('durability', () => {
  it('keeps every store across close and reopen', async () => {
    const now = Date.now()
    const first = newDeviceKey()
    const second = newDeviceKey(first.identity)
    const recovery = randomId('recovery-')
    const nonce = randomId('nonce-')
    const lock = randomId('lock-')

    const before = SqliteStores.open({ filename })
    await before.authenticationKey.registerIdentity(first)
    await before.authenticationKey.registerDevice(second)
    await before.authenticationKey.revokeDevice(second.identity, second.device)
    await before.recoveryHash.register(first.identity, recovery)
    await before.authenticationNonce.put(nonce, first.identity, now + 60_000, now)
    expect(await before.accessKeyHash.reserve(lock, now + 60_000, now)).toBe(true)
    expect(await before.accessNonce.reserve(lock, now + 60_000, now)).toBe(true)
    await before.close()

    const after = open()
    expect(await after.authenticationKey.publicKey(first.identity, first.device)).toBe(
      first.publicKey,
    )
    await expect(
      after.authenticationKey.publicKey(second.identity, second.device),
    ).rejects.toMatchObject({ code: 'BA103' })
    await expect(after.authenticationKey.registerDevice(second)).rejects.toMatchObject({
      code: 'BA602',
    })
    await after.recoveryHash.rotate(first.identity, recovery, randomId('recovery-'))
    expect(await after.authenticationNonce.consume(nonce, now + 1)).toBe(first.identity)
    expect(await after.accessKeyHash.reserve(lock, now + 60_000, now + 1)).toBe(false)
    expect(await after.accessNonce.reserve(lock, now + 60_000, now + 1)).toBe(false)
  })

  it('migrates idempotently: reopening and migrating again change nothing', async () => {
    const stores = open()
    const key = newDeviceKey()
    await stores.authenticationKey.registerIdentity(key)
    await stores.close()

    const db = raw()
    const schema = (): unknown =>
      db.prepare('SELECT type, name, sql FROM sqlite_schema ORDER BY name').all()
    const tables = schema()
    migrate(db)
    migrate(db)
    expect(schema()).toEqual(tables)
    expect(scalar(db, 'PRAGMA user_version')).toBe(5)

    const reopened = open()
    expect(await reopened.authenticationKey.publicKey(key.identity, key.device)).toBe(key.publicKey)
    expect(scalar(db, 'PRAGMA user_version')).toBe(5)
  })

  it('upgrades a version 2 database (the account event log) to the current one, keeping its rows', async () => {
    const stores = open()
    const key = newDeviceKey()
    const created = { id: randomId('event-'), type: 'account-created', at: 1, ...key } as const
    await stores.authenticationKey.registerIdentity(key, created)
    await stores.close()
    // Versions 3 to 5 only added tables (rate limits, the key set, webhook delivery state):
    // without them and the version, the file is what version 2 of this library wrote.
    const db = raw()
    db.exec(`DROP TABLE rate_limits; DROP TABLE key_set_chain; DROP TABLE key_set_endorsements;
      DROP TABLE webhook_cursors; DROP TABLE webhook_deliveries; DROP TABLE webhook_dead_letters;
      PRAGMA user_version = 2`)

    const upgraded = open()
    expect(scalar(db, 'PRAGMA user_version')).toBe(5)
    expect(await upgraded.authenticationKey.publicKey(key.identity, key.device)).toBe(key.publicKey)
    expect(await upgraded.accountEvents.history(key.identity)).toMatchObject([{ id: created.id }])
    const now = Date.now()
    expect(await upgraded.rateLimit.hit([{ key: 'k', cost: 2, windowMs: 1_000 }], now)).toEqual([
      { count: 2, resetAtMs: now + 1_000 },
    ])
    await upgraded.webhookDeliveries.enqueue('audit', [{ ...created, sequence: 1 }], now)
    expect(await upgraded.webhookDeliveries.cursor('audit')).toBe(1)
  })

  it('migrates a fresh connection it did not open itself', () => {
    const db = raw()
    expect(scalar(db, 'PRAGMA user_version')).toBe(0)
    migrate(db)
    expect(scalar(db, 'PRAGMA user_version')).toBe(5)
    const names = db
      .prepare("SELECT name FROM sqlite_schema WHERE type = 'table'")
      .all()
      .map(({ name }) => name)
      .sort()
    expect(names).toEqual([
      'account_events',
      'authentication_nonces',
      'devices',
      'identities',
      'key_set_chain',
      'key_set_endorsements',
      'rate_limits',
      'recovery_hashes',
      'sqlite_sequence',
      'time_locks',
      'webhook_cursors',
      'webhook_dead_letters',
      'webhook_deliveries',
    ])
  })
})

describe('time locks of one event-loop turn', () => {
  it('are committed together before any of them answers; a repeated value is granted once', async () => {
    const stores = open()
    const now = Date.now()
    const values = Array.from({ length: 20 }, () => randomId('nonce-'))
    const pending = [...values, values[0]!].map((value) =>
      stores.accessNonce.reserve(value, now + 30_000, now),
    )
    await pending[0]
    // Another connection (another process) already sees every reservation of the turn.
    expect(scalar(raw(), "SELECT count(*) FROM time_locks WHERE namespace = 'access-nonce'")).toBe(
      values.length,
    )
    expect(await Promise.all(pending)).toEqual([...values.map(() => true), false])
  })

  it('write none of their reservations when the turn cannot commit', async () => {
    const stores = open({ busyTimeoutMs: 0 })
    const blocker = raw()
    const now = Date.now()
    const values = Array.from({ length: 3 }, () => randomId('nonce-'))
    blocker.exec('BEGIN IMMEDIATE')
    const failed = await Promise.allSettled(
      values.map((value) => stores.accessNonce.reserve(value, now + 30_000, now)),
    )
    blocker.exec('ROLLBACK')
    for (const result of failed) {
      expect(result.status).toBe('rejected')
      expect((result as PromiseRejectedResult).reason).toBeInstanceOf(StorageUnavailableError)
    }
    expect(
      await Promise.all(
        values.map((value) => stores.accessNonce.reserve(value, now + 30_000, now)),
      ),
    ).toEqual([true, true, true])
  })
})

describe('two connections to one file', () => {
  const n = 50

  it('grants a time lock to exactly one of concurrent reservations from both', async () => {
    const a = open()
    const b = open()
    const now = Date.now()
    const value = randomId('lock-')
    const results = await Promise.all(
      Array.from({ length: n }, (_, i) =>
        (i % 2 === 0 ? a : b).accessNonce.reserve(value, now + 30_000, now),
      ),
    )
    expect(results.filter(Boolean)).toHaveLength(1)
  })

  it('gives a challenge to exactly one of concurrent consumers on both', async () => {
    const a = open()
    const b = open()
    const now = Date.now()
    const nonce = randomId('nonce-')
    const identity = randomId('identity-')
    await a.authenticationNonce.put(nonce, identity, now + 60_000, now)
    const results = await Promise.all(
      Array.from({ length: n }, (_, i) =>
        (i % 2 === 0 ? b : a).authenticationNonce.consume(nonce, now + 1),
      ),
    )
    expect(results.filter((result) => result !== undefined)).toEqual([identity])
  })

  it('lets exactly one of concurrent rotations from both succeed', async () => {
    const a = open()
    const b = open()
    const key = newDeviceKey()
    await a.authenticationKey.registerIdentity(key)
    const results = await Promise.allSettled(
      Array.from({ length: n }, (_, i) =>
        (i % 2 === 0 ? a : b).authenticationKey.rotate(
          { ...newDeviceKey(key.identity), device: key.device },
          key.rotationHash,
        ),
      ),
    )
    const rejected = results.filter((result) => result.status === 'rejected')
    expect(rejected).toHaveLength(n - 1)
    for (const { reason } of rejected) expect(reason).toBeInstanceOf(InvalidHashError)
  })

  it('keeps access key hashes and access nonces in separate namespaces', async () => {
    const stores = open()
    const now = Date.now()
    const value = randomId('value-')
    expect(await stores.accessKeyHash.reserve(value, now + 30_000, now)).toBe(true)
    expect(await stores.accessNonce.reserve(value, now + 30_000, now)).toBe(true)
    expect(await stores.accessKeyHash.reserve(value, now + 30_000, now)).toBe(false)
  })

  it('makes a write wait for another thread holding the write lock, then see its commit', async () => {
    const stores = open({ busyTimeoutMs: 10_000 })
    const now = Date.now()
    const value = randomId('lock-')
    // A second thread on its own connection reserves the value inside a transaction it keeps
    // open for a while; the reservation below must queue behind it and then see it as taken.
    const worker = new Worker(
      `
      const { parentPort, workerData } = require('node:worker_threads')
      const { DatabaseSync } = require('node:sqlite')
      const db = new DatabaseSync(workerData.filename)
      db.exec('BEGIN IMMEDIATE')
      db.prepare('INSERT INTO time_locks (namespace, value, expires_at) VALUES (?, ?, ?)')
        .run('access-nonce', workerData.value, workerData.expiresAt)
      parentPort.postMessage('locked')
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, workerData.holdMs)
      db.exec('COMMIT')
      db.close()
      `,
      {
        eval: true,
        workerData: {
          filename,
          value,
          expiresAt: now + 30_000,
          holdMs: 500,
        },
      },
    )
    const exited = new Promise<number>((resolve) => worker.once('exit', resolve))
    await new Promise<void>((resolve, reject) => {
      worker.once('message', () => resolve())
      worker.once('error', reject)
    })
    const started = performance.now()
    expect(await stores.accessNonce.reserve(value, now + 30_000, now)).toBe(false)
    expect(performance.now() - started).toBeGreaterThan(100)
    expect(await exited).toBe(0)
  })

  it('fails with StorageUnavailableError, not a false answer, when the lock wait times out', async () => {
    const stores = open({ busyTimeoutMs: 0 })
    const blocker = raw()
    const now = Date.now()
    const value = randomId('lock-')
    blocker.exec('BEGIN IMMEDIATE')
    const error = await rejectionOf(stores.accessKeyHash.reserve(value, now + 30_000, now))
    expect(error).toBeInstanceOf(StorageUnavailableError)
    expect((error as StorageUnavailableError).code).toBe('BA603')
    // SQLITE_BUSY
    expect((error as StorageUnavailableError).cause).toMatchObject({ errcode: 5 })
    blocker.exec('ROLLBACK')
    // The failed call reserved nothing.
    expect(await stores.accessKeyHash.reserve(value, now + 30_000, now)).toBe(true)
  })
})

describe('sweeping', () => {
  it('deletes only the rows that expired at `now`', async () => {
    const stores = open({ sweepIntervalMs: Number.POSITIVE_INFINITY })
    const now = Date.now()
    const identity = randomId('identity-')
    const expiredNonce = randomId('nonce-')
    const liveNonce = randomId('nonce-')
    const expiredLock = randomId('lock-')
    const liveLock = randomId('lock-')
    await stores.authenticationNonce.put(expiredNonce, identity, now + 1_000, now)
    await stores.authenticationNonce.put(liveNonce, identity, now + 1_001, now)
    await stores.accessKeyHash.reserve(expiredLock, now + 1_000, now)
    await stores.accessNonce.reserve(expiredLock, now + 500, now)
    await stores.accessNonce.reserve(liveLock, now + 2_000, now)
    await stores.rateLimit.hit(
      [
        { key: randomId('lapsed-'), cost: 1, windowMs: 1_000 },
        { key: randomId('counting-'), cost: 1, windowMs: 1_001 },
      ],
      now,
    )

    expect(stores.sweep(now + 499)).toBe(0)
    expect(stores.sweep(now + 500)).toBe(1)
    expect(stores.sweep(now + 999)).toBe(0)
    expect(stores.sweep(now + 1_000)).toBe(3)
    expect(stores.sweep(now + 1_000)).toBe(0)

    const db = raw()
    const count = (table: string): unknown => scalar(db, `SELECT count(*) FROM ${table}`)
    expect(count('authentication_nonces')).toBe(1)
    expect(count('time_locks')).toBe(1)
    expect(count('rate_limits')).toBe(1)
    expect(await stores.authenticationNonce.consume(liveNonce, now + 1_000)).toBe(identity)
    expect(await stores.accessNonce.reserve(liveLock, now + 3_000, now + 1_000)).toBe(false)
  })

  it('sweeps on writes at most once per interval', async () => {
    const stores = open({ sweepIntervalMs: 1_000 })
    const now = Date.now()
    const identity = randomId('identity-')
    // The first write sweeps (nothing yet) and schedules the next sweep for now + 1000.
    await stores.authenticationNonce.put(randomId('nonce-'), identity, now + 10, now)
    await stores.accessKeyHash.reserve(randomId('lock-'), now + 10, now)
    // Within the interval: both rows have expired but stay until the next sweep.
    await stores.accessNonce.reserve(randomId('lock-'), now + 5_000, now + 999)
    const db = raw()
    const rows = (): unknown =>
      scalar(
        db,
        'SELECT (SELECT count(*) FROM authentication_nonces) + (SELECT count(*) FROM time_locks)',
      )
    expect(rows()).toBe(3)
    // The interval has passed: this write sweeps the two expired rows first.
    await stores.authenticationNonce.put(randomId('nonce-'), identity, now + 5_000, now + 1_000)
    expect(rows()).toBe(2)
  })
})

describe('a closed database', () => {
  it('fails every operation with StorageUnavailableError', async () => {
    const stores = SqliteStores.open({ filename })
    const key = newDeviceKey()
    await stores.authenticationKey.registerIdentity(key)
    await stores.close()
    await stores.close()

    const now = Date.now()
    const calls: Promise<unknown>[] = [
      stores.authenticationKey.registerIdentity(newDeviceKey()),
      stores.authenticationKey.registerDevice(newDeviceKey(key.identity)),
      stores.authenticationKey.rotate(key, key.rotationHash),
      stores.authenticationKey.publicKey(key.identity, key.device),
      stores.authenticationKey.revokeDevice(key.identity, key.device),
      stores.authenticationKey.replaceAllDevices(newDeviceKey(key.identity)),
      stores.authenticationKey.deleteIdentity(key.identity),
      stores.recoveryHash.register(key.identity, 'a'),
      stores.recoveryHash.rotate(key.identity, 'a', 'b'),
      stores.recoveryHash.replace(key.identity, 'b'),
      stores.recoveryHash.delete(key.identity),
      stores.authenticationNonce.put('nonce', key.identity, now + 1_000, now),
      stores.authenticationNonce.consume('nonce', now),
      stores.accessKeyHash.reserve('value', now + 1_000, now),
      stores.accessNonce.reserve('value', now + 1_000, now),
    ]
    for (const call of calls) {
      const error = await rejectionOf(call)
      expect(error).toBeInstanceOf(StorageUnavailableError)
      expect((error as StorageUnavailableError).code).toBe('BA603')
      expect((error as StorageUnavailableError).context).toEqual({ backend: 'sqlite' })
    }
    expect(() => stores.sweep(now)).toThrow(StorageUnavailableError)
  })
})
