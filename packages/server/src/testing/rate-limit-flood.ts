import { Blake3Hasher, NobleP256SigningKey, SecureNoncer } from '@better-auth/crypto'
import {
  DefaultIdentityVerifier,
  GzipTokenEncoder,
  Rfc3339Timestamper,
  WebCryptoP256Verifier,
} from '@better-auth/crypto'
import { expect } from 'vitest'
import { BetterAuthHttp } from '../http/handler.js'
import { CounterRateLimiter, type RateLimiterOptions } from '../rate-limit/limiter.js'
import type { RateLimitStore } from '../rate-limit/store.js'
import { BetterAuthServer } from '../server.js'
import { memoryServerStores } from '../stores/memory/index.js'
import { randomId } from './random.js'

/** Sends a request as it would arrive from `address` through the trusted proxy at 127.0.0.1. */
export type FloodSend = (request: Request) => Promise<Response>

/** The limits the flood checks assume: 3 per identity, 6 per address, failures cost 3. */
export const FLOOD_LIMITS = {
  requestSession: {
    identity: { limit: 3, windowMs: 60_000 },
    address: { limit: 6, windowMs: 60_000 },
    failureCost: 3,
  },
} as const satisfies RateLimiterOptions['routes']

/** The proxy the flood checks send through; the HTTP layer must trust it. */
export const FLOOD_PROXY = '127.0.0.1'

/** A limiter with `FLOOD_LIMITS` over `store`; instances given one secret share counters. */
export function floodLimiter(store: RateLimitStore, secret = randomId() + randomId()) {
  return new CounterRateLimiter({ store, secret, routes: FLOOD_LIMITS })
}

/** A complete HTTP layer (memory stores for the protocol) limited by `limiter`. */
export function floodHttp(limiter: CounterRateLimiter): BetterAuthHttp {
  const hasher = new Blake3Hasher()
  const server = new BetterAuthServer({
    crypto: {
      hasher,
      noncer: new SecureNoncer(),
      verifier: new WebCryptoP256Verifier(),
      keyPairs: {
        response: NobleP256SigningKey.generate(),
        access: NobleP256SigningKey.generate(),
      },
    },
    encoding: {
      timestamper: new Rfc3339Timestamper(),
      tokenEncoder: new GzipTokenEncoder(),
      identityVerifier: new DefaultIdentityVerifier(hasher),
    },
    stores: memoryServerStores(),
  })
  return new BetterAuthHttp({ server, rateLimit: limiter, trustedProxies: [FLOOD_PROXY] })
}

export async function newIdentity(): Promise<string> {
  return new Blake3Hasher().sum(randomId())
}

export function randomAddress(): string {
  const [a, b, c] = crypto.getRandomValues(new Uint8Array(3))
  return `10.${a}.${b}.${c}`
}

/** A `/session/request` for `identity` from `address` (as forwarded by the proxy). */
export function sessionRequest(base: string, identity: string, address: string): Request {
  const body = JSON.stringify({
    payload: {
      access: { nonce: '0ADIkSgmBYYofVeJb89qiUlg' },
      request: { authentication: { identity } },
    },
  })
  return new Request(`${base}/session/request`, {
    method: 'POST',
    body,
    headers: { 'content-type': 'application/json', 'x-forwarded-for': address },
  })
}

async function codeOf(response: Response): Promise<string | undefined> {
  const body = (await response.json()) as { error?: { code?: string } }
  return body.error?.code
}

async function expectServed(response: Response): Promise<void> {
  expect(response.status, await response.clone().text()).toBe(200)
  expect(await codeOf(response)).toBeUndefined()
}

async function expectLimited(response: Response, policy: 'identity' | 'address'): Promise<void> {
  expect(response.status).toBe(429)
  const retryAfter = Number(response.headers.get('retry-after'))
  expect(retryAfter).toBeGreaterThanOrEqual(1)
  expect(retryAfter).toBeLessThanOrEqual(60)
  const limit = policy === 'identity' ? 3 : 6
  expect(response.headers.get('ratelimit-policy')).toContain(`"${policy}";q=${limit};w=60`)
  expect(response.headers.get('ratelimit')).toMatch(new RegExp(`"${policy}";r=0;t=\\d+`))
  expect(await codeOf(response)).toBe('BA804')
}

/**
 * The flood scenarios of the rate limiter on one HTTP front (`send`, whose base URL is `base`):
 * one identity from many addresses, many identities from one address, failures costing more, and
 * a bystander (another identity from another address) served throughout.
 */
export async function checkFlood(send: FloodSend, base: string): Promise<void> {
  const victim = await newIdentity()
  const bystander = await newIdentity()
  for (let attempt = 0; attempt < 3; attempt++) {
    const response = await send(sessionRequest(base, victim, randomAddress()))
    await expectServed(response)
    expect(response.headers.get('ratelimit')).toContain(`"identity";r=${2 - attempt}`)
  }
  for (let attempt = 0; attempt < 3; attempt++) {
    await expectLimited(await send(sessionRequest(base, victim, randomAddress())), 'identity')
  }
  await expectServed(await send(sessionRequest(base, bystander, randomAddress())))

  const crowded = randomAddress()
  for (let attempt = 0; attempt < 6; attempt++) {
    await expectServed(await send(sessionRequest(base, await newIdentity(), crowded)))
  }
  await expectLimited(await send(sessionRequest(base, await newIdentity(), crowded)), 'address')
  await expectServed(await send(sessionRequest(base, await newIdentity(), randomAddress())))

  // Two refused requests (cost 3 each) use up the address's 6: the next is refused unserved.
  const failing = randomAddress()
  for (let attempt = 0; attempt < 2; attempt++) {
    const refused = await send(
      new Request(`${base}/session/request`, {
        method: 'POST',
        body: '{}',
        headers: { 'content-type': 'application/json', 'x-forwarded-for': failing },
      }),
    )
    expect(refused.status).toBe(400)
  }
  await expectLimited(await send(sessionRequest(base, await newIdentity(), failing)), 'address')
}

/** Two HTTP fronts sharing counters (one store backend, one secret) hold one limit together. */
export async function checkSharedLimit(first: FloodSend, second: FloodSend): Promise<void> {
  const base = 'http://limits.test'
  const identity = await newIdentity()
  await expectServed(await first(sessionRequest(base, identity, randomAddress())))
  await expectServed(await second(sessionRequest(base, identity, randomAddress())))
  await expectServed(await first(sessionRequest(base, identity, randomAddress())))
  await expectLimited(await second(sessionRequest(base, identity, randomAddress())), 'identity')
  await expectLimited(await first(sessionRequest(base, identity, randomAddress())), 'identity')
}
