import { ConfigurationError } from '@better-auth/protocol'
import {
  expectBetterAuthError,
  newDeviceKey,
  randomId,
  rejectionOf,
} from '@better-auth/server/testing'
import type { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { RedisStores, type RedisStoresOptions } from './index.js'
import { REDIS_URL, e2e, testClient } from './testing-internal/redis.js'
import { startThrowawayRedis, type ThrowawayRedis } from './testing-internal/throwaway-server.js'

// The server is the test's own: restarting the one in REDIS_URL, or changing its settings, would
// disturb every other suite. REDIS_URL only says that this machine has Redis to start one from.
describe.skipIf(!REDIS_URL)(e2e('redis persistence'), () => {
  let server: ThrowawayRedis | undefined
  let admin: Redis | undefined
  const opened: RedisStores[] = []

  async function connect(options: Omit<RedisStoresOptions, 'url'> = {}, url = server!.url) {
    const stores = await RedisStores.connect({ url, ...options })
    opened.push(stores)
    return stores
  }

  beforeAll(async () => {
    server = await startThrowawayRedis()
    admin = testClient({}, server.url)
  }, 60_000)

  afterAll(async () => {
    await Promise.all(opened.map((stores) => stores.close()))
    admin?.disconnect()
    await server?.stop()
  }, 60_000)

  it('still refuses a replayed access nonce and a second refresh of one access key after a plain restart', async () => {
    const stores = await connect()
    const key = newDeviceKey()
    await stores.authenticationKey.registerIdentity(key)
    const now = Date.now()
    // As the server reserves them: the nonce until the window plus the tolerance after the
    // request's timestamp, the access key until the tolerance after the refresh expiry.
    const nonce = randomId('nonce-')
    const nonceExpiry = now + 35_001
    const accessKeyHash = randomId('hash-')
    const keyExpiry = now + 12 * 3_600_000 + 5_001
    expect(await stores.accessNonce.reserve(nonce, nonceExpiry, now)).toBe(true)
    expect(await stores.accessKeyHash.reserve(accessKeyHash, keyExpiry, now)).toBe(true)

    await server!.restart()
    // The stores' client reconnects by itself.
    const deadline = Date.now() + 20_000
    for (;;) {
      const ready = await stores.authenticationKey.publicKey(key.identity, key.device).then(
        () => true,
        () => false,
      )
      if (ready) break
      if (Date.now() > deadline) throw new Error('the stores did not reconnect after the restart')
      await new Promise((resolve) => setTimeout(resolve, 100))
    }

    const later = Date.now()
    expect(await stores.accessNonce.reserve(nonce, nonceExpiry, later)).toBe(false)
    expect(await stores.accessKeyHash.reserve(accessKeyHash, keyExpiry, later)).toBe(false)
    expect(await stores.authenticationKey.publicKey(key.identity, key.device)).toBe(key.publicKey)
  }, 60_000)

  describe('the check at connect', () => {
    async function configure(settings: Record<string, string>): Promise<void> {
      for (const [name, value] of Object.entries(settings)) await admin!.config('SET', name, value)
    }

    afterAll(async () => {
      await configure({ appendonly: 'yes', appendfsync: 'everysec' })
    })

    it.each([
      ['no append-only file', { appendonly: 'no', appendfsync: 'everysec' }, 'appendonly no'],
      [
        'an append-only file the OS flushes when it likes',
        { appendonly: 'yes', appendfsync: 'no' },
        'appendfsync no',
      ],
    ])('refuses a server with %s, and names the setting', async (_, settings, named) => {
      await configure(settings)
      const error = expectBetterAuthError(await rejectionOf(connect()), ConfigurationError)
      expect(error.code).toBe('BA001')
      expect(error.context).toMatchObject({ field: 'redis' })
      expect(error.message).toContain(named)
      expect(error.message).toContain('acceptReplayStateLoss')
    })

    it('connects when the risk is accepted, and warns through the logger', async () => {
      await configure({ appendonly: 'no', appendfsync: 'everysec' })
      const warnings: string[] = []
      const stores = await connect({
        acceptReplayStateLoss: true,
        logger: { warn: (message) => warnings.push(message) },
      })
      expect(warnings).toHaveLength(1)
      expect(warnings[0]).toContain('appendonly no')
      expect(
        await stores.accessNonce.reserve(randomId('nonce-'), Date.now() + 1_000, Date.now()),
      ).toBe(true)
    })

    it('accepts appendfsync always and everysec without a warning', async () => {
      for (const appendfsync of ['always', 'everysec']) {
        await configure({ appendonly: 'yes', appendfsync })
        const warnings: string[] = []
        await connect({ logger: { warn: (message) => warnings.push(message) } })
        expect(warnings).toEqual([])
      }
    })

    it('falls back to INFO persistence where CONFIG is refused, and refuses there when AOF is off', async () => {
      const password = randomId()
      const url = (user: string): string => {
        const parsed = new URL(server!.url)
        parsed.username = user
        parsed.password = password
        return parsed.toString()
      }
      await admin!.call(
        'ACL',
        'SETUSER',
        'no-config',
        'on',
        `>${password}`,
        '~*',
        '&*',
        '+@all',
        '-config',
      )

      await configure({ appendonly: 'yes', appendfsync: 'everysec' })
      await connect({}, url('no-config'))
      await configure({ appendonly: 'no' })
      const off = expectBetterAuthError(
        await rejectionOf(connect({}, url('no-config'))),
        ConfigurationError,
      )
      expect(off.message).toContain('aof_enabled:0')
    })
  })
})
