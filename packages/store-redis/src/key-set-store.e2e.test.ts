import { describeKeySetStore } from '@better-auth/server/testing'
import { afterAll, describe } from 'vitest'
import { RedisStores } from './index.js'
import { REDIS_URL, e2e, uniquePrefix } from './testing-internal/redis.js'

const opened: RedisStores[] = []

afterAll(async () => {
  await Promise.all(opened.map((stores) => stores.close()))
})

describe.skipIf(!REDIS_URL)(e2e('RedisKeySetStore'), () => {
  // Two connections under a fresh prefix: two processes sharing one key set.
  describeKeySetStore('redis', async () => {
    const prefix = uniquePrefix('key-set')
    const first = await RedisStores.connect({ url: REDIS_URL, prefix })
    const second = await RedisStores.connect({ url: REDIS_URL, prefix })
    opened.push(first, second)
    return [first.keySet, second.keySet] as const
  })
})
