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

  it('deletes exactly the entries whose value matches', () => {
    const cache = new LruCache<string, number>(4)
    for (const [key, value] of [
      ['a', 1],
      ['b', 2],
      ['c', 3],
      ['d', 4],
    ] as const) {
      cache.set(key, value)
    }
    expect(cache.deleteWhere((value) => value % 2 === 0)).toBe(2)
    expect(['a', 'b', 'c', 'd'].filter((key) => cache.has(key))).toEqual(['a', 'c'])
    expect(cache.deleteWhere(() => false)).toBe(0)
    expect(cache.size).toBe(2)
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

  it('keeps every entry used within the last capacity/2 operations, and returns what was set', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 12 }),
        fc.array(fc.tuple(fc.boolean(), fc.nat(30)), { maxLength: 300 }),
        (capacity, ops) => {
          const cache = new LruCache<number, string>(capacity)
          const lastUse = new Map<number, number>()
          const values = new Map<number, string>()
          ops.forEach(([write, key], at) => {
            if (write) {
              const value = `${key}@${at}`
              cache.set(key, value)
              values.set(key, value)
              lastUse.set(key, at)
            } else {
              const got = cache.get(key)
              if (got !== undefined) {
                expect(got).toBe(values.get(key))
                lastUse.set(key, at)
              }
            }
            for (const [used, when] of lastUse) {
              if (at - when < Math.floor(capacity / 2)) expect(cache.has(used)).toBe(true)
            }
          })
        },
      ),
      { numRuns: 500 },
    )
  })

  it('evicts in least-recently-placed order when nothing is read', () => {
    const cache = new LruCache<number, number>(100)
    for (let key = 0; key < 150; key++) cache.set(key, key)
    expect(cache.size).toBe(100)
    expect(cache.get(49)).toBeUndefined()
    expect(cache.get(50)).toBe(50)
    expect(cache.get(149)).toBe(149)
  })

  it('forgets a deleted entry, and every entry on clear, and reports its capacity', () => {
    const cache = new LruCache<string, number>(3)
    cache.set('a', 1)
    cache.set('b', 2)
    cache.delete('a')
    expect(cache.has('a')).toBe(false)
    expect(cache.get('b')).toBe(2)
    cache.clear()
    expect(cache.size).toBe(0)
    expect(cache.get('b')).toBeUndefined()
    expect(cache.capacity).toBe(3)
  })

  it('caches nothing with capacity 0', () => {
    const cache = new LruCache<string, number>(0)
    cache.set('a', 1)
    expect(cache.has('a')).toBe(false)
  })

  it('rejects a bad capacity naming the option', () => {
    expect(() => new LruCache(-1, 'tokenCacheSize')).toThrow(ConfigurationError)
    expect(() => new LruCache(1.5)).toThrow(/cacheSize/)
  })
})
