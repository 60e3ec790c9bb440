import {
  constantTimeEqual,
  storeErrors,
  type AccountEvent,
  type DeviceKey,
  type RotationChange,
  type ServerAuthenticationKeyStore,
} from '@better-auth/protocol'
import type { MemoryAccountEventStore } from './account-event-store.js'

interface DeviceRecord {
  publicKey: string
  rotationHash: string
  active: boolean
}

/**
 * Each method runs to completion without awaiting between its check and its write, which is
 * what makes it atomic on JavaScript's single thread. Given a log, each write records its event
 * in that same synchronous step, after every check has passed.
 */
export class MemoryAuthenticationKeyStore implements ServerAuthenticationKeyStore {
  readonly #identities = new Map<string, Map<string, DeviceRecord>>()
  readonly #log: MemoryAccountEventStore | undefined

  constructor(log?: MemoryAccountEventStore) {
    this.#log = log
  }

  registerIdentity(key: DeviceKey, event?: AccountEvent): Promise<void> {
    return this.#settle(event, () => {
      if (this.#identities.has(key.identity)) throw storeErrors.identityExists()
      this.#identities.set(key.identity, new Map([[key.device, record(key)]]))
    })
  }

  registerDevice(key: DeviceKey, event?: AccountEvent): Promise<void> {
    return this.#settle(event, () => {
      const devices = this.#identities.get(key.identity)
      if (devices === undefined) throw storeErrors.unknownIdentity()
      if (devices.has(key.device)) throw storeErrors.deviceExists()
      devices.set(key.device, record(key))
    })
  }

  rotate(key: DeviceKey, revealedHash: string, event?: AccountEvent): Promise<void> {
    return this.#settle(event, () => this.#rotate(key, revealedHash)())
  }

  rotateAndApply(
    key: DeviceKey,
    revealedHash: string,
    change: RotationChange,
    event?: AccountEvent,
  ): Promise<void> {
    return this.#settle(event, () => {
      // Every check before the first write: a refusal leaves the commitment as it was.
      const apply = this.#rotate(key, revealedHash)
      const devices = this.#identities.get(key.identity)!
      switch (change.kind) {
        case 'register-device': {
          if (devices.has(change.device.device)) throw storeErrors.deviceExists()
          apply()
          devices.set(change.device.device, record(change.device))
          return
        }
        case 'revoke-device': {
          const target = this.#active(key.identity, change.device)
          if (target === undefined) throw storeErrors.unknownDevice()
          apply()
          target.active = false
          return
        }
        case 'delete-identity':
          apply()
          this.#identities.delete(key.identity)
          return
      }
    })
  }

  publicKey(identity: string, device: string): Promise<string> {
    const current = this.#active(identity, device)
    if (current === undefined) return Promise.reject(storeErrors.unknownDevice())
    return Promise.resolve(current.publicKey)
  }

  revokeDevice(identity: string, device: string, event?: AccountEvent): Promise<void> {
    return this.#settle(event, () => {
      const current = this.#active(identity, device)
      if (current === undefined) throw storeErrors.unknownDevice()
      current.active = false
    })
  }

  replaceAllDevices(key: DeviceKey, event?: AccountEvent): Promise<void> {
    return this.#settle(event, () => {
      const devices = this.#identities.get(key.identity)
      if (devices === undefined) throw storeErrors.unknownIdentity()
      if (devices.has(key.device)) throw storeErrors.deviceExists()
      for (const device of devices.values()) device.active = false
      devices.set(key.device, record(key))
    })
  }

  deleteIdentity(identity: string, event?: AccountEvent): Promise<void> {
    return this.#settle(event, () => {
      if (!this.#identities.delete(identity)) throw storeErrors.unknownIdentity()
    })
  }

  /**
   * Checks the rotation and returns the write that performs it, so that callers can check their
   * own preconditions in between. An unknown or revoked device is compared against an empty
   * commitment, so it costs the same comparison and gets the same answer as a wrong key.
   */
  #rotate(key: DeviceKey, revealedHash: string): () => void {
    const current = this.#active(key.identity, key.device)
    const matches = constantTimeEqual(current?.rotationHash ?? '', revealedHash)
    if (current === undefined || !matches) throw storeErrors.rotationMismatch()
    return () => {
      current.publicKey = key.publicKey
      current.rotationHash = key.rotationHash
    }
  }

  /**
   * Runs `operation` now, synchronously, then records `event`: only a change that happened is
   * recorded. What `operation` throws becomes the rejection.
   */
  #settle(event: AccountEvent | undefined, operation: () => void): Promise<void> {
    return new Promise((resolve) => {
      operation()
      if (event !== undefined) this.#log?.record(event)
      resolve()
    })
  }

  #active(identity: string, device: string): DeviceRecord | undefined {
    const current = this.#identities.get(identity)?.get(device)
    return current?.active === true ? current : undefined
  }
}

function record(key: Omit<DeviceKey, 'identity'>): DeviceRecord {
  return { publicKey: key.publicKey, rotationHash: key.rotationHash, active: true }
}
