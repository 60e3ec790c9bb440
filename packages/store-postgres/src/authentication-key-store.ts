import {
  AlreadyExistsError,
  InvalidDeviceError,
  InvalidHashError,
  InvalidIdentityError,
  StorageUnavailableError,
  type DeviceKey,
  type ServerAuthenticationKeyStore,
} from '@better-auth/protocol'
import type { Database } from './database.js'
import { FOREIGN_KEY_VIOLATION, sqlState } from './errors.js'

export class PostgresAuthenticationKeyStore implements ServerAuthenticationKeyStore {
  readonly #db: Database
  readonly #sql: ReturnType<typeof statements>

  constructor(db: Database) {
    this.#db = db
    this.#sql = statements(db.schema)
  }

  registerIdentity(key: DeviceKey): Promise<void> {
    return this.#db.transaction(async (client) => {
      // ON CONFLICT DO NOTHING turns a duplicate into rowCount 0 instead of an aborted
      // transaction; a concurrent insert of the same identity makes this one wait for it to
      // commit, so "already exists" is decided by the insert itself.
      const identity = await client.query(this.#sql.insertIdentity, [key.identity])
      if (identity.rowCount === 0) throw new AlreadyExistsError('identity')
      const device = await client.query(this.#sql.insertDevice, deviceRow(key))
      if (device.rowCount === 0) throw new AlreadyExistsError('device')
    })
  }

  async registerDevice(key: DeviceKey): Promise<void> {
    // One statement: the foreign key proves the identity exists (and holds it against a
    // concurrent delete until this commits), the primary key rejects a used device id.
    let inserted: number | null
    try {
      inserted = (await this.#db.query(this.#sql.insertDevice, deviceRow(key))).rowCount
    } catch (error) {
      // The only constraint this statement can violate: ON CONFLICT absorbs the primary key.
      if (
        error instanceof StorageUnavailableError &&
        sqlState(error.cause) === FOREIGN_KEY_VIOLATION
      ) {
        throw new InvalidIdentityError('unknown identity')
      }
      throw error
    }
    if (inserted === 0) throw new AlreadyExistsError('device')
  }

  async rotate(key: DeviceKey, revealedHash: string): Promise<void> {
    // The compare-and-set is one conditional UPDATE: PostgreSQL re-checks the WHERE clause on
    // the newest row version after waiting for a concurrent writer, so of racing rotations
    // revealing the same key exactly one changes a row.
    const { rowCount } = await this.#db.query(this.#sql.rotate, [
      key.publicKey,
      key.rotationHash,
      key.identity,
      key.device,
      revealedHash,
    ])
    if (rowCount === 1) return
    // Nothing changed: read the row only to tell the caller why.
    const { rows } = await this.#db.query<{ active: boolean }>(this.#sql.deviceActive, [
      key.identity,
      key.device,
    ])
    if (rows[0]?.active !== true) throw new InvalidDeviceError('unknown or revoked device')
    throw new InvalidHashError('rotation', 'key does not match the commitment')
  }

  async publicKey(identity: string, device: string): Promise<string> {
    const { rows } = await this.#db.query<{ public_key: string }>(this.#sql.publicKey, [
      identity,
      device,
    ])
    const found = rows[0]
    if (found === undefined) throw new InvalidDeviceError('unknown or revoked device')
    return found.public_key
  }

  async revokeDevice(identity: string, device: string): Promise<void> {
    const { rowCount } = await this.#db.query(this.#sql.revoke, [identity, device])
    if (rowCount === 0) throw new InvalidDeviceError('unknown or revoked device')
  }

  replaceAllDevices(key: DeviceKey): Promise<void> {
    return this.#db.transaction(async (client) => {
      // Locking the identity row first serialises this with other replacements and deletions
      // of the identity (which lock it first too), so they cannot deadlock or interleave.
      const identity = await client.query(this.#sql.lockIdentity, [key.identity])
      if (identity.rowCount === 0) throw new InvalidIdentityError('unknown identity')
      await client.query(this.#sql.revokeAll, [key.identity])
      // A used id throws here, and the rollback reactivates the devices revoked above.
      const device = await client.query(this.#sql.insertDevice, deviceRow(key))
      if (device.rowCount === 0) throw new AlreadyExistsError('device')
    })
  }

  deleteIdentity(identity: string): Promise<void> {
    return this.#db.transaction(async (client) => {
      // Same lock order as replaceAllDevices: the identity row, then its devices. Devices are
      // deleted explicitly so the outcome does not hinge on the cascade alone.
      await client.query(this.#sql.lockIdentity, [identity])
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
    deviceActive: `SELECT active FROM ${s}.devices WHERE identity = $1 AND device = $2`,
    rotate: `UPDATE ${s}.devices SET public_key = $1, rotation_hash = $2
      WHERE identity = $3 AND device = $4 AND active AND rotation_hash = $5`,
    revoke: `UPDATE ${s}.devices SET active = false
      WHERE identity = $1 AND device = $2 AND active`,
  } as const
}
