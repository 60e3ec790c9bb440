import { describeKeySetStore } from '@better-auth/server/testing'
import { afterAll, describe } from 'vitest'
import { PostgresStores } from './index.js'
import { DATABASE_URL, e2e, uniqueSchema } from './testing-internal/database.js'

const opened: PostgresStores[] = []

afterAll(async () => {
  await Promise.all(opened.map((stores) => stores.close()))
})

describe.skipIf(!DATABASE_URL)(e2e('PostgresKeySetStore'), () => {
  // Two pools on a fresh schema: two processes sharing one key set.
  describeKeySetStore('postgres', async () => {
    const schema = uniqueSchema('key_set')
    const first = await PostgresStores.connect({ connectionString: DATABASE_URL, schema })
    const second = await PostgresStores.connect({ connectionString: DATABASE_URL, schema })
    opened.push(first, second)
    return [first.keySet, second.keySet] as const
  })
})
