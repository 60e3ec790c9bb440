import { decodeCesrAs } from '@better-auth/cesr'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { Blake3Hasher, blake3Digest } from './hasher.js'
import { bytesToHex, payloadText, specMessage } from './testing-internal/vectors.js'

const hasher = new Blake3Hasher()

describe('Blake3Hasher', () => {
  it('matches the published BLAKE3-256 test values', async () => {
    const known: [string, string][] = [
      ['', 'af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262'],
      ['abc', '6437b3ac38465133ffb63b75273a8db548c558465d79db03fd359c6cd5bd9d85'],
    ]
    for (const [input, hex] of known) {
      const digest = await hasher.sum(input)
      expect(bytesToHex(decodeCesrAs('E', digest))).toBe(hex)
    }
    // CESR form of the empty-string digest: code E, 1 pad byte, 44 characters.
    await expect(hasher.sum('')).resolves.toBe('EK8TSbn1-aGmoEBN6jbcyUmbyyXJrcESt8yak8rkHzJi')
  })

  it('hashes UTF-8 bytes, so non-ASCII strings hash as their encoding', async () => {
    const digest = await hasher.sum('é')
    expect(digest).not.toBe(await hasher.sum('e\u0301'))
    expect(digest).toBe(blake3Digest('\u00e9'))
  })

  it('property: sum and blake3Digest agree and always give a 44-character E primitive', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: 'binary' }), async (s) => {
        const digest = await hasher.sum(s)
        expect(digest).toBe(blake3Digest(s))
        expect(digest).toMatch(/^E[A-Za-z0-9_-]{43}$/)
      }),
    )
  })

  it('derives identity and device as in account.create.request', async () => {
    const payload = JSON.parse(payloadText(specMessage('account.create.request'))) as {
      request: {
        authentication: {
          device: string
          identity: string
          publicKey: string
          recoveryHash: string
          rotationHash: string
        }
      }
    }
    const { device, identity, publicKey, recoveryHash, rotationHash } =
      payload.request.authentication
    await expect(hasher.sum(publicKey + rotationHash + recoveryHash)).resolves.toBe(identity)
    await expect(hasher.sum(publicKey + rotationHash)).resolves.toBe(device)
  })

  it('rejects non-strings with InvalidMessageError', async () => {
    for (const bad of [null, undefined, 42, {}, new Uint8Array(1)]) {
      await expect(hasher.sum(bad as string)).rejects.toMatchObject({ code: 'BA101' })
      expect(() => blake3Digest(bad as string)).toThrow(expect.objectContaining({ code: 'BA101' }))
    }
  })
})
