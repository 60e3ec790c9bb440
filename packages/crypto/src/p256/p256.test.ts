import { decodeCesrAs, encodeCesr } from '@better-auth/cesr'
import type { SigningKey, Verifier } from '@better-auth/protocol'
import { p256 } from '@noble/curves/nist.js'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { N, flipS, isHighS, scalar, scalarBytes } from '../testing-internal/scalars.js'
import {
  malformedCesrPairs,
  payloadText,
  signatureOf,
  specMessage,
  specMessages,
} from '../testing-internal/vectors.js'
import { NobleP256SigningKey, NobleP256Verifier } from './noble.js'
import { verifyP256Raw } from './raw.js'
import { WebCryptoP256SigningKey, WebCryptoP256Verifier } from './webcrypto.js'

const noble = new NobleP256Verifier()
const webcrypto = new WebCryptoP256Verifier()
const verifiers: readonly [string, Verifier][] = [
  ['noble', noble],
  ['webcrypto', webcrypto],
]

describe('spec examples', () => {
  it('account.create.request verifies under both verifiers over the exact payload text', async () => {
    const message = specMessage('account.create.request')
    const payload = payloadText(message)
    const signature = signatureOf(message)
    const parsed = JSON.parse(payload) as {
      request: { authentication: { publicKey: string } }
    }
    const publicKey = parsed.request.authentication.publicKey
    for (const [, verifier] of verifiers) {
      await expect(verifier.verify(payload, signature, publicKey)).resolves.toBe(true)
      // One changed byte of the payload, or the re-serialized payload with spaces, must fail.
      await expect(
        verifier.verify(payload.replace('0AB', '0AC'), signature, publicKey),
      ).resolves.toBe(false)
      await expect(
        verifier.verify(JSON.stringify(JSON.parse(payload), null, 1), signature, publicKey),
      ).resolves.toBe(false)
    }
  })

  it('every response verifies with its serverIdentity, and the examples contain high-S signatures', async () => {
    const highS: string[] = []
    for (const { id, message } of specMessages()) {
      if (!id.endsWith('.response')) continue
      const payload = payloadText(message)
      const signature = signatureOf(message)
      const key = (JSON.parse(payload) as { access: { serverIdentity: string } }).access
        .serverIdentity
      for (const [, verifier] of verifiers) {
        await expect(verifier.verify(payload, signature, key), id).resolves.toBe(true)
      }
      if (isHighS(signature)) highS.push(id)
    }
    // The reason verification must not insist on low-S.
    expect(highS.length).toBeGreaterThan(0)
  })
})

describe('cross-backend signing and verification', () => {
  it('noble-signed messages verify under Web Crypto and vice versa', async () => {
    const keys: SigningKey[] = [
      NobleP256SigningKey.generate(),
      await WebCryptoP256SigningKey.generate(),
    ]
    for (const key of keys) {
      const publicKey = await key.public()
      const message = `hello ${publicKey} ☃ 𝄞`
      const signature = await key.sign(message)
      for (const [name, verifier] of verifiers) {
        await expect(verifier.verify(message, signature, publicKey), name).resolves.toBe(true)
        await expect(verifier.verify(`${message}!`, signature, publicKey), name).resolves.toBe(
          false,
        )
      }
      await expect(key.verify(message, signature)).resolves.toBe(true)
      await expect(key.verifier().verify(message, signature, publicKey)).resolves.toBe(true)
    }
  })

  it('accepts the high-S twin of every signature under both backends', async () => {
    const key = NobleP256SigningKey.generate()
    const webKey = await WebCryptoP256SigningKey.fromSecretKey(p256.utils.randomSecretKey())
    for (const signer of [key, webKey]) {
      const publicKey = await signer.public()
      const signature = await signer.sign('malleable')
      // Both backends emit low-S; the twin is high-S and must still verify.
      expect(isHighS(signature)).toBe(false)
      const twin = flipS(signature)
      expect(isHighS(twin)).toBe(true)
      for (const [name, verifier] of verifiers) {
        await expect(verifier.verify('malleable', twin, publicKey), name).resolves.toBe(true)
      }
      await expect(signer.verify('malleable', twin)).resolves.toBe(true)
    }
  })

  it('property: any message signed by either backend verifies under both', async () => {
    const nobleKey = NobleP256SigningKey.generate()
    const webKey = await WebCryptoP256SigningKey.generate()
    await fc.assert(
      fc.asyncProperty(
        fc.string({ unit: 'binary', maxLength: 200 }),
        fc.boolean(),
        async (m, w) => {
          const key = w ? webKey : nobleKey
          const signature = await key.sign(m)
          const publicKey = await key.public()
          expect(await noble.verify(m, signature, publicKey)).toBe(true)
          expect(await webcrypto.verify(m, signature, publicKey)).toBe(true)
        },
      ),
      { numRuns: 50 },
    )
  })
})

describe('NobleP256SigningKey', () => {
  it('is deterministic (RFC 6979) for a fixed secret', async () => {
    const secret = new Uint8Array(32).fill(7)
    const a = NobleP256SigningKey.fromSecretKey(secret)
    const b = NobleP256SigningKey.fromSecretKey(secret)
    await expect(a.public()).resolves.toBe(await b.public())
    await expect(a.sign('same')).resolves.toBe(await b.sign('same'))
    expect(await a.sign('same')).not.toBe(await a.sign('other'))
  })

  it('derives the compressed public key and copies the secret', async () => {
    const secret = p256.utils.randomSecretKey()
    const key = NobleP256SigningKey.fromSecretKey(secret)
    const expected = encodeCesr('1AAI', p256.getPublicKey(secret, true))
    secret.fill(1)
    await expect(key.public()).resolves.toBe(expected)
    expect((await key.public()).length).toBe(48)
    const signature = await key.sign('x')
    expect(signature).toMatch(/^0I[A-Za-z0-9_-]{86}$/)
    await expect(noble.verify('x', signature, expected)).resolves.toBe(true)
  })

  it('matches the Web Crypto key imported from the same secret', async () => {
    const secret = p256.utils.randomSecretKey()
    const a = NobleP256SigningKey.fromSecretKey(secret)
    const b = await WebCryptoP256SigningKey.fromSecretKey(secret)
    await expect(b.public()).resolves.toBe(await a.public())
    await expect(a.verify('m', await b.sign('m'))).resolves.toBe(true)
    await expect(b.verify('m', await a.sign('m'))).resolves.toBe(true)
  })

  it('does not expose the secret through JSON or enumeration', () => {
    const key = NobleP256SigningKey.fromSecretKey(new Uint8Array(32).fill(9))
    expect(JSON.stringify(key)).toBe('{}')
    expect(Object.keys(key)).toEqual([])
  })

  it('rejects secrets that are not scalars in [1, n-1]', () => {
    const bad: unknown[] = [
      new Uint8Array(32),
      scalarBytes(N),
      scalarBytes(N + 1n),
      new Uint8Array(31).fill(1),
      new Uint8Array(33).fill(1),
      Array.from({ length: 32 }, () => 1),
    ]
    for (const secret of bad) {
      expect(() => NobleP256SigningKey.fromSecretKey(secret as Uint8Array)).toThrow(
        expect.objectContaining({ code: 'BA001' }),
      )
    }
    expect(() => NobleP256SigningKey.fromSecretKey(scalarBytes(N - 1n))).not.toThrow()
  })
})

describe('malformed signatures and keys', () => {
  const key = NobleP256SigningKey.fromSecretKey(new Uint8Array(32).fill(3))
  const message = 'message'

  async function material(): Promise<{ signature: string; publicKey: string }> {
    return { signature: await key.sign(message), publicKey: await key.public() }
  }

  function withScalars(r: bigint, s: bigint): string {
    const raw = new Uint8Array(64)
    raw.set(scalarBytes(r), 0)
    raw.set(scalarBytes(s), 32)
    return encodeCesr('0I', raw)
  }

  it('resolves false for r or s equal to 0 or n (range), and for r‖s swapped', async () => {
    const { signature, publicKey } = await material()
    const raw = decodeCesrAs('0I', signature)
    const r = scalar(raw.subarray(0, 32))
    const s = scalar(raw.subarray(32))
    const bad = [
      withScalars(0n, s),
      withScalars(r, 0n),
      withScalars(r + N, s),
      withScalars(r, s + N),
      withScalars(N, s),
      withScalars(s, r),
    ].filter((sig) => sig.length === 88)
    for (const [name, verifier] of verifiers) {
      for (const sig of bad) {
        await expect(verifier.verify(message, sig, publicKey), name).resolves.toBe(false)
      }
    }
    for (const backend of ['noble', 'webcrypto'] as const) {
      const pk = p256.Point.fromBytes(decodeCesrAs('1AAI', publicKey)).toBytes(false)
      const max = new Uint8Array(64).fill(0xff)
      await expect(verifyP256Raw(backend, new Uint8Array(0), max, pk)).resolves.toBe(false)
    }
  })

  it('resolves false for off-curve, identity-like and wrongly-prefixed keys', async () => {
    const { signature, publicKey } = await material()
    const compressed = decodeCesrAs('1AAI', publicKey)
    const uncompressed = p256.Point.fromBytes(compressed).toBytes(false)
    const offCurve = new Uint8Array(uncompressed)
    offCurve[64] = (offCurve[64] ?? 0) ^ 1
    const wrongPrefix = new Uint8Array(compressed)
    wrongPrefix[0] = 0x04
    const flippedParity = new Uint8Array(compressed)
    flippedParity[0] = (flippedParity[0] ?? 0) ^ 1
    const hybrid = new Uint8Array(uncompressed)
    hybrid[0] = 0x06 | ((uncompressed[64] ?? 0) & 1)
    // x = p (not a field element) cannot be a point.
    const notField = new Uint8Array(33).fill(0xff)
    notField[0] = 0x02
    const raw = decodeCesrAs('0I', signature)
    for (const backend of ['noble', 'webcrypto'] as const) {
      const bytes = new TextEncoder().encode(message)
      await expect(verifyP256Raw(backend, bytes, raw, uncompressed)).resolves.toBe(true)
      for (const bad of [
        offCurve,
        wrongPrefix,
        flippedParity,
        hybrid,
        notField,
        new Uint8Array(33),
        new Uint8Array(65),
        new Uint8Array([0]),
        uncompressed.subarray(0, 64),
        compressed.subarray(1),
      ]) {
        await expect(verifyP256Raw(backend, bytes, raw, bad), backend).resolves.toBe(false)
      }
    }
    for (const [name, verifier] of verifiers) {
      await expect(
        verifier.verify(message, signature, encodeCesr('1AAI', wrongPrefix)),
        name,
      ).resolves.toBe(false)
      await expect(
        verifier.verify(message, signature, encodeCesr('1AAI', flippedParity)),
        name,
      ).resolves.toBe(false)
    }
  })

  it('resolves false for malformed CESR', async () => {
    const { signature, publicKey } = await material()
    const bad = malformedCesrPairs(signature, publicKey)
    for (const [name, verifier] of verifiers) {
      await expect(verifier.verify(message, signature, publicKey), name).resolves.toBe(true)
      for (const [sig, pk] of bad) {
        await expect(verifier.verify(message, sig, pk), name).resolves.toBe(false)
      }
    }
  })

  it('resolves false for raw signatures of the wrong length (DER, truncated, padded)', async () => {
    const { signature, publicKey } = await material()
    const raw = decodeCesrAs('0I', signature)
    const pk = decodeCesrAs('1AAI', publicKey)
    const der = p256.Signature.fromBytes(raw, 'compact').toBytes('der')
    const bytes = new TextEncoder().encode(message)
    for (const backend of ['noble', 'webcrypto'] as const) {
      await expect(verifyP256Raw(backend, bytes, raw, pk)).resolves.toBe(true)
      for (const bad of [
        der,
        raw.subarray(0, 63),
        new Uint8Array([...raw, 0]),
        new Uint8Array(0),
      ]) {
        await expect(verifyP256Raw(backend, bytes, bad, pk)).resolves.toBe(false)
      }
    }
  })
})
