import type { Cluster, Redis } from 'ioredis'
import { redis } from './errors.js'
import { storeKey, type SlotGroup } from './keys.js'
import { runScript, type ScriptName } from './scripts.js'

/** A single server (or primary), or a Redis Cluster. */
export type RedisClient = Redis | Cluster

/** The client the stores share, the key prefix, and the error mapping every call goes through. */
export class Connection {
  readonly client: RedisClient
  readonly prefix: string
  #closed = false
  #ping: Promise<void> | undefined

  constructor(client: RedisClient, prefix: string) {
    this.client = client
    this.prefix = prefix
  }

  /** The key of `parts` under the prefix, in the group's hash slot if given (see keys.ts). */
  key(parts: readonly string[], group?: SlotGroup): string {
    return storeKey(this.prefix, parts, group)
  }

  markClosed(): void {
    this.#closed = true
  }

  /** Runs commands on the client; rejects with the contract's error or StorageUnavailableError. */
  run<T>(operation: (client: RedisClient) => Promise<T>): Promise<T> {
    return redis.settle(() => {
      if (this.#closed) throw redis.closed()
      return operation(this.client)
    })
  }

  /** One PING round trip, shared by the callers that ask while it is in flight. */
  ping(): Promise<void> {
    this.#ping ??= this.run((client) => client.ping())
      .then(() => undefined)
      .finally(() => {
        this.#ping = undefined
      })
    return this.#ping
  }

  script(name: ScriptName, keys: string | readonly string[], ...args: string[]): Promise<string> {
    return this.run((client) => runScript(client, name, keys, ...args))
  }
}

/**
 * Milliseconds a key must live so that it outlasts `expiresAt` by the caller's clock. Derived
 * from the caller's own `now`, never from the Redis server's clock: the two may disagree, and
 * the contract judges expiry by `now` alone. Rounded up, so a key never vanishes early.
 */
export function ttlMs(expiresAt: number, now: number): number {
  return Math.ceil(expiresAt - now)
}
