import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { ConfigurationError } from './errors.js'
import { LruCache } from './lru-cache.js'

describe('LruCache', () => {
  it('evicts the least recently used entry', () => {
    const cache = new LruCache<string, number>(2)
    cache.set('a', 1)
    cache.set('b', 2)
    expect(cache.get('a')).toBe(1)
    cache.set('c', 3)
    expect(cache.get('b')).toBeUndefined()
    expect(cache.get('a')).toBe(1)
    expect(cache.get('c')).toBe(3)
  })

  it('never grows past its capacity, whatever the access pattern', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 8 }),
        fc.array(fc.tuple(fc.boolean(), fc.nat(20))),
        (capacity, ops) => {
          const cache = new LruCache<number, number>(capacity)
          for (const [write, key] of ops) {
            if (write) cache.set(key, key)
            else expect([undefined, key]).toContain(cache.get(key))
            expect(cache.size).toBeLessThanOrEqual(capacity)
          }
        },
      ),
    )
  })

  it('rejects a bad capacity naming the option', () => {
    expect(() => new LruCache(-1, 'tokenCacheSize')).toThrow(ConfigurationError)
    expect(() => new LruCache(1.5)).toThrow(/cacheSize/)
  })
})
