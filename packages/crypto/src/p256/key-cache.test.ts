import { describe, expect, it } from 'vitest'
import { DEFAULT_KEY_CACHE_SIZE, LruCache } from './key-cache.js'

describe('LruCache', () => {
  it('defaults to 1024 entries', () => {
    expect(new LruCache<string, number>().capacity).toBe(DEFAULT_KEY_CACHE_SIZE)
    expect(DEFAULT_KEY_CACHE_SIZE).toBe(1024)
  })

  it('evicts the least recently used entry, where a hit counts as a use', () => {
    const cache = new LruCache<string, number>(2)
    cache.set('a', 1)
    cache.set('b', 2)
    expect(cache.get('a')).toBe(1) // a is now the most recent
    cache.set('c', 3) // evicts b
    expect(cache.get('b')).toBeUndefined()
    expect(cache.get('a')).toBe(1)
    expect(cache.get('c')).toBe(3)
    expect(cache.size).toBe(2)
  })

  it('never grows past its capacity', () => {
    const cache = new LruCache<number, number>(16)
    for (let i = 0; i < 1000; i++) cache.set(i, i)
    expect(cache.size).toBe(16)
    expect(cache.get(983)).toBeUndefined()
    expect(cache.get(999)).toBe(999)
  })

  it('re-setting a key refreshes it without duplicating it', () => {
    const cache = new LruCache<string, number>(2)
    cache.set('a', 1)
    cache.set('b', 2)
    cache.set('a', 10)
    cache.set('c', 3)
    expect(cache.get('a')).toBe(10)
    expect(cache.get('b')).toBeUndefined()
  })

  it('caches nothing with capacity 0 and deletes on request', () => {
    const off = new LruCache<string, number>(0)
    off.set('a', 1)
    expect(off.get('a')).toBeUndefined()
    const cache = new LruCache<string, number>(4)
    cache.set('a', 1)
    cache.delete('a')
    expect(cache.get('a')).toBeUndefined()
  })

  it('rejects capacities that are not non-negative integers with ConfigurationError', () => {
    for (const bad of [-1, 1.5, Number.NaN, Infinity, '10', null]) {
      expect(() => new LruCache(bad as number)).toThrow(expect.objectContaining({ code: 'BA001' }))
    }
  })
})
