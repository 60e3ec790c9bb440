import {
  AlreadyExistsError,
  InvalidDeviceError,
  InvalidHashError,
  InvalidIdentityError,
  constantTimeEqual,
  type DeviceKey,
  type ServerAuthenticationKeyStore,
} from '@better-auth/protocol'

interface DeviceRecord {
  publicKey: string
  rotationHash: string
  active: boolean
}

/**
 * Each method runs to completion without awaiting between its check and its write, which is
 * what makes it atomic on JavaScript's single thread.
 */
export class MemoryAuthenticationKeyStore implements ServerAuthenticationKeyStore {
  readonly #identities = new Map<string, Map<string, DeviceRecord>>()

  registerIdentity(key: DeviceKey): Promise<void> {
    if (this.#identities.has(key.identity))
      return Promise.reject(new AlreadyExistsError('identity'))
    this.#identities.set(key.identity, new Map([[key.device, record(key)]]))
    return Promise.resolve()
  }

  registerDevice(key: DeviceKey): Promise<void> {
    const devices = this.#identities.get(key.identity)
    if (devices === undefined) return Promise.reject(new InvalidIdentityError('unknown identity'))
    if (devices.has(key.device)) return Promise.reject(new AlreadyExistsError('device'))
    devices.set(key.device, record(key))
    return Promise.resolve()
  }

  rotate(key: DeviceKey, revealedHash: string): Promise<void> {
    const current = this.#active(key.identity, key.device)
    if (current === undefined)
      return Promise.reject(new InvalidDeviceError('unknown or revoked device'))
    if (!constantTimeEqual(current.rotationHash, revealedHash)) {
      return Promise.reject(new InvalidHashError('rotation', 'key does not match the commitment'))
    }
    current.publicKey = key.publicKey
    current.rotationHash = key.rotationHash
    return Promise.resolve()
  }

  publicKey(identity: string, device: string): Promise<string> {
    const current = this.#active(identity, device)
    if (current === undefined)
      return Promise.reject(new InvalidDeviceError('unknown or revoked device'))
    return Promise.resolve(current.publicKey)
  }

  revokeDevice(identity: string, device: string): Promise<void> {
    const current = this.#active(identity, device)
    if (current === undefined)
      return Promise.reject(new InvalidDeviceError('unknown or revoked device'))
    current.active = false
    return Promise.resolve()
  }

  replaceAllDevices(key: DeviceKey): Promise<void> {
    const devices = this.#identities.get(key.identity)
    if (devices === undefined) return Promise.reject(new InvalidIdentityError('unknown identity'))
    if (devices.has(key.device)) return Promise.reject(new AlreadyExistsError('device'))
    for (const device of devices.values()) device.active = false
    devices.set(key.device, record(key))
    return Promise.resolve()
  }

  deleteIdentity(identity: string): Promise<void> {
    this.#identities.delete(identity)
    return Promise.resolve()
  }

  #active(identity: string, device: string): DeviceRecord | undefined {
    const current = this.#identities.get(identity)?.get(device)
    return current?.active === true ? current : undefined
  }
}

function record(key: DeviceKey): DeviceRecord {
  return { publicKey: key.publicKey, rotationHash: key.rotationHash, active: true }
}
