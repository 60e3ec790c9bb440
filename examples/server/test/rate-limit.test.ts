import { MemoryRateLimitStore } from '@better-auth/server'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadOrCreateKeys } from '../src/keys.js'
import { buildRateLimiter } from '../src/rate-limit.js'

let dir: string
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'better-auth-limiter-'))
  await loadOrCreateKeys(join(dir, 'a.json'))
  await loadOrCreateKeys(join(dir, 'b.json'))
})
afterAll(() => rm(dir, { recursive: true, force: true }))

const request = { route: 'requestSession', address: '10.0.0.1', identity: undefined } as const
const routes = { requestSession: { address: { limit: 1, windowMs: 60_000 } } }

describe('the example server rate limiter', () => {
  it('counts into one counter for every process on the same key file, apart for another', async () => {
    const store = new MemoryRateLimitStore()
    const [first, second, other] = await Promise.all([
      buildRateLimiter({ routes }, store, join(dir, 'a.json')),
      buildRateLimiter({ routes }, store, join(dir, 'a.json')),
      buildRateLimiter({ routes }, store, join(dir, 'b.json')),
    ])
    expect((await first.consume(request)).allowed).toBe(true)
    expect((await second.consume(request)).allowed).toBe(false)
    expect((await other.consume(request)).allowed).toBe(true)
  })

  it('refuses limits the limiter cannot use, naming the field', async () => {
    const bad = { requestSession: { identity: { limit: 0, windowMs: 60_000 } } }
    await expect(
      buildRateLimiter({ routes: bad }, new MemoryRateLimitStore(), join(dir, 'a.json')),
    ).rejects.toMatchObject({
      code: 'BA001',
      context: { field: 'rateLimit.routes.requestSession.identity.limit' },
    })
  })
})
