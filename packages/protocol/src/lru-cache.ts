import { ConfigurationError } from './errors.js'

/**
 * A bounded least-recently-used cache. A Map iterates in insertion order, so re-inserting an entry
 * on every hit keeps the least recently used entry first, and eviction drops that one. Bounding
 * matters because keys come from requests: an attacker presenting fresh keys or tokens must not
 * grow a cache without limit.
 */
export class LruCache<K, V> {
  readonly #entries = new Map<K, V>()
  readonly #capacity: number

  /** `field` names the option in the ConfigurationError a bad capacity raises. */
  constructor(capacity: number, field = 'cacheSize') {
    if (typeof capacity !== 'number' || !Number.isSafeInteger(capacity) || capacity < 0) {
      throw new ConfigurationError(field, 'must be a non-negative safe integer')
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
    const value = this.#entries.get(key)
    if (value === undefined) return undefined
    this.#entries.delete(key)
    this.#entries.set(key, value)
    return value
  }

  set(key: K, value: V): void {
    if (this.#capacity === 0) return
    this.#entries.delete(key)
    this.#entries.set(key, value)
    if (this.#entries.size > this.#capacity) {
      const oldest = this.#entries.keys().next()
      if (oldest.done !== true) this.#entries.delete(oldest.value)
    }
  }

  delete(key: K): void {
    this.#entries.delete(key)
  }

  clear(): void {
    this.#entries.clear()
  }
}
