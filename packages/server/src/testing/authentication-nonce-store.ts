import type { ServerAuthenticationNonceStore } from '@better-auth/protocol'
import { describe, expect, it } from 'vitest'
import { partition } from './assertions.js'
import type { StoreFactory } from './contract.js'
import { randomId } from './random.js'

const LIFETIME_MS = 60_000

export function describeAuthenticationNonceStore(
  factory: StoreFactory<ServerAuthenticationNonceStore>,
  concurrency: number,
): void {
  describe('authentication nonce store', () => {
    it('returns the identity of a live nonce once, then undefined', async () => {
      const store = await factory()
      const now = Date.now()
      const nonce = randomId('nonce-')
      const identity = randomId('identity-')
      await store.put(nonce, identity, now + LIFETIME_MS, now)
      expect(await store.consume(nonce, now + 1)).toBe(identity)
      expect(await store.consume(nonce, now + 2)).toBeUndefined()
    })

    it('returns undefined for an unknown nonce', async () => {
      const store = await factory()
      expect(await store.consume(randomId('nonce-'), Date.now())).toBeUndefined()
    })

    it('treats a nonce as expired from its expiresAt on', async () => {
      const store = await factory()
      const now = Date.now()
      const live = randomId('nonce-')
      const expired = randomId('nonce-')
      const identity = randomId('identity-')
      await store.put(live, identity, now + LIFETIME_MS, now)
      await store.put(expired, identity, now + LIFETIME_MS, now)
      expect(await store.consume(live, now + LIFETIME_MS - 1)).toBe(identity)
      expect(await store.consume(expired, now + LIFETIME_MS)).toBeUndefined()
    })

    it('judges expiry by the `now` passed in, not by its own clock', async () => {
      const store = await factory()
      // An hour in the past by the wall clock, yet live at the `now` given.
      const past = Date.now() - 3_600_000
      const nonce = randomId('nonce-')
      const identity = randomId('identity-')
      await store.put(nonce, identity, past + LIFETIME_MS, past)
      expect(await store.consume(nonce, past + 1_000)).toBe(identity)

      // Live by the wall clock for another minute, yet expired at the `now` given.
      const now = Date.now()
      const early = randomId('nonce-')
      await store.put(early, identity, now + LIFETIME_MS, now)
      expect(await store.consume(early, now + LIFETIME_MS + 1)).toBeUndefined()
    })

    it('keeps nonces apart', async () => {
      const store = await factory()
      const now = Date.now()
      const a = randomId('nonce-')
      const b = randomId('nonce-')
      const identityA = randomId('identity-')
      const identityB = randomId('identity-')
      await store.put(a, identityA, now + LIFETIME_MS, now)
      await store.put(b, identityB, now + LIFETIME_MS, now)
      expect(await store.consume(b, now)).toBe(identityB)
      expect(await store.consume(a, now)).toBe(identityA)
    })

    it(`gives the identity to exactly one of ${concurrency} concurrent consumers`, async () => {
      const store = await factory()
      const now = Date.now()
      const nonce = randomId('nonce-')
      const identity = randomId('identity-')
      await store.put(nonce, identity, now + LIFETIME_MS, now)
      const results = await Promise.allSettled(
        Array.from({ length: concurrency }, () => store.consume(nonce, now + 1)),
      )
      const { fulfilled, rejected } = partition(results)
      expect(rejected).toEqual([])
      const winners = fulfilled.filter(({ value }) => value !== undefined)
      expect(winners).toHaveLength(1)
      expect(winners[0]!.value).toBe(identity)
    })
  })
}
