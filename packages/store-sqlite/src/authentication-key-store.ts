import {
  storeErrors,
  type AccountEvent,
  type DeviceKey,
  type RotationChange,
  type ServerAuthenticationKeyStore,
} from '@better-auth/protocol'
import { eventInserter } from './account-event-store.js'
import type * as Database from './driver.js'
import { pinger, settle } from './errors.js'

type DeviceRow = [identity: string, device: string, publicKey: string, rotationHash: string]
type Event = AccountEvent | undefined

export class SqliteAuthenticationKeyStore implements ServerAuthenticationKeyStore {
  /** One `SELECT 1`: whether the database still answers. */
  readonly ping: () => Promise<void>
  readonly #publicKey: Database.Statement<[string, string], { public_key: string }>
  readonly #rotate: (key: DeviceKey, revealedHash: string, event: Event) => void
  readonly #revoke: (identity: string, device: string, event: Event) => void
  readonly #registerIdentity: (key: DeviceKey, event: Event) => void
  readonly #registerDevice: (key: DeviceKey, event: Event) => void
  readonly #replaceAllDevices: (key: DeviceKey, event: Event) => void
  readonly #deleteIdentity: (identity: string, event: Event) => void
  readonly #rotateAndApply: (
    key: DeviceKey,
    revealedHash: string,
    change: RotationChange,
    event: Event,
  ) => void

  constructor(db: Database.Database) {
    this.ping = pinger(db)
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
    const insertEvent = eventInserter(db)
    // Every write records its event last, inside its transaction: a refusal throws before it,
    // and the event commits or rolls back with the change.
    const record = (event: Event): void => {
      if (event !== undefined) insertEvent(event)
    }

    this.#publicKey = db.prepare(
      'SELECT public_key FROM devices WHERE identity = ? AND device = ? AND active = 1',
    )
    // The compare-and-set is one statement: the commitment check and the write cannot be
    // separated by another connection, so of racing rotations exactly one changes a row.
    const rotateDevice = db.prepare<[string, string, string, string, string]>(
      `UPDATE devices SET public_key = ?, rotation_hash = ?
       WHERE identity = ? AND device = ? AND active = 1 AND rotation_hash = ?`,
    )
    const rotate = (key: DeviceKey, revealedHash: string): void => {
      const { changes } = rotateDevice.run(
        key.publicKey,
        key.rotationHash,
        key.identity,
        key.device,
        revealedHash,
      )
      // One answer whether the device is unknown, revoked or out of step: see the contract.
      if (changes !== 1) throw storeErrors.rotationMismatch()
    }
    const revokeDevice = db.prepare<[string, string]>(
      'UPDATE devices SET active = 0 WHERE identity = ? AND device = ? AND active = 1',
    )
    const revoke = (identity: string, device: string): void => {
      if (revokeDevice.run(identity, device).changes === 0) throw storeErrors.unknownDevice()
    }

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
    const registerIdentity = db.transaction((key: DeviceKey, event: Event) => {
      if (insertIdentity.run(key.identity).changes === 0) throw storeErrors.identityExists()
      if (insertDevice.run(...row(key)).changes === 0) throw storeErrors.deviceExists()
      record(event)
    })
    const registerDevice = db.transaction((key: DeviceKey, event: Event) => {
      if (identityExists.get(key.identity) === undefined) throw storeErrors.unknownIdentity()
      if (insertDevice.run(...row(key)).changes === 0) throw storeErrors.deviceExists()
      record(event)
    })
    const replaceAllDevices = db.transaction((key: DeviceKey, event: Event) => {
      if (identityExists.get(key.identity) === undefined) throw storeErrors.unknownIdentity()
      revokeAll.run(key.identity)
      // A reused id throws here and the rollback reactivates the devices revoked above.
      if (insertDevice.run(...row(key)).changes === 0) throw storeErrors.deviceExists()
      record(event)
    })
    // Devices are deleted explicitly rather than through ON DELETE CASCADE, so deleting stays
    // complete even on a connection opened without `foreign_keys = ON`.
    const deleteAll = (identity: string): void => {
      deleteDevices.run(identity)
      deleteIdentity.run(identity)
    }
    const deleteWithEvent = db.transaction((identity: string, event: Event) => {
      if (identityExists.get(identity) === undefined) throw storeErrors.unknownIdentity()
      deleteAll(identity)
      record(event)
    })
    const rotateWithEvent = db.transaction((key: DeviceKey, revealedHash: string, event: Event) => {
      rotate(key, revealedHash)
      record(event)
    })
    const revokeWithEvent = db.transaction((identity: string, device: string, event: Event) => {
      revoke(identity, device)
      record(event)
    })
    // The rotation first, then the change; any refusal throws, and the rollback restores the
    // commitment, so a refused change leaves the rotation unspent.
    const rotateAndApply = db.transaction(
      (key: DeviceKey, revealedHash: string, change: RotationChange, event: Event) => {
        rotate(key, revealedHash)
        switch (change.kind) {
          case 'register-device': {
            const { device, publicKey, rotationHash } = change.device
            const inserted = insertDevice.run(key.identity, device, publicKey, rotationHash)
            if (inserted.changes === 0) throw storeErrors.deviceExists()
            break
          }
          case 'revoke-device':
            revoke(key.identity, change.device)
            break
          case 'delete-identity':
            deleteAll(key.identity)
            break
        }
        record(event)
      },
    )
    this.#registerIdentity = (key, event) => registerIdentity.immediate(key, event)
    this.#registerDevice = (key, event) => registerDevice.immediate(key, event)
    this.#replaceAllDevices = (key, event) => replaceAllDevices.immediate(key, event)
    this.#deleteIdentity = (identity, event) => deleteWithEvent.immediate(identity, event)
    this.#rotateAndApply = (key, revealedHash, change, event) =>
      rotateAndApply.immediate(key, revealedHash, change, event)
    // Without an event a rotation or revocation is its single statement, no transaction needed.
    this.#rotate = (key, revealedHash, event) =>
      event === undefined
        ? rotate(key, revealedHash)
        : rotateWithEvent.immediate(key, revealedHash, event)
    this.#revoke = (identity, device, event) =>
      event === undefined
        ? revoke(identity, device)
        : revokeWithEvent.immediate(identity, device, event)
  }

  registerIdentity(key: DeviceKey, event?: AccountEvent): Promise<void> {
    return settle(() => this.#registerIdentity(key, event))
  }

  registerDevice(key: DeviceKey, event?: AccountEvent): Promise<void> {
    return settle(() => this.#registerDevice(key, event))
  }

  rotate(key: DeviceKey, revealedHash: string, event?: AccountEvent): Promise<void> {
    return settle(() => this.#rotate(key, revealedHash, event))
  }

  rotateAndApply(
    key: DeviceKey,
    revealedHash: string,
    change: RotationChange,
    event?: AccountEvent,
  ): Promise<void> {
    return settle(() => this.#rotateAndApply(key, revealedHash, change, event))
  }

  publicKey(identity: string, device: string): Promise<string> {
    return settle(() => {
      const found = this.#publicKey.get(identity, device)
      if (found === undefined) throw storeErrors.unknownDevice()
      return found.public_key
    })
  }

  revokeDevice(identity: string, device: string, event?: AccountEvent): Promise<void> {
    return settle(() => this.#revoke(identity, device, event))
  }

  replaceAllDevices(key: DeviceKey, event?: AccountEvent): Promise<void> {
    return settle(() => this.#replaceAllDevices(key, event))
  }

  deleteIdentity(identity: string, event?: AccountEvent): Promise<void> {
    return settle(() => this.#deleteIdentity(identity, event))
  }
}
