import { InvalidDeviceError, type RevocationListener } from '@better-auth/protocol'
import { DeviceLivenessCache } from '@better-auth/server'
import { describeRevocationFeed, newDeviceKey, randomId } from '@better-auth/server/testing'
import { afterAll, describe, expect, it } from 'vitest'
import { RedisRevocationFeed, RedisStores } from './index.js'
import { REDIS_URL, e2e, testClient, uniquePrefix } from './testing-internal/redis.js'

const feeds: RedisRevocationFeed[] = []
const channel = `better-auth-test:revocations:${randomId().slice(0, 12)}`

function feed(): RedisRevocationFeed {
  const created = new RedisRevocationFeed({ url: REDIS_URL, channel })
  feeds.push(created)
  return created
}

afterAll(async () => {
  await Promise.all(feeds.map((f) => f.close()))
})

async function until(condition: () => boolean, withinMs = 2000): Promise<void> {
  const started = Date.now()
  while (!condition()) {
    if (Date.now() - started > withinMs) throw new Error(`not within ${withinMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

describe.skipIf(!REDIS_URL)(e2e('RedisRevocationFeed'), () => {
  describeRevocationFeed('redis', () => Promise.resolve(feed()))

  it('tells a subscriber to forget everything when its connection was lost, and keeps delivering', async () => {
    let resets = 0
    const seen: string[] = []
    const listener: RevocationListener = {
      revoked: (revocation) => seen.push(revocation.identity),
      reset: () => resets++,
    }
    const stop = await feed().subscribe(listener)
    const admin = testClient()
    await admin.client('KILL', 'TYPE', 'pubsub')
    await until(() => resets === 1)
    const identity = `E${randomId()}`
    await feed().publish({ identity })
    await until(() => seen.includes(identity))
    // A message that is not a revocation cannot be trusted to say what it revokes: forget all.
    await admin.publish(channel, '{"identity":5}')
    await until(() => resets === 2)
    admin.disconnect()
    await stop()
  })

  it("runs the server README's verifier cache over this feed", async () => {
    const redisUrl = REDIS_URL
    const stores = await RedisStores.connect({ url: redisUrl, prefix: uniquePrefix('readme') })
    const feed = new RedisRevocationFeed({ url: redisUrl }) // on a cluster: { nodes: [...] }
    const devices = new DeviceLivenessCache({ devices: stores.authenticationKey, feed })
    await devices.start()
    const key = newDeviceKey()
    await stores.authenticationKey.registerIdentity(key)
    expect(await devices.publicKey(key.identity, key.device)).toBe(key.publicKey)
    // What the auth service does on a revocation: store it, then announce it.
    await stores.authenticationKey.revokeDevice(key.identity, key.device)
    await feed.publish({ identity: key.identity, device: key.device })
    const started = Date.now()
    for (;;) {
      const outcome = await devices.publicKey(key.identity, key.device).then(
        () => 'active',
        (error: unknown) => (error instanceof InvalidDeviceError ? 'refused' : 'failed'),
      )
      if (outcome === 'refused') break
      expect(Date.now() - started).toBeLessThan(1000)
      await new Promise((resolve) => setTimeout(resolve, 5))
    }
    await devices.close()
    await feed.close()
    await stores.close()
  })

  it('refuses an empty URL or channel', () => {
    expect(() => new RedisRevocationFeed({ url: '' })).toThrow(/url/)
    expect(() => new RedisRevocationFeed({ url: REDIS_URL, channel: '' })).toThrow(/channel/)
  })
})
