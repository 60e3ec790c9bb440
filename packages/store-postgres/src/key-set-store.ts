import type { KeySetStore, SharedKeySet } from '@better-auth/protocol'
import { pruneHorizon } from '@better-auth/protocol/internal'
import type { Database } from './database.js'
import { expiryMs, nowMs } from './time.js'

/** The shared key set: the log in one row, each endorsement in a row of its own. */
export class PostgresKeySetStore implements KeySetStore {
  readonly #db: Database
  readonly #publish: string
  readonly #endorse: string
  readonly #read: string
  readonly #prune: string

  constructor(db: Database) {
    this.#db = db
    // One statement decides and writes: a longer log replaces the stored one, any other is left
    // alone. Racing publishers queue on the primary key and each re-evaluates the WHERE clause.
    this.#publish = `INSERT INTO ${db.schema}.key_set_chain (length, events) VALUES ($1, $2)
      ON CONFLICT (singleton) DO UPDATE SET length = EXCLUDED.length, events = EXCLUDED.events
      WHERE key_set_chain.length < EXCLUDED.length`
    this.#endorse = `INSERT INTO ${db.schema}.key_set_endorsements (endorsement, expires_at)
      VALUES ($1, $2)
      ON CONFLICT (endorsement) DO UPDATE
      SET expires_at = GREATEST(key_set_endorsements.expires_at, EXCLUDED.expires_at)`
    // One statement, so the log and the endorsements are read from one snapshot.
    this.#read = `SELECT
        (SELECT events FROM ${db.schema}.key_set_chain) AS chain,
        (SELECT coalesce(json_agg(endorsement), '[]'::json)::text
           FROM ${db.schema}.key_set_endorsements WHERE expires_at > $1) AS keys`
    // One statement: a row re-added with a later expiry meanwhile no longer matches it (a racing
    // upsert either commits first, and the row is re-checked, or waits and inserts it anew).
    this.#prune = `DELETE FROM ${db.schema}.key_set_endorsements WHERE expires_at <= $1`
  }

  async publishChain(chain: readonly string[]): Promise<void> {
    await this.#db.query(this.#publish, [chain.length, JSON.stringify(chain)])
  }

  async addEndorsement(text: string, expiresAt: number): Promise<void> {
    await this.#db.query(this.#endorse, [text, expiryMs(expiresAt)])
  }

  async read(now: number): Promise<SharedKeySet> {
    const { rows } = await this.#db.query<{ chain: string | null; keys: string }>(this.#read, [
      nowMs(now),
    ])
    const row = rows[0]
    return {
      chain: row?.chain == null ? [] : (JSON.parse(row.chain) as string[]),
      keys: row === undefined ? [] : (JSON.parse(row.keys) as string[]),
    }
  }

  async pruneEndorsements(now: number, retentionMs: number): Promise<number> {
    const horizon = pruneHorizon(now, retentionMs)
    const { rowCount } = await this.#db.query(this.#prune, [horizon])
    return rowCount ?? 0
  }
}
