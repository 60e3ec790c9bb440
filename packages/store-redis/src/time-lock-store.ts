import type { ServerTimeLockStore } from '@better-auth/protocol'
import { ttlMs, type Connection } from './connection.js'
import { unexpectedReply } from './errors.js'

export type TimeLockNamespace = 'access-key-hash' | 'access-nonce'

/** One string key per reserved value, holding its expiry and living until then. */
export class RedisTimeLockStore implements ServerTimeLockStore {
  readonly #redis: Connection
  readonly #namespace: TimeLockNamespace

  constructor(redis: Connection, namespace: TimeLockNamespace) {
    this.#redis = redis
    this.#namespace = namespace
  }

  ping(): Promise<void> {
    return this.#redis.ping()
  }

  async reserve(value: string, expiresAt: number, now: number): Promise<boolean> {
    // Not a plain SET NX: a reservation must lapse at `expiresAt` by the caller's clock, while
    // Redis expires keys by its own. The script compares the stored expiry with `now` instead.
    const status = await this.#redis.script(
      'betterAuthReserve',
      this.#redis.key(['time-lock', this.#namespace, value]),
      String(expiresAt),
      String(now),
      String(ttlMs(expiresAt, now)),
    )
    if (status === 'ok') return true
    if (status === 'taken') return false
    throw unexpectedReply(status)
  }
}
