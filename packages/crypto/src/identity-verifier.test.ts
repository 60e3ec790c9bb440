import { InvalidIdentityError } from '@better-auth/protocol'
import type { Hasher } from '@better-auth/protocol'
import { describe, expect, it } from 'vitest'
import { Blake3Hasher } from './hasher.js'
import { DefaultIdentityVerifier } from './identity-verifier.js'
import { payloadText, specMessage } from './testing-internal/vectors.js'

const verifier = new DefaultIdentityVerifier(new Blake3Hasher())

const auth = (
  JSON.parse(payloadText(specMessage('account.create.request'))) as {
    request: {
      authentication: {
        identity: string
        publicKey: string
        recoveryHash: string
        rotationHash: string
      }
    }
  }
).request.authentication

describe('DefaultIdentityVerifier', () => {
  it('accepts the identity of account.create.request', async () => {
    await expect(
      verifier.verify(auth.identity, auth.publicKey, auth.rotationHash, auth.recoveryHash),
    ).resolves.toBeUndefined()
  })

  it('rejects any other identity, order or extra with InvalidIdentityError', async () => {
    const attempts: [string, string, string, string][] = [
      [auth.identity, auth.publicKey, auth.rotationHash, ''],
      [auth.identity, auth.rotationHash, auth.publicKey, auth.recoveryHash],
      [auth.identity, auth.publicKey, auth.recoveryHash, auth.rotationHash],
      [auth.rotationHash, auth.publicKey, auth.rotationHash, auth.recoveryHash],
      [auth.identity.slice(0, -1), auth.publicKey, auth.rotationHash, auth.recoveryHash],
      [`${auth.identity} `, auth.publicKey, auth.rotationHash, auth.recoveryHash],
    ]
    for (const args of attempts) {
      const error: unknown = await verifier.verify(...args).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(InvalidIdentityError)
      expect(error).toMatchObject({ code: 'BA102' })
    }
  })

  it('says which check failed, without echoing the inputs', async () => {
    await expect(
      verifier.verify(auth.rotationHash, auth.publicKey, auth.rotationHash, auth.recoveryHash),
    ).rejects.toMatchObject({
      message: 'Invalid identity: identity does not match hash(publicKey + rotationHash + extra)',
    })
    await expect(verifier.verify(auth.identity, 42 as never, '', '')).rejects.toMatchObject({
      message: 'Invalid identity: identity inputs must be strings',
    })
    expect(() => new DefaultIdentityVerifier(null as never)).toThrow(
      expect.objectContaining({ message: 'Invalid configuration: hasher: expected a Hasher' }),
    )
  })

  it('hashes the plain concatenation with the injected hasher', async () => {
    const seen: string[] = []
    const hasher: Hasher = {
      sum: (message) => {
        seen.push(message)
        return Promise.resolve(`id:${message}`)
      },
    }
    await new DefaultIdentityVerifier(hasher).verify('id:abc', 'a', 'b', 'c')
    expect(seen).toEqual(['abc'])
  })

  it('rejects wrong-type arguments with InvalidIdentityError and bad hashers with ConfigurationError', async () => {
    for (const bad of [null, undefined, 42, {}]) {
      for (let position = 0; position < 4; position++) {
        const args: unknown[] = [
          auth.identity,
          auth.publicKey,
          auth.rotationHash,
          auth.recoveryHash,
        ]
        args[position] = bad
        await expect(
          verifier.verify(...(args as [string, string, string, string])),
        ).rejects.toBeInstanceOf(InvalidIdentityError)
      }
    }
    for (const hasher of [null, undefined, {}, { sum: 1 }, 'blake3']) {
      expect(() => new DefaultIdentityVerifier(hasher as never)).toThrow(
        expect.objectContaining({ code: 'BA001' }),
      )
    }
  })
})
