import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describeKeySetStore, describeStoreContract } from '@better-auth/server/testing'
import { afterAll } from 'vitest'
import { SqliteStores, type SqliteStoresOptions } from './index.js'

const directory = mkdtempSync(join(tmpdir(), 'better-auth-sqlite-contract-'))
const opened: SqliteStores[] = []
const open = (options: SqliteStoresOptions): SqliteStores => {
  const stores = SqliteStores.open(options)
  opened.push(stores)
  return stores
}

// One connection shared by every test, as one server process has: the kit's random ids keep the
// tests apart.
const shared = open({ filename: join(directory, 'shared.db') })
describeStoreContract('sqlite, one connection', {
  authenticationKey: () => shared.authenticationKey,
  recoveryHash: () => shared.recoveryHash,
  authenticationNonce: () => shared.authenticationNonce,
  timeLock: () => shared.accessKeyHash,
  accountEvents: () => shared,
  rateLimit: () => shared.rateLimit,
  operations: () => shared,
  webhookDeliveries: () => shared.webhookDeliveries,
})

// A new connection to one file for every store, as separate server processes would have, and
// sweeping on every write to exercise it alongside each operation.
const perStore = join(directory, 'per-store.db')
describeStoreContract('sqlite, a connection per store', {
  authenticationKey: () => open({ filename: perStore }).authenticationKey,
  recoveryHash: () => open({ filename: perStore }).recoveryHash,
  authenticationNonce: () => open({ filename: perStore, sweepIntervalMs: 0 }).authenticationNonce,
  timeLock: () => open({ filename: perStore, sweepIntervalMs: 0 }).accessNonce,
  // The log read through another connection than the one that wrote it.
  accountEvents: () => ({
    authenticationKey: open({ filename: perStore }).authenticationKey,
    accountEvents: open({ filename: perStore }).accountEvents,
  }),
  rateLimit: () => open({ filename: perStore }).rateLimit,
  // A new connection per call: the restart tests' second dispatcher shares nothing in memory.
  webhookDeliveries: () => open({ filename: perStore }).webhookDeliveries,
})

describeStoreContract('sqlite, :memory:', {
  authenticationKey: () => open({ filename: ':memory:' }).authenticationKey,
  recoveryHash: () => open({ filename: ':memory:' }).recoveryHash,
  authenticationNonce: () => open({ filename: ':memory:' }).authenticationNonce,
  timeLock: () => open({ filename: ':memory:' }).accessKeyHash,
  accountEvents: () => open({ filename: ':memory:' }),
})

afterAll(async () => {
  await Promise.all(opened.splice(0).map((stores) => stores.close()))
  rmSync(directory, { recursive: true, force: true })
})

// Two connections to one file: two processes sharing one key set.
let keySets = 0
describeKeySetStore('sqlite', () => {
  const filename = join(directory, `key-set-${keySets++}.db`)
  return Promise.resolve([open({ filename }).keySet, open({ filename }).keySet] as const)
})
