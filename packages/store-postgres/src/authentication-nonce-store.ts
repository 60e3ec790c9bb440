import type { ServerAuthenticationNonceStore, Sweeper } from '@better-auth/protocol'
import type { Database } from './database.js'
import { expiryMs, nowMs } from './time.js'

export class PostgresAuthenticationNonceStore implements ServerAuthenticationNonceStore {
  readonly #db: Database
  readonly #sweeper: Sweeper<Promise<number>>
  readonly #put: string
  readonly #take: string

  constructor(db: Database, sweeper: Sweeper<Promise<number>>) {
    this.#db = db
    this.#sweeper = sweeper
    const s = db.schema
    this.#put = `INSERT INTO ${s}.authentication_nonces (nonce, identity, expires_at)
      VALUES ($1, $2, $3)
      ON CONFLICT (nonce) DO UPDATE SET identity = EXCLUDED.identity, expires_at = EXCLUDED.expires_at`
    // Deleting and reading in one statement makes consumption single-use across connections:
    // a concurrent DELETE of the same row waits for ours and then finds nothing, so only the
    // caller whose DELETE removed the row gets it back.
    this.#take = `DELETE FROM ${s}.authentication_nonces WHERE nonce = $1
      RETURNING identity, expires_at`
  }

  ping(): Promise<void> {
    return this.#db.ping()
  }

  async put(nonce: string, identity: string, expiresAt: number, now: number): Promise<void> {
    await this.#sweeper.maybeSweep(nowMs(now))
    await this.#db.query(this.#put, [nonce, identity, expiryMs(expiresAt)])
  }

  async consume(nonce: string, now: number): Promise<string | undefined> {
    // An expired nonce is removed as well: it can never become valid again. BIGINT arrives as
    // a string (it may exceed 2^53 in general); epoch milliseconds convert exactly.
    const { rows } = await this.#db.query<{ identity: string; expires_at: string }>(this.#take, [
      nonce,
    ])
    const taken = rows[0]
    return taken !== undefined && Number(taken.expires_at) > nowMs(now) ? taken.identity : undefined
  }
}
