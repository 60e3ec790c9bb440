import { ConfigurationError } from '@better-auth/protocol'
import { describe, expect, it } from 'vitest'
import { DurableObjectAuthenticationNonceStore, DurableObjectTimeLockStore } from './index.js'

// The stores and the object run in workerd in integration/runtimes (the store contract and the
// cross-isolate replay test); what is checked here needs no runtime.

describe('public API', () => {
  it('exports exactly the documented runtime values', async () => {
    expect(Object.keys(await import('./index.js')).sort()).toEqual([
      'BetterAuthNonceObject',
      'DurableObjectAuthenticationNonceStore',
      'DurableObjectTimeLockStore',
    ])
  })
})

describe('store options', () => {
  const namespace = {
    idFromName: () => ({}),
    get: () => ({ fetch: () => new Promise<Response>(() => {}) }),
  }

  it.each([
    ['no options', undefined],
    ['no namespace', {}],
    ['a namespace that is not one', { namespace: { get: () => ({}) } }],
    ['a prefix that is not a string', { namespace, prefix: 1 }],
  ])('rejects %s with ConfigurationError', (_, options) => {
    for (const Store of [DurableObjectTimeLockStore, DurableObjectAuthenticationNonceStore]) {
      expect(() => new Store(options as never)).toThrow(ConfigurationError)
    }
  })
})
