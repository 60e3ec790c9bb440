import {
  ConfigurationError,
  Sweeper,
  type Closeable,
  type KeySetStore,
  type ServerAccountEventStore,
  type ServerAuthenticationKeyStore,
  type ServerAuthenticationNonceStore,
  type ServerRecoveryHashStore,
  type RateLimitStore,
  type ServerTimeLockStore,
  type WebhookDeliveryStore,
} from '@better-auth/protocol'
import { SqliteAccountEventStore } from './account-event-store.js'
import { SqliteAuthenticationKeyStore } from './authentication-key-store.js'
import { SqliteAuthenticationNonceStore } from './authentication-nonce-store.js'
import { openDatabase, type Database } from './driver.js'
import { settle, toStoreError } from './errors.js'
import { SqliteKeySetStore } from './key-set-store.js'
import { migrate } from './migrations.js'
import { SqliteRateLimitStore } from './rate-limit-store.js'
import { SqliteRecoveryHashStore } from './recovery-hash-store.js'
import { SqliteTimeLockStore } from './time-lock-store.js'
import { SqliteWebhookDeliveryStore } from './webhook-delivery-store.js'
import { WriteBatch } from './write-batch.js'

export interface SqliteStoresOptions {
  /** Path of the database file (created when missing), or ':memory:' for a private database. */
  readonly filename: string
  /**
   * Least time between automatic sweeps of expired rows, in the milliseconds of the `now`
   * values the stores are given (default 10 000). `Infinity` turns them off: call `sweep`.
   */
  readonly sweepIntervalMs?: number
  /** How long a write waits for another connection's lock before failing (default 5000 ms). */
  readonly busyTimeoutMs?: number
}

const DEFAULT_SWEEP_INTERVAL_MS = 10_000
const DEFAULT_BUSY_TIMEOUT_MS = 5_000
// SQLite's busy timeout is a C int of milliseconds.
const MAX_BUSY_TIMEOUT_MS = 2 ** 31 - 1

/**
 * Every server store on one SQLite connection. Several processes may open the same file:
 * WAL lets readers and the writer proceed together, the busy timeout makes writers queue instead
 * of failing, and every check-and-write is one statement or one immediate transaction, so its
 * guarantees hold across processes as well as within one.
 */
export class SqliteStores implements Closeable {
  readonly authenticationKey: ServerAuthenticationKeyStore
  /** The account event log `authenticationKey` records into, in the same transactions. */
  readonly accountEvents: ServerAccountEventStore
  readonly recoveryHash: ServerRecoveryHashStore
  readonly authenticationNonce: ServerAuthenticationNonceStore
  /** Single use of each access key hash on refresh. */
  readonly accessKeyHash: ServerTimeLockStore
  /** Single use of each access request nonce. */
  readonly accessNonce: ServerTimeLockStore
  /** Rate-limit counters for `CounterRateLimiter` (`@better-auth/server`), shared by every process. */
  readonly rateLimit: RateLimitStore
  /** The key set the processes of a deployment share (`ServiceKeyRing`). */
  readonly keySet: KeySetStore
  /** Webhook delivery state for `WebhookDispatcher` (`@better-auth/server`), kept across restarts. */
  readonly webhookDeliveries: WebhookDeliveryStore
  readonly #db: Database
  readonly #sweep: (now: number) => number

  private constructor(db: Database, sweepIntervalMs: number) {
    this.#db = db
    const sweepNonces = db.prepare<[number]>(
      'DELETE FROM authentication_nonces WHERE expires_at <= ?',
    )
    const sweepLocks = db.prepare<[number]>('DELETE FROM time_locks WHERE expires_at <= ?')
    const sweepLimits = db.prepare<[number]>('DELETE FROM rate_limits WHERE reset_at <= ?')
    const sweep = db.transaction(
      (now: number) =>
        sweepNonces.run(now).changes + sweepLocks.run(now).changes + sweepLimits.run(now).changes,
    )
    this.#sweep = (now) => sweep.immediate(now)
    const sweeper = new Sweeper(sweepIntervalMs, this.#sweep)

    this.authenticationKey = new SqliteAuthenticationKeyStore(db)
    this.accountEvents = new SqliteAccountEventStore(db)
    this.recoveryHash = new SqliteRecoveryHashStore(db)
    this.authenticationNonce = new SqliteAuthenticationNonceStore(db, sweeper)
    const batch = new WriteBatch(db)
    this.accessKeyHash = new SqliteTimeLockStore(db, 'access-key-hash', sweeper, batch)
    this.accessNonce = new SqliteTimeLockStore(db, 'access-nonce', sweeper, batch)
    this.rateLimit = new SqliteRateLimitStore(db, sweeper)
    this.keySet = new SqliteKeySetStore(db)
    this.webhookDeliveries = new SqliteWebhookDeliveryStore(db)
  }

  /**
   * Opens (creating if needed) and migrates the database. Throws ConfigurationError for invalid
   * options and StorageUnavailableError when the file cannot be opened or migrated.
   */
  static open(options: SqliteStoresOptions): SqliteStores {
    const { filename, sweepIntervalMs, busyTimeoutMs } = validate(options)
    let db: Database | undefined
    try {
      db = openDatabase(filename)
      // WAL: readers never block the writer and a commit is one append. NORMAL synchronisation
      // is durable against process crashes; a power loss may drop the last commits but never
      // corrupts the file. (A ':memory:' database stays in its own 'memory' journal mode.)
      // The busy timeout first: switching to WAL needs a lock another process may hold.
      db.pragma(`busy_timeout = ${busyTimeoutMs}`)
      db.pragma('journal_mode = WAL')
      db.pragma('synchronous = NORMAL')
      db.pragma('foreign_keys = ON')
      migrate(db)
      return new SqliteStores(db, sweepIntervalMs)
    } catch (error) {
      try {
        db?.close()
      } catch {
        // The open failure below is what the caller needs to see.
      }
      throw toStoreError(error)
    }
  }

  /**
   * Deletes every challenge nonce, time lock and rate-limit counter that has expired at `now`, returning how many
   * rows went. Writes also sweep on their own, at most once per `sweepIntervalMs`.
   */
  sweep(now: number): number {
    try {
      return this.#sweep(now)
    } catch (error) {
      throw toStoreError(error)
    }
  }

  /** Closes the connection (idempotent); every later call fails with StorageUnavailableError. */
  close(): Promise<void> {
    return settle(() => {
      if (this.#db.open) this.#db.close()
    })
  }
}

function validate(options: SqliteStoresOptions): Required<SqliteStoresOptions> {
  const filename: unknown = options?.filename
  if (typeof filename !== 'string' || filename.length === 0) {
    throw new ConfigurationError('filename', 'must be a non-empty string')
  }
  const sweepIntervalMs = options.sweepIntervalMs ?? DEFAULT_SWEEP_INTERVAL_MS
  if (typeof sweepIntervalMs !== 'number' || !(sweepIntervalMs >= 0)) {
    throw new ConfigurationError('sweepIntervalMs', 'must be a non-negative number or Infinity')
  }
  const busyTimeoutMs = options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS
  if (
    !Number.isSafeInteger(busyTimeoutMs) ||
    busyTimeoutMs < 0 ||
    busyTimeoutMs > MAX_BUSY_TIMEOUT_MS
  ) {
    throw new ConfigurationError(
      'busyTimeoutMs',
      `must be an integer from 0 to ${MAX_BUSY_TIMEOUT_MS}`,
    )
  }
  return { filename, sweepIntervalMs, busyTimeoutMs }
}
