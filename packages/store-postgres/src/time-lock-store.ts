import type { ServerTimeLockStore, Sweeper } from '@better-auth/protocol'
import type { Database } from './database.js'
import { expiryMs, nowMs } from './time.js'

export type TimeLockNamespace = 'access-key-hash' | 'access-nonce'

export class PostgresTimeLockStore implements ServerTimeLockStore {
  readonly #db: Database
  readonly #namespace: TimeLockNamespace
  readonly #sweeper: Sweeper<Promise<number>>
  readonly #reserve: string

  constructor(db: Database, namespace: TimeLockNamespace, sweeper: Sweeper<Promise<number>>) {
    this.#db = db
    this.#namespace = namespace
    this.#sweeper = sweeper
    // One statement decides and writes: a fresh value is inserted, a lapsed reservation is
    // overwritten, a live one is left alone and nothing is returned. Racing inserts of one value
    // queue on the primary key; each later one re-evaluates the WHERE clause against the row
    // the earlier one committed, so exactly one caller, in any process, gets a row back.
    this.#reserve = `INSERT INTO ${db.schema}.time_locks (namespace, value, expires_at)
      VALUES ($1, $2, $3)
      ON CONFLICT (namespace, value) DO UPDATE SET expires_at = EXCLUDED.expires_at
      WHERE time_locks.expires_at <= $4
      RETURNING 1`
  }

  ping(): Promise<void> {
    return this.#db.ping()
  }

  async reserve(value: string, expiresAt: number, now: number): Promise<boolean> {
    const at = nowMs(now)
    await this.#sweeper.maybeSweep(at)
    const { rowCount } = await this.#db.query(this.#reserve, [
      this.#namespace,
      value,
      expiryMs(expiresAt),
      at,
    ])
    return rowCount === 1
  }
}
