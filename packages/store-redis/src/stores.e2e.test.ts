import {
  InvalidDeviceError,
  InvalidHashError,
  StorageUnavailableError,
} from '@better-auth/protocol'
import {
  expectBetterAuthError,
  newDeviceKey,
  randomId,
  rejectionOf,
} from '@better-auth/server/testing'
import type { Redis } from 'ioredis'
import { afterAll, describe, expect, it } from 'vitest'
import { RedisStores, type RedisStoresOptions } from './index.js'
import { startTcpProxy, type TcpProxy, type Verdict } from '@better-auth/server/testing/node'
import { REDIS_URL, e2e, testClient, uniquePrefix, unusedPort } from './testing-internal/redis.js'

const opened: RedisStores[] = []
const clients: Redis[] = []
const proxies: TcpProxy[] = []

function client(): Redis {
  const created = testClient()
  clients.push(created)
  return created
}

async function connect(options: Partial<RedisStoresOptions> = {}): Promise<RedisStores> {
  const stores = await RedisStores.connect({
    ...(options.client === undefined ? { url: REDIS_URL } : {}),
    prefix: uniquePrefix('stores'),
    ...options,
  })
  opened.push(stores)
  return stores
}

/** Stores whose connection runs through a proxy the test controls. */
async function connectThroughProxy(
  prefix: string,
  inspect?: (chunk: Buffer) => Verdict,
): Promise<{ stores: RedisStores; proxy: TcpProxy }> {
  const proxy = await startTcpProxy({ targetPort: Number(new URL(REDIS_URL).port), inspect })
  proxies.push(proxy)
  const stores = await connect({ url: `redis://127.0.0.1:${proxy.port}`, prefix })
  return { stores, proxy }
}

function expectUnavailable(error: unknown): void {
  const unavailable = expectBetterAuthError(error, StorageUnavailableError)
  expect(unavailable.context).toEqual({ backend: 'redis' })
}

async function keys(prefix: string): Promise<string[]> {
  return (await client().keys(`${prefix}*`)).sort()
}

afterAll(async () => {
  await Promise.all(opened.splice(0).map((stores) => stores.close()))
  await Promise.all(proxies.splice(0).map((proxy) => proxy.close()))
  for (const created of clients.splice(0)) created.disconnect()
})

describe.skipIf(!REDIS_URL)(e2e('redis stores'), () => {
  describe('key layout', () => {
    it('keeps an identity and its devices in one hash under the prefix', async () => {
      const prefix = uniquePrefix('layout')
      const stores = await connect({ prefix })
      const first = newDeviceKey()
      const second = newDeviceKey(first.identity)
      await stores.authenticationKey.registerIdentity(first)
      await stores.authenticationKey.registerDevice(second)
      await stores.authenticationKey.revokeDevice(second.identity, second.device)
      const key = `${prefix}{accounts}:identity:${first.identity}`
      expect(await keys(prefix)).toEqual([key])
      expect(await client().hgetall(key)).toEqual({
        identity: '1',
        [`s:${first.device}`]: '1',
        [`k:${first.device}`]: first.publicKey,
        [`h:${first.device}`]: first.rotationHash,
        [`s:${second.device}`]: '0',
        [`k:${second.device}`]: second.publicKey,
        [`h:${second.device}`]: second.rotationHash,
      })
      expect(await client().pttl(key)).toBe(-1)
      await stores.authenticationKey.deleteIdentity(first.identity)
      expect(await keys(prefix)).toEqual([])
    })

    it('keeps recovery hashes without expiry, and challenges and time locks with one', async () => {
      const prefix = uniquePrefix('layout')
      const stores = await connect({ prefix })
      const now = Date.now()
      await stores.recoveryHash.register('alice', 'recovery-hash')
      await stores.authenticationNonce.put('nonce', 'alice', now + 60_000, now)
      await stores.accessKeyHash.reserve('key-hash', now + 30_000, now)
      await stores.accessNonce.reserve('request-nonce', now + 20_000, now)
      expect(await keys(prefix)).toEqual([
        `${prefix}challenge:nonce`,
        `${prefix}recovery:alice`,
        `${prefix}time-lock:access-key-hash:key-hash`,
        `${prefix}time-lock:access-nonce:request-nonce`,
      ])
      const redis = client()
      expect(await redis.get(`${prefix}recovery:alice`)).toBe('recovery-hash')
      expect(await redis.pttl(`${prefix}recovery:alice`)).toBe(-1)
      expect(await redis.get(`${prefix}challenge:nonce`)).toBe(`${now + 60_000}:alice`)
      const ttls = await Promise.all([
        redis.pttl(`${prefix}challenge:nonce`),
        redis.pttl(`${prefix}time-lock:access-key-hash:key-hash`),
        redis.pttl(`${prefix}time-lock:access-nonce:request-nonce`),
      ])
      for (const [ttl, lifetime] of [
        [ttls[0], 60_000],
        [ttls[1], 30_000],
        [ttls[2], 20_000],
      ] as const) {
        expect(ttl).toBeGreaterThan(lifetime - 5_000)
        expect(ttl).toBeLessThanOrEqual(lifetime)
      }
    })

    it('keeps access key hashes and access nonces in separate namespaces', async () => {
      const stores = await connect()
      const now = Date.now()
      const value = randomId('value-')
      expect(await stores.accessKeyHash.reserve(value, now + 30_000, now)).toBe(true)
      expect(await stores.accessNonce.reserve(value, now + 30_000, now)).toBe(true)
      expect(await stores.accessKeyHash.reserve(value, now + 30_000, now)).toBe(false)
    })

    it('keeps stores with different prefixes apart on one server', async () => {
      const a = await connect()
      const b = await connect()
      const key = newDeviceKey()
      await a.authenticationKey.registerIdentity(key)
      await b.authenticationKey.registerIdentity(key)
      await a.authenticationKey.revokeDevice(key.identity, key.device)
      expect(await b.authenticationKey.publicKey(key.identity, key.device)).toBe(key.publicKey)
    })
  })

  describe('time', () => {
    it('derives lifetimes from expiresAt - now, even with `now` a minute ahead of Redis', async () => {
      const prefix = uniquePrefix('time')
      const stores = await connect({ prefix })
      const now = Date.now() + 60_000
      expect(await stores.accessNonce.reserve('value', now + 10_000, now)).toBe(true)
      const ttl = await client().pttl(`${prefix}time-lock:access-nonce:value`)
      expect(ttl).toBeGreaterThan(5_000)
      expect(ttl).toBeLessThanOrEqual(10_000)
      expect(await stores.accessNonce.reserve('value', now + 20_000, now + 9_999)).toBe(false)
      expect(await stores.accessNonce.reserve('value', now + 20_000, now + 10_000)).toBe(true)
    })

    it('stores nothing for a reservation that has lapsed at `now`, and clears a lapsed one', async () => {
      const prefix = uniquePrefix('time')
      const stores = await connect({ prefix })
      const now = Date.now()
      expect(await stores.accessNonce.reserve('lapsed', now, now)).toBe(true)
      expect(await stores.accessNonce.reserve('lapsed', now - 1, now)).toBe(true)
      expect(await keys(prefix)).toEqual([])
      expect(await stores.accessNonce.reserve('value', now + 1_000, now)).toBe(true)
      // Lapsed at now + 1000 by the caller's clock, though Redis still keeps the key.
      expect(await stores.accessNonce.reserve('value', now + 1_000, now + 1_000)).toBe(true)
      expect(await keys(prefix)).toEqual([])
      // A live reservation is never cleared by one that would lapse at once.
      expect(await stores.accessNonce.reserve('live', now + 1_000, now)).toBe(true)
      expect(await stores.accessNonce.reserve('live', now, now)).toBe(false)
    })

    it('treats putting an already expired challenge as removing it', async () => {
      const prefix = uniquePrefix('time')
      const stores = await connect({ prefix })
      const now = Date.now()
      await stores.authenticationNonce.put('nonce', 'alice', now + 60_000, now)
      await stores.authenticationNonce.put('nonce', 'bob', now, now)
      expect(await keys(prefix)).toEqual([])
      expect(await stores.authenticationNonce.consume('nonce', now - 1)).toBeUndefined()
    })

    it('lets Redis drop challenges and time locks by themselves', async () => {
      const prefix = uniquePrefix('time')
      const stores = await connect({ prefix })
      const now = Date.now()
      // Long enough that a busy machine still finds both keys before they lapse.
      await stores.authenticationNonce.put('nonce', 'alice', now + 1_000, now)
      await stores.accessKeyHash.reserve('value', now + 1_000, now)
      expect(await keys(prefix)).toHaveLength(2)
      await new Promise((resolve) => setTimeout(resolve, 1_500))
      expect(await keys(prefix)).toEqual([])
    })
  })

  describe('concurrency', () => {
    it('lets exactly 1 of 200 concurrent rotations revealing the same key succeed', async () => {
      // Four connections, as four server processes would have.
      const prefix = uniquePrefix('race')
      const connections = await Promise.all(Array.from({ length: 4 }, () => connect({ prefix })))
      const key = newDeviceKey()
      await connections[0]!.authenticationKey.registerIdentity(key)
      const candidates = Array.from({ length: 200 }, () => newDeviceKey(key.identity, key.device))
      const results = await Promise.allSettled(
        candidates.map((next, index) =>
          connections[index % 4]!.authenticationKey.rotate(next, key.rotationHash),
        ),
      )
      const fulfilled = results.flatMap((result, index) =>
        result.status === 'fulfilled' ? [index] : [],
      )
      expect(fulfilled).toHaveLength(1)
      for (const result of results) {
        if (result.status === 'rejected') expect(result.reason).toBeInstanceOf(InvalidHashError)
      }
      const winner = candidates[fulfilled[0]!]!
      expect(await connections[1]!.authenticationKey.publicKey(key.identity, key.device)).toBe(
        winner.publicKey,
      )
    })

    it('grants exactly 1 of 1000 concurrent reservations of one access nonce', async () => {
      const prefix = uniquePrefix('race')
      const connections = await Promise.all(Array.from({ length: 4 }, () => connect({ prefix })))
      const now = Date.now()
      const nonce = randomId('nonce-')
      const results = await Promise.allSettled(
        Array.from({ length: 1000 }, (_, index) =>
          connections[index % 4]!.accessNonce.reserve(nonce, now + 30_000, now),
        ),
      )
      expect(results.filter((result) => result.status === 'rejected')).toEqual([])
      const granted = results.filter((result) => result.status === 'fulfilled' && result.value)
      expect(granted).toHaveLength(1)
    })

    it('gives a challenge to exactly 1 of 200 concurrent consumers', async () => {
      const prefix = uniquePrefix('race')
      const connections = await Promise.all(Array.from({ length: 4 }, () => connect({ prefix })))
      const now = Date.now()
      await connections[0]!.authenticationNonce.put('nonce', 'alice', now + 60_000, now)
      const results = await Promise.all(
        Array.from({ length: 200 }, (_, index) =>
          connections[index % 4]!.authenticationNonce.consume('nonce', now),
        ),
      )
      expect(results.filter((identity) => identity !== undefined)).toEqual(['alice'])
    })
  })

  describe('failures', () => {
    it('fails fast to connect to a port where nothing listens, without leaking the password', async () => {
      const port = await unusedPort()
      const started = Date.now()
      const error = await rejectionOf(
        RedisStores.connect({ url: `redis://:hunter2secret@127.0.0.1:${port}` }),
      )
      expect(Date.now() - started).toBeLessThan(2_000)
      expectUnavailable(error)
      const unavailable = error as StorageUnavailableError
      expect(unavailable.message).not.toContain('hunter2secret')
      expect(JSON.stringify(unavailable)).not.toContain('hunter2secret')
      expect(String((unavailable.cause as Error).message)).not.toContain('hunter2secret')
    })

    it('fails every operation at once with StorageUnavailableError once the server is gone', async () => {
      const { stores, proxy } = await connectThroughProxy(uniquePrefix('gone'))
      const key = newDeviceKey()
      await stores.authenticationKey.registerIdentity(key)
      await proxy.close()
      // Let the client notice the closed connection.
      await new Promise((resolve) => setTimeout(resolve, 50))

      const now = Date.now()
      const started = performance.now()
      const results = await Promise.allSettled([
        stores.authenticationKey.registerIdentity(newDeviceKey()),
        stores.authenticationKey.registerDevice(newDeviceKey(key.identity)),
        stores.authenticationKey.rotate(newDeviceKey(key.identity, key.device), key.rotationHash),
        stores.authenticationKey.publicKey(key.identity, key.device),
        stores.authenticationKey.revokeDevice(key.identity, key.device),
        stores.authenticationKey.replaceAllDevices(newDeviceKey(key.identity)),
        stores.authenticationKey.deleteIdentity(key.identity),
        stores.recoveryHash.register(key.identity, 'a'),
        stores.recoveryHash.rotate(key.identity, 'a', 'b'),
        stores.recoveryHash.replace(key.identity, 'b'),
        stores.recoveryHash.delete(key.identity),
        stores.authenticationNonce.put('nonce', key.identity, now + 1_000, now),
        stores.authenticationNonce.consume('nonce', now),
        stores.accessKeyHash.reserve('value', now + 1_000, now),
        stores.accessNonce.reserve('value', now + 1_000, now),
      ])
      expect(performance.now() - started).toBeLessThan(1_000)
      for (const result of results) {
        expect(result.status).toBe('rejected')
        if (result.status === 'rejected') expectUnavailable(result.reason)
      }
    })

    it('changes nothing when the connection breaks before replaceAllDevices reaches Redis', async () => {
      const prefix = uniquePrefix('cut')
      const replacement = randomId('replacement-')
      const { stores } = await connectThroughProxy(prefix, (chunk) =>
        chunk.includes(replacement) ? 'cut-before' : 'forward',
      )
      const first = newDeviceKey()
      const second = newDeviceKey(first.identity)
      await stores.authenticationKey.registerIdentity(first)
      await stores.authenticationKey.registerDevice(second)

      expectUnavailable(
        await rejectionOf(
          stores.authenticationKey.replaceAllDevices(newDeviceKey(first.identity, replacement)),
        ),
      )
      const check = await connect({ prefix })
      expect(await check.authenticationKey.publicKey(first.identity, first.device)).toBe(
        first.publicKey,
      )
      expect(await check.authenticationKey.publicKey(second.identity, second.device)).toBe(
        second.publicKey,
      )
      expect(
        await rejectionOf(check.authenticationKey.publicKey(first.identity, replacement)),
      ).toBeInstanceOf(InvalidDeviceError)
    })

    it('reports StorageUnavailableError when the reply is lost, and the write is whole', async () => {
      const prefix = uniquePrefix('cut')
      const replacement = randomId('replacement-')
      const { stores } = await connectThroughProxy(prefix, (chunk) =>
        chunk.includes(replacement) ? 'cut-after' : 'forward',
      )
      const first = newDeviceKey()
      const second = newDeviceKey(first.identity)
      await stores.authenticationKey.registerIdentity(first)
      await stores.authenticationKey.registerDevice(second)

      // Redis ran the script but the answer never arrived: the caller must not assume success
      // (nor failure), and what Redis holds is the complete replacement, never a part of it.
      const next = newDeviceKey(first.identity, replacement)
      expectUnavailable(await rejectionOf(stores.authenticationKey.replaceAllDevices(next)))
      const check = await connect({ prefix })
      for (const old of [first, second]) {
        expect(
          await rejectionOf(check.authenticationKey.publicKey(old.identity, old.device)),
        ).toBeInstanceOf(InvalidDeviceError)
      }
      expect(await check.authenticationKey.publicKey(next.identity, next.device)).toBe(
        next.publicKey,
      )
    })

    it('fails with StorageUnavailableError while its connection is killed, then recovers', async () => {
      const { stores, proxy } = await connectThroughProxy(uniquePrefix('kill'))
      const now = Date.now()
      expect(await stores.accessNonce.reserve(randomId('value-'), now + 30_000, now)).toBe(true)
      const [port] = proxy.upstreamPorts()
      expect(await client().client('KILL', 'ADDR', `127.0.0.1:${port}`, 'SKIPME', 'yes')).toBe(1)

      const errors: unknown[] = []
      const deadline = Date.now() + 10_000
      let recovered = false
      while (!recovered && Date.now() < deadline) {
        try {
          recovered = await stores.accessNonce.reserve(randomId('value-'), now + 30_000, now)
        } catch (error) {
          errors.push(error)
          await new Promise((resolve) => setTimeout(resolve, 20))
        }
      }
      expect(recovered).toBe(true)
      expect(errors.length).toBeGreaterThan(0)
      for (const error of errors) expectUnavailable(error)
    })

    it('fails every call after close, and close is idempotent', async () => {
      const stores = await connect()
      await stores.close()
      await stores.close()
      expectUnavailable(await rejectionOf(stores.authenticationKey.publicKey('a', 'b')))
      expectUnavailable(await rejectionOf(stores.accessNonce.reserve('v', 2, 1)))
    })

    it('leaves a client it was given connected on close', async () => {
      const given = client()
      const stores = await connect({ client: given })
      await stores.close()
      expect(await given.ping()).toBe('PONG')
    })
  })
})
