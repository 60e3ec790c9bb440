/**
 * REVOCATION_CHANNEL: two deployments on one Redis or PostgreSQL, each on its own channel, do not
 * see each other's revocations; a channel the feed refuses stops the server at start.
 */
import type { Revocation } from '@better-auth/protocol'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openStores, type OpenedStores } from '../src/stores.js'
import { startServer } from './process.js'

const databaseUrl = process.env.DATABASE_URL
const redisUrl = process.env.REDIS_URL

let dataDir: string
beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'better-auth-channel-'))
})
afterAll(() => rm(dataDir, { recursive: true, force: true }))

const backends = [
  ['redis', redisUrl, { redisUrl }, 'eu-deployment', 'us-deployment'],
  ['postgres', databaseUrl, { databaseUrl }, 'eu_deployment', 'us_deployment'],
] as const

for (const [name, url, selection, first, second] of backends) {
  describe.skipIf(url === undefined)(`revocation channels on ${name}`, () => {
    const opened: OpenedStores[] = []
    afterAll(async () => {
      for (const stores of opened) await stores.close()
    })

    it('keeps two deployments on different channels apart', async () => {
      const deployments = [first, second].map(async (channel) => {
        const stores = await openStores({ ...selection, databaseFile: join(dataDir, channel) })
        opened.push(stores)
        const bus = stores.revocationFeed(channel)
        const received: Revocation[] = []
        const unsubscribe = await bus.feed.subscribe({
          revoked: (revocation) => received.push(revocation),
          reset: () => undefined,
        })
        return { bus, received, unsubscribe }
      })
      const [eu, us] = await Promise.all(deployments)
      await eu!.bus.feed.publish({ identity: 'eu-identity', device: 'eu-device' })
      await us!.bus.feed.publish({ identity: 'us-identity' })
      // Each deployment receives its own; a message for the other would have come before or with it.
      await expect.poll(() => eu!.received.length, { timeout: 2_000 }).toBe(1)
      await expect.poll(() => us!.received.length, { timeout: 2_000 }).toBe(1)
      await new Promise((resolve) => setTimeout(resolve, 200))
      expect(eu!.received).toEqual([{ identity: 'eu-identity', device: 'eu-device' }])
      expect(us!.received).toEqual([{ identity: 'us-identity' }])
      for (const { bus, unsubscribe } of [eu!, us!]) {
        await unsubscribe()
        await bus.close()
      }
    })
  })
}

describe.skipIf(databaseUrl === undefined)('a channel the PostgreSQL feed refuses', () => {
  it('stops the server at start, naming REVOCATION_CHANNEL', async () => {
    const started = startServer(['--data-dir', join(dataDir, 'refused')], 20_000, {
      DATABASE_URL: databaseUrl ?? '',
      REVOCATION: 'feed',
      REVOCATION_CHANNEL: 'Eu-Deployment',
    })
    await expect(started).rejects.toThrow(
      /server exited with 1:[\s\S]*BA001 Invalid configuration: REVOCATION_CHANNEL: must be a lower-case SQL identifier \(the PostgreSQL feed's channel, got "Eu-Deployment"\)/,
    )
  }, 30_000)
})
