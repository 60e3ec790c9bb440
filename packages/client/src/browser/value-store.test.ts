import { ConfigurationError, InvalidMessageError } from '@better-auth/protocol'
import { describe, expect, it } from 'vitest'
import { describeClientValueStore } from '../testing-internal/store-suites.js'
import { freshNamespace, simulateReload } from './testing-internal/helpers.js'
import { IndexedDbValueStore } from './value-store.js'

describeClientValueStore(
  'IndexedDbValueStore',
  () => new IndexedDbValueStore({ namespace: freshNamespace('suite'), name: 'identity' }),
)

describe('IndexedDbValueStore', () => {
  it('keeps its value across a reload', async () => {
    const namespace = freshNamespace()
    await new IndexedDbValueStore({ namespace, name: 'device' }).store('E-device')
    await simulateReload()
    expect(await new IndexedDbValueStore({ namespace, name: 'device' }).get()).toBe('E-device')
  })

  it('separates names within a namespace and namespaces from each other', async () => {
    const alice = freshNamespace('alice')
    const bob = freshNamespace('bob')
    await new IndexedDbValueStore({ namespace: alice, name: 'identity' }).store('alice-identity')
    await new IndexedDbValueStore({ namespace: bob, name: 'identity' }).store('bob-identity')
    expect(
      await new IndexedDbValueStore({ namespace: alice, name: 'device' }).get(),
    ).toBeUndefined()
    expect(await new IndexedDbValueStore({ namespace: alice, name: 'identity' }).get()).toBe(
      'alice-identity',
    )
    expect(await new IndexedDbValueStore({ namespace: bob, name: 'identity' }).get()).toBe(
      'bob-identity',
    )
  })

  it('keeps databases apart', async () => {
    const namespace = freshNamespace()
    await new IndexedDbValueStore({ namespace, name: 'identity', dbName: 'one' }).store('1')
    expect(
      await new IndexedDbValueStore({ namespace, name: 'identity', dbName: 'two' }).get(),
    ).toBeUndefined()
  })

  it.each([undefined, null, 1, {}, ['x']])('refuses to store %j', async (value) => {
    const store = new IndexedDbValueStore({ namespace: freshNamespace(), name: 'token' })
    await store.store('kept')
    await expect(store.store(value as never)).rejects.toBeInstanceOf(InvalidMessageError)
    expect(await store.get()).toBe('kept')
  })

  it.each([undefined, null, {}, { namespace: 'a' }, { name: 'b' }, { namespace: 1, name: 'b' }])(
    'rejects options %j',
    (options) => {
      expect(() => new IndexedDbValueStore(options as never)).toThrow(ConfigurationError)
    },
  )
})
