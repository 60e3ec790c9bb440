import type { ServerTimeLockStore } from '@better-auth/protocol'
import { describe, expect, it } from 'vitest'
import { partition } from './assertions.js'
import type { StoreFactory } from './contract.js'
import { randomId } from './random.js'

const LOCK_MS = 30_000

export function describeTimeLockStore(
  factory: StoreFactory<ServerTimeLockStore>,
  concurrency: number,
): void {
  describe('time-lock store', () => {
    it('reserves a free value once, then refuses it while the reservation is live', async () => {
      const store = await factory()
      const now = Date.now()
      const value = randomId('value-')
      expect(await store.reserve(value, now + LOCK_MS, now)).toBe(true)
      expect(await store.reserve(value, now + LOCK_MS, now)).toBe(false)
      expect(await store.reserve(value, now + 2 * LOCK_MS, now + LOCK_MS - 1)).toBe(false)
    })

    it('frees the value from expiresAt on', async () => {
      const store = await factory()
      const now = Date.now()
      const value = randomId('value-')
      expect(await store.reserve(value, now + LOCK_MS, now)).toBe(true)
      const later = now + LOCK_MS
      expect(await store.reserve(value, later + LOCK_MS, later)).toBe(true)
      // The new reservation runs to its own expiresAt.
      expect(await store.reserve(value, later + 2 * LOCK_MS, later + LOCK_MS - 1)).toBe(false)
      expect(await store.reserve(value, later + 2 * LOCK_MS, later + LOCK_MS)).toBe(true)
    })

    it('does not extend a live reservation when refusing', async () => {
      const store = await factory()
      const now = Date.now()
      const value = randomId('value-')
      expect(await store.reserve(value, now + LOCK_MS, now)).toBe(true)
      expect(await store.reserve(value, now + 10 * LOCK_MS, now + 1)).toBe(false)
      expect(await store.reserve(value, now + 2 * LOCK_MS, now + LOCK_MS)).toBe(true)
    })

    it('judges expiry by the `now` passed in, not by its own clock', async () => {
      const store = await factory()
      const past = Date.now() - 3_600_000
      const value = randomId('value-')
      expect(await store.reserve(value, past + LOCK_MS, past)).toBe(true)
      expect(await store.reserve(value, past + 2 * LOCK_MS, past + 1)).toBe(false)
    })

    it('keeps distinct values independent', async () => {
      const store = await factory()
      const now = Date.now()
      const a = randomId('value-')
      const b = randomId('value-')
      expect(await store.reserve(a, now + LOCK_MS, now)).toBe(true)
      expect(await store.reserve(b, now + LOCK_MS, now)).toBe(true)
      expect(await store.reserve(a, now + LOCK_MS, now)).toBe(false)
      expect(await store.reserve(b, now + LOCK_MS, now)).toBe(false)
    })

    it(`grants exactly one of ${concurrency} concurrent reservations of a value`, async () => {
      const store = await factory()
      const now = Date.now()
      const value = randomId('value-')
      const { fulfilled, rejected } = partition(
        await Promise.allSettled(
          Array.from({ length: concurrency }, () => store.reserve(value, now + LOCK_MS, now)),
        ),
      )
      expect(rejected).toEqual([])
      expect(fulfilled.filter(({ value: granted }) => granted)).toHaveLength(1)
    })

    it(`grants exactly one of ${concurrency} concurrent reservations of a lapsed value`, async () => {
      const store = await factory()
      const now = Date.now()
      const value = randomId('value-')
      expect(await store.reserve(value, now + LOCK_MS, now)).toBe(true)
      const later = now + LOCK_MS
      const { fulfilled } = partition(
        await Promise.allSettled(
          Array.from({ length: concurrency }, () => store.reserve(value, later + LOCK_MS, later)),
        ),
      )
      expect(fulfilled).toHaveLength(concurrency)
      expect(fulfilled.filter(({ value: granted }) => granted)).toHaveLength(1)
    })
  })
}
