import type { CounterHit, CounterState, RateLimitStore, Sweeper } from '@better-auth/protocol'
import type { Database } from './database.js'
import { nowMs } from './time.js'

interface CounterRow {
  readonly key: string
  readonly count: number
  readonly reset_at: number
}

/**
 * Rate-limit counters in `<schema>.rate_limits`, shared by every server on the database. One
 * statement upserts the whole batch: each row decides and writes (restart a lapsed window, else
 * add), racing hits on one key queue on its primary key and each re-reads the committed row, so
 * every hit is counted once. Keys are locked in sorted order, so two batches never deadlock.
 */
export class PostgresRateLimitStore implements RateLimitStore {
  readonly #db: Database
  readonly #sweeper: Sweeper<Promise<number>>
  readonly #hit: string

  constructor(db: Database, sweeper: Sweeper<Promise<number>>) {
    this.#db = db
    this.#sweeper = sweeper
    // SET expressions read the row as it was, so both CASEs see the old reset_at.
    this.#hit = `INSERT INTO ${db.schema}.rate_limits AS r (key, count, reset_at)
      SELECT * FROM unnest($1::text[], $2::integer[], $3::bigint[])
      ON CONFLICT (key) DO UPDATE SET
        count = CASE WHEN r.reset_at <= $4 THEN EXCLUDED.count ELSE r.count + EXCLUDED.count END,
        reset_at = CASE WHEN r.reset_at <= $4 THEN EXCLUDED.reset_at ELSE r.reset_at END
      RETURNING key, count, reset_at::float8 AS reset_at`
  }

  async hit(hits: readonly CounterHit[], now: number): Promise<readonly CounterState[]> {
    if (hits.length === 0) return []
    const at = nowMs(now)
    await this.#sweeper.maybeSweep(at)
    const sorted = [...hits].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
    const { rows } = await this.#db.query<CounterRow>(this.#hit, [
      sorted.map((hit) => hit.key),
      sorted.map((hit) => hit.cost),
      sorted.map((hit) => at + hit.windowMs),
      at,
    ])
    const byKey = new Map(rows.map((row) => [row.key, row]))
    return hits.map(({ key }) => {
      const row = byKey.get(key)!
      return { count: row.count, resetAtMs: row.reset_at }
    })
  }

  async ping(): Promise<void> {
    await this.#db.query('SELECT 1', [])
  }
}
