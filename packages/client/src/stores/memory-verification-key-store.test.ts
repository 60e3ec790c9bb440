import { NobleP256SigningKey } from '@better-auth/crypto'
import { InvalidMessageError, ProtocolError } from '@better-auth/protocol'
import type { VerificationKey } from '@better-auth/protocol'
import { expect, it } from 'vitest'
import { MemoryVerificationKeyStore } from './memory-verification-key-store.js'

it('returns added keys by their public key', async () => {
  const store = new MemoryVerificationKeyStore()
  const a = NobleP256SigningKey.generate()
  const b = NobleP256SigningKey.generate()
  await store.add(a)
  await store.add(b)
  expect(await store.get(await a.public())).toBe(a)
  expect(await store.get(await b.public())).toBe(b)
})

it.each([
  ['an unknown key', () => NobleP256SigningKey.generate().public()],
  ['a non-string', () => Promise.resolve(42 as unknown as string)],
  ['an empty string', () => Promise.resolve('')],
])('refuses %s with ProtocolError', async (_, identity) => {
  const store = new MemoryVerificationKeyStore()
  await store.add(NobleP256SigningKey.generate())
  const error = await store.get(await identity()).catch((e: unknown) => e)
  expect(error).toBeInstanceOf(ProtocolError)
  expect((error as ProtocolError).code).toBe('BA803')
})

it.each([undefined, null, 'key', {}, { public: () => Promise.resolve('x') }])(
  'refuses to add %j',
  async (key) => {
    await expect(
      new MemoryVerificationKeyStore().add(key as unknown as VerificationKey),
    ).rejects.toBeInstanceOf(InvalidMessageError)
  },
)
