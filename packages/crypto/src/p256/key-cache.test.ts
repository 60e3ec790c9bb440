import { describe, expect, it } from 'vitest'
import { DEFAULT_KEY_CACHE_SIZE, keyCache } from './key-cache.js'

// LRU behaviour itself is tested with LruCache in @better-auth/protocol.
describe('keyCache', () => {
  it('holds 1024 imported keys by default', () => {
    expect(keyCache<number>().capacity).toBe(DEFAULT_KEY_CACHE_SIZE)
    expect(DEFAULT_KEY_CACHE_SIZE).toBe(1024)
  })

  it.each([-1, 1.5, Number.NaN, '10'])('rejects capacity %s naming keyCacheSize', (capacity) => {
    expect(() => keyCache(capacity as number)).toThrow(
      expect.objectContaining({
        code: 'BA001',
        context: expect.objectContaining({ field: 'keyCacheSize' }),
      }),
    )
  })
})
