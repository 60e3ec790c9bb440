import type {
  AccountEvent,
  AccountEventType,
  AccountHistoryOptions,
  RecordedAccountEvent,
  ServerAccountEventStore,
} from '@better-auth/protocol'
import type * as Database from './driver.js'
import { pinger, settle } from './errors.js'

type EventRow = [
  id: string,
  type: string,
  at: number,
  identity: string,
  device: string,
  publicKey: string | null,
  rotationHash: string | null,
  nonce: string | null,
  targetDevice: string | null,
  targetPublicKey: string | null,
  targetRotationHash: string | null,
]

interface StoredRow {
  sequence: number
  id: string
  type: string
  at: number
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

/** The insert every writer of events shares: the key store's transactions and `append`. */
export function eventInserter(db: Database.Database): (event: AccountEvent) => void {
  const insert = db.prepare<EventRow>(
    `INSERT INTO account_events (id, type, at, identity, device, public_key, rotation_hash, nonce,
       target_device, target_public_key, target_rotation_hash)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  )
  return (event) => {
    const { target } = event
    insert.run(
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
    )
  }
}

export class SqliteAccountEventStore implements ServerAccountEventStore {
  /** One `SELECT 1`: whether the database still answers. */
  readonly ping: () => Promise<void>
  readonly #insert: (event: AccountEvent) => void
  readonly #history: Database.Statement<[string, number, number], StoredRow>
  readonly #feed: Database.Statement<[number, number], StoredRow>
  readonly #erase: Database.Statement<[string]>

  constructor(db: Database.Database) {
    this.ping = pinger(db)
    this.#insert = eventInserter(db)
    this.#history = db.prepare(
      `SELECT ${COLUMNS} FROM account_events WHERE identity = ? AND sequence > ?
       ORDER BY sequence LIMIT ?`,
    )
    this.#feed = db.prepare(
      `SELECT ${COLUMNS} FROM account_events WHERE sequence > ? ORDER BY sequence LIMIT ?`,
    )
    this.#erase = db.prepare('DELETE FROM account_events WHERE identity = ?')
  }

  append(event: AccountEvent): Promise<void> {
    return settle(() => this.#insert(event))
  }

  history(
    identity: string,
    options: AccountHistoryOptions = {},
  ): Promise<readonly RecordedAccountEvent[]> {
    // SQLite reads a negative LIMIT as "no limit".
    const rows = () => this.#history.all(identity, options.after ?? 0, options.limit ?? -1)
    return settle(() => rows().map(fromRow))
  }

  feed(after: number, limit: number): Promise<readonly RecordedAccountEvent[]> {
    return settle(() => this.#feed.all(after, limit).map(fromRow))
  }

  erase(identity: string): Promise<number> {
    return settle(() => this.#erase.run(identity).changes)
  }
}

function fromRow(row: StoredRow): RecordedAccountEvent {
  const event: RecordedAccountEvent = {
    sequence: row.sequence,
    id: row.id,
    type: row.type as AccountEventType,
    at: row.at,
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
