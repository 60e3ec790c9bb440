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
  type WebhookDeliveryStore,
  type ServerTimeLockStore,
} from '@better-auth/protocol'
import { Pool } from 'pg'
import { PostgresAccountEventStore } from './account-event-store.js'
import { PostgresAuthenticationKeyStore } from './authentication-key-store.js'
import { PostgresAuthenticationNonceStore } from './authentication-nonce-store.js'
import { PostgresKeySetStore } from './key-set-store.js'
import { Database } from './database.js'
import { settle, toStoreError } from './errors.js'
import { DEFAULT_SCHEMA, migrate, quoteSchema } from './migrations.js'
import { PostgresRateLimitStore } from './rate-limit-store.js'
import { PostgresWebhookDeliveryStore } from './webhook-delivery-store.js'
import { PostgresRecoveryHashStore } from './recovery-hash-store.js'
import { nowMs } from './time.js'
import { PostgresTimeLockStore } from './time-lock-store.js'

export interface PostgresStoresOptions {
  /**
   * A pool you manage: `close()` leaves it open. Give either this or `connectionString`. Attach
   * a `pool.on('error', …)` listener: pg emits the errors of idle connections there (the server
   * restarting, say), and an unhandled 'error' event ends a Node process.
   */
  readonly pool?: Pool
  /** `postgres://user:password@host:port/database`; the stores then own their pool. */
  readonly connectionString?: string
  /** The schema holding the tables (default 'better_auth'), created when missing. */
  readonly schema?: string
  /**
   * Least time between automatic sweeps of expired rows, in the milliseconds of the `now`
   * values the stores are given (default 10 000). `Infinity` turns them off: call `sweep`.
   */
  readonly sweepIntervalMs?: number
  /**
   * Longest wait for the reply to one statement, in milliseconds (default 5 000). Enforced by
   * the client, so it also ends the wait on a server that is frozen or unreachable mid-query; the
   * statement then fails with StorageUnavailableError and its connection is discarded. On a pool
   * the stores create, the server is also told to cancel statements running this long
   * (`statement_timeout`).
   */
  readonly queryTimeoutMs?: number
  /**
   * Longest wait for a connection, new or from a full pool, in milliseconds (default 5 000).
   * Applies to the pool the stores create; set `connectionTimeoutMillis` on a pool you pass.
   */
  readonly connectionTimeoutMs?: number
}

const DEFAULT_SWEEP_INTERVAL_MS = 10_000
const DEFAULT_QUERY_TIMEOUT_MS = 5_000
const DEFAULT_CONNECTION_TIMEOUT_MS = 5_000
// setTimeout's limit: longer delays fire at once.
const MAX_TIMEOUT_MS = 2_147_483_647

// For the pool the stores create.
const OWN_POOL = {
  max: 10,
  idleTimeoutMillis: 30_000,
  application_name: 'better-auth',
} as const

/**
 * Every server store on one PostgreSQL pool. Each check-and-write is one statement or one
 * transaction, so its guarantees hold across any number of server processes sharing the
 * database, not only within one event loop.
 */
export class PostgresStores implements Closeable {
  readonly authenticationKey: ServerAuthenticationKeyStore
  /** The account event log `authenticationKey` records into, in the same transactions. */
  readonly accountEvents: ServerAccountEventStore
  readonly recoveryHash: ServerRecoveryHashStore
  readonly authenticationNonce: ServerAuthenticationNonceStore
  /** Single use of each access key hash on refresh. */
  readonly accessKeyHash: ServerTimeLockStore
  /** Single use of each access request nonce. */
  readonly accessNonce: ServerTimeLockStore
  /** Rate-limit counters for `CounterRateLimiter` (`@better-auth/server`), shared by every server. */
  readonly rateLimit: RateLimitStore
  /** The key set the processes of a deployment share (`ServiceKeyRing`). */
  readonly keySet: KeySetStore
  /** Webhook delivery state for `WebhookDispatcher` (`@better-auth/server`), kept across restarts. */
  readonly webhookDeliveries: WebhookDeliveryStore

  readonly #db: Database
  readonly #pool: Pool
  readonly #ownsPool: boolean
  readonly #sweep: string
  #closing: Promise<void> | undefined

  private constructor(pool: Pool, ownsPool: boolean, schema: string, options: ValidOptions) {
    this.#pool = pool
    this.#ownsPool = ownsPool
    this.#db = new Database(pool, schema, options.queryTimeoutMs)
    this.#sweep = `WITH nonces AS (
        DELETE FROM ${schema}.authentication_nonces WHERE expires_at <= $1 RETURNING 1
      ), locks AS (
        DELETE FROM ${schema}.time_locks WHERE expires_at <= $1 RETURNING 1
      ), limits AS (
        DELETE FROM ${schema}.rate_limits WHERE reset_at <= $1 RETURNING 1
      )
      SELECT (SELECT count(*) FROM nonces) + (SELECT count(*) FROM locks)
        + (SELECT count(*) FROM limits) AS deleted`
    const sweeper = new Sweeper(options.sweepIntervalMs, (now) => this.sweep(now))
    this.authenticationKey = new PostgresAuthenticationKeyStore(this.#db)
    this.accountEvents = new PostgresAccountEventStore(this.#db)
    this.recoveryHash = new PostgresRecoveryHashStore(this.#db)
    this.authenticationNonce = new PostgresAuthenticationNonceStore(this.#db, sweeper)
    this.accessKeyHash = new PostgresTimeLockStore(this.#db, 'access-key-hash', sweeper)
    this.accessNonce = new PostgresTimeLockStore(this.#db, 'access-nonce', sweeper)
    this.rateLimit = new PostgresRateLimitStore(this.#db, sweeper)
    this.keySet = new PostgresKeySetStore(this.#db)
    this.webhookDeliveries = new PostgresWebhookDeliveryStore(this.#db)
  }

  /**
   * Connects, migrates the schema (see `migrate`) and returns the stores. Throws
   * ConfigurationError for invalid options or a schema newer than this library, and
   * StorageUnavailableError when the database cannot be reached or migrated; a pool it created
   * is ended again in that case.
   */
  static async connect(options: PostgresStoresOptions): Promise<PostgresStores> {
    const valid = validate(options)
    const { pool: given, connectionString, schema } = valid
    const quoted = quoteSchema(schema)
    const pool =
      given ??
      new Pool({
        ...OWN_POOL,
        connectionString,
        connectionTimeoutMillis: valid.connectionTimeoutMs,
        // The server's own limit, for a server that is alive but slow (a lock wait, say): it
        // cancels the statement and the connection stays usable. The client's limit, which also
        // covers a frozen server, is passed with every statement (see Database).
        statement_timeout: valid.queryTimeoutMs,
      })
    // Errors of idle connections: the connection is dropped from the pool and the next
    // operation opens a new one; there is nobody to report them to. Without a listener an
    // 'error' event would end the process.
    if (given === undefined) pool.on('error', () => undefined)
    try {
      await migrate(pool, schema)
    } catch (error) {
      if (given === undefined) await pool.end().catch(() => undefined)
      throw toStoreError(error)
    }
    return new PostgresStores(pool, given === undefined, quoted, valid)
  }

  /**
   * Deletes every challenge nonce, time lock and rate-limit counter that has expired at `now`
   * (epoch ms), returning how many rows went. Writes also sweep on their own, at most once per `sweepIntervalMs`.
   */
  sweep(now: number): Promise<number> {
    return settle(async () => {
      const { rows } = await this.#db.query<{ deleted: string }>(this.#sweep, [nowMs(now)])
      return Number(rows[0]?.deleted ?? 0)
    })
  }

  /**
   * Ends the pool if the stores created it (a pool passed in stays open). Idempotent; every
   * later call fails with StorageUnavailableError.
   */
  close(): Promise<void> {
    this.#db.markClosed()
    this.#closing ??= this.#ownsPool ? settle(() => this.#pool.end()) : Promise.resolve()
    return this.#closing
  }
}

interface ValidOptions {
  readonly pool: Pool | undefined
  readonly connectionString: string | undefined
  readonly schema: string
  readonly sweepIntervalMs: number
  readonly queryTimeoutMs: number
  readonly connectionTimeoutMs: number
}

function validate(options: PostgresStoresOptions): ValidOptions {
  if (typeof options !== 'object' || options === null) {
    throw new ConfigurationError('options', 'must be an object')
  }
  const { pool, connectionString } = options
  if (pool !== undefined && !(pool instanceof Pool)) {
    // A pool from another copy of pg is fine as long as it quacks like one.
    const candidate: unknown = pool
    if (!isPoolLike(candidate)) throw new ConfigurationError('pool', 'must be a pg Pool')
  }
  if ((pool === undefined) === (connectionString === undefined)) {
    throw new ConfigurationError('pool', 'give exactly one of pool and connectionString')
  }
  if (connectionString !== undefined) checkConnectionString(connectionString)
  const schema = options.schema ?? DEFAULT_SCHEMA
  quoteSchema(schema)
  const sweepIntervalMs = options.sweepIntervalMs ?? DEFAULT_SWEEP_INTERVAL_MS
  if (typeof sweepIntervalMs !== 'number' || !(sweepIntervalMs >= 0)) {
    throw new ConfigurationError('sweepIntervalMs', 'must be a non-negative number or Infinity')
  }
  return {
    pool,
    connectionString,
    schema,
    sweepIntervalMs,
    queryTimeoutMs: timeout('queryTimeoutMs', options.queryTimeoutMs, DEFAULT_QUERY_TIMEOUT_MS),
    connectionTimeoutMs: timeout(
      'connectionTimeoutMs',
      options.connectionTimeoutMs,
      DEFAULT_CONNECTION_TIMEOUT_MS,
    ),
  }
}

function timeout(field: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback
  if (
    typeof value !== 'number' ||
    !Number.isInteger(value) ||
    value < 1 ||
    value > MAX_TIMEOUT_MS
  ) {
    throw new ConfigurationError(
      field,
      `must be an integer number of milliseconds from 1 to ${MAX_TIMEOUT_MS}`,
    )
  }
  return value
}

function isPoolLike(value: unknown): boolean {
  return (
    typeof value === 'object' &&
    value !== null &&
    'query' in value &&
    typeof value.query === 'function' &&
    'connect' in value &&
    typeof value.connect === 'function' &&
    'end' in value &&
    typeof value.end === 'function'
  )
}

/**
 * Checked here, with a fixed message and no cause: the parser's own errors carry the input,
 * and a connection string usually holds a password that must never reach a log.
 */
function checkConnectionString(value: unknown): void {
  let url: URL | undefined
  try {
    if (typeof value === 'string') url = new URL(value)
  } catch {
    url = undefined
  }
  if (url === undefined || (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:')) {
    throw new ConfigurationError('connectionString', 'must be a postgres:// or postgresql:// URL')
  }
}
