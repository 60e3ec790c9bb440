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

// The object's own behaviour runs in workerd (integration/runtimes); these pin how the stores
// read an object they cannot reach or that answers nonsense: fail closed, with BA603.
describe('an unreachable or broken nonce object', () => {
  const answering = (respond: () => Promise<Response>) => ({
    namespace: { idFromName: () => ({}), get: () => ({ fetch: respond }) },
  })
  const unreachable = answering(() => Promise.reject(new Error('connection reset')))
  const failing = answering(() => Promise.resolve(new Response('overloaded', { status: 500 })))
  const garbled = answering(() => Promise.resolve(new Response('not json')))
  const empty = answering(() => Promise.resolve(Response.json({})))

  it.each([
    ['unreachable', unreachable],
    ['answering 500', failing],
    ['answering no JSON', garbled],
  ])('refuses every operation with StorageUnavailableError (BA603) when %s', async (_, options) => {
    const locks = new DurableObjectTimeLockStore(options)
    const challenges = new DurableObjectAuthenticationNonceStore(options)
    for (const call of [
      locks.reserve('n', 2, 1),
      challenges.put('n', 'identity', 2, 1),
      challenges.consume('n', 1),
    ]) {
      await expect(call).rejects.toMatchObject({
        code: 'BA603',
        context: { backend: 'durable-object' },
      })
    }
  })

  it('grants nothing when the object answers without a verdict', async () => {
    expect(await new DurableObjectTimeLockStore(empty).reserve('n', 2, 1)).toBe(false)
    expect(await new DurableObjectAuthenticationNonceStore(empty).consume('n', 1)).toBeUndefined()
  })
})
