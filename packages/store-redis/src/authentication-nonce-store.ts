import type { ServerAuthenticationNonceStore } from '@better-auth/protocol'
import { ttlMs, type Connection } from './connection.js'

/**
 * One string key per challenge, `<expiresAt>:<identity>`, living until `expiresAt`. The expiry
 * is kept in the value because the contract judges it by the caller's `now`, which may differ
 * from the time Redis keeps the key; the TTL only makes sure nothing outlives its use.
 */
export class RedisAuthenticationNonceStore implements ServerAuthenticationNonceStore {
  readonly #redis: Connection

  constructor(redis: Connection) {
    this.#redis = redis
  }

  ping(): Promise<void> {
    return this.#redis.ping()
  }

  #key(nonce: string): string {
    return this.#redis.key(['challenge', nonce])
  }

  async put(nonce: string, identity: string, expiresAt: number, now: number): Promise<void> {
    const ttl = ttlMs(expiresAt, now)
    const key = this.#key(nonce)
    await this.#redis.run(async (client) => {
      if (ttl > 0) await client.set(key, `${expiresAt}:${identity}`, 'PX', ttl)
      // A challenge that has expired at `now` can never be consumed: replacing an entry with
      // it amounts to removing that entry.
      else await client.del(key)
    })
  }

  async consume(nonce: string, now: number): Promise<string | undefined> {
    // GETDEL reads and removes in one command: of concurrent consumers only one gets the value.
    // An expired challenge is removed as well; it can never become valid again.
    const value = await this.#redis.run((client) => client.getdel(this.#key(nonce)))
    if (value === null) return undefined
    const separator = value.indexOf(':')
    const expiresAt = Number(value.slice(0, separator))
    return separator > 0 && expiresAt > now ? value.slice(separator + 1) : undefined
  }
}
