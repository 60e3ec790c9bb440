import type { KeySetStore, SharedKeySet } from '@better-auth/protocol'
import { pruneHorizon } from '@better-auth/protocol/internal'
import type * as Database from './driver.js'
import { settle } from './errors.js'

/** The shared key set: the log in one row, each endorsement in a row of its own. */
export class SqliteKeySetStore implements KeySetStore {
  readonly #publish: Database.Statement<[number, string]>
  readonly #endorse: Database.Statement<[string, number]>
  readonly #chain: Database.Statement<[], { events: string }>
  readonly #keys: Database.Statement<[number], { endorsement: string }>
  readonly #prune: Database.Statement<[number]>

  constructor(db: Database.Database) {
    // One statement decides and writes: only a longer log replaces the stored one.
    this.#publish = db.prepare(
      `INSERT INTO key_set_chain (singleton, length, events) VALUES (1, ?, ?)
       ON CONFLICT (singleton) DO UPDATE SET length = excluded.length, events = excluded.events
       WHERE key_set_chain.length < excluded.length`,
    )
    this.#endorse = db.prepare(
      `INSERT INTO key_set_endorsements (endorsement, expires_at) VALUES (?, ?)
       ON CONFLICT (endorsement) DO UPDATE
       SET expires_at = max(key_set_endorsements.expires_at, excluded.expires_at)`,
    )
    this.#chain = db.prepare('SELECT events FROM key_set_chain')
    this.#keys = db.prepare('SELECT endorsement FROM key_set_endorsements WHERE expires_at > ?')
    // One statement: a row re-added with a later expiry meanwhile no longer matches it.
    this.#prune = db.prepare('DELETE FROM key_set_endorsements WHERE expires_at <= ?')
  }

  publishChain(chain: readonly string[]): Promise<void> {
    return settle(() => {
      this.#publish.run(chain.length, JSON.stringify(chain))
    })
  }

  addEndorsement(text: string, expiresAt: number): Promise<void> {
    return settle(() => {
      this.#endorse.run(text, Math.ceil(expiresAt))
    })
  }

  read(now: number): Promise<SharedKeySet> {
    return settle(() => {
      const stored = this.#chain.get()
      return {
        chain: stored === undefined ? [] : (JSON.parse(stored.events) as string[]),
        keys: this.#keys.all(Math.floor(now)).map((row) => row.endorsement),
      }
    })
  }

  pruneEndorsements(now: number, retentionMs: number): Promise<number> {
    return settle(() => Number(this.#prune.run(pruneHorizon(now, retentionMs)).changes))
  }
}
