import type {
  AccountEvent,
  AccountEventType,
  AccountHistoryOptions,
  RecordedAccountEvent,
  ServerAccountEventStore,
} from '@better-auth/protocol'
import type { Database, Queryable } from './database.js'

// The first key of the advisory lock every event insert takes ("BAEV"); the second is
// hashtext of the quoted schema name.
const EVENT_LOCK_CLASS = 0x42414556

interface StoredRow {
  // BIGINT columns arrive as text from pg: exact, converted below.
  sequence: string
  id: string
  type: string
  at: string
  identity: string
  device: string
  public_key: string | null
  rotation_hash: string | null
  nonce: string | null
  target_device: string | null
  target_public_key: string | null
  target_rotation_hash: string | null
}

const COLUMNS = `sequence, id, type, at, identity, device, public_key, rotation_hash, nonce,
  target_device, target_public_key, target_rotation_hash`

/**
 * Inserts an event inside the caller's transaction. A sequence is drawn when the row is inserted
 * but becomes visible at commit, so two transactions could commit out of sequence order and a
 * feed reader that saw the later one would skip the earlier for good. The transaction-level
 * advisory lock taken first makes every event writer of the schema commit one at a time, from
 * its insert on: sequence order is commit order. Callers insert last, just before COMMIT, so the
 * lock is held only for that moment.
 */
export function eventInserter(
  schema: string,
): (client: Queryable, event: AccountEvent) => Promise<void> {
  const insert = `INSERT INTO ${schema}.account_events (id, type, at, identity, device,
      public_key, rotation_hash, nonce, target_device, target_public_key, target_rotation_hash)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`
  return async (client, event) => {
    await client.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [EVENT_LOCK_CLASS, schema])
    const { target } = event
    await client.query(insert, [
      event.id,
      event.type,
      event.at,
      event.identity,
      event.device,
      event.publicKey ?? null,
      event.rotationHash ?? null,
      event.nonce ?? null,
      target?.device ?? null,
      target?.publicKey ?? null,
      target?.rotationHash ?? null,
    ])
  }
}

export class PostgresAccountEventStore implements ServerAccountEventStore {
  readonly #db: Database
  readonly #insert: (client: Queryable, event: AccountEvent) => Promise<void>
  readonly #sql: { history: string; feed: string; erase: string }

  constructor(db: Database) {
    this.#db = db
    const s = db.schema
    this.#insert = eventInserter(s)
    this.#sql = {
      history: `SELECT ${COLUMNS} FROM ${s}.account_events
        WHERE identity = $1 AND sequence > $2 ORDER BY sequence LIMIT $3`,
      feed: `SELECT ${COLUMNS} FROM ${s}.account_events
        WHERE sequence > $1 ORDER BY sequence LIMIT $2`,
      erase: `DELETE FROM ${s}.account_events WHERE identity = $1`,
    }
  }

  ping(): Promise<void> {
    return this.#db.ping()
  }

  append(event: AccountEvent): Promise<void> {
    return this.#db.transaction((client) => this.#insert(client, event))
  }

  async history(
    identity: string,
    options: AccountHistoryOptions = {},
  ): Promise<readonly RecordedAccountEvent[]> {
    // LIMIT NULL is no limit.
    const { rows } = await this.#db.query<StoredRow>(this.#sql.history, [
      identity,
      options.after ?? 0,
      options.limit ?? null,
    ])
    return rows.map(fromRow)
  }

  async feed(after: number, limit: number): Promise<readonly RecordedAccountEvent[]> {
    const { rows } = await this.#db.query<StoredRow>(this.#sql.feed, [after, limit])
    return rows.map(fromRow)
  }

  async erase(identity: string): Promise<number> {
    const { rowCount } = await this.#db.query(this.#sql.erase, [identity])
    return rowCount ?? 0
  }
}

function fromRow(row: StoredRow): RecordedAccountEvent {
  const event: RecordedAccountEvent = {
    sequence: Number(row.sequence),
    id: row.id,
    type: row.type as AccountEventType,
    at: Number(row.at),
    identity: row.identity,
    device: row.device,
    ...(row.public_key === null ? {} : { publicKey: row.public_key }),
    ...(row.rotation_hash === null ? {} : { rotationHash: row.rotation_hash }),
    ...(row.nonce === null ? {} : { nonce: row.nonce }),
  }
  if (row.target_device === null) return event
  return {
    ...event,
    target: {
      device: row.target_device,
      ...(row.target_public_key === null ? {} : { publicKey: row.target_public_key }),
      ...(row.target_rotation_hash === null ? {} : { rotationHash: row.target_rotation_hash }),
    },
  }
}
