import type { ServerAuthenticationNonceStore, Sweeper } from '@better-auth/protocol'
import type * as Database from './driver.js'
import { pinger, settle } from './errors.js'

export class SqliteAuthenticationNonceStore implements ServerAuthenticationNonceStore {
  /** One `SELECT 1`: whether the database still answers. */
  readonly ping: () => Promise<void>
  readonly #put: Database.Statement<[string, string, number]>
  readonly #take: Database.Statement<[string], { identity: string; expires_at: number }>
  readonly #sweeper: Sweeper<number>

  constructor(db: Database.Database, sweeper: Sweeper<number>) {
    this.ping = pinger(db)
    this.#sweeper = sweeper
    this.#put = db.prepare(
      `INSERT INTO authentication_nonces (nonce, identity, expires_at) VALUES (?, ?, ?)
       ON CONFLICT (nonce) DO UPDATE SET identity = excluded.identity, expires_at = excluded.expires_at`,
    )
    // Deleting and reading in one statement makes consumption single-use across connections:
    // only the caller whose DELETE removed the row gets it back. SQLite applies all of a
    // RETURNING statement's changes on its first step, so `get` completes the delete.
    this.#take = db.prepare(
      'DELETE FROM authentication_nonces WHERE nonce = ? RETURNING identity, expires_at',
    )
  }

  put(nonce: string, identity: string, expiresAt: number, now: number): Promise<void> {
    return settle(() => {
      this.#sweeper.maybeSweep(now)
      this.#put.run(nonce, identity, expiresAt)
    })
  }

  consume(nonce: string, now: number): Promise<string | undefined> {
    return settle(() => {
      // An expired nonce is removed as well: it can never become valid again.
      const taken = this.#take.get(nonce)
      return taken !== undefined && taken.expires_at > now ? taken.identity : undefined
    })
  }
}
