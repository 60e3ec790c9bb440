import { base64UrlEncode } from '@better-auth/cesr'
import { ConfigurationError } from '@better-auth/protocol'
import { p256 } from '@noble/curves/nist.js'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { utf8 } from '../internal/bytes.js'
import { payloadText, signatureOf, specMessage, specMessages } from '../testing-internal/vectors.js'
import { scalarBytes } from '../testing-internal/scalars.js'
import { decodeSignature } from './curve.js'
import { p256PublicKeyFromJwk, p256PublicKeyToJwk, pkcs8PemToDer } from './key-formats.js'
import { NobleP256SigningKey } from './noble.js'
import { WebCryptoP256SigningKey } from './webcrypto.js'

const subtle = globalThis.crypto.subtle
const EC = { name: 'ECDSA', namedCurve: 'P-256' }
const N = p256.Point.Fn.ORDER

/** Every distinct CESR P-256 public key in the published spec examples. */
function specPublicKeys(): string[] {
  const keys = new Set<string>()
  for (const { message } of specMessages()) {
    for (const match of message.matchAll(/"(1AAI[A-Za-z0-9_-]{44})"/g)) keys.add(match[1]!)
  }
  return [...keys]
}

/** Calls `run` and returns what it threw (or rejected with). */
async function thrownBy(run: () => unknown): Promise<unknown> {
  try {
    await run()
  } catch (error) {
    return error
  }
  return undefined
}

/** The error is a ConfigurationError and shows none of `secrets` anywhere a log could print. */
function expectQuietConfigurationError(error: unknown, secrets: readonly string[]): void {
  expect(error).toBeInstanceOf(ConfigurationError)
  const shown = `${String(error)} ${JSON.stringify(error)} ${(error as Error).stack ?? ''}`
  for (const secret of secrets) if (secret.length >= 8) expect(shown).not.toContain(secret)
  expect((error as Error).cause).toBeUndefined()
}

async function extractableKey(): Promise<WebCryptoP256SigningKey> {
  return WebCryptoP256SigningKey.generate({ extractable: true })
}

describe('public keys as JWK, on the published spec vectors', () => {
  const keys = specPublicKeys()

  it('finds the vectors’ keys', () => {
    expect(keys.length).toBeGreaterThanOrEqual(10)
  })

  it('round-trips every vector key CESR → JWK → CESR', () => {
    for (const key of keys) {
      const jwk = p256PublicKeyToJwk(key)
      expect(Object.keys(jwk).sort()).toEqual(['crv', 'kty', 'x', 'y'])
      expect(p256PublicKeyFromJwk(jwk)).toBe(key)
    }
  })

  it('verifies a vector request and response with keys imported into Web Crypto from their JWKs', async () => {
    for (const [id, keyPath] of [
      ['account.create.request', ['request', 'authentication', 'publicKey']],
      ['account.create.response', ['access', 'serverIdentity']],
    ] as const) {
      const message = specMessage(id)
      let value: unknown = (JSON.parse(message) as { payload: unknown }).payload
      for (const part of keyPath) value = (value as Record<string, unknown>)[part]
      const key = await subtle.importKey('jwk', p256PublicKeyToJwk(value as string), EC, false, [
        'verify',
      ])
      const signature = decodeSignature(signatureOf(message))!
      const signed = utf8(payloadText(message))
      const verify = (bytes: Uint8Array<ArrayBuffer>) =>
        subtle.verify({ name: 'ECDSA', hash: 'SHA-256' }, key, new Uint8Array(signature), bytes)
      await expect(verify(signed)).resolves.toBe(true)
      await expect(verify(utf8(`${payloadText(message)} `))).resolves.toBe(false)
    }
  })

  it('gives a private JWK’s public key, and the one Web Crypto exports', async () => {
    const key = await extractableKey()
    const jwk = await key.toJwk()
    expect(p256PublicKeyFromJwk(jwk)).toBe(await key.public())
    const exported = await subtle.exportKey('jwk', key.keyPair.publicKey)
    expect(p256PublicKeyFromJwk(exported)).toBe(await key.public())
  })

  it('refuses what is not a P-256 public key, without echoing it', async () => {
    const jwk = p256PublicKeyToJwk(keys[0]!)
    const offCurve = { ...jwk, y: base64UrlEncode(new Uint8Array(32).fill(7)) }
    for (const bad of [
      { ...jwk, kty: 'OKP' },
      { ...jwk, crv: 'P-384' },
      { ...jwk, x: undefined },
      { ...jwk, x: `${jwk.x}A` },
      { ...jwk, x: `${jwk.x.slice(0, -1)}=` },
      offCurve,
      null,
      [],
      'EC',
    ]) {
      expectQuietConfigurationError(await thrownBy(() => p256PublicKeyFromJwk(bad as JsonWebKey)), [
        offCurve.y,
      ])
    }
    for (const bad of ['', keys[0]!.slice(1), `1AAI${'A'.repeat(44)}`, 42, null]) {
      expectQuietConfigurationError(await thrownBy(() => p256PublicKeyToJwk(bad as string)), [])
    }
  })
})

describe('WebCryptoP256SigningKey in JWK and PKCS #8', () => {
  it('round-trips through JWK and PEM with the same public key and working signatures', async () => {
    const key = await extractableKey()
    const jwk = await key.toJwk()
    expect(Object.keys(jwk).sort()).toEqual(['crv', 'd', 'kty', 'x', 'y'])
    const pem = await key.toPkcs8Pem()
    expect(pem).toMatch(
      /^-----BEGIN PRIVATE KEY-----\n([A-Za-z0-9+/=]{1,64}\n)+-----END PRIVATE KEY-----\n$/,
    )
    for (const restored of [
      await WebCryptoP256SigningKey.fromJwk(jwk),
      await WebCryptoP256SigningKey.fromPkcs8Pem(pem),
    ]) {
      await expect(restored.public()).resolves.toBe(await key.public())
      await expect(key.verify('m', await restored.sign('m'))).resolves.toBe(true)
      // Imported keys are non-extractable unless asked for.
      expect(restored.keyPair.privateKey.extractable).toBe(false)
      expectQuietConfigurationError(await thrownBy(() => restored.toJwk()), [])
      expectQuietConfigurationError(await thrownBy(() => restored.toPkcs8Pem()), [])
    }
    const again = await WebCryptoP256SigningKey.fromPkcs8Pem(pem, { extractable: true })
    await expect(again.toJwk()).resolves.toEqual(jwk)
  })

  it('gives the same key as fromSecretKey and the noble key of the same scalar', async () => {
    const secret = p256.utils.randomSecretKey()
    const noble = NobleP256SigningKey.fromSecretKey(secret)
    const key = await WebCryptoP256SigningKey.fromSecretKey(secret, { extractable: true })
    const jwk = await key.toJwk()
    expect(jwk.d).toBe(base64UrlEncode(secret))
    await expect(key.public()).resolves.toBe(await noble.public())
    // `x`/`y` are optional on import: they are derived from `d`.
    const fromD = await WebCryptoP256SigningKey.fromJwk({ kty: 'EC', crv: 'P-256', d: jwk.d })
    await expect(fromD.public()).resolves.toBe(await noble.public())
    await expect(noble.verify('m', await fromD.sign('m'))).resolves.toBe(true)
  })

  it('reads a PKCS #8 PEM with CRLF lines and surrounding whitespace', async () => {
    const key = await extractableKey()
    const pem = (await key.toPkcs8Pem()).replace(/\n/g, '\r\n')
    const restored = await WebCryptoP256SigningKey.fromPkcs8Pem(`\n  ${pem}\n`)
    await expect(restored.public()).resolves.toBe(await key.public())
  })

  it('refuses malformed JWKs with ConfigurationError that does not echo the key', async () => {
    const key = await extractableKey()
    const jwk = await key.toJwk()
    const other = await (await extractableKey()).toJwk()
    const standardAlphabet = jwk.d.replace(/-/g, '+').replace(/_/g, '/')
    for (const bad of [
      { ...jwk, kty: 'RSA' },
      { ...jwk, crv: 'secp256k1' },
      { ...jwk, d: undefined },
      { ...jwk, d: `${jwk.d}=` },
      { ...jwk, d: jwk.d.slice(1) },
      { ...jwk, d: standardAlphabet === jwk.d ? `${jwk.d}+` : standardAlphabet },
      { ...jwk, d: base64UrlEncode(new Uint8Array(32)) },
      { ...jwk, d: base64UrlEncode(scalarBytes(N)) },
      { ...jwk, x: other.x, y: other.y },
      { ...jwk, y: undefined },
      null,
      'jwk',
      [jwk],
    ]) {
      const error = await thrownBy(() => WebCryptoP256SigningKey.fromJwk(bad as JsonWebKey))
      expectQuietConfigurationError(error, [jwk.d, standardAlphabet])
    }
  })

  it('refuses malformed PEMs with ConfigurationError that does not echo the key', async () => {
    const key = await extractableKey()
    const pem = await key.toPkcs8Pem()
    const body = pem.split('\n')[1]!
    const spki = await subtle.exportKey('spki', key.keyPair.publicKey)
    const p384 = await subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-384' }, true, ['sign'])
    const p384Der = new Uint8Array(await subtle.exportKey('pkcs8', p384.privateKey))
    const p384Pem = `-----BEGIN PRIVATE KEY-----\n${base64(p384Der)}\n-----END PRIVATE KEY-----\n`
    for (const bad of [
      pem.replace(/PRIVATE KEY/g, 'EC PRIVATE KEY'),
      pem.replace(/PRIVATE KEY/g, 'ENCRYPTED PRIVATE KEY'),
      `-----BEGIN PRIVATE KEY-----\n${base64(new Uint8Array(spki))}\n-----END PRIVATE KEY-----\n`,
      p384Pem,
      pem.replace(body, `${body.slice(0, 10)}!!!!${body.slice(14)}`),
      pem.replace(body, body.slice(0, 20)),
      `${pem}trailing`,
      '',
      'x',
    ]) {
      const error = await thrownBy(() => WebCryptoP256SigningKey.fromPkcs8Pem(bad))
      expectQuietConfigurationError(error, [body, body.slice(14)])
    }
  })

  it('refuses anything at all that is not a JWK or a PEM with ConfigurationError (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.anything(),
          fc.record({ kty: fc.constant('EC'), crv: fc.constant('P-256'), d: fc.string() }),
          fc.record({
            kty: fc.constant('EC'),
            crv: fc.constant('P-256'),
            d: fc.base64String(),
            x: fc.base64String(),
            y: fc.base64String(),
          }),
        ),
        async (value) => {
          const error = await thrownBy(() => WebCryptoP256SigningKey.fromJwk(value as JsonWebKey))
          expect(error).toBeInstanceOf(ConfigurationError)
        },
      ),
      { numRuns: 200 },
    )
    fc.assert(
      fc.property(fc.oneof(fc.anything(), fc.base64String().map(asPem)), (value) => {
        // Only the PEM decoding step: valid base64 of junk is left to the backend's DER parser.
        try {
          pkcs8PemToDer(value)
        } catch (error) {
          expect(error).toBeInstanceOf(ConfigurationError)
        }
      }),
      { numRuns: 300 },
    )
  })
})

function base64(bytes: Uint8Array): string {
  const url = base64UrlEncode(bytes)
  return url.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (url.length % 4)) % 4)
}

function asPem(body: string): string {
  return `-----BEGIN PRIVATE KEY-----\n${body}\n-----END PRIVATE KEY-----\n`
}
