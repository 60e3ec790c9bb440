import { PostgresStores } from '@better-auth/store-postgres'
import { RedisStores } from '@better-auth/store-redis'
import { afterAll, beforeAll, describe } from 'vitest'
import type { AppStores } from '../src/app.js'
import { itRecordsTheScenarios } from './history.js'

const databaseUrl = process.env.DATABASE_URL
const redisUrl = process.env.REDIS_URL
// Fresh names, so runs sharing one server never read each other's events.
const suffix = Math.random().toString(36).slice(2, 10)

describe.skipIf(databaseUrl === undefined)(
  'account event log on postgres (needs DATABASE_URL)',
  () => {
    let stores: PostgresStores
    beforeAll(async () => {
      stores = await PostgresStores.connect({
        connectionString: databaseUrl,
        schema: `better_auth_history_${suffix}`,
      })
    })
    afterAll(() => stores?.close())
    itRecordsTheScenarios(() => stores)
  },
)

describe.skipIf(redisUrl === undefined)('account event log on redis (needs REDIS_URL)', () => {
  let stores: RedisStores
  beforeAll(async () => {
    stores = await RedisStores.connect({ url: redisUrl, prefix: `history-${suffix}:` })
  })
  afterAll(() => stores?.close())
  itRecordsTheScenarios(() => stores)
})

// The deployment the example server makes of both: accounts and their log in PostgreSQL, the
// challenges and access keys the session events belong to in Redis.
describe.skipIf(databaseUrl === undefined || redisUrl === undefined)(
  'account event log on postgres + redis (needs both)',
  () => {
    let postgres: PostgresStores
    let redis: RedisStores
    beforeAll(async () => {
      postgres = await PostgresStores.connect({
        connectionString: databaseUrl,
        schema: `better_auth_history_mixed_${suffix}`,
      })
      redis = await RedisStores.connect({ url: redisUrl, prefix: `history-mixed-${suffix}:` })
    })
    afterAll(async () => {
      await Promise.allSettled([postgres?.close(), redis?.close()])
    })
    itRecordsTheScenarios((): AppStores & Pick<PostgresStores, 'accountEvents'> => ({
      authenticationKey: postgres.authenticationKey,
      accountEvents: postgres.accountEvents,
      recoveryHash: postgres.recoveryHash,
      authenticationNonce: redis.authenticationNonce,
      accessKeyHash: redis.accessKeyHash,
      accessNonce: redis.accessNonce,
    }))
  },
)
