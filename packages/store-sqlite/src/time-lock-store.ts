import type { ServerTimeLockStore, Sweeper } from '@better-auth/protocol'
import type * as Database from './driver.js'
import { pinger, settle } from './errors.js'
import type { WriteBatch } from './write-batch.js'

export type TimeLockNamespace = 'access-key-hash' | 'access-nonce'

export class SqliteTimeLockStore implements ServerTimeLockStore {
  /** One `SELECT 1`: whether the database still answers. */
  readonly ping: () => Promise<void>
  readonly #reserve: Database.Statement<[string, string, number, number]>
  readonly #namespace: TimeLockNamespace
  readonly #sweeper: Sweeper<number>
  readonly #batch: WriteBatch

  constructor(
    db: Database.Database,
    namespace: TimeLockNamespace,
    sweeper: Sweeper<number>,
    batch: WriteBatch,
  ) {
    this.ping = pinger(db)
    this.#namespace = namespace
    this.#sweeper = sweeper
    this.#batch = batch
    // One statement decides and writes: a fresh value is inserted, a lapsed reservation is
    // overwritten, a live one is left alone and the statement changes no row. Exactly one of
    // racing callers, in any process, sees `changes === 1`.
    this.#reserve = db.prepare(
      `INSERT INTO time_locks (namespace, value, expires_at) VALUES (?, ?, ?)
       ON CONFLICT (namespace, value) DO UPDATE SET expires_at = excluded.expires_at
       WHERE time_locks.expires_at <= ?`,
    )
  }

  reserve(value: string, expiresAt: number, now: number): Promise<boolean> {
    return settle(() => {
      this.#sweeper.maybeSweep(now)
      // One reservation per access request: committed with the rest of this loop turn's.
      return this.#batch.add(
        () => this.#reserve.run(this.#namespace, value, expiresAt, now).changes === 1,
      )
    })
  }
}
