import {
  storeErrors,
  type AccountEvent,
  type DeviceKey,
  type RotationChange,
  type ServerAuthenticationKeyStore,
} from '@better-auth/protocol'
import { eventKeys, eventArgument, identityKey } from './account-event-store.js'
import type { Connection } from './connection.js'
import { unexpectedReply } from './errors.js'

export class RedisAuthenticationKeyStore implements ServerAuthenticationKeyStore {
  readonly #redis: Connection

  constructor(redis: Connection) {
    this.#redis = redis
  }

  ping(): Promise<void> {
    return this.#redis.ping()
  }

  #key(identity: string): string {
    return identityKey(this.#redis, identity)
  }

  /**
   * The identity's hash and the event log keys: what every changing script is given. Without an
   * event the script touches only the hash, and it is named in every place, so such a call still
   * uses exactly one key.
   */
  #keys(identity: string, event: AccountEvent | undefined): string[] {
    const hash = this.#key(identity)
    if (event === undefined) return [hash, hash, hash, hash]
    return [hash, ...eventKeys(this.#redis, identity)]
  }

  async registerIdentity(key: DeviceKey, event?: AccountEvent): Promise<void> {
    const status = await this.#redis.script(
      'betterAuthRegisterIdentity',
      this.#keys(key.identity, event),
      key.device,
      key.publicKey,
      key.rotationHash,
      eventArgument(event),
    )
    if (status === 'identity-exists') throw storeErrors.identityExists()
    expectOk(status)
  }

  async registerDevice(key: DeviceKey, event?: AccountEvent): Promise<void> {
    const status = await this.#redis.script(
      'betterAuthRegisterDevice',
      this.#keys(key.identity, event),
      key.device,
      key.publicKey,
      key.rotationHash,
      eventArgument(event),
    )
    if (status === 'no-identity') throw storeErrors.unknownIdentity()
    if (status === 'device-exists') throw storeErrors.deviceExists()
    expectOk(status)
  }

  rotate(key: DeviceKey, revealedHash: string, event?: AccountEvent): Promise<void> {
    return this.#rotate(key, revealedHash, [''], event)
  }

  rotateAndApply(
    key: DeviceKey,
    revealedHash: string,
    change: RotationChange,
    event?: AccountEvent,
  ): Promise<void> {
    switch (change.kind) {
      case 'register-device': {
        const { device, publicKey, rotationHash } = change.device
        const args = [change.kind, device, publicKey, rotationHash]
        return this.#rotate(key, revealedHash, args, event)
      }
      case 'revoke-device':
        return this.#rotate(key, revealedHash, [change.kind, change.device], event)
      case 'delete-identity':
        return this.#rotate(key, revealedHash, [change.kind], event)
    }
  }

  async #rotate(
    key: DeviceKey,
    revealedHash: string,
    change: string[],
    event: AccountEvent | undefined,
  ): Promise<void> {
    const status = await this.#redis.script(
      'betterAuthRotate',
      this.#keys(key.identity, event),
      key.device,
      key.publicKey,
      key.rotationHash,
      revealedHash,
      ...change,
      eventArgument(event),
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

  async revokeDevice(identity: string, device: string, event?: AccountEvent): Promise<void> {
    const status = await this.#redis.script(
      'betterAuthRevoke',
      this.#keys(identity, event),
      device,
      eventArgument(event),
    )
    if (status === 'invalid-device') throw storeErrors.unknownDevice()
    expectOk(status)
  }

  async replaceAllDevices(key: DeviceKey, event?: AccountEvent): Promise<void> {
    const status = await this.#redis.script(
      'betterAuthReplaceAll',
      this.#keys(key.identity, event),
      key.device,
      key.publicKey,
      key.rotationHash,
      eventArgument(event),
    )
    if (status === 'no-identity') throw storeErrors.unknownIdentity()
    if (status === 'device-exists') throw storeErrors.deviceExists()
    expectOk(status)
  }

  async deleteIdentity(identity: string, event?: AccountEvent): Promise<void> {
    if (event === undefined) {
      // The identity and all of its devices are one hash: a single DEL is already atomic.
      const deleted = await this.#redis.run((client) => client.del(this.#key(identity)))
      if (deleted === 0) throw storeErrors.unknownIdentity()
      return
    }
    const status = await this.#redis.script(
      'betterAuthDeleteIdentity',
      this.#keys(identity, event),
      eventArgument(event),
    )
    if (status === 'no-identity') throw storeErrors.unknownIdentity()
    expectOk(status)
  }
}

function expectOk(status: string): void {
  if (status !== 'ok') throw unexpectedReply(status)
}
