import {
  storeErrors,
  type DeviceKey,
  type RotationChange,
  type ServerAuthenticationKeyStore,
} from '@better-auth/protocol'
import type * as Database from './driver.js'
import { settle } from './errors.js'

type DeviceRow = [identity: string, device: string, publicKey: string, rotationHash: string]

export class SqliteAuthenticationKeyStore implements ServerAuthenticationKeyStore {
  readonly #publicKey: Database.Statement<[string, string], { public_key: string }>
  readonly #rotate: Database.Statement<[string, string, string, string, string]>
  readonly #revoke: Database.Statement<[string, string]>
  readonly #registerIdentity: (key: DeviceKey) => void
  readonly #registerDevice: (key: DeviceKey) => void
  readonly #replaceAllDevices: (key: DeviceKey) => void
  readonly #deleteIdentity: (identity: string) => void
  readonly #rotateAndApply: (key: DeviceKey, revealedHash: string, change: RotationChange) => void

  constructor(db: Database.Database) {
    // ON CONFLICT DO NOTHING turns a duplicate into `changes === 0` instead of a constraint
    // exception, so "already exists" is decided by the insert itself, atomically.
    const insertIdentity = db.prepare<[string]>(
      'INSERT INTO identities (identity) VALUES (?) ON CONFLICT DO NOTHING',
    )
    const insertDevice = db.prepare<DeviceRow>(
      `INSERT INTO devices (identity, device, public_key, rotation_hash, active)
       VALUES (?, ?, ?, ?, 1) ON CONFLICT DO NOTHING`,
    )
    const identityExists = db.prepare<[string], { found: number }>(
      'SELECT 1 AS found FROM identities WHERE identity = ?',
    )
    const revokeAll = db.prepare<[string]>(
      'UPDATE devices SET active = 0 WHERE identity = ? AND active = 1',
    )
    const deleteDevices = db.prepare<[string]>('DELETE FROM devices WHERE identity = ?')
    const deleteIdentity = db.prepare<[string]>('DELETE FROM identities WHERE identity = ?')

    this.#publicKey = db.prepare(
      'SELECT public_key FROM devices WHERE identity = ? AND device = ? AND active = 1',
    )
    // The compare-and-set is one statement: the commitment check and the write cannot be
    // separated by another connection, so of racing rotations exactly one changes a row.
    this.#rotate = db.prepare(
      `UPDATE devices SET public_key = ?, rotation_hash = ?
       WHERE identity = ? AND device = ? AND active = 1 AND rotation_hash = ?`,
    )
    this.#revoke = db.prepare(
      'UPDATE devices SET active = 0 WHERE identity = ? AND device = ? AND active = 1',
    )

    // Multi-statement operations run in IMMEDIATE transactions: the write lock is taken before
    // the first read, so another process cannot commit between the check and the write (a
    // deferred transaction would instead fail with SQLITE_BUSY when upgrading to a writer).
    // A throw inside rolls the whole transaction back.
    const row = (key: DeviceKey): DeviceRow => [
      key.identity,
      key.device,
      key.publicKey,
      key.rotationHash,
    ]
    const registerIdentity = db.transaction((key: DeviceKey) => {
      if (insertIdentity.run(key.identity).changes === 0) throw storeErrors.identityExists()
      if (insertDevice.run(...row(key)).changes === 0) throw storeErrors.deviceExists()
    })
    const registerDevice = db.transaction((key: DeviceKey) => {
      if (identityExists.get(key.identity) === undefined) throw storeErrors.unknownIdentity()
      if (insertDevice.run(...row(key)).changes === 0) throw storeErrors.deviceExists()
    })
    const replaceAllDevices = db.transaction((key: DeviceKey) => {
      if (identityExists.get(key.identity) === undefined) throw storeErrors.unknownIdentity()
      revokeAll.run(key.identity)
      // A reused id throws here and the rollback reactivates the devices revoked above.
      if (insertDevice.run(...row(key)).changes === 0) throw storeErrors.deviceExists()
    })
    // Devices are deleted explicitly rather than through ON DELETE CASCADE, so deleting stays
    // complete even on a connection opened without `foreign_keys = ON`.
    const deleteAll = db.transaction((identity: string) => {
      deleteDevices.run(identity)
      deleteIdentity.run(identity)
    })
    // The rotation first, then the change; any refusal throws, and the rollback restores the
    // commitment, so a refused change leaves the rotation unspent.
    const rotateAndApply = db.transaction(
      (key: DeviceKey, revealedHash: string, change: RotationChange) => {
        const rotated = this.#rotate.run(
          key.publicKey,
          key.rotationHash,
          key.identity,
          key.device,
          revealedHash,
        )
        if (rotated.changes !== 1) throw storeErrors.rotationMismatch()
        switch (change.kind) {
          case 'register-device': {
            const { device, publicKey, rotationHash } = change.device
            const inserted = insertDevice.run(key.identity, device, publicKey, rotationHash)
            if (inserted.changes === 0) throw storeErrors.deviceExists()
            return
          }
          case 'revoke-device':
            if (this.#revoke.run(key.identity, change.device).changes === 0) {
              throw storeErrors.unknownDevice()
            }
            return
          case 'delete-identity':
            deleteAll(key.identity)
            return
        }
      },
    )
    this.#registerIdentity = (key) => registerIdentity.immediate(key)
    this.#registerDevice = (key) => registerDevice.immediate(key)
    this.#replaceAllDevices = (key) => replaceAllDevices.immediate(key)
    this.#deleteIdentity = (identity) => deleteAll.immediate(identity)
    this.#rotateAndApply = (key, revealedHash, change) =>
      rotateAndApply.immediate(key, revealedHash, change)
  }

  registerIdentity(key: DeviceKey): Promise<void> {
    return settle(() => this.#registerIdentity(key))
  }

  registerDevice(key: DeviceKey): Promise<void> {
    return settle(() => this.#registerDevice(key))
  }

  rotate(key: DeviceKey, revealedHash: string): Promise<void> {
    return settle(() => {
      const { changes } = this.#rotate.run(
        key.publicKey,
        key.rotationHash,
        key.identity,
        key.device,
        revealedHash,
      )
      // One answer whether the device is unknown, revoked or out of step: see the contract.
      if (changes !== 1) throw storeErrors.rotationMismatch()
    })
  }

  rotateAndApply(key: DeviceKey, revealedHash: string, change: RotationChange): Promise<void> {
    return settle(() => this.#rotateAndApply(key, revealedHash, change))
  }

  publicKey(identity: string, device: string): Promise<string> {
    return settle(() => {
      const found = this.#publicKey.get(identity, device)
      if (found === undefined) throw storeErrors.unknownDevice()
      return found.public_key
    })
  }

  revokeDevice(identity: string, device: string): Promise<void> {
    return settle(() => {
      if (this.#revoke.run(identity, device).changes === 0) {
        throw storeErrors.unknownDevice()
      }
    })
  }

  replaceAllDevices(key: DeviceKey): Promise<void> {
    return settle(() => this.#replaceAllDevices(key))
  }

  deleteIdentity(identity: string): Promise<void> {
    return settle(() => this.#deleteIdentity(identity))
  }
}
