/**
 * The examples of README.md, against the test Redis (REDIS_URL): the stores connected as it says
 * serve a client; the cluster feed is built as it says; the key rename for builds before the hash
 * tag runs on a Redis of its own. The cluster connection is typechecked only (below, why).
 */
import { BetterAuthServer } from '@better-auth/server'
import { RedisStores } from '@better-auth/store-redis'
import { Cluster } from 'ioredis'
import { readFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import {
  expectBlocksRunIn,
  fencedBlocks,
  runShell,
} from '../../server/src/testing-internal/readme-examples.js'
import { quickStart, serve } from '../../server/src/testing-internal/readme-serve.js'
import { RedisRevocationFeed } from './index.js'
import { REDIS_URL, e2e, testClient } from './testing-internal/redis.js'
import { startThrowawayRedis } from './testing-internal/throwaway-server.js'

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8')
const source = readFileSync(new URL('readme.e2e.test.ts', import.meta.url), 'utf8')

/** The README's first example, word for word; `crypto` and `encoding` are the quick start's. */
async function readmeExample({ crypto, encoding }: ReturnType<typeof quickStart>): Promise<void> {
  const stores = await RedisStores.connect({ url: process.env.REDIS_URL })

  // `crypto` and `encoding` as in the @better-auth/server README's quick start.
  const server = new BetterAuthServer({ crypto, encoding, stores })
  const verifier = server.accessVerifier({ accessNonce: stores.accessNonce })
  // Your HTTP layer: a framework adapter (@better-auth/fastify, express, hono) or BetterAuthHttp.
  await serve(server, verifier)

  // On shutdown:
  await stores.close()
}

/**
 * "Redis Cluster", typechecked and never called: it names the README's own node addresses.
 * cluster.e2e.test.ts connects the stores to the local three-master cluster with these options.
 */
export async function readmeCluster(): Promise<RedisStores> {
  const cluster = new Cluster(
    [
      { host: '10.0.0.1', port: 6379 },
      { host: '10.0.0.2', port: 6379 },
    ],
    {
      // Each node connection fails fast, as the client created from `url` does (see "Failures").
      redisOptions: {
        connectTimeout: 5_000,
        commandTimeout: 5_000,
        maxRetriesPerRequest: 0,
        autoResendUnfulfilledCommands: false,
      },
    },
  )
  const stores = await RedisStores.connect({ client: cluster })
  return stores
}

/** "Pub/sub": the feed over the cluster's nodes. It connects only when used. */
function readmeFeed(): RedisRevocationFeed {
  const feed = new RedisRevocationFeed({
    nodes: ['redis://10.0.0.1:6379', 'redis://10.0.0.2:6379', 'redis://10.0.0.3:6379'],
  })
  return feed
}

it('runs every line of the README examples', () => {
  expectBlocksRunIn(fencedBlocks(readme, 'ts'), [source])
})

it('builds the cluster feed as the README does, without connecting', async () => {
  const feed = readmeFeed()
  expect(feed).toBeInstanceOf(RedisRevocationFeed)
  await feed.close()
})

describe.skipIf(!REDIS_URL)(e2e('README'), () => {
  it('serves a client on the stores the example connects', async () => {
    await readmeExample(quickStart())
  })

  it('renames the keys of the layout without hash tags, as "From the layout" says', async () => {
    const [block] = fencedBlocks(readme, 'sh', { from: '### From the layout without hash tags' })
    const redis = await startThrowawayRedis()
    const client = testClient({}, redis.url)
    const dir = await mkdtemp(join(tmpdir(), 'better-auth-redis-readme-'))
    try {
      await client.hset('better-auth:identity:EId1', 'device', 'key')
      await client.set('better-auth:events:sequence', '2')
      await client.zadd('better-auth:events', 1, 'event-1', 2, 'event-2')
      await client.zadd('better-auth:events:of:EId1', 1, 'event-1')
      // Another application's key, and one already in the new layout, are left alone.
      await client.set('other:identity:EId1', 'x')
      await client.set('better-auth:{accounts}:identity:EId2', 'kept')
      // The README's redis-cli, pointed at this test's own Redis.
      const result = await runShell(block ?? '', dir, {
        'redis-cli': `exec "${await realRedisCli()}" -u "${redis.url}" "$@"`,
      })
      expect(result).toMatchObject({ status: 0, err: '' })
      expect((await client.keys('*')).sort()).toEqual([
        'better-auth:{accounts}:events',
        'better-auth:{accounts}:events:of:EId1',
        'better-auth:{accounts}:events:sequence',
        'better-auth:{accounts}:identity:EId1',
        'better-auth:{accounts}:identity:EId2',
        'other:identity:EId1',
      ])
      expect(await client.hget('better-auth:{accounts}:identity:EId1', 'device')).toBe('key')
      expect(await client.zcard('better-auth:{accounts}:events')).toBe(2)
    } finally {
      client.disconnect()
      await redis.stop()
      await rm(dir, { recursive: true, force: true })
    }
  }, 60_000)
})

/** Where redis-cli is, found before the README's name is given to the shim. */
async function realRedisCli(): Promise<string> {
  const found = await runShell('command -v redis-cli', tmpdir())
  return found.out.trim()
}
