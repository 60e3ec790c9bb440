import type {
  DeadLetter,
  PendingDelivery,
  RecordedAccountEvent,
  WebhookDeliveryStore,
} from '@better-auth/protocol'
import type * as Database from './driver.js'
import { settle } from './errors.js'

interface DeliveryRow {
  readonly endpoint: string
  readonly event: string
  readonly attempts: number
  readonly next_attempt_at: number
}

interface DeadRow {
  readonly endpoint: string
  readonly event: string
  readonly attempts: number
  readonly last_error: string
  readonly dead_at: number
}

/**
 * Webhook delivery state in the `webhook_*` tables, shared by every process on the file. Each
 * operation is one statement or one immediate transaction, so dispatchers racing on the file
 * never queue an event twice nor lose an attempt.
 */
export class SqliteWebhookDeliveryStore implements WebhookDeliveryStore {
  readonly #cursor: Database.Statement<[string], { cursor: number }>
  readonly #enqueue: Database.Transaction<[string, readonly RecordedAccountEvent[], number], void>
  readonly #due: Database.Statement<[number, number], DeliveryRow>
  readonly #delivered: Database.Statement<[string, number]>
  readonly #retry: Database.Statement<[number, string, number]>
  readonly #deadLetter: Database.Transaction<[string, number, string, number], void>
  readonly #deadLetters: Database.Statement<[], DeadRow>

  constructor(db: Database.Database) {
    this.#cursor = db.prepare('SELECT cursor FROM webhook_cursors WHERE endpoint = ?')
    const insert = db.prepare<[string, number, string, number]>(
      `INSERT INTO webhook_deliveries (endpoint, sequence, event, attempts, next_attempt_at)
       VALUES (?, ?, ?, 0, ?)`,
    )
    const moveCursor = db.prepare<[string, number]>(
      `INSERT INTO webhook_cursors (endpoint, cursor) VALUES (?, ?)
       ON CONFLICT (endpoint) DO UPDATE SET cursor = max(webhook_cursors.cursor, excluded.cursor)`,
    )
    // The cursor is re-read inside the write lock: a racing dispatcher's batch is skipped.
    this.#enqueue = db.transaction(
      (endpoint: string, events: readonly RecordedAccountEvent[], now: number) => {
        const cursor = this.#cursor.get(endpoint)?.cursor ?? 0
        let last = cursor
        for (const event of events) {
          if (event.sequence <= last) continue
          insert.run(endpoint, event.sequence, JSON.stringify(event), now)
          last = event.sequence
        }
        if (last > cursor) moveCursor.run(endpoint, last)
      },
    )
    this.#due = db.prepare(
      `SELECT endpoint, event, attempts, next_attempt_at FROM webhook_deliveries
       WHERE next_attempt_at <= ? ORDER BY next_attempt_at, sequence, endpoint LIMIT ?`,
    )
    this.#delivered = db.prepare(
      'DELETE FROM webhook_deliveries WHERE endpoint = ? AND sequence = ?',
    )
    this.#retry = db.prepare(
      `UPDATE webhook_deliveries SET attempts = attempts + 1, next_attempt_at = ?
       WHERE endpoint = ? AND sequence = ?`,
    )
    const take = db.prepare<[string, number], { event: string; attempts: number }>(
      `DELETE FROM webhook_deliveries WHERE endpoint = ? AND sequence = ?
       RETURNING event, attempts`,
    )
    const bury = db.prepare<[string, number, string, number, string, number]>(
      `INSERT INTO webhook_dead_letters (endpoint, sequence, event, attempts, last_error, dead_at)
       VALUES (?, ?, ?, ?, ?, ?)`,
    )
    this.#deadLetter = db.transaction(
      (endpoint: string, sequence: number, lastError: string, now: number) => {
        const taken = take.get(endpoint, sequence)
        if (taken === undefined) return
        bury.run(endpoint, sequence, taken.event, taken.attempts + 1, lastError, now)
      },
    )
    this.#deadLetters = db.prepare(
      `SELECT endpoint, event, attempts, last_error, dead_at FROM webhook_dead_letters
       ORDER BY position`,
    )
  }

  cursor(endpoint: string): Promise<number> {
    return settle(() => this.#cursor.get(endpoint)?.cursor ?? 0)
  }

  enqueue(endpoint: string, events: readonly RecordedAccountEvent[], now: number): Promise<void> {
    return settle(() => this.#enqueue.immediate(endpoint, events, now))
  }

  due(now: number, limit: number): Promise<readonly PendingDelivery[]> {
    return settle(() =>
      this.#due.all(now, limit).map((row) => ({
        endpoint: row.endpoint,
        event: JSON.parse(row.event) as RecordedAccountEvent,
        attempts: row.attempts,
        nextAttemptAt: row.next_attempt_at,
      })),
    )
  }

  delivered(endpoint: string, sequence: number): Promise<void> {
    return settle(() => {
      this.#delivered.run(endpoint, sequence)
    })
  }

  retry(endpoint: string, sequence: number, nextAttemptAt: number): Promise<void> {
    return settle(() => {
      this.#retry.run(nextAttemptAt, endpoint, sequence)
    })
  }

  deadLetter(endpoint: string, sequence: number, lastError: string, now: number): Promise<void> {
    return settle(() => this.#deadLetter.immediate(endpoint, sequence, lastError, now))
  }

  deadLetters(): Promise<readonly DeadLetter[]> {
    return settle(() =>
      this.#deadLetters.all().map((row) => ({
        endpoint: row.endpoint,
        event: JSON.parse(row.event) as RecordedAccountEvent,
        attempts: row.attempts,
        lastError: row.last_error,
        deadAt: row.dead_at,
      })),
    )
  }
}
