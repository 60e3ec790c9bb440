import { ConfigurationError } from '@better-auth/protocol'

export const DEFAULT_KEY_CACHE_SIZE = 1024

/**
 * A bounded least-recently-used cache. A Map iterates in insertion order, so re-inserting an entry
 * on every hit keeps the least recently used entry first, and eviction drops that one. Bounding
 * matters because the keys come from requests: an attacker presenting fresh public keys must not
 * grow the cache without limit.
 */
export class LruCache<K, V> {
  readonly #entries = new Map<K, V>()
  readonly #capacity: number

  constructor(capacity: number = DEFAULT_KEY_CACHE_SIZE) {
    if (typeof capacity !== 'number' || !Number.isSafeInteger(capacity) || capacity < 0) {
      throw new ConfigurationError('keyCacheSize', 'must be a non-negative safe integer')
    }
    this.#capacity = capacity
  }

  get size(): number {
    return this.#entries.size
  }

  get capacity(): number {
    return this.#capacity
  }

  get(key: K): V | undefined {
    if (!this.#entries.has(key)) return undefined
    const value = this.#entries.get(key) as V
    this.#entries.delete(key)
    this.#entries.set(key, value)
    return value
  }

  set(key: K, value: V): void {
    if (this.#capacity === 0) return
    this.#entries.delete(key)
    this.#entries.set(key, value)
    while (this.#entries.size > this.#capacity) {
      const oldest = this.#entries.keys().next()
      if (oldest.done === true) break
      this.#entries.delete(oldest.value)
    }
  }

  delete(key: K): void {
    this.#entries.delete(key)
  }
}
