import { NobleP256SigningKey } from '@better-auth/crypto'
import { ConfigurationError, InvalidMessageError, ProtocolError } from '@better-auth/protocol'
import { describe, expect, it } from 'vitest'
import { freshNamespace, simulateReload } from './testing-internal/helpers.js'
import { IndexedDbVerificationKeyStore } from './verification-key-store.js'

function keys(namespace: string): IndexedDbVerificationKeyStore {
  return new IndexedDbVerificationKeyStore({ namespace })
}

describe('IndexedDbVerificationKeyStore', () => {
  it('pins a CESR public key and verifies that key’s signatures after a reload', async () => {
    const namespace = freshNamespace()
    const server = NobleP256SigningKey.generate()
    const publicKey = await server.public()
    await keys(namespace).add(publicKey)
    await simulateReload()

    const key = await keys(namespace).get(publicKey)
    expect(await key.public()).toBe(publicKey)
    const signature = await server.sign('{"payload":1}')
    expect(await key.verify('{"payload":1}', signature)).toBe(true)
    expect(await key.verify('{"payload":2}', signature)).toBe(false)
    expect(await key.verifier().verify('{"payload":1}', signature, publicKey)).toBe(true)
  })

  it('accepts anything with public(), e.g. a VerificationKey', async () => {
    const namespace = freshNamespace()
    const server = NobleP256SigningKey.generate()
    await keys(namespace).add(server)
    expect(await keys(namespace).list()).toEqual([await server.public()])
  })

  it('lists and removes pinned keys per namespace', async () => {
    const a = freshNamespace('a')
    const b = freshNamespace('b')
    const one = await NobleP256SigningKey.generate().public()
    const two = await NobleP256SigningKey.generate().public()
    await keys(a).add(one)
    await keys(a).add(two)
    await keys(b).add(one)
    expect((await keys(a).list()).sort()).toEqual([one, two].sort())
    await keys(a).remove(one)
    expect(await keys(a).list()).toEqual([two])
    expect(await keys(b).list()).toEqual([one])
    await expect(keys(a).get(one)).rejects.toBeInstanceOf(ProtocolError)
  })

  it.each([
    ['an unknown key', () => NobleP256SigningKey.generate().public()],
    ['a non-string', () => Promise.resolve(42 as unknown as string)],
    ['an empty string', () => Promise.resolve('')],
    ['an overlong junk identity', () => Promise.resolve('1AAI'.repeat(1000))],
  ])('refuses %s with ProtocolError (BA803)', async (_, identity) => {
    const store = keys(freshNamespace())
    await store.add(NobleP256SigningKey.generate())
    const error = await store.get(await identity()).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ProtocolError)
    expect((error as ProtocolError).code).toBe('BA803')
    expect(String((error as ProtocolError).context['serverIdentity']).length).toBeLessThanOrEqual(
      64,
    )
  })

  it.each([undefined, null, '', 'key', '1AAI' + 'A'.repeat(10), {}, { public: () => 7 }])(
    'refuses to pin %j',
    async (key) => {
      const store = keys(freshNamespace())
      await expect(store.add(key as never)).rejects.toBeInstanceOf(InvalidMessageError)
      expect(await store.list()).toEqual([])
    },
  )

  it('rejects a verifier without verify()', () => {
    expect(
      () => new IndexedDbVerificationKeyStore({ namespace: 'a', verifier: {} as never }),
    ).toThrow(ConfigurationError)
  })
})
