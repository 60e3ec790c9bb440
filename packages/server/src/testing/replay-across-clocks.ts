import type { ServerTimeLockStore } from '@better-auth/protocol'
import { describe, expect, it } from 'vitest'
import { accessNonceLockExpiry, resolveExpiry, type ExpiryOptions } from '../config.js'
import type { StoreFactory } from './contract.js'
import { randomId } from './random.js'

/**
 * Servers sharing a store whose clocks disagree by up to `clockSkewMs`. Server A accepts an access
 * request and reserves its nonce the way AccessVerifier does; server B is handed the same request
 * at some instant at which B, by its own clock, still finds it fresh. Meanwhile a third server X,
 * whose clock is as far ahead of B's as the tolerance allows, writes to the store too, so a store
 * that sweeps lapsed values by its callers' `now` gets the chance to sweep by the earliest clock
 * that may. B must be refused every time.
 */
export function describeReplayAcrossClocks(factory: StoreFactory<ServerTimeLockStore>): void {
  describe('replay locks across servers whose clocks disagree', () => {
    it('keeps an access nonce reserved on every server within the clock tolerance, for every skew and replay instant', async () => {
      const store = await factory()
      const expiry = resolveExpiry()
      const { accessWindowMs: window, clockSkewMs: skew } = expiry
      const base = Date.now()
      // B's clock minus A's: the edges of the tolerance, just inside them, and between.
      const skews = [-skew, -skew + 1, -skew / 2, -1, 0, 1, skew / 2, skew - 1, skew]
      // The request's timestamp relative to A's clock when A accepts it: as old as the window
      // allows, as far ahead as the tolerance allows, and between.
      const ages = [-window, -window / 2, -1, 0, skew / 2, skew]
      for (const delta of skews) {
        for (const age of ages) {
          const acceptedAt = base
          const requestTime = acceptedAt + age
          const lockExpiry = accessNonceLockExpiry(requestTime, expiry)
          const nonce = randomId('nonce-')
          expect(await store.reserve(nonce, lockExpiry, acceptedAt)).toBe(true)
          // Every instant of B's clock at which B finds the request fresh and not from the future,
          // no earlier than A's acceptance.
          const first = Math.max(acceptedAt + delta, requestTime - skew)
          const last = requestTime + window
          // B's clock is so far ahead that the request was already stale for B when A took it.
          if (first > last) continue
          for (const replayAt of [first, Math.floor((first + last) / 2), last - 1, last]) {
            const sweeperAt = replayAt + Math.min(skew, skew - delta)
            await store.reserve(randomId('traffic-'), sweeperAt + 1, sweeperAt)
            const replayed = await store.reserve(nonce, lockExpiry, replayAt)
            expect(replayed, replayCase(delta, age, replayAt - requestTime)).toBe(false)
          }
        }
      }
    })

    it('keeps it reserved while time really passes, for stores that expire values by their own clock', async () => {
      const store = await factory()
      // Short enough to wait for: the store's own expiry (a Redis TTL, say) must really run.
      const expiry: ExpiryOptions = resolveExpiry({ accessWindowMs: 1_000, clockSkewMs: 500 })
      const { accessWindowMs: window, clockSkewMs: skew } = expiry
      // The worst case: A's clock is ahead of B's by the whole tolerance, and the request is
      // stamped as far ahead of A's clock as A accepts.
      const clockA = (): number => Date.now() + skew
      const clockB = (): number => Date.now()
      const acceptedAt = clockA()
      const requestTime = acceptedAt + skew
      const lockExpiry = accessNonceLockExpiry(requestTime, expiry)
      const nonce = randomId('nonce-')
      expect(await store.reserve(nonce, lockExpiry, acceptedAt)).toBe(true)
      // B still finds the request fresh until its clock reads requestTime + window; replay 250 ms
      // before that, well after a lock timed from A's clock would have gone.
      const replayAt = requestTime + window - 250
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, replayAt - clockB())))
      const sweeperAt = clockB() + skew
      await store.reserve(randomId('traffic-'), sweeperAt + 1, sweeperAt)
      const now = clockB()
      if (now > requestTime + window) {
        throw new Error(`the replay came ${now - replayAt} ms late: the machine is too busy`)
      }
      expect(await store.reserve(nonce, lockExpiry, now)).toBe(false)
    })
  })
}

function replayCase(delta: number, age: number, sinceTimestamp: number): string {
  return `B's clock ${delta} ms from A's, request stamped ${age} ms from A's clock, replayed ${sinceTimestamp} ms after its timestamp`
}
