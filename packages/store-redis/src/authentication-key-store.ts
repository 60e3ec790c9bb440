import {
  storeErrors,
  type DeviceKey,
  type RotationChange,
  type ServerAuthenticationKeyStore,
} from '@better-auth/protocol'
import type { Connection } from './connection.js'
import { unexpectedReply } from './errors.js'

export class RedisAuthenticationKeyStore implements ServerAuthenticationKeyStore {
  readonly #redis: Connection

  constructor(redis: Connection) {
    this.#redis = redis
  }

  #key(identity: string): string {
    return `${this.#redis.prefix}identity:${identity}`
  }

  async registerIdentity(key: DeviceKey): Promise<void> {
    const status = await this.#redis.script(
      'betterAuthRegisterIdentity',
      this.#key(key.identity),
      key.device,
      key.publicKey,
      key.rotationHash,
    )
    if (status === 'identity-exists') throw storeErrors.identityExists()
    expectOk(status)
  }

  async registerDevice(key: DeviceKey): Promise<void> {
    const status = await this.#redis.script(
      'betterAuthRegisterDevice',
      this.#key(key.identity),
      key.device,
      key.publicKey,
      key.rotationHash,
    )
    if (status === 'no-identity') throw storeErrors.unknownIdentity()
    if (status === 'device-exists') throw storeErrors.deviceExists()
    expectOk(status)
  }

  rotate(key: DeviceKey, revealedHash: string): Promise<void> {
    return this.#rotate(key, revealedHash, [''])
  }

  rotateAndApply(key: DeviceKey, revealedHash: string, change: RotationChange): Promise<void> {
    switch (change.kind) {
      case 'register-device': {
        const { device, publicKey, rotationHash } = change.device
        return this.#rotate(key, revealedHash, [change.kind, device, publicKey, rotationHash])
      }
      case 'revoke-device':
        return this.#rotate(key, revealedHash, [change.kind, change.device])
      case 'delete-identity':
        return this.#rotate(key, revealedHash, [change.kind])
    }
  }

  async #rotate(key: DeviceKey, revealedHash: string, change: string[]): Promise<void> {
    const status = await this.#redis.script(
      'betterAuthRotate',
      this.#key(key.identity),
      key.device,
      key.publicKey,
      key.rotationHash,
      revealedHash,
      ...change,
    )
    if (status === 'invalid-hash') throw storeErrors.rotationMismatch()
    if (status === 'device-exists') throw storeErrors.deviceExists()
    if (status === 'invalid-device') throw storeErrors.unknownDevice()
    expectOk(status)
  }

  async publicKey(identity: string, device: string): Promise<string> {
    const [status, publicKey] = await this.#redis.run((client) =>
      client.hmget(this.#key(identity), `s:${device}`, `k:${device}`),
    )
    if (status !== '1' || typeof publicKey !== 'string') {
      throw storeErrors.unknownDevice()
    }
    return publicKey
  }

  async revokeDevice(identity: string, device: string): Promise<void> {
    const status = await this.#redis.script('betterAuthRevoke', this.#key(identity), device)
    if (status === 'invalid-device') throw storeErrors.unknownDevice()
    expectOk(status)
  }

  async replaceAllDevices(key: DeviceKey): Promise<void> {
    const status = await this.#redis.script(
      'betterAuthReplaceAll',
      this.#key(key.identity),
      key.device,
      key.publicKey,
      key.rotationHash,
    )
    if (status === 'no-identity') throw storeErrors.unknownIdentity()
    if (status === 'device-exists') throw storeErrors.deviceExists()
    expectOk(status)
  }

  async deleteIdentity(identity: string): Promise<void> {
    // The identity and all of its devices are one hash: a single DEL is already atomic.
    await this.#redis.run((client) => client.del(this.#key(identity)))
  }
}

function expectOk(status: string): void {
  if (status !== 'ok') throw unexpectedReply(status)
}
