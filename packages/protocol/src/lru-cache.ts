import { ConfigurationError } from './errors.js'

/**
 * A bounded least-recently-used cache. A Map iterates in insertion order, so re-inserting an entry
 * keeps the least recently used entry first, and eviction drops that one. Bounding matters because
 * keys come from requests: an attacker presenting fresh keys or tokens must not grow a cache
 * without limit.
 *
 * A hit re-inserts its entry only once the entry has drifted into the older half (half the
 * capacity's worth of writes since it was last placed): on a hot cache most hits are then one Map
 * lookup instead of a delete and a set. Entries used at least once per capacity/2 writes are never
 * evicted; among the rest, eviction still goes oldest first.
 */
export class LruCache<K, V> {
  readonly #entries = new Map<K, Entry<V>>()
  readonly #capacity: number
  readonly #refreshAfter: number
  /** Counts writes (inserts and re-inserts); an entry's stamp is the count when it was placed. */
  #clock = 0

  /** `field` names the option in the ConfigurationError a bad capacity raises. */
  constructor(capacity: number, field = 'cacheSize') {
    if (typeof capacity !== 'number' || !Number.isSafeInteger(capacity) || capacity < 0) {
      throw new ConfigurationError(field, 'must be a non-negative safe integer')
    }
    this.#capacity = capacity
    this.#refreshAfter = Math.floor(capacity / 2)
  }

  get size(): number {
    return this.#entries.size
  }

  get capacity(): number {
    return this.#capacity
  }

  get(key: K): V | undefined {
    const entry = this.#entries.get(key)
    if (entry === undefined) return undefined
    if (this.#clock - entry.stamp >= this.#refreshAfter) {
      this.#entries.delete(key)
      entry.stamp = ++this.#clock
      this.#entries.set(key, entry)
    }
    return entry.value
  }

  /** Whether `key` is cached, without counting as a use. */
  has(key: K): boolean {
    return this.#entries.has(key)
  }

  set(key: K, value: V): void {
    if (this.#capacity === 0) return
    this.#entries.delete(key)
    this.#entries.set(key, { value, stamp: ++this.#clock })
    if (this.#entries.size > this.#capacity) {
      // Over capacity, so there is an oldest entry.
      this.#entries.delete(this.#entries.keys().next().value as K)
    }
  }

  delete(key: K): void {
    this.#entries.delete(key)
  }

  clear(): void {
    this.#entries.clear()
  }

  /** Deletes every entry whose value matches, and answers how many. */
  deleteWhere(matches: (value: V) => boolean): number {
    let deleted = 0
    for (const [key, entry] of this.#entries) {
      if (matches(entry.value) && this.#entries.delete(key)) deleted++
    }
    return deleted
  }
}

interface Entry<V> {
  readonly value: V
  stamp: number
}
