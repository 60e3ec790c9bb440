import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { identityOf } from './identity.js'
import { CounterRateLimiter, DEFAULT_RATE_LIMITS } from './limiter.js'
import { MemoryRateLimitStore } from './memory.js'
import type { CounterHit, CounterState, RateLimitStore } from './store.js'

const SECRET = 'a secret of at least thirty-two bytes!'
const IDENTITY = 'EKtSY4qSvCBBKQJaPLL5ir1Gewwim3VDmgLHyaiXuDbh'

/** A memory store that remembers every key it was given. */
class RecordingStore implements RateLimitStore {
  readonly keys: string[] = []
  readonly #inner = new MemoryRateLimitStore()
  hit(hits: readonly CounterHit[], nowMs: number): Promise<readonly CounterState[]> {
    this.keys.push(...hits.map((hit) => hit.key))
    return this.#inner.hit(hits, nowMs)
  }
}

describe('CounterRateLimiter', () => {
  it('keys counters by a keyed hash: no raw address or identity reaches the store', async () => {
    const store = new RecordingStore()
    const limiter = new CounterRateLimiter({ store, secret: SECRET })
    await limiter.consume({ route: 'requestSession', address: '198.51.100.1', identity: IDENTITY })
    expect(store.keys).toHaveLength(2)
    for (const key of store.keys) {
      expect(key).toMatch(/^requestSession:(address|identity):[0-9a-f]{32}$/)
      expect(key).not.toContain('198.51.100.1')
      expect(key).not.toContain(IDENTITY)
    }
    const other = new RecordingStore()
    await new CounterRateLimiter({ store: other, secret: SECRET.replace('a', 'b') }).consume({
      route: 'requestSession',
      address: '198.51.100.1',
      identity: IDENTITY,
    })
    expect(other.keys).not.toEqual(store.keys)
  })

  it('refuses past the limit until the window restarts, with Retry-After to that moment', async () => {
    let now = 1_000_000
    const limiter = new CounterRateLimiter({
      store: new MemoryRateLimitStore(),
      secret: SECRET,
      routes: { createAccount: { address: false, identity: { limit: 2, windowMs: 10_000 } } },
      now: () => now,
    })
    const request = { route: 'createAccount', address: '198.51.100.1', identity: IDENTITY } as const
    expect((await limiter.consume(request)).allowed).toBe(true)
    now += 4_000
    const second = await limiter.consume(request)
    expect(second).toMatchObject({ allowed: true, retryAfterSeconds: 0 })
    expect(second.quotas).toEqual([
      { policy: 'identity', limit: 2, windowMs: 10_000, remaining: 0, resetSeconds: 6 },
    ])
    now += 1_500
    expect(await limiter.consume(request)).toMatchObject({ allowed: false, retryAfterSeconds: 5 })
    now += 4_500
    expect((await limiter.consume(request)).allowed).toBe(true)
  })

  it('charges a refused request its failure cost in total', async () => {
    const limiter = new CounterRateLimiter({
      store: new MemoryRateLimitStore(),
      secret: SECRET,
      routes: { recoverAccount: { identity: { limit: 10, windowMs: 60_000 }, failureCost: 4 } },
    })
    const request = { route: 'recoverAccount', address: undefined, identity: IDENTITY } as const
    await limiter.fail(await limiter.consume(request))
    await limiter.fail(await limiter.consume(request))
    const third = await limiter.consume(request)
    expect(third.quotas[0]!.remaining).toBe(1)
  })

  it('is stricter on the unauthenticated routes and charges failures more there', () => {
    for (const name of ['requestSession', 'createAccount', 'recoverAccount'] as const) {
      const strict = DEFAULT_RATE_LIMITS[name]
      const relaxed = DEFAULT_RATE_LIMITS.createSession
      expect(strict.failureCost).toBeGreaterThan(relaxed.failureCost)
      expect(strict.identity && strict.identity.limit).toBeLessThanOrEqual(
        (relaxed.identity && relaxed.identity.limit) || 0,
      )
    }
  })

  it('refuses bad configuration with BA001', () => {
    const store = new MemoryRateLimitStore()
    const bad: unknown[] = [
      { store, secret: 'short' },
      { store: {}, secret: SECRET },
      { store, secret: SECRET, routes: { nope: {} } },
      {
        store,
        secret: SECRET,
        routes: { requestSession: { address: { limit: 0, windowMs: 1000 } } },
      },
      {
        store,
        secret: SECRET,
        routes: { requestSession: { identity: { limit: 1, windowMs: 1 } } },
      },
      { store, secret: SECRET, routes: { requestSession: { failureCost: 0 } } },
    ]
    for (const options of bad) {
      expect(() => new CounterRateLimiter(options as never)).toThrow(
        expect.objectContaining({ code: 'BA001' }),
      )
    }
  })
})

describe('MemoryRateLimitStore', () => {
  it('sweeps expired counters once it grows past its threshold', async () => {
    const store = new MemoryRateLimitStore({ sweepAbove: 10 })
    for (let index = 0; index < 11; index++) {
      await store.hit([{ key: `k${index}`, cost: 1, windowMs: 1000 }], 0)
    }
    await store.hit([{ key: 'late', cost: 1, windowMs: 1000 }], 5000)
    expect(store.size).toBe(1)
  })
})

describe('identityOf', () => {
  it('reads authentication.identity, else authentication.device', () => {
    const request = (authentication: unknown) =>
      JSON.stringify({ payload: { request: { authentication } } })
    expect(identityOf(request({ identity: 'Ei', device: 'Ed' }))).toBe('Ei')
    expect(identityOf(request({ device: 'Ed', nonce: 'n' }))).toBe('Ed')
    expect(identityOf(request({ identity: 1 }))).toBeUndefined()
    expect(identityOf(request({ identity: 'E'.repeat(129) }))).toBeUndefined()
    expect(identityOf('{"payload":{"request":{"access":{"token":"t"}}}}')).toBeUndefined()
  })

  it('property: never throws, and answers a string or nothing for any text', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.json()), (text) => {
        const identity = identityOf(text)
        expect(identity === undefined || typeof identity === 'string').toBe(true)
      }),
    )
  })
})
