import { storeErrors, type ServerRecoveryHashStore } from '@better-auth/protocol'
import type * as Database from './driver.js'
import { pinger, settle } from './errors.js'

export class SqliteRecoveryHashStore implements ServerRecoveryHashStore {
  /** One `SELECT 1`: whether the database still answers. */
  readonly ping: () => Promise<void>
  readonly #insert: Database.Statement<[string, string]>
  readonly #rotate: Database.Statement<[string, string, string]>
  readonly #replace: Database.Statement<[string, string]>
  readonly #delete: Database.Statement<[string]>

  constructor(db: Database.Database) {
    this.ping = pinger(db)
    this.#insert = db.prepare(
      'INSERT INTO recovery_hashes (identity, recovery_hash) VALUES (?, ?) ON CONFLICT DO NOTHING',
    )
    // Compare-and-set in one statement, like the device rotation.
    this.#rotate = db.prepare(
      'UPDATE recovery_hashes SET recovery_hash = ? WHERE identity = ? AND recovery_hash = ?',
    )
    this.#replace = db.prepare('UPDATE recovery_hashes SET recovery_hash = ? WHERE identity = ?')
    this.#delete = db.prepare('DELETE FROM recovery_hashes WHERE identity = ?')
  }

  register(identity: string, recoveryHash: string): Promise<void> {
    return settle(() => {
      if (this.#insert.run(identity, recoveryHash).changes === 0) {
        throw storeErrors.identityExists()
      }
    })
  }

  rotate(identity: string, expectedHash: string, nextHash: string): Promise<void> {
    return settle(() => {
      if (this.#rotate.run(nextHash, identity, expectedHash).changes === 0) {
        throw storeErrors.recoveryMismatch()
      }
    })
  }

  replace(identity: string, nextHash: string): Promise<void> {
    return settle(() => {
      if (this.#replace.run(nextHash, identity).changes === 0) {
        throw storeErrors.unknownIdentity()
      }
    })
  }

  delete(identity: string): Promise<void> {
    return settle(() => {
      this.#delete.run(identity)
    })
  }
}
