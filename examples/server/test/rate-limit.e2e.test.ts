import {
  FLOOD_LIMITS,
  FLOOD_PROXY,
  checkFlood,
  checkSharedLimit,
} from '@better-auth/server/testing'
import type { FloodSend } from '@better-auth/server/testing'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startServer, type RunningServer } from './process.js'

const databaseUrl = process.env.DATABASE_URL
const redisUrl = process.env.REDIS_URL

// Two real server processes on one backend (and one key file, from which both derive the
// counters' secret): the limit is the backend's, not each process's.
const backends = [
  ['sqlite', true, {}],
  ['postgres', databaseUrl !== undefined, { DATABASE_URL: databaseUrl ?? '' }],
  ['redis', redisUrl !== undefined, { REDIS_URL: redisUrl ?? '' }],
] as const

/** Sends a flood check's request (built for any base URL) to the server at `url`. */
function sender(url: string): FloodSend {
  return async (request) =>
    fetch(url + new URL(request.url).pathname, {
      method: request.method,
      headers: request.headers,
      body: await request.text(),
    })
}

let root: string
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'better-auth-limits-'))
})
afterAll(() => rm(root, { recursive: true, force: true }))

for (const [name, available, env] of backends) {
  describe.skipIf(!available)(`rate limits of two server processes on ${name}`, () => {
    const servers: RunningServer[] = []
    beforeAll(async () => {
      const dataDir = join(root, name)
      const limits = {
        ...env,
        RATE_LIMITS: JSON.stringify(FLOOD_LIMITS),
        TRUSTED_PROXIES: FLOOD_PROXY,
      }
      // One after the other: the first creates the key file the second adopts.
      servers.push(await startServer(['--data-dir', dataDir], 20_000, limits))
      servers.push(
        await startServer(['--data-dir', dataDir, '--framework', 'node'], 20_000, limits),
      )
    }, 60_000)
    afterAll(() => Promise.all(servers.map((server) => server.stop())))

    it('says where the counters live', () => {
      expect(servers[0]!.output()).toContain('"rateLimit":"on"')
    })

    it('limits a flood per identity and per address, sparing a bystander', async () => {
      await checkFlood(sender(servers[0]!.url), servers[0]!.url)
    })

    it('holds one limit across both processes', async () => {
      await checkSharedLimit(sender(servers[0]!.url), sender(servers[1]!.url))
    })
  })
}

describe('rate limits by default', () => {
  let server: RunningServer
  beforeAll(async () => {
    server = await startServer(['--data-dir', join(root, 'default'), '--store', 'memory'])
  }, 30_000)
  afterAll(() => server?.stop())

  it('are on, with the default policies, and X-Forwarded-For is not trusted', async () => {
    const send = sender(server.url)
    const request = (address: string) =>
      new Request('http://any/session/request', {
        method: 'POST',
        body: '{}',
        headers: { 'content-type': 'application/json', 'x-forwarded-for': address },
      })
    const first = await send(request('10.0.0.1'))
    expect(first.status).toBe(400)
    expect(first.headers.get('ratelimit-policy')).toBe('"address";q=600;w=60')
    expect(first.headers.get('ratelimit')).toBe('"address";r=599;t=60')
    // A refused request costs 5 on this route, whatever address it claims to come from.
    const second = await send(request('10.0.0.2'))
    expect(second.headers.get('ratelimit')).toMatch(/^"address";r=594;t=(59|60)$/)
  })
})
