import { describeStoreContract } from '@better-auth/server/testing'
import { describe } from 'vitest'
import { PostgresStores } from './index.js'
import { DATABASE_URL, e2e, testPool, uniqueSchema } from './testing-internal/database.js'

// Connected lazily in the factories: a skipped file must not touch the network at import.
const schemas: string[] = []
const opened: PostgresStores[] = []
const pool = DATABASE_URL ? testPool({ max: 20 }) : undefined

function once(connect: () => Promise<PostgresStores>): () => Promise<PostgresStores> {
  let stores: Promise<PostgresStores> | undefined
  return () =>
    (stores ??= connect().then((connected) => {
      opened.push(connected)
      return connected
    }))
}

describe.skipIf(!DATABASE_URL)(e2e('postgres contract'), () => {
  // The stores own their pool, as a server built from a connection string has; default sweeping.
  const ownedSchema = uniqueSchema('contract_owned')
  const owned = once(() => {
    schemas.push(ownedSchema)
    return PostgresStores.connect({ connectionString: DATABASE_URL, schema: ownedSchema })
  })
  describeStoreContract('postgres, own pool', {
    authenticationKey: async () => (await owned()).authenticationKey,
    recoveryHash: async () => (await owned()).recoveryHash,
    authenticationNonce: async () => (await owned()).authenticationNonce,
    timeLock: async () => (await owned()).accessNonce,
    accountEvents: owned,
    // A pool of its own on one schema for every call, as separate server processes have: the
    // contract's shared-limit test runs two servers on two of them.
    rateLimit: async () => {
      await owned()
      const separate = await PostgresStores.connect({
        connectionString: DATABASE_URL,
        schema: ownedSchema,
      })
      opened.push(separate)
      return separate.rateLimit
    },
    operations: owned,
    // A pool of its own for every call too: the restart tests' second dispatcher shares nothing.
    webhookDeliveries: async () => {
      await owned()
      const separate = await PostgresStores.connect({
        connectionString: DATABASE_URL,
        schema: ownedSchema,
      })
      opened.push(separate)
      return separate.webhookDeliveries
    },
  })

  // On a pool passed in, with a sweep before every write to exercise it alongside each call.
  const shared = once(() => {
    const schema = uniqueSchema('contract_shared')
    schemas.push(schema)
    return PostgresStores.connect({ pool: pool!, schema, sweepIntervalMs: 0 })
  })
  describeStoreContract('postgres, shared pool, sweeping on every write', {
    authenticationKey: async () => (await shared()).authenticationKey,
    recoveryHash: async () => (await shared()).recoveryHash,
    authenticationNonce: async () => (await shared()).authenticationNonce,
    timeLock: async () => (await shared()).accessKeyHash,
    accountEvents: shared,
    rateLimit: async () => (await shared()).rateLimit,
    webhookDeliveries: async () => (await shared()).webhookDeliveries,
    cleanup: async () => {
      await Promise.all(opened.splice(0).map((stores) => stores.close()))
      for (const schema of schemas) await pool!.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)
      await pool!.end()
    },
  })
})
