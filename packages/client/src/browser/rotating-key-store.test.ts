import { Blake3Hasher } from '@better-auth/crypto'
import { ConfigurationError, InvalidStateError } from '@better-auth/protocol'
import { describe, expect, it } from 'vitest'
import { describeClientRotatingKeyStore } from '../testing-internal/store-suites.js'
import { IndexedDbRotatingKeyStore } from './rotating-key-store.js'
import { freshNamespace, rawChain, simulateReload } from './testing-internal/helpers.js'

const hasher = new Blake3Hasher()

function chain(namespace: string, name = 'authenticationKey'): IndexedDbRotatingKeyStore {
  return new IndexedDbRotatingKeyStore({ namespace, name })
}

describeClientRotatingKeyStore(
  'IndexedDbRotatingKeyStore',
  () => chain(freshNamespace('suite')),
  hasher,
)

describe('IndexedDbRotatingKeyStore persistence', () => {
  it('stores non-extractable CryptoKey pairs, never key bytes', async () => {
    const namespace = freshNamespace()
    const { publicKey } = await chain(namespace).initialize()
    const record = await rawChain(namespace, 'authenticationKey')
    expect(record?.current.publicKey).toBe(publicKey)
    for (const stored of [record!.current, record!.next]) {
      expect(stored.keyPair.privateKey).toBeInstanceOf(CryptoKey)
      expect(stored.keyPair.privateKey.extractable).toBe(false)
      expect(stored.keyPair.privateKey.usages).toEqual(['sign'])
      await expect(crypto.subtle.exportKey('pkcs8', stored.keyPair.privateKey)).rejects.toThrow()
      await expect(crypto.subtle.exportKey('jwk', stored.keyPair.privateKey)).rejects.toThrow()
    }
  })

  it('keeps the chain across a reload, and the restored key signs as the same key', async () => {
    const namespace = freshNamespace()
    const { publicKey, rotationHash } = await chain(namespace).initialize()
    await simulateReload()

    const reloaded = chain(namespace)
    const signer = await reloaded.signer()
    expect(await signer.public()).toBe(publicKey)
    const signature = await signer.sign('after reload')
    expect(await signer.verifier().verify('after reload', signature, publicKey)).toBe(true)
    expect(await hasher.sum((await reloaded.next()).publicKey)).toBe(rotationHash)
  })

  it('returns the same pending rotation after a reload between next() and commit()', async () => {
    const namespace = freshNamespace()
    const before = chain(namespace)
    await before.initialize()
    const pending = await before.next()
    // The tab closes while the rotation request is in flight.
    await simulateReload()

    const after = chain(namespace)
    const retried = await after.next()
    expect(retried.publicKey).toBe(pending.publicKey)
    expect(retried.rotationHash).toBe(pending.rotationHash)
    expect(await retried.signer.public()).toBe(pending.publicKey)
    const signature = await retried.signer.sign('retry')
    expect(await pending.signer.verify('retry', signature)).toBe(true)

    await after.commit()
    await simulateReload()
    const committed = chain(namespace)
    expect(await (await committed.signer()).public()).toBe(pending.publicKey)
    const following = await committed.next()
    expect(await hasher.sum(following.publicKey)).toBe(pending.rotationHash)
  })

  it('persists a commit: a reload after commit() continues from the new key', async () => {
    const namespace = freshNamespace()
    const store = chain(namespace)
    await store.initialize()
    const first = await store.next()
    await store.commit()
    await simulateReload()
    const reloaded = chain(namespace)
    expect(await (await reloaded.signer()).public()).toBe(first.publicKey)
    const record = await rawChain(namespace, 'authenticationKey')
    expect(record?.pending).toBeUndefined()
    expect(await hasher.sum(record!.next.publicKey)).toBe(first.rotationHash)
  })

  it('writes the chain and its pending rotation as one record', async () => {
    const namespace = freshNamespace()
    const store = chain(namespace)
    const { publicKey } = await store.initialize()
    expect((await rawChain(namespace, 'authenticationKey'))?.pending).toBeUndefined()
    const pending = await store.next()
    const record = await rawChain(namespace, 'authenticationKey')
    expect(record?.current.publicKey).toBe(publicKey)
    expect(record?.next.publicKey).toBe(pending.publicKey)
    expect(record?.pending?.rotationHash).toBe(pending.rotationHash)
    expect(await hasher.sum(record!.pending!.after.publicKey)).toBe(pending.rotationHash)
  })

  it('keeps the two chains of one namespace apart', async () => {
    const namespace = freshNamespace()
    const auth = chain(namespace, 'authenticationKey')
    const access = chain(namespace, 'accessKey')
    const a = await auth.initialize()
    const b = await access.initialize()
    expect(a.publicKey).not.toBe(b.publicKey)
    await access.clear()
    expect(await (await auth.signer()).public()).toBe(a.publicKey)
    await expect(access.signer()).rejects.toBeInstanceOf(InvalidStateError)
  })

  it('lets two tabs share one prepared rotation; only one of them commits it', async () => {
    const namespace = freshNamespace()
    const tabA = chain(namespace)
    const tabB = chain(namespace)
    await tabA.initialize()
    const [a, b] = await Promise.all([tabA.next(), tabB.next()])
    expect(b.publicKey).toBe(a.publicKey)
    expect(b.rotationHash).toBe(a.rotationHash)
    await tabA.commit()
    // The server accepts a revealed key once; tab B's copy of the rotation is spent.
    await expect(tabB.commit()).rejects.toBeInstanceOf(InvalidStateError)
    expect(await (await tabB.signer()).public()).toBe(a.publicKey)
  })

  it('does not commit a rotation when another tab replaced the chain meanwhile', async () => {
    const namespace = freshNamespace()
    const tabA = chain(namespace)
    const tabB = chain(namespace)
    await tabA.initialize()
    await tabA.next()
    const replaced = await tabB.initialize()
    await tabB.next()
    const error = await tabA.commit().catch((e: unknown) => e)
    expect(error).toBeInstanceOf(InvalidStateError)
    expect((error as InvalidStateError).message).toMatch(/changed/)
    expect(await (await tabA.signer()).public()).toBe(replaced.publicKey)
  })

  it('commit() waits for a next() that is still being prepared', async () => {
    const store = chain(freshNamespace())
    await store.initialize()
    const pending = store.next()
    await store.commit()
    expect(await (await store.signer()).public()).toBe((await pending).publicKey)
  })

  it('survives clear() and a reload as "not initialized"', async () => {
    const namespace = freshNamespace()
    const store = chain(namespace)
    await store.initialize()
    await store.next()
    await store.clear()
    await simulateReload()
    await expect(chain(namespace).signer()).rejects.toBeInstanceOf(InvalidStateError)
    await expect(chain(namespace).next()).rejects.toBeInstanceOf(InvalidStateError)
  })

  it('keeps a prepared chain out of the database until commit(); a reload drops it', async () => {
    const namespace = freshNamespace()
    const store = chain(namespace)
    const old = await store.initialize()
    const pending = await store.next()
    const prepared = await store.prepareInitialize()
    const record = await rawChain(namespace, 'authenticationKey')
    expect(record?.current.publicKey).toBe(old.publicKey)
    expect(record?.next.publicKey).toBe(pending.publicKey)
    expect(record?.pending?.rotationHash).toBe(pending.rotationHash)
    // The tab closes before the server answered.
    await simulateReload()

    const reloaded = chain(namespace)
    expect(await (await reloaded.signer()).public()).toBe(old.publicKey)
    expect((await reloaded.next()).publicKey).toBe(pending.publicKey)
    expect(prepared.publicKey).not.toBe(old.publicKey)
  })

  it('commit() writes the new chain as one record of non-extractable keys, without a pending rotation', async () => {
    const namespace = freshNamespace()
    const store = chain(namespace)
    await store.initialize()
    await store.next()
    const prepared = await store.prepareInitialize()
    await prepared.commit()
    await simulateReload()

    const record = await rawChain(namespace, 'authenticationKey')
    expect(record?.current.publicKey).toBe(prepared.publicKey)
    expect(record?.pending).toBeUndefined()
    expect(await hasher.sum(record!.next.publicKey)).toBe(prepared.rotationHash)
    for (const stored of [record!.current, record!.next]) {
      expect(stored.keyPair.privateKey.extractable).toBe(false)
    }
    const reloaded = chain(namespace)
    const signer = await reloaded.signer()
    expect(await signer.public()).toBe(prepared.publicKey)
    const signature = await prepared.signer.sign('prepared')
    expect(await signer.verify('prepared', signature)).toBe(true)
  })

  it('does not commit a prepared chain when another tab replaced or rotated the chain', async () => {
    const namespace = freshNamespace()
    const tabA = chain(namespace)
    const tabB = chain(namespace)
    await tabA.initialize()

    const replacedByB = await tabA.prepareInitialize()
    const other = await tabB.initialize()
    const error = await replacedByB.commit().catch((e: unknown) => e)
    expect(error).toBeInstanceOf(InvalidStateError)
    expect((error as InvalidStateError).message).toMatch(/changed/)
    expect(await (await tabA.signer()).public()).toBe(other.publicKey)

    const rotatedByB = await tabA.prepareInitialize()
    const rotation = await tabB.next()
    await tabB.commit()
    await expect(rotatedByB.commit()).rejects.toBeInstanceOf(InvalidStateError)
    expect((await rawChain(namespace, 'authenticationKey'))?.current.publicKey).toBe(
      rotation.publicKey,
    )
  })

  it('a prepared chain committed by one tab voids the rotation another tab handed out', async () => {
    const namespace = freshNamespace()
    const tabA = chain(namespace)
    const tabB = chain(namespace)
    await tabA.initialize()
    await tabB.next()
    const prepared = await tabA.prepareInitialize()
    await prepared.commit()
    await expect(tabB.commit()).rejects.toBeInstanceOf(InvalidStateError)
    expect(await (await tabB.signer()).public()).toBe(prepared.publicKey)
  })

  it.each([
    [undefined, 'options'],
    [null, 'options'],
    [{ name: 'accessKey' }, 'namespace'],
    [{ namespace: '', name: 'accessKey' }, 'namespace'],
    [{ namespace: 'x'.repeat(257), name: 'accessKey' }, 'namespace'],
    [{ namespace: 'a' }, 'name'],
    [{ namespace: 'a', name: 'accessKey', dbName: 7 }, 'dbName'],
    [{ namespace: 'a', name: 'accessKey', hasher: {} }, 'hasher'],
  ])('rejects options %# naming %s', (options, field) => {
    let error: unknown
    try {
      new IndexedDbRotatingKeyStore(options as never)
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(ConfigurationError)
    expect((error as ConfigurationError).context['field']).toBe(field)
  })
})
