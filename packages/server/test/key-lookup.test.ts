import {
  InvalidTokenError,
  StorageUnavailableError,
  type VerificationKey,
  type VerificationKeyStore,
} from '@better-auth/protocol'
import { describe, expect, it } from 'vitest'
import { AccessVerifier, BetterAuthServer, StaticVerificationKeyStore } from '../src/index.js'
import { createHarness, generateKey, tokenEncoder, verifier } from './harness.js'

/** A key store that fails every lookup with `error`. */
function failingKeys(error: unknown): VerificationKeyStore {
  return { get: () => Promise.reject(error instanceof Error ? error : new Error(String(error))) }
}

async function accessRequestAndToken() {
  const harness = await createHarness()
  const client = harness.newClient()
  await client.createAccount(await harness.serverOptions.crypto.hasher.sum('recovery'))
  await client.createSession()
  await client.makeAccessRequest('/foo/bar', { foo: 'a', bar: 'b' })
  await client.refreshSession()
  return {
    harness,
    access: harness.lastSent('/foo/bar'),
    refresh: harness.lastSent('/session/refresh'),
  }
}

describe('a failing lookup of the server key that signed a token', () => {
  it.each([
    ['a store outage stays an outage', new StorageUnavailableError('down'), 'BA603'],
    ['an unknown key is an invalid token', new InvalidTokenError('unknown server key'), 'BA402'],
    ['any other failure is an invalid token', new TypeError('bug in a custom store'), 'BA402'],
  ])('access requests: %s (%s)', async (_name, error, code) => {
    const { harness, access } = await accessRequestAndToken()
    const accessVerifier = new AccessVerifier({
      crypto: { verifier },
      encoding: { timestamper: harness.timestamper, tokenEncoder },
      stores: {
        accessNonce: harness.stores.accessNonce,
        accessVerificationKeys: failingKeys(error),
      },
    })
    await expect(accessVerifier.verify(access)).rejects.toMatchObject({ code })
  })

  it.each([
    ['a store outage stays an outage', new StorageUnavailableError('down'), 'BA603'],
    ['any other failure is an invalid token', new TypeError('bug in a custom store'), 'BA402'],
  ])('refresh: %s (%s)', async (_name, error, code) => {
    const { harness, refresh } = await accessRequestAndToken()
    const server = new BetterAuthServer({
      ...harness.serverOptions,
      stores: { ...harness.stores, accessVerificationKeys: failingKeys(error) },
    })
    await expect(server.refreshSession(refresh)).rejects.toMatchObject({ code })
  })
})

describe('StaticVerificationKeyStore', () => {
  it('asks again after a key failed to report its public key, instead of failing forever', async () => {
    const key = await generateKey()
    let failures = 1
    const flaky: VerificationKey = {
      public: () => (failures-- > 0 ? Promise.reject(new Error('not yet')) : key.public()),
      verify: (message, signature) => key.verify(message, signature),
      verifier: () => key.verifier(),
    }
    const store = new StaticVerificationKeyStore([flaky])
    await expect(store.get(await key.public())).rejects.toThrow('not yet')
    expect(await store.get(await key.public())).toBe(flaky)
    await expect(store.get('1AAIother')).rejects.toMatchObject({ code: 'BA402' })
  })
})
