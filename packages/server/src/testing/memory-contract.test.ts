import { describe, expect, it } from 'vitest'
import {
  MemoryAccountEventStore,
  MemoryAuthenticationKeyStore,
  MemoryAuthenticationNonceStore,
  MemoryRecoveryHashStore,
  MemoryTimeLockStore,
  memoryServerStores,
} from '../stores/memory/index.js'
import { MemoryRevocationFeed } from '../revocation/memory-feed.js'
import { MemoryRateLimitStore } from '../rate-limit/memory.js'
import { MemoryWebhookDeliveryStore } from '../webhooks/delivery-store.js'
import { describeRevocationFeed, describeStoreContract, randomId } from './index.js'

// One process: every party shares the one in-memory bus.
const bus = new MemoryRevocationFeed()
describeRevocationFeed('memory', () => Promise.resolve(bus))

describeStoreContract('memory stores', {
  authenticationKey: () => new MemoryAuthenticationKeyStore(),
  recoveryHash: () => new MemoryRecoveryHashStore(),
  authenticationNonce: () => new MemoryAuthenticationNonceStore(),
  timeLock: () => new MemoryTimeLockStore(),
  accountEvents: () => {
    const accountEvents = new MemoryAccountEventStore()
    return { authenticationKey: new MemoryAuthenticationKeyStore(accountEvents), accountEvents }
  },
  rateLimit: () => memoryRateLimits,
  operations: () => memoryServerStores(),
  // One store for every call: a memory store's "restart" is the same process carrying on.
  webhookDeliveries: () => memoryDeliveries,
})
const memoryDeliveries = new MemoryWebhookDeliveryStore()

// One store for every test, as a process would share it.
const memoryRateLimits = new MemoryRateLimitStore()

describe('@better-auth/server/testing', () => {
  it('exports exactly the documented runtime values', async () => {
    expect(Object.keys(await import('./index.js')).sort()).toEqual([
      'FLOOD_LIMITS',
      'FLOOD_PROXY',
      'checkFlood',
      'checkSharedLimit',
      'describeKeySetStore',
      'describeRevocationFeed',
      'describeStoreContract',
      'expectBetterAuthError',
      'expectRejection',
      'newDeviceKey',
      'nextDeviceKey',
      'randomId',
      'rejectionOf',
    ])
  })

  it('draws distinct 128-bit hex ids', () => {
    const ids = new Set(Array.from({ length: 100 }, () => randomId()))
    expect(ids.size).toBe(100)
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{32}$/)
    expect(randomId('nonce-')).toMatch(/^nonce-[0-9a-f]{32}$/)
  })

  it('refuses a target without stores and a concurrency below 2', () => {
    expect(() => describeStoreContract('empty', {})).toThrow(
      expect.objectContaining({ code: 'BA001' }),
    )
    expect(() =>
      describeStoreContract(
        'serial',
        { timeLock: () => new MemoryTimeLockStore() },
        { concurrency: 1 },
      ),
    ).toThrow(expect.objectContaining({ code: 'BA001' }))
  })
})
