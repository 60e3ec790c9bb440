import {
  AlreadyExistsError,
  InvalidDeviceError,
  InvalidHashError,
  InvalidIdentityError,
  type DeviceKey,
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
    if (status === 'identity-exists') throw new AlreadyExistsError('identity')
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
    if (status === 'no-identity') throw new InvalidIdentityError('unknown identity')
    if (status === 'device-exists') throw new AlreadyExistsError('device')
    expectOk(status)
  }

  async rotate(key: DeviceKey, revealedHash: string): Promise<void> {
    const status = await this.#redis.script(
      'betterAuthRotate',
      this.#key(key.identity),
      key.device,
      key.publicKey,
      key.rotationHash,
      revealedHash,
    )
    if (status === 'invalid-device') throw new InvalidDeviceError('unknown or revoked device')
    if (status === 'invalid-hash') {
      throw new InvalidHashError('rotation', 'key does not match the commitment')
    }
    expectOk(status)
  }

  async publicKey(identity: string, device: string): Promise<string> {
    const [status, publicKey] = await this.#redis.run((client) =>
      client.hmget(this.#key(identity), `s:${device}`, `k:${device}`),
    )
    if (status !== '1' || typeof publicKey !== 'string') {
      throw new InvalidDeviceError('unknown or revoked device')
    }
    return publicKey
  }

  async revokeDevice(identity: string, device: string): Promise<void> {
    const status = await this.#redis.script('betterAuthRevoke', this.#key(identity), device)
    if (status === 'invalid-device') throw new InvalidDeviceError('unknown or revoked device')
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
    if (status === 'no-identity') throw new InvalidIdentityError('unknown identity')
    if (status === 'device-exists') throw new AlreadyExistsError('device')
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
