import {
  StorageUnavailableError,
  storeErrors,
  type AccountEvent,
  type DeviceKey,
  type RotationChange,
  type ServerAuthenticationKeyStore,
} from '@better-auth/protocol'
import { eventInserter } from './account-event-store.js'
import type { Database, Queryable } from './database.js'
import { FOREIGN_KEY_VIOLATION, sqlState } from './errors.js'

export class PostgresAuthenticationKeyStore implements ServerAuthenticationKeyStore {
  readonly #db: Database
  readonly #sql: ReturnType<typeof statements>
  readonly #insertEvent: (client: Queryable, event: AccountEvent) => Promise<void>

  constructor(db: Database) {
    this.#db = db
    this.#sql = statements(db.schema)
    this.#insertEvent = eventInserter(db.schema)
  }

  ping(): Promise<void> {
    return this.#db.ping()
  }

  /**
   * Runs `work` in a transaction and records `event` last in it, after every check has passed:
   * the change and its event commit together or not at all.
   */
  #withEvent(event: AccountEvent | undefined, work: (client: Queryable) => Promise<void>) {
    return this.#db.transaction(async (client) => {
      await work(client)
      if (event !== undefined) await this.#insertEvent(client, event)
    })
  }

  registerIdentity(key: DeviceKey, event?: AccountEvent): Promise<void> {
    return this.#withEvent(event, async (client) => {
      // ON CONFLICT DO NOTHING turns a duplicate into rowCount 0 instead of an aborted
      // transaction; a concurrent insert of the same identity makes this one wait for it to
      // commit, so "already exists" is decided by the insert itself.
      const identity = await client.query(this.#sql.insertIdentity, [key.identity])
      if (identity.rowCount === 0) throw storeErrors.identityExists()
      const device = await client.query(this.#sql.insertDevice, deviceRow(key))
      if (device.rowCount === 0) throw storeErrors.deviceExists()
    })
  }

  registerDevice(key: DeviceKey, event?: AccountEvent): Promise<void> {
    if (event === undefined) return this.#registerDevice(this.#db, key)
    return this.#withEvent(event, (client) => this.#registerDevice(client, key))
  }

  async #registerDevice(db: Queryable, key: DeviceKey): Promise<void> {
    // One statement: the foreign key proves the identity exists (and holds it against a
    // concurrent delete until this commits), the primary key rejects a used device id.
    let inserted: number | null
    try {
      inserted = (await db.query(this.#sql.insertDevice, deviceRow(key))).rowCount
    } catch (error) {
      // The only constraint this statement can violate: ON CONFLICT absorbs the primary key.
      if (
        error instanceof StorageUnavailableError &&
        sqlState(error.cause) === FOREIGN_KEY_VIOLATION
      ) {
        throw storeErrors.unknownIdentity()
      }
      throw error
    }
    if (inserted === 0) throw storeErrors.deviceExists()
  }

  rotate(key: DeviceKey, revealedHash: string, event?: AccountEvent): Promise<void> {
    if (event === undefined) return this.#rotate(this.#db, key, revealedHash)
    return this.#withEvent(event, (client) => this.#rotate(client, key, revealedHash))
  }

  async #rotate(db: Queryable, key: DeviceKey, revealedHash: string): Promise<void> {
    // The compare-and-set is one conditional UPDATE: PostgreSQL re-checks the WHERE clause on
    // the newest row version after waiting for a concurrent writer, so of racing rotations
    // revealing the same key exactly one changes a row.
    const { rowCount } = await db.query(this.#sql.rotate, [
      key.publicKey,
      key.rotationHash,
      key.identity,
      key.device,
      revealedHash,
    ])
    // One answer whether the device is unknown, revoked or out of step: see the contract.
    if (rowCount !== 1) throw storeErrors.rotationMismatch()
  }

  rotateAndApply(
    key: DeviceKey,
    revealedHash: string,
    change: RotationChange,
    event?: AccountEvent,
  ): Promise<void> {
    return this.#withEvent(event, async (client) => {
      // The identity row first, the lock order of replaceAllDevices and deleteIdentity, so none
      // of them can deadlock with this. Then the rotation, then the change: a refusal throws,
      // and the rollback restores the commitment, so a refused change leaves it unspent.
      const identity = await client.query(this.#sql.lockIdentity, [key.identity])
      if (identity.rowCount === 0) throw storeErrors.rotationMismatch()
      const rotated = await client.query(this.#sql.rotate, [
        key.publicKey,
        key.rotationHash,
        key.identity,
        key.device,
        revealedHash,
      ])
      if (rotated.rowCount !== 1) throw storeErrors.rotationMismatch()
      switch (change.kind) {
        case 'register-device': {
          const { device, publicKey, rotationHash } = change.device
          const inserted = await client.query(this.#sql.insertDevice, [
            key.identity,
            device,
            publicKey,
            rotationHash,
          ])
          if (inserted.rowCount === 0) throw storeErrors.deviceExists()
          return
        }
        case 'revoke-device': {
          const revoked = await client.query(this.#sql.revoke, [key.identity, change.device])
          if (revoked.rowCount === 0) throw storeErrors.unknownDevice()
          return
        }
        case 'delete-identity':
          await client.query(this.#sql.deleteDevices, [key.identity])
          await client.query(this.#sql.deleteIdentity, [key.identity])
          return
      }
    })
  }

  async publicKey(identity: string, device: string): Promise<string> {
    const { rows } = await this.#db.query<{ public_key: string }>(this.#sql.publicKey, [
      identity,
      device,
    ])
    const found = rows[0]
    if (found === undefined) throw storeErrors.unknownDevice()
    return found.public_key
  }

  revokeDevice(identity: string, device: string, event?: AccountEvent): Promise<void> {
    if (event === undefined) return this.#revoke(this.#db, identity, device)
    return this.#withEvent(event, (client) => this.#revoke(client, identity, device))
  }

  async #revoke(db: Queryable, identity: string, device: string): Promise<void> {
    const { rowCount } = await db.query(this.#sql.revoke, [identity, device])
    if (rowCount === 0) throw storeErrors.unknownDevice()
  }

  replaceAllDevices(key: DeviceKey, event?: AccountEvent): Promise<void> {
    return this.#withEvent(event, async (client) => {
      // Locking the identity row first serialises this with other replacements and deletions
      // of the identity (which lock it first too), so they cannot deadlock or interleave.
      const identity = await client.query(this.#sql.lockIdentity, [key.identity])
      if (identity.rowCount === 0) throw storeErrors.unknownIdentity()
      await client.query(this.#sql.revokeAll, [key.identity])
      // A used id throws here, and the rollback reactivates the devices revoked above.
      const device = await client.query(this.#sql.insertDevice, deviceRow(key))
      if (device.rowCount === 0) throw storeErrors.deviceExists()
    })
  }

  deleteIdentity(identity: string, event?: AccountEvent): Promise<void> {
    return this.#withEvent(event, async (client) => {
      // Same lock order as replaceAllDevices: the identity row, then its devices. Devices are
      // deleted explicitly so the outcome does not hinge on the cascade alone.
      const locked = await client.query(this.#sql.lockIdentity, [identity])
      if (locked.rowCount === 0) throw storeErrors.unknownIdentity()
      await client.query(this.#sql.deleteDevices, [identity])
      await client.query(this.#sql.deleteIdentity, [identity])
    })
  }
}

function deviceRow(key: DeviceKey): string[] {
  return [key.identity, key.device, key.publicKey, key.rotationHash]
}

function statements(s: string) {
  return {
    insertIdentity: `INSERT INTO ${s}.identities (identity) VALUES ($1) ON CONFLICT DO NOTHING`,
    insertDevice: `INSERT INTO ${s}.devices (identity, device, public_key, rotation_hash, active)
      VALUES ($1, $2, $3, $4, true) ON CONFLICT DO NOTHING`,
    lockIdentity: `SELECT 1 FROM ${s}.identities WHERE identity = $1 FOR UPDATE`,
    revokeAll: `UPDATE ${s}.devices SET active = false WHERE identity = $1 AND active`,
    deleteDevices: `DELETE FROM ${s}.devices WHERE identity = $1`,
    deleteIdentity: `DELETE FROM ${s}.identities WHERE identity = $1`,
    publicKey: `SELECT public_key FROM ${s}.devices
      WHERE identity = $1 AND device = $2 AND active`,
    rotate: `UPDATE ${s}.devices SET public_key = $1, rotation_hash = $2
      WHERE identity = $3 AND device = $4 AND active AND rotation_hash = $5`,
    revoke: `UPDATE ${s}.devices SET active = false
      WHERE identity = $1 AND device = $2 AND active`,
  } as const
}
