import type { CounterHit, CounterState, RateLimitStore, Sweeper } from '@better-auth/protocol'
import type * as Database from './driver.js'
import { settle } from './errors.js'

interface CounterRow {
  readonly count: number
  readonly reset_at: number
}

/**
 * Rate-limit counters in the `rate_limits` table: every process on the file shares them. Each
 * counter is one upsert that decides and writes (restart a lapsed window, else add), so racing
 * hits from any process are each counted once.
 */
export class SqliteRateLimitStore implements RateLimitStore {
  readonly #hit: Database.Statement<[string, number, number, number, number], CounterRow>
  readonly #ping: Database.Statement<[], unknown>
  readonly #sweeper: Sweeper<number>

  constructor(db: Database.Database, sweeper: Sweeper<number>) {
    this.#sweeper = sweeper
    // SET expressions read the row as it was, so both CASEs see the old reset_at.
    this.#hit = db.prepare(
      `INSERT INTO rate_limits (key, count, reset_at) VALUES (?, ?, ?)
       ON CONFLICT (key) DO UPDATE SET
         count = CASE WHEN rate_limits.reset_at <= ? THEN excluded.count
                      ELSE rate_limits.count + excluded.count END,
         reset_at = CASE WHEN rate_limits.reset_at <= ? THEN excluded.reset_at
                         ELSE rate_limits.reset_at END
       RETURNING count, reset_at`,
    )
    this.#ping = db.prepare('SELECT 1')
  }

  hit(hits: readonly CounterHit[], nowMs: number): Promise<readonly CounterState[]> {
    return settle(() => {
      this.#sweeper.maybeSweep(nowMs)
      return hits.map(({ key, cost, windowMs }) => {
        const row = this.#hit.get(key, cost, nowMs + windowMs, nowMs, nowMs)!
        return { count: row.count, resetAtMs: row.reset_at }
      })
    })
  }

  ping(): Promise<void> {
    return settle(() => {
      this.#ping.get()
    })
  }
}
