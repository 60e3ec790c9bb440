import { describe, expect, it } from 'vitest'
import { AccessVerifier, BetterAuthServer, type BetterAuthServerOptions } from '../src/index.js'
import { createHarness } from './harness.js'

/** The same object with one property replaced (class instances keep their other methods). */
function replacing<T extends object>(target: T, name: string, value: unknown): T {
  return new Proxy(target, {
    get: (object, property) => (property === name ? value : Reflect.get(object, property, object)),
  })
}

async function validOptions(): Promise<BetterAuthServerOptions> {
  return (await createHarness()).serverOptions
}

describe('BetterAuthServer options', () => {
  it.each([
    ['crypto.hasher', (o: any) => ({ ...o, crypto: { ...o.crypto, hasher: undefined } })],
    [
      'crypto.keyPairs.response.sign',
      (o: any) => ({
        ...o,
        crypto: {
          ...o.crypto,
          keyPairs: { ...o.crypto.keyPairs, response: { public: () => 'x' } },
        },
      }),
    ],
    [
      'encoding.tokenEncoder.decode',
      (o: any) => ({ ...o, encoding: { ...o.encoding, tokenEncoder: { encode: () => '' } } }),
    ],
    [
      'stores.authenticationKey.rotate',
      (o: any) => ({
        ...o,
        stores: {
          ...o.stores,
          authenticationKey: replacing(o.stores.authenticationKey, 'rotate', 1),
        },
      }),
    ],
    ['stores.recoveryHash', (o: any) => ({ ...o, stores: { ...o.stores, recoveryHash: null } })],
    ['attributes', (o: any) => ({ ...o, attributes: { admin: true } })],
    ['maxMessageLength', (o: any) => ({ ...o, maxMessageLength: 0 })],
    ['expiry.accessNonceLockMs', (o: any) => ({ ...o, expiry: { accessNonceLockMs: 1 } })],
  ])('names %s when it is missing or invalid', async (field, mutate) => {
    const options = mutate(await validOptions()) as BetterAuthServerOptions
    expect(() => new BetterAuthServer(options)).toThrow(
      expect.objectContaining({ code: 'BA001', context: expect.objectContaining({ field }) }),
    )
  })

  it('names the access verifier option that is missing', () => {
    expect(() => new AccessVerifier({} as never)).toThrow(
      expect.objectContaining({
        code: 'BA001',
        context: expect.objectContaining({ field: 'crypto' }),
      }),
    )
  })
})
