import { storeErrors, type ServerRecoveryHashStore } from '@better-auth/protocol'
import type { Connection } from './connection.js'
import { unexpectedReply } from './errors.js'

/** One string key per identity holding its recovery hash; none of them expires. */
export class RedisRecoveryHashStore implements ServerRecoveryHashStore {
  readonly #redis: Connection

  constructor(redis: Connection) {
    this.#redis = redis
  }

  ping(): Promise<void> {
    return this.#redis.ping()
  }

  #key(identity: string): string {
    return this.#redis.key(['recovery', identity])
  }

  async register(identity: string, recoveryHash: string): Promise<void> {
    // NX: set only when absent, decided by Redis in the one command.
    const reply = await this.#redis.run((client) =>
      client.set(this.#key(identity), recoveryHash, 'NX'),
    )
    if (reply === null) throw storeErrors.identityExists()
  }

  async rotate(identity: string, expectedHash: string, nextHash: string): Promise<void> {
    const status = await this.#redis.script(
      'betterAuthRotateRecovery',
      this.#key(identity),
      expectedHash,
      nextHash,
    )
    if (status === 'invalid-hash') throw storeErrors.recoveryMismatch()
    if (status !== 'ok') throw unexpectedReply(status)
  }

  async replace(identity: string, nextHash: string): Promise<void> {
    // XX: set only when present, so a failed replace never creates the identity.
    const reply = await this.#redis.run((client) => client.set(this.#key(identity), nextHash, 'XX'))
    if (reply === null) throw storeErrors.unknownIdentity()
  }

  async delete(identity: string): Promise<void> {
    await this.#redis.run((client) => client.del(this.#key(identity)))
  }
}
