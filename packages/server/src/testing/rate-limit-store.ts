import { describe, expect, it } from 'vitest'
import type { RateLimitStore } from '../rate-limit/store.js'
import type { StoreFactory } from './contract.js'
import { randomId } from './random.js'
import {
  checkFlood,
  checkSharedLimit,
  floodHttp,
  floodLimiter,
  FLOOD_PROXY,
} from './rate-limit-flood.js'

const WINDOW = 60_000

export function describeRateLimitStore(
  factory: StoreFactory<RateLimitStore>,
  concurrency: number,
): void {
  describe('RateLimitStore', () => {
    it('adds costs within a window and answers the counters in the order given', async () => {
      const store = await factory()
      const [a, b] = [randomId('a'), randomId('b')]
      const now = Date.now()
      expect(
        await store.hit(
          [
            { key: a, cost: 1, windowMs: WINDOW },
            { key: b, cost: 3, windowMs: WINDOW },
          ],
          now,
        ),
      ).toEqual([
        { count: 1, resetAtMs: now + WINDOW },
        { count: 3, resetAtMs: now + WINDOW },
      ])
      expect(await store.hit([{ key: b, cost: 4, windowMs: WINDOW }], now + 10)).toEqual([
        { count: 7, resetAtMs: now + WINDOW },
      ])
      expect(await store.hit([{ key: a, cost: 1, windowMs: WINDOW }], now + 20)).toEqual([
        { count: 2, resetAtMs: now + WINDOW },
      ])
    })

    it('restarts a counter once its window has ended', async () => {
      const store = await factory()
      const key = randomId('k')
      const now = Date.now()
      await store.hit([{ key, cost: 5, windowMs: WINDOW }], now)
      expect(await store.hit([{ key, cost: 1, windowMs: WINDOW }], now + WINDOW - 1)).toEqual([
        { count: 6, resetAtMs: now + WINDOW },
      ])
      expect(await store.hit([{ key, cost: 2, windowMs: WINDOW }], now + WINDOW)).toEqual([
        { count: 2, resetAtMs: now + 2 * WINDOW },
      ])
    })

    it(`counts ${concurrency} concurrent hits on one counter exactly once each`, async () => {
      const store = await factory()
      const key = randomId('race')
      const now = Date.now()
      const answers = await Promise.all(
        Array.from({ length: concurrency }, () =>
          store.hit([{ key, cost: 1, windowMs: WINDOW }], now),
        ),
      )
      const counts = answers.map((answer) => answer[0]!.count).sort((x, y) => x - y)
      expect(counts).toEqual(Array.from({ length: concurrency }, (_, index) => index + 1))
      expect(new Set(answers.map((answer) => answer[0]!.resetAtMs))).toEqual(
        new Set([now + WINDOW]),
      )
    })

    it('answers an empty batch with nothing', async () => {
      const store = await factory()
      expect(await store.hit([], Date.now())).toEqual([])
    })

    it('limits a flood of /session/request per identity and per address (core HTTP layer)', async () => {
      const http = floodHttp(floodLimiter(await factory()))
      await checkFlood(
        (request) => http.fetch(request, { remoteAddress: FLOOD_PROXY }),
        'http://limits.test',
      )
    })

    it('holds one limit across two server instances on one backend', async () => {
      const secret = randomId() + randomId()
      const [first, second] = [
        floodHttp(floodLimiter(await factory(), secret)),
        floodHttp(floodLimiter(await factory(), secret)),
      ]
      await checkSharedLimit(
        (request) => first.fetch(request, { remoteAddress: FLOOD_PROXY }),
        (request) => second.fetch(request, { remoteAddress: FLOOD_PROXY }),
      )
    })

    it('answers ping while reachable', async () => {
      const store = await factory()
      await expect(store.ping?.() ?? Promise.resolve()).resolves.toBeUndefined()
    })
  })
}
