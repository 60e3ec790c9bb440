import {
  ConfigurationError,
  InvalidHashError,
  StorageUnavailableError,
  type AccountEvent,
  type AccountEventType,
  type DeviceKey,
  type Revocation,
  type RevocationListener,
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
import { startTcpProxy, type TcpProxy } from '@better-auth/server/testing/node'
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

  // The README's cluster feed, with this cluster's nodes (rotated per party, so the parties'
  // first publishes and subscriptions land on different masters).
  const clusterChannel = `better-auth-test:cluster-feed:${randomId().slice(0, 12)}`
  const nodeUrls = REDIS_CLUSTER_NODES.map((node) => `redis://${node}`)
  let rotation = 0
  describeRevocationFeed('redis cluster, feeds given every node', () => {
    const shift = rotation++ % nodeUrls.length
    const feed = new RedisRevocationFeed({
      nodes: [...nodeUrls.slice(shift), ...nodeUrls.slice(0, shift)],
      channel: clusterChannel,
    })
    feeds.push(feed)
    return Promise.resolve(feed)
  })

  describe('revocation feed on a cluster whose nodes go away', () => {
    const proxies: TcpProxy[] = []
    afterAll(async () => {
      await Promise.all(proxies.splice(0).map((proxy) => proxy.close()))
    })

    /** A node reachable through a proxy the test can take away, as if that node went down. */
    async function mortalNode(node: string): Promise<{ url: string; proxy: TcpProxy }> {
      const proxy = await startTcpProxy({ targetPort: Number(node.split(':')[1]) })
      proxies.push(proxy)
      return { url: `redis://127.0.0.1:${proxy.port}`, proxy }
    }

    function recorder() {
      const seen: Revocation[] = []
      let resets = 0
      const listener: RevocationListener = {
        revoked: (revocation) => seen.push(revocation),
        reset: () => resets++,
      }
      return { seen, listener, resets: () => resets }
    }

    async function until(condition: () => boolean, withinMs = 5_000): Promise<void> {
      const started = Date.now()
      while (!condition()) {
        if (Date.now() - started > withinMs) throw new Error(`not within ${withinMs} ms`)
        await new Promise((resolve) => setTimeout(resolve, 5))
      }
    }

    it('moves a subscription to another node when its node is lost, then resets its listener', async () => {
      const channel = `better-auth-test:cluster-failover:${randomId().slice(0, 12)}`
      const [first, second, third] = REDIS_CLUSTER_NODES as [string, string, string]
      const doomed = await mortalNode(first)
      const subscriber = new RedisRevocationFeed({
        nodes: [doomed.url, `redis://${second}`, `redis://${third}`],
        channel,
      })
      const publisher = new RedisRevocationFeed({ nodes: [`redis://${third}`], channel })
      feeds.push(subscriber, publisher)
      const { seen, listener, resets } = recorder()
      const stop = await subscriber.subscribe(listener)
      const before = { identity: `E${randomId()}` }
      await publisher.publish(before)
      await until(() => seen.length === 1)
      expect(seen).toEqual([before])

      // The node goes away: what is published meanwhile may be missed, so the listener is told
      // to forget everything once it is subscribed on another node, and hears what follows.
      await doomed.proxy.close()
      await until(() => resets() === 1)
      const after = { identity: `E${randomId()}`, device: `E${randomId()}` }
      await publisher.publish(after)
      await until(() => seen.length === 2)
      expect(seen).toEqual([before, after])
      expect(resets()).toBe(1)
      await stop()
    })

    it('tells a subscriber to reset after a connection cut on a live node, and keeps delivering', async () => {
      const channel = `better-auth-test:cluster-cut:${randomId().slice(0, 12)}`
      const feed = new RedisRevocationFeed({ nodes: nodeUrls, channel })
      feeds.push(feed)
      const { seen, listener, resets } = recorder()
      const stop = await feed.subscribe(listener)
      const admin = cluster()
      await admin.ping()
      const masters = admin.nodes('master')
      expect(masters).toHaveLength(3)
      for (const node of masters) await node.client('KILL', 'TYPE', 'pubsub')
      await until(() => resets() >= 1)
      // The kills go node by node, so the subscription may have moved to a node killed after it
      // and be subscribing again: what is published in between is missed (and reset for).
      // Publish until one arrives, then check it is ours and that delivery goes on.
      const published: string[] = []
      const started = Date.now()
      while (seen.length === 0) {
        if (Date.now() - started > 10_000) throw new Error('nothing delivered within 10000 ms')
        const identity = `E${randomId()}`
        published.push(identity)
        await feed.publish({ identity })
        await new Promise((resolve) => setTimeout(resolve, 50))
      }
      expect(published).toContain(seen[0]!.identity)
      const next = { identity: `E${randomId()}` }
      await feed.publish(next)
      await until(() => seen.some(({ identity }) => identity === next.identity))
      await stop()
    })

    it('publishes through the next node when the first is gone, and subscribes past a dead one', async () => {
      const channel = `better-auth-test:cluster-publish:${randomId().slice(0, 12)}`
      const [first, second] = REDIS_CLUSTER_NODES as [string, string]
      const gone = await mortalNode(first)
      await gone.proxy.close()
      const feed = new RedisRevocationFeed({ nodes: [gone.url, `redis://${second}`], channel })
      feeds.push(feed)
      const { seen, listener, resets } = recorder()
      const stop = await feed.subscribe(listener)
      const revocation = { identity: `E${randomId()}` }
      await feed.publish(revocation)
      await until(() => seen.length === 1)
      expect(seen).toEqual([revocation])
      expect(resets()).toBe(0)
      await stop()

      // With no node left, publishing and subscribing fail as the store's other operations do.
      const dead = new RedisRevocationFeed({ nodes: [gone.url], channel })
      feeds.push(dead)
      expect(
        expectBetterAuthError(await rejectionOf(dead.publish(revocation)), StorageUnavailableError)
          .code,
      ).toBe('BA603')
      expectBetterAuthError(await rejectionOf(dead.subscribe(listener)), StorageUnavailableError)
    })

    it('refuses both url and nodes, none, or an empty node list', () => {
      expect(() => new RedisRevocationFeed({})).toThrow(ConfigurationError)
      expect(() => new RedisRevocationFeed({ url: nodeUrls[0], nodes: nodeUrls })).toThrow(
        ConfigurationError,
      )
      expect(() => new RedisRevocationFeed({ nodes: [] })).toThrow(/nodes/)
      expect(() => new RedisRevocationFeed({ nodes: [''] })).toThrow(/nodes/)
    })
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
