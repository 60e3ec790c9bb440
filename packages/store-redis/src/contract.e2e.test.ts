import { describeStoreContract } from '@better-auth/server/testing'
import { describe } from 'vitest'
import { RedisStores } from './index.js'
import { REDIS_URL, e2e, testClient, uniquePrefix } from './testing-internal/redis.js'

// Connected lazily in the factories: a skipped file must not touch the network at import.
const opened: RedisStores[] = []

function once(connect: () => Promise<RedisStores>): () => Promise<RedisStores> {
  let stores: Promise<RedisStores> | undefined
  return () =>
    (stores ??= connect().then((connected) => {
      opened.push(connected)
      return connected
    }))
}

describe.skipIf(!REDIS_URL)(e2e('redis contract'), () => {
  // The stores own their client, as a server built from a URL has.
  const ownedPrefix = uniquePrefix('contract-owned')
  const owned = once(() => RedisStores.connect({ url: REDIS_URL, prefix: ownedPrefix }))
  describeStoreContract('redis, own client', {
    authenticationKey: async () => (await owned()).authenticationKey,
    recoveryHash: async () => (await owned()).recoveryHash,
    authenticationNonce: async () => (await owned()).authenticationNonce,
    timeLock: async () => (await owned()).accessNonce,
    accountEvents: owned,
    // A client of its own on one prefix for every call, as separate server processes have: the
    // contract's shared-limit test runs two servers on two of them.
    rateLimit: async () => {
      const separate = await RedisStores.connect({ url: REDIS_URL, prefix: ownedPrefix })
      opened.push(separate)
      return separate.rateLimit
    },
    operations: owned,
    // A client of its own for every call too: the restart tests' second dispatcher shares nothing.
    webhookDeliveries: async () => {
      const separate = await RedisStores.connect({ url: REDIS_URL, prefix: ownedPrefix })
      opened.push(separate)
      return separate.webhookDeliveries
    },
  })

  // On a client passed in (ioredis defaults), with another prefix.
  const client = REDIS_URL ? testClient() : undefined
  const shared = once(() =>
    RedisStores.connect({ client: client!, prefix: uniquePrefix('contract-shared') }),
  )
  describeStoreContract('redis, client passed in', {
    authenticationKey: async () => (await shared()).authenticationKey,
    recoveryHash: async () => (await shared()).recoveryHash,
    authenticationNonce: async () => (await shared()).authenticationNonce,
    timeLock: async () => (await shared()).accessKeyHash,
    accountEvents: shared,
    rateLimit: async () => (await shared()).rateLimit,
    webhookDeliveries: async () => (await shared()).webhookDeliveries,
    cleanup: async () => {
      await Promise.all(opened.splice(0).map((stores) => stores.close()))
      client!.disconnect()
    },
  })
})
