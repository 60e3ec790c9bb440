import { storeErrors, type ServerRecoveryHashStore } from '@better-auth/protocol'
import type { Database } from './database.js'

export class PostgresRecoveryHashStore implements ServerRecoveryHashStore {
  readonly #db: Database
  readonly #insert: string
  readonly #rotate: string
  readonly #replace: string
  readonly #delete: string

  constructor(db: Database) {
    this.#db = db
    const s = db.schema
    this.#insert = `INSERT INTO ${s}.recovery_hashes (identity, recovery_hash) VALUES ($1, $2)
      ON CONFLICT DO NOTHING`
    // Compare-and-set in one statement, like the device rotation.
    this.#rotate = `UPDATE ${s}.recovery_hashes SET recovery_hash = $1
      WHERE identity = $2 AND recovery_hash = $3`
    this.#replace = `UPDATE ${s}.recovery_hashes SET recovery_hash = $1 WHERE identity = $2`
    this.#delete = `DELETE FROM ${s}.recovery_hashes WHERE identity = $1`
  }

  ping(): Promise<void> {
    return this.#db.ping()
  }

  async register(identity: string, recoveryHash: string): Promise<void> {
    const { rowCount } = await this.#db.query(this.#insert, [identity, recoveryHash])
    if (rowCount === 0) throw storeErrors.identityExists()
  }

  async rotate(identity: string, expectedHash: string, nextHash: string): Promise<void> {
    const { rowCount } = await this.#db.query(this.#rotate, [nextHash, identity, expectedHash])
    if (rowCount === 0) throw storeErrors.recoveryMismatch()
  }

  async replace(identity: string, nextHash: string): Promise<void> {
    const { rowCount } = await this.#db.query(this.#replace, [nextHash, identity])
    if (rowCount === 0) throw storeErrors.unknownIdentity()
  }

  async delete(identity: string): Promise<void> {
    await this.#db.query(this.#delete, [identity])
  }
}
