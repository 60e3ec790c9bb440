import { generateKeyPairSync } from 'node:crypto'
import { inspect } from 'node:util'
import { decodeCesrAs, encodeCesr } from '@better-auth/cesr'
import { ConfigurationError, InvalidMessageError, isBetterAuthError } from '@better-auth/protocol'
import type { SigningKey, Verifier } from '@better-auth/protocol'
import { p256 } from '@noble/curves/nist.js'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { N, flipS, isHighS, scalar, scalarBytes } from '../testing-internal/scalars.js'
import { NobleP256SigningKey, NobleP256Verifier } from '../p256/noble.js'
import { WebCryptoP256SigningKey, WebCryptoP256Verifier } from '../p256/webcrypto.js'
import {
  WRONG_TYPES,
  malformedCesrPairs,
  payloadText,
  signatureOf,
  specMessage,
  specMessages,
} from '../testing-internal/vectors.js'
import { importPublicKey } from './key-import.js'
import { NodeP256SigningKey, NodeP256Verifier, verifyP256RawNode } from './p256.js'

const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text)

const node = new NodeP256Verifier()
const verifiers: readonly [string, Verifier][] = [
  ['node', node],
  ['noble', new NobleP256Verifier()],
  ['webcrypto', new WebCryptoP256Verifier()],
]

describe('spec examples', () => {
  it('account.create.request verifies over the exact payload bytes', async () => {
    const message = specMessage('account.create.request')
    const payload = payloadText(message)
    const signature = signatureOf(message)
    const { publicKey } = (
      JSON.parse(payload) as { request: { authentication: { publicKey: string } } }
    ).request.authentication
    await expect(node.verify(payload, signature, publicKey)).resolves.toBe(true)
    await expect(node.verify(payload.replace('0AB', '0AC'), signature, publicKey)).resolves.toBe(
      false,
    )
    // Re-serialized payloads are different bytes and must not verify.
    await expect(
      node.verify(JSON.stringify(JSON.parse(payload), null, 1), signature, publicKey),
    ).resolves.toBe(false)
  })

  it('every response verifies with its serverIdentity, high-S signatures included', async () => {
    let highS = 0
    for (const { id, message } of specMessages()) {
      if (!id.endsWith('.response')) continue
      const payload = payloadText(message)
      const signature = signatureOf(message)
      const key = (JSON.parse(payload) as { access: { serverIdentity: string } }).access
        .serverIdentity
      await expect(node.verify(payload, signature, key), id).resolves.toBe(true)
      if (isHighS(signature)) highS++
    }
    expect(highS).toBeGreaterThan(0)
  })
})

describe('cross-backend signing and verification', () => {
  it('node-signed messages verify under noble and webcrypto, and vice versa', async () => {
    const signers: [string, SigningKey][] = [
      ['node', NodeP256SigningKey.generate()],
      ['noble', NobleP256SigningKey.generate()],
      ['webcrypto', await WebCryptoP256SigningKey.generate()],
    ]
    for (const [signerName, key] of signers) {
      const publicKey = await key.public()
      const message = `hello ${publicKey} ☃ 𝄞`
      const signature = await key.sign(message)
      for (const [name, verifier] of verifiers) {
        const label = `${signerName} → ${name}`
        await expect(verifier.verify(message, signature, publicKey), label).resolves.toBe(true)
        await expect(verifier.verify(`${message}!`, signature, publicKey), label).resolves.toBe(
          false,
        )
      }
    }
  })

  it('the same secret gives the same public key on every backend', async () => {
    const secret = p256.utils.randomSecretKey()
    const key = NodeP256SigningKey.fromSecretKey(secret)
    const expected = encodeCesr('1AAI', p256.getPublicKey(secret, true))
    await expect(key.public()).resolves.toBe(expected)
    await expect(NobleP256SigningKey.fromSecretKey(secret).public()).resolves.toBe(expected)
    const webKey = await WebCryptoP256SigningKey.fromSecretKey(secret)
    await expect(webKey.public()).resolves.toBe(expected)
    await expect(key.verify('m', await webKey.sign('m'))).resolves.toBe(true)
  })

  it('emits low-S signatures and accepts their high-S twins', async () => {
    const key = NodeP256SigningKey.generate()
    const publicKey = await key.public()
    for (let i = 0; i < 20; i++) {
      const signature = await key.sign(`malleable ${i}`)
      expect(isHighS(signature)).toBe(false)
      const twin = flipS(signature)
      expect(isHighS(twin)).toBe(true)
      await expect(node.verify(`malleable ${i}`, twin, publicKey)).resolves.toBe(true)
      await expect(key.verify(`malleable ${i}`, twin)).resolves.toBe(true)
    }
  })

  it('property: any string signed by node verifies under noble, and the reverse', async () => {
    const nodeKey = NodeP256SigningKey.generate()
    const nobleKey = NobleP256SigningKey.generate()
    const noble = new NobleP256Verifier()
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: 'binary', maxLength: 200 }), async (m) => {
        await expect(noble.verify(m, await nodeKey.sign(m), await nodeKey.public())).resolves.toBe(
          true,
        )
        await expect(node.verify(m, await nobleKey.sign(m), await nobleKey.public())).resolves.toBe(
          true,
        )
      }),
      { numRuns: 50 },
    )
  })
})

describe('NodeP256Verifier key cache', () => {
  it('imports each public key once and reuses it', async () => {
    const verifier = new NodeP256Verifier()
    const key = NodeP256SigningKey.generate()
    for (let i = 0; i < 5; i++) {
      await expect(
        verifier.verify(`m${i}`, await key.sign(`m${i}`), await key.public()),
      ).resolves.toBe(true)
    }
    expect(verifier.cachedKeys).toBe(1)
  })

  it('stays within keyCacheSize and still verifies evicted keys', async () => {
    const verifier = new NodeP256Verifier({ keyCacheSize: 3 })
    const keys = Array.from({ length: 6 }, () => NodeP256SigningKey.generate())
    for (const key of [...keys, ...keys]) {
      await expect(verifier.verify('m', await key.sign('m'), await key.public())).resolves.toBe(
        true,
      )
      expect(verifier.cachedKeys).toBeLessThanOrEqual(3)
    }
    expect(verifier.cachedKeys).toBe(3)
  })

  it('does not cache invalid keys, or keys seen only with malformed signatures', async () => {
    const verifier = new NodeP256Verifier({ keyCacheSize: 4 })
    const key = NodeP256SigningKey.generate()
    const signature = await key.sign('m')
    await expect(verifier.verify('m', signature, `1AAI${'A'.repeat(44)}`)).resolves.toBe(false)
    await expect(verifier.verify('m', `0I${'A'.repeat(86)}`, await key.public())).resolves.toBe(
      false,
    )
    expect(verifier.cachedKeys).toBe(0)
  })

  it('keyCacheSize 0 disables caching but keeps verifying', async () => {
    const verifier = new NodeP256Verifier({ keyCacheSize: 0 })
    const key = NodeP256SigningKey.generate()
    await expect(verifier.verify('m', await key.sign('m'), await key.public())).resolves.toBe(true)
    expect(verifier.cachedKeys).toBe(0)
  })

  it('rejects invalid options with ConfigurationError', () => {
    for (const options of [null, 42, 'x', { keyCacheSize: -1 }, { keyCacheSize: 1.5 }]) {
      expect(() => new NodeP256Verifier(options as never)).toThrow(ConfigurationError)
    }
  })
})

describe('public key import', () => {
  it('accepts exactly the compressed points noble accepts (property over random x)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.boolean(), (x, odd) => {
        const bytes = new Uint8Array([odd ? 3 : 2, ...x])
        let nobleAccepts = true
        try {
          p256.Point.fromBytes(bytes)
        } catch {
          nobleAccepts = false
        }
        expect(importPublicKey(bytes) !== null).toBe(nobleAccepts)
      }),
      { numRuns: 300 },
    )
  })

  it('rejects hybrid, off-curve, wrongly-prefixed and wrong-length keys', async () => {
    const key = NodeP256SigningKey.generate()
    const message = utf8('message')
    const signature = decodeCesrAs('0I', await key.sign('message'))
    const compressed = decodeCesrAs('1AAI', await key.public())
    const uncompressed = p256.Point.fromBytes(compressed).toBytes(false)
    await expect(verifyP256RawNode(message, signature, compressed)).resolves.toBe(true)
    await expect(verifyP256RawNode(message, signature, uncompressed)).resolves.toBe(true)
    const hybrid = new Uint8Array(uncompressed)
    hybrid[0] = 0x06 | ((uncompressed[64] ?? 0) & 1)
    const offCurve = new Uint8Array(uncompressed)
    offCurve[64] = (offCurve[64] ?? 0) ^ 1
    const wrongPrefix = new Uint8Array(compressed)
    wrongPrefix[0] = 0x04
    // The negated point is a valid key, just not this one: it imports and does not verify.
    const flippedParity = new Uint8Array(compressed)
    flippedParity[0] = (flippedParity[0] ?? 0) ^ 1
    expect(importPublicKey(flippedParity)).not.toBeNull()
    await expect(verifyP256RawNode(message, signature, flippedParity)).resolves.toBe(false)
    const notField = new Uint8Array(33).fill(0xff)
    notField[0] = 0x02
    for (const bad of [
      hybrid,
      offCurve,
      wrongPrefix,
      notField,
      new Uint8Array(33),
      new Uint8Array(65),
      new Uint8Array([0]),
      uncompressed.subarray(0, 64),
      compressed.subarray(1),
    ]) {
      expect(importPublicKey(bad)).toBeNull()
      await expect(verifyP256RawNode(message, signature, bad)).resolves.toBe(false)
    }
  })
})

describe('malformed input', () => {
  const key = NodeP256SigningKey.fromSecretKey(new Uint8Array(32).fill(3))

  function withScalars(r: bigint, s: bigint): Uint8Array {
    const raw = new Uint8Array(64)
    raw.set(scalarBytes(r), 0)
    raw.set(scalarBytes(s), 32)
    return raw
  }

  it('resolves false for r or s out of range, swapped, or of the wrong length', async () => {
    const signature = await key.sign('message')
    const publicKey = await key.public()
    const raw = decodeCesrAs('0I', signature)
    const r = scalar(raw.subarray(0, 32))
    const s = scalar(raw.subarray(32))
    const pk = decodeCesrAs('1AAI', publicKey)
    const message = utf8('message')
    for (const bad of [
      withScalars(0n, s),
      withScalars(r, 0n),
      withScalars(N, s),
      withScalars(r, N),
      withScalars(s, r),
      new Uint8Array(64).fill(0xff),
      raw.subarray(0, 63),
      new Uint8Array([...raw, 0]),
      p256.Signature.fromBytes(raw, 'compact').toBytes('der'),
    ]) {
      await expect(verifyP256RawNode(message, bad, pk)).resolves.toBe(false)
      if (bad.length === 64) {
        await expect(node.verify('message', encodeCesr('0I', bad), publicKey)).resolves.toBe(false)
        await expect(key.verify('message', encodeCesr('0I', bad))).resolves.toBe(false)
      }
    }
  })

  it('resolves false for malformed CESR', async () => {
    const signature = await key.sign('message')
    const publicKey = await key.public()
    await expect(node.verify('message', signature, publicKey)).resolves.toBe(true)
    const bad = malformedCesrPairs(signature, publicKey)
    for (const [sig, pk] of bad) {
      await expect(node.verify('message', sig, pk)).resolves.toBe(false)
    }
    await expect(key.verify('message', signature.slice(0, -1))).resolves.toBe(false)
  })

  it('wrong types resolve false in every position and never throw', async () => {
    const signature = await key.sign('message')
    const publicKey = await key.public()
    const raw = [utf8('message'), decodeCesrAs('0I', signature), decodeCesrAs('1AAI', publicKey)]
    for (const value of WRONG_TYPES) {
      const v = value as string
      await expect(node.verify(v, signature, publicKey)).resolves.toBe(false)
      await expect(node.verify('message', v, publicKey)).resolves.toBe(false)
      await expect(node.verify('message', signature, v)).resolves.toBe(false)
      await expect(key.verify(v, signature)).resolves.toBe(false)
      await expect(key.verify('message', v)).resolves.toBe(false)
      for (let position = 0; position < 3; position++) {
        const args = [...raw] as [Uint8Array, Uint8Array, Uint8Array]
        args[position] = value as Uint8Array
        await expect(verifyP256RawNode(...args)).resolves.toBe(false)
      }
    }
  })

  it('sign rejects non-strings with InvalidMessageError', async () => {
    for (const value of [null, undefined, 42, {}, new Uint8Array(1)]) {
      await expect(key.sign(value as string)).rejects.toBeInstanceOf(InvalidMessageError)
    }
  })
})

describe('NodeP256SigningKey construction and persistence', () => {
  it('round-trips through PKCS #8 PEM', async () => {
    const key = NodeP256SigningKey.generate()
    const pem = key.toPkcs8Pem()
    expect(pem).toMatch(
      /^-----BEGIN PRIVATE KEY-----\n[A-Za-z0-9+/=\n]+-----END PRIVATE KEY-----\n$/,
    )
    const restored = NodeP256SigningKey.fromPkcs8Pem(pem)
    await expect(restored.public()).resolves.toBe(await key.public())
    expect(restored.toPkcs8Pem()).toBe(pem)
    await expect(key.verify('m', await restored.sign('m'))).resolves.toBe(true)
    await expect(restored.verify('m', await key.sign('m'))).resolves.toBe(true)
  })

  it('reads a PKCS #8 PEM written by OpenSSL, and one from fromSecretKey', async () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
    const pem = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString()
    const key = NodeP256SigningKey.fromPkcs8Pem(`\n${pem.replace(/\n/g, '\r\n')}`)
    await expect(node.verify('m', await key.sign('m'), await key.public())).resolves.toBe(true)

    const secret = p256.utils.randomSecretKey()
    const fromSecret = NodeP256SigningKey.fromSecretKey(secret)
    const viaPem = NodeP256SigningKey.fromPkcs8Pem(fromSecret.toPkcs8Pem())
    await expect(viaPem.public()).resolves.toBe(encodeCesr('1AAI', p256.getPublicKey(secret, true)))
  })

  it('rejects other PEMs and garbage with ConfigurationError that does not echo the input', () => {
    const sec1 = generateKeyPairSync('ec', { namedCurve: 'P-256' })
      .privateKey.export({ format: 'pem', type: 'sec1' })
      .toString()
    const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' })
      .privateKey.export({ format: 'pem', type: 'pkcs8' })
      .toString()
    const ed25519 = generateKeyPairSync('ed25519')
      .privateKey.export({ format: 'pem', type: 'pkcs8' })
      .toString()
    const encrypted = generateKeyPairSync('ec', { namedCurve: 'P-256' })
      .privateKey.export({
        format: 'pem',
        type: 'pkcs8',
        cipher: 'aes-256-cbc',
        passphrase: 'pass',
      })
      .toString()
    const publicPem = generateKeyPairSync('ec', { namedCurve: 'P-256' })
      .publicKey.export({ format: 'pem', type: 'spki' })
      .toString()
    const valid = NodeP256SigningKey.generate().toPkcs8Pem()
    const corrupted = valid.replace(/\n[A-Za-z0-9+/]{10}/, '\n!!!!!!!!!!')
    const truncated = valid.slice(0, 80)
    for (const pem of [sec1, p384, ed25519, encrypted, publicPem, corrupted, truncated, '', 'x']) {
      let thrown: unknown
      try {
        NodeP256SigningKey.fromPkcs8Pem(pem)
      } catch (error) {
        thrown = error
      }
      expect(thrown).toBeInstanceOf(ConfigurationError)
      const error = thrown as ConfigurationError
      const body = pem.split('\n').find((line) => line.length > 20 && !line.startsWith('-----'))
      const shown = `${error.message} ${JSON.stringify(error)} ${inspect(error)}`
      if (body !== undefined) expect(shown).not.toContain(body)
      expect(error.cause).toBeUndefined()
    }
    for (const value of WRONG_TYPES) {
      expect(() => NodeP256SigningKey.fromPkcs8Pem(value as string)).toThrow(ConfigurationError)
    }
  })

  it('rejects secrets that are not scalars in [1, n-1]', () => {
    for (const secret of [
      new Uint8Array(32),
      scalarBytes(N),
      scalarBytes(N + 1n),
      new Uint8Array(31).fill(1),
      new Uint8Array(33).fill(1),
      Array.from({ length: 32 }, () => 1),
      ...WRONG_TYPES,
    ]) {
      expect(() => NodeP256SigningKey.fromSecretKey(secret as Uint8Array)).toThrow(
        expect.objectContaining({ code: 'BA001' }),
      )
    }
    expect(() => NodeP256SigningKey.fromSecretKey(scalarBytes(N - 1n))).not.toThrow()
    expect(() => NodeP256SigningKey.fromSecretKey(scalarBytes(1n))).not.toThrow()
  })

  it('copies the secret: changing the bytes afterwards does not change the key', async () => {
    const secret = p256.utils.randomSecretKey()
    const expected = encodeCesr('1AAI', p256.getPublicKey(secret, true))
    const key = NodeP256SigningKey.fromSecretKey(secret)
    secret.fill(1)
    await expect(key.public()).resolves.toBe(expected)
    await expect(node.verify('m', await key.sign('m'), expected)).resolves.toBe(true)
  })

  it('signing keys share one verifier', () => {
    const a = NodeP256SigningKey.generate()
    const b = NodeP256SigningKey.generate()
    expect(a.verifier()).toBe(b.verifier())
    expect(a.verifier()).toBeInstanceOf(NodeP256Verifier)
  })
})

describe('private key material never leaks', () => {
  /** Every textual form of the secret that could plausibly end up in a log. */
  function secretForms(key: NodeP256SigningKey, secret: Uint8Array): string[] {
    const bytes = Buffer.from(secret)
    const pemBody = key
      .toPkcs8Pem()
      .split('\n')
      .filter((line) => line.length > 0 && !line.startsWith('-----'))
    return [
      bytes.toString('hex'),
      bytes.toString('base64'),
      bytes.toString('base64url'),
      bytes.toString('base64url').slice(0, 20),
      ...pemBody,
      Array.from(secret).join(','),
    ]
  }

  it('String, JSON.stringify and util.inspect show the public key only', async () => {
    const secret = p256.utils.randomSecretKey()
    const key = NodeP256SigningKey.fromSecretKey(secret)
    const publicKey = await key.public()
    const outputs = [
      String(key),
      `${String(key)} ${[key].join()}`,
      JSON.stringify(key),
      JSON.stringify({ nested: [key] }),
      inspect(key),
      inspect(key, { showHidden: true, depth: Infinity, getters: true }),
      inspect({ nested: key }, { showHidden: true, depth: Infinity }),
    ]
    expect(String(key)).toBe(`NodeP256SigningKey(${publicKey})`)
    expect(JSON.parse(JSON.stringify(key))).toEqual({ type: 'NodeP256SigningKey', publicKey })
    expect(Object.keys(key)).toEqual([])
    for (const output of outputs) {
      expect(output).toContain(publicKey)
      for (const form of secretForms(key, secret)) expect(output).not.toContain(form)
      expect(output).not.toMatch(/PRIVATE KEY/)
    }
  })

  it('errors from bad input do not carry the input bytes', () => {
    const almost = scalarBytes(N) // one past the largest valid scalar
    try {
      NodeP256SigningKey.fromSecretKey(almost)
      expect.unreachable()
    } catch (error) {
      expect(isBetterAuthError(error)).toBe(true)
      const shown = `${String(error)} ${JSON.stringify(error)} ${inspect(error)}`
      expect(shown).not.toContain(Buffer.from(almost).toString('hex'))
      expect(shown).not.toContain(Buffer.from(almost).toString('base64url'))
    }
  })
})
