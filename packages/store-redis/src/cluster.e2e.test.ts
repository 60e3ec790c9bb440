import {
  ConfigurationError,
  InvalidHashError,
  type AccountEvent,
  type AccountEventType,
  type DeviceKey,
} from '@better-auth/protocol'
import {
  describeKeySetStore,
  describeRevocationFeed,
  describeStoreContract,
  expectBetterAuthError,
  newDeviceKey,
  randomId,
  rejectionOf,
} from '@better-auth/server/testing'
import type { Cluster } from 'ioredis'
import { afterAll, describe, expect, it } from 'vitest'
import { RedisRevocationFeed, RedisStores } from './index.js'
import {
  REDIS_CLUSTER_NODES,
  e2eCluster,
  testCluster,
  uniquePrefix,
} from './testing-internal/redis.js'

// The same suites as on a single server, on a Redis Cluster of three masters: a script whose keys
// were in two hash slots would fail there with CROSSSLOT, so the contract passing is the proof
// that each script keeps to one slot; the tests below check the layout that makes it so.

const clusters: Cluster[] = []
const opened: RedisStores[] = []
const feeds: RedisRevocationFeed[] = []

/** A cluster client with the fail-fast settings the README gives for one. */
function cluster(): Cluster {
  const created = testCluster({
    redisOptions: {
      connectTimeout: 5_000,
      commandTimeout: 5_000,
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
    },
  })
  clusters.push(created)
  return created
}

async function connect(prefix = uniquePrefix('cluster'), client = cluster()) {
  const stores = await RedisStores.connect({ client, prefix })
  opened.push(stores)
  return stores
}

function once(connect: () => Promise<RedisStores>): () => Promise<RedisStores> {
  let stores: Promise<RedisStores> | undefined
  return () => (stores ??= connect())
}

function eventOf(type: AccountEventType, key: DeviceKey): AccountEvent {
  return {
    id: randomId('event-'),
    type,
    at: Date.now(),
    identity: key.identity,
    device: key.device,
  }
}

/** Every key under the prefix, by master. */
async function keysByMaster(client: Cluster, prefix: string): Promise<string[][]> {
  return Promise.all(client.nodes('master').map((node) => node.keys(`${prefix}*`)))
}

afterAll(async () => {
  await Promise.all(opened.splice(0).map((stores) => stores.close()))
  await Promise.all(feeds.splice(0).map((feed) => feed.close()))
  for (const created of clusters.splice(0)) created.disconnect()
})

describe.skipIf(REDIS_CLUSTER_NODES.length === 0)(e2eCluster('redis cluster'), () => {
  const contractPrefix = uniquePrefix('cluster-contract')
  const shared = once(() => connect(contractPrefix))
  describeStoreContract('redis cluster', {
    authenticationKey: async () => (await shared()).authenticationKey,
    recoveryHash: async () => (await shared()).recoveryHash,
    authenticationNonce: async () => (await shared()).authenticationNonce,
    timeLock: async () => (await shared()).accessNonce,
    accountEvents: shared,
    // A cluster client of its own for every call, as separate server processes have.
    rateLimit: async () => (await connect(contractPrefix)).rateLimit,
    webhookDeliveries: async () => (await connect(contractPrefix)).webhookDeliveries,
  })

  // Two cluster clients under a fresh prefix: two processes sharing one key set.
  describeKeySetStore('redis cluster', async () => {
    const prefix = uniquePrefix('cluster-key-set')
    const [first, second] = await Promise.all([connect(prefix), connect(prefix)])
    return [first.keySet, second.keySet] as const
  })

  // Each party on another master: classic pub/sub messages cross the cluster bus to every node.
  let party = 0
  const channel = `better-auth-test:cluster-revocations:${randomId().slice(0, 12)}`
  describeRevocationFeed('redis cluster, each party on another node', () => {
    const node = REDIS_CLUSTER_NODES[party++ % REDIS_CLUSTER_NODES.length]!
    const feed = new RedisRevocationFeed({
      url: `redis://${node}`,
      channel,
    })
    feeds.push(feed)
    return Promise.resolve(feed)
  })

  describe('hash slots', () => {
    it('is a cluster that refuses a script whose keys are in two slots', async () => {
      const client = cluster()
      const [a, b] = await Promise.all(['a', 'b'].map((key) => client.cluster('KEYSLOT', key)))
      expect(a).not.toBe(b)
      const error = await rejectionOf(client.eval('return 1', 2, 'a', 'b'))
      expect(String(error)).toMatch(/CROSSSLOT/)
    })

    it('keeps the accounts and their event log in one slot and spreads the rest over all three masters', async () => {
      const prefix = uniquePrefix('slots')
      const client = cluster()
      const stores = await connect(prefix, client)
      const { authenticationKey: keys, accountEvents: log } = stores
      const now = Date.now()
      const identities: string[] = []
      for (let i = 0; i < 20; i += 1) {
        // Every script that writes an account, each with its event.
        const first = newDeviceKey()
        const second = newDeviceKey(first.identity)
        identities.push(first.identity)
        await keys.registerIdentity(first, eventOf('account-created', first))
        await keys.registerDevice(second, eventOf('device-linked', second))
        const rotated = { ...first, publicKey: randomId(), rotationHash: randomId() }
        await keys.rotate(rotated, first.rotationHash, eventOf('device-rotated', rotated))
        await keys.rotateAndApply(
          { ...rotated, publicKey: randomId(), rotationHash: randomId() },
          rotated.rotationHash,
          { kind: 'revoke-device', device: second.device },
          eventOf('device-unlinked', rotated),
        )
        const recovered = newDeviceKey(first.identity)
        await keys.replaceAllDevices(recovered, eventOf('account-recovered', recovered))
        await keys.revokeDevice(first.identity, recovered.device, eventOf('device-revoked', first))
        await log.append(eventOf('session-created', first))
        // And the single-key stores.
        await stores.recoveryHash.register(first.identity, randomId())
        await stores.authenticationNonce.put(randomId('nonce-'), first.identity, now + 60_000, now)
        await stores.accessNonce.reserve(randomId('nonce-'), now + 60_000, now)
        await stores.accessKeyHash.reserve(randomId('hash-'), now + 60_000, now)
        // A request's batch: its address and identity counters.
        await stores.rateLimit.hit(
          [randomId('address-'), randomId('identity-')].map((key) => ({
            key,
            cost: 1,
            windowMs: 60_000,
          })),
          now,
        )
      }
      const deleted = newDeviceKey(identities[0])
      await keys.deleteIdentity(deleted.identity, eventOf('account-deleted', deleted))
      expect(await log.erase(identities[1]!)).toBe(7)
      expect(await log.history(identities[2]!)).toHaveLength(7)

      const byMaster = await keysByMaster(client, prefix)
      const all = byMaster.flat()
      const accounts = all.filter((key) => key.startsWith(`${prefix}{accounts}:`))
      // 19 identity hashes, 19 histories (one erased), the feed and the sequence.
      expect(accounts).toHaveLength(40)
      const slots = await Promise.all(accounts.map((key) => client.cluster('KEYSLOT', key)))
      expect(new Set(slots).size).toBe(1)
      expect(byMaster.filter((on) => on.some((key) => accounts.includes(key)))).toHaveLength(1)
      // 120 keys outside the group (recovery hashes, challenges, time locks, counters) spread by
      // their whole name.
      expect(all.length - accounts.length).toBe(120)
      for (const on of byMaster) expect(on.length).toBeGreaterThan(0)
    })
  })

  describe('concurrency across cluster clients', () => {
    it('lets exactly 1 of 200 concurrent rotations revealing the same key succeed', async () => {
      const prefix = uniquePrefix('cluster-race')
      const connections = await Promise.all(Array.from({ length: 4 }, () => connect(prefix)))
      const key = newDeviceKey()
      await connections[0]!.authenticationKey.registerIdentity(key, eventOf('account-created', key))
      const results = await Promise.allSettled(
        Array.from({ length: 200 }, (_, index) => {
          const next = newDeviceKey(key.identity, key.device)
          return connections[index % 4]!.authenticationKey.rotate(
            next,
            key.rotationHash,
            eventOf('device-rotated', next),
          )
        }),
      )
      expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(1)
      for (const result of results) {
        if (result.status === 'rejected') expect(result.reason).toBeInstanceOf(InvalidHashError)
      }
      const history = await connections[1]!.accountEvents.history(key.identity)
      expect(history.map((event) => event.type)).toEqual(['account-created', 'device-rotated'])
    })

    it('grants exactly 1 of 1000 concurrent reservations of one access nonce', async () => {
      const prefix = uniquePrefix('cluster-race')
      const connections = await Promise.all(Array.from({ length: 4 }, () => connect(prefix)))
      const now = Date.now()
      const nonce = randomId('nonce-')
      const results = await Promise.all(
        Array.from({ length: 1000 }, (_, index) =>
          connections[index % 4]!.accessNonce.reserve(nonce, now + 30_000, now),
        ),
      )
      expect(results.filter((granted) => granted)).toHaveLength(1)
    })
  })

  describe('the persistence check at connect', () => {
    it('checks every master, and names the one that would lose the replay state', async () => {
      const client = cluster()
      await client.ping()
      const [, second] = client.nodes('master')
      try {
        await second!.config('SET', 'appendonly', 'no')
        const error = expectBetterAuthError(
          await rejectionOf(RedisStores.connect({ client: cluster() })),
          ConfigurationError,
        )
        expect(error.message).toContain('appendonly no')
        expect(error.message).toContain(`${second!.options.host}:${second!.options.port}`)
      } finally {
        await second!.config('SET', 'appendonly', 'yes')
      }
      await connect()
    })
  })
})
