import type {
  DeadLetter,
  PendingDelivery,
  RecordedAccountEvent,
  WebhookDeliveryStore,
} from '@better-auth/protocol'
import type { Database } from './database.js'
import { nowMs } from './time.js'

interface DeliveryRow {
  readonly endpoint: string
  readonly event: string
  readonly attempts: number
  // BIGINT columns arrive as text from pg: exact, converted below.
  readonly next_attempt_at: string
}

interface DeadRow {
  readonly endpoint: string
  readonly event: string
  readonly attempts: number
  readonly last_error: string
  readonly dead_at: string
}

/**
 * Webhook delivery state in `<schema>.webhook_*`, shared by every server on the database.
 * `enqueue` locks the endpoint's cursor row for its transaction, so dispatchers racing on one
 * endpoint take turns and a batch another already queued is skipped; every other operation is one
 * statement (`deadLetter` deletes and inserts in one), so none is half-applied.
 */
export class PostgresWebhookDeliveryStore implements WebhookDeliveryStore {
  readonly #db: Database
  readonly #sql: Record<
    | 'cursor'
    | 'claim'
    | 'locked'
    | 'insert'
    | 'advance'
    | 'due'
    | 'delivered'
    | 'retry'
    | 'deadLetter'
    | 'deadLetters',
    string
  >

  constructor(db: Database) {
    this.#db = db
    const s = db.schema
    this.#sql = {
      cursor: `SELECT cursor::float8 AS cursor FROM ${s}.webhook_cursors WHERE endpoint = $1`,
      claim: `INSERT INTO ${s}.webhook_cursors (endpoint, cursor) VALUES ($1, 0)
        ON CONFLICT (endpoint) DO NOTHING`,
      locked: `SELECT cursor::float8 AS cursor FROM ${s}.webhook_cursors
        WHERE endpoint = $1 FOR UPDATE`,
      insert: `INSERT INTO ${s}.webhook_deliveries
          (endpoint, sequence, event, attempts, next_attempt_at)
        SELECT $1, sequence, event, 0, $4
        FROM unnest($2::bigint[], $3::text[]) AS batch (sequence, event)`,
      advance: `UPDATE ${s}.webhook_cursors SET cursor = $2 WHERE endpoint = $1`,
      due: `SELECT endpoint, event, attempts, next_attempt_at FROM ${s}.webhook_deliveries
        WHERE next_attempt_at <= $1 ORDER BY next_attempt_at, sequence, endpoint LIMIT $2`,
      delivered: `DELETE FROM ${s}.webhook_deliveries WHERE endpoint = $1 AND sequence = $2`,
      retry: `UPDATE ${s}.webhook_deliveries SET attempts = attempts + 1, next_attempt_at = $3
        WHERE endpoint = $1 AND sequence = $2`,
      deadLetter: `WITH taken AS (
          DELETE FROM ${s}.webhook_deliveries WHERE endpoint = $1 AND sequence = $2
          RETURNING endpoint, sequence, event, attempts
        )
        INSERT INTO ${s}.webhook_dead_letters
          (endpoint, sequence, event, attempts, last_error, dead_at)
        SELECT endpoint, sequence, event, attempts + 1, $3, $4 FROM taken`,
      deadLetters: `SELECT endpoint, event, attempts, last_error, dead_at
        FROM ${s}.webhook_dead_letters ORDER BY position`,
    }
  }

  async cursor(endpoint: string): Promise<number> {
    const { rows } = await this.#db.query<{ cursor: number }>(this.#sql.cursor, [endpoint])
    return rows[0]?.cursor ?? 0
  }

  async enqueue(
    endpoint: string,
    events: readonly RecordedAccountEvent[],
    now: number,
  ): Promise<void> {
    if (events.length === 0) return
    await this.#db.transaction(async (client) => {
      await client.query(this.#sql.claim, [endpoint])
      const { rows } = await client.query<{ cursor: number }>(this.#sql.locked, [endpoint])
      let last = rows[0]?.cursor ?? 0
      const fresh: RecordedAccountEvent[] = []
      for (const event of events) {
        if (event.sequence <= last) continue
        fresh.push(event)
        last = event.sequence
      }
      if (fresh.length === 0) return
      await client.query(this.#sql.insert, [
        endpoint,
        fresh.map((event) => event.sequence),
        fresh.map((event) => JSON.stringify(event)),
        nowMs(now),
      ])
      await client.query(this.#sql.advance, [endpoint, last])
    })
  }

  async due(now: number, limit: number): Promise<readonly PendingDelivery[]> {
    const { rows } = await this.#db.query<DeliveryRow>(this.#sql.due, [nowMs(now), limit])
    return rows.map((row) => ({
      endpoint: row.endpoint,
      event: JSON.parse(row.event) as RecordedAccountEvent,
      attempts: row.attempts,
      nextAttemptAt: Number(row.next_attempt_at),
    }))
  }

  async delivered(endpoint: string, sequence: number): Promise<void> {
    await this.#db.query(this.#sql.delivered, [endpoint, sequence])
  }

  async retry(endpoint: string, sequence: number, nextAttemptAt: number): Promise<void> {
    await this.#db.query(this.#sql.retry, [endpoint, sequence, nowMs(nextAttemptAt)])
  }

  async deadLetter(
    endpoint: string,
    sequence: number,
    lastError: string,
    now: number,
  ): Promise<void> {
    await this.#db.query(this.#sql.deadLetter, [endpoint, sequence, lastError, nowMs(now)])
  }

  async deadLetters(): Promise<readonly DeadLetter[]> {
    const { rows } = await this.#db.query<DeadRow>(this.#sql.deadLetters, [])
    return rows.map((row) => ({
      endpoint: row.endpoint,
      event: JSON.parse(row.event) as RecordedAccountEvent,
      attempts: row.attempts,
      lastError: row.last_error,
      deadAt: Number(row.dead_at),
    }))
  }
}
