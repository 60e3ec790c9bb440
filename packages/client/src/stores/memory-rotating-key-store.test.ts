import { NobleP256SigningKey } from '@better-auth/crypto'
import { ConfigurationError, InvalidStateError } from '@better-auth/protocol'
import type { SigningKey } from '@better-auth/protocol'
import { describe, expect, it } from 'vitest'
import { generateKey, hasher } from '../../../server/src/testing-internal/client-world.js'
import { describeClientRotatingKeyStore } from '../testing-internal/store-suites.js'
import { MemoryRotatingKeyStore } from './memory-rotating-key-store.js'

describeClientRotatingKeyStore(
  'MemoryRotatingKeyStore',
  () => new MemoryRotatingKeyStore({ generate: generateKey, hasher }),
  hasher,
)

describe('MemoryRotatingKeyStore', () => {
  it('accepts a synchronous generator', async () => {
    const store = new MemoryRotatingKeyStore({
      generate: () => NobleP256SigningKey.generate(),
      hasher,
    })
    const { publicKey } = await store.initialize()
    expect(await (await store.signer()).public()).toBe(publicKey)
  })

  it.each([
    [undefined, 'options'],
    [null, 'options'],
    [{ hasher }, 'generate'],
    [{ generate: 'nope', hasher }, 'generate'],
    [{ generate: generateKey }, 'hasher'],
    [{ generate: generateKey, hasher: {} }, 'hasher'],
  ])('rejects options %# naming %s', (options, field) => {
    expect(() => new MemoryRotatingKeyStore(options as never)).toThrow(ConfigurationError)
    try {
      new MemoryRotatingKeyStore(options as never)
    } catch (error) {
      expect((error as ConfigurationError).context['field']).toBe(field)
    }
  })

  it('reports a generator that returns something other than a key', async () => {
    const store = new MemoryRotatingKeyStore({
      generate: () => Promise.resolve({} as SigningKey),
      hasher,
    })
    await expect(store.initialize()).rejects.toBeInstanceOf(ConfigurationError)
    await expect(store.signer()).rejects.toBeInstanceOf(InvalidStateError)
  })

  it('keeps the chain when the generator fails, and next() can be retried', async () => {
    let fail = false
    const store = new MemoryRotatingKeyStore({
      generate: () => (fail ? Promise.reject(new Error('HSM busy')) : generateKey()),
      hasher,
    })
    const { publicKey, rotationHash } = await store.initialize()
    fail = true
    await expect(store.initialize()).rejects.toThrow('HSM busy')
    await expect(store.next()).rejects.toThrow('HSM busy')
    expect(await (await store.signer()).public()).toBe(publicKey)
    fail = false
    const pending = await store.next()
    expect(await hasher.sum(pending.publicKey)).toBe(rotationHash)
  })

  it('does not commit a rotation prepared for a chain that initialize() replaced', async () => {
    let release: () => void = () => undefined
    const gate = new Promise<void>((resolve) => (release = resolve))
    let slow = false
    const store = new MemoryRotatingKeyStore({
      generate: async () => {
        if (slow) await gate
        return generateKey()
      },
      hasher,
    })
    await store.initialize()
    slow = true
    const pending = store.next()
    const committing = store.commit()
    slow = false
    const replaced = await store.initialize()
    release()
    // As with the IndexedDB store: a rotation of a chain that is gone is not handed out.
    await expect(pending).rejects.toBeInstanceOf(InvalidStateError)
    await expect(committing).rejects.toBeInstanceOf(InvalidStateError)
    expect(await (await store.signer()).public()).toBe(replaced.publicKey)
  })
})

describe('MemoryRotatingKeyStore.prepareInitialize', () => {
  it('keeps the chain when the generator fails while preparing', async () => {
    let fail = false
    const store = new MemoryRotatingKeyStore({
      generate: () => (fail ? Promise.reject(new Error('HSM busy')) : generateKey()),
      hasher,
    })
    const { publicKey } = await store.initialize()
    fail = true
    await expect(store.prepareInitialize()).rejects.toThrow('HSM busy')
    expect(await (await store.signer()).public()).toBe(publicKey)
  })

  it('treats a chain replaced while the new keys were being generated as a change', async () => {
    let release: () => void = () => undefined
    const gate = new Promise<void>((resolve) => (release = resolve))
    let slow = false
    const store = new MemoryRotatingKeyStore({
      generate: async () => {
        if (slow) await gate
        return generateKey()
      },
      hasher,
    })
    await store.initialize()
    slow = true
    const preparing = store.prepareInitialize()
    slow = false
    const replaced = await store.initialize()
    release()
    const prepared = await preparing
    await expect(prepared.commit()).rejects.toBeInstanceOf(InvalidStateError)
    expect(await (await store.signer()).public()).toBe(replaced.publicKey)
  })

  it('signs with the generated key object itself and returns a frozen chain', async () => {
    const generated: SigningKey[] = []
    const store = new MemoryRotatingKeyStore({
      generate: async () => {
        const key = await generateKey()
        generated.push(key)
        return key
      },
      hasher,
    })
    const prepared = await store.prepareInitialize()
    expect(prepared.signer).toBe(generated[0])
    expect(await hasher.sum(await generated[1]!.public())).toBe(prepared.rotationHash)
    expect(Object.isFrozen(prepared)).toBe(true)
  })
})
