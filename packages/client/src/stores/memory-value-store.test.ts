import { InvalidMessageError } from '@better-auth/protocol'
import { expect, it } from 'vitest'
import { describeClientValueStore } from '../testing-internal/store-suites.js'
import { MemoryValueStore } from './memory-value-store.js'

describeClientValueStore('MemoryValueStore', () => new MemoryValueStore())

it.each([undefined, null, 1, {}, ['x']])('refuses to store %j', async (value) => {
  const store = new MemoryValueStore()
  await store.store('kept')
  await expect(store.store(value as never)).rejects.toBeInstanceOf(InvalidMessageError)
  expect(await store.get()).toBe('kept')
})
