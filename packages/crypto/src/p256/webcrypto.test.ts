import { decodeCesrAs, encodeCesr } from '@better-auth/cesr'
import { ConfigurationError } from '@better-auth/protocol'
import { p256 } from '@noble/curves/nist.js'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { scalarBytes } from '../testing-internal/scalars.js'
import { toUncompressedPublicKey } from './curve.js'
import { NobleP256SigningKey } from './noble.js'
import { WebCryptoP256SigningKey, WebCryptoP256Verifier } from './webcrypto.js'

const subtle = globalThis.crypto.subtle
const EC = { name: 'ECDSA', namedCurve: 'P-256' }

describe('WebCryptoP256Verifier key cache', () => {
  it('imports each public key once and reuses it', async () => {
    const verifier = new WebCryptoP256Verifier()
    const key = NobleP256SigningKey.generate()
    const publicKey = await key.public()
    for (let i = 0; i < 5; i++) {
      await expect(verifier.verify(`m${i}`, await key.sign(`m${i}`), publicKey)).resolves.toBe(true)
    }
    expect(verifier.cachedKeys).toBe(1)
  })

  it('stays within keyCacheSize and still verifies evicted keys', async () => {
    const verifier = new WebCryptoP256Verifier({ keyCacheSize: 3 })
    const keys = Array.from({ length: 6 }, () => NobleP256SigningKey.generate())
    for (const key of [...keys, ...keys]) {
      await expect(verifier.verify('m', await key.sign('m'), await key.public())).resolves.toBe(
        true,
      )
      expect(verifier.cachedKeys).toBeLessThanOrEqual(3)
    }
    expect(verifier.cachedKeys).toBe(3)
  })

  it('does not cache invalid keys', async () => {
    const verifier = new WebCryptoP256Verifier({ keyCacheSize: 4 })
    const key = NobleP256SigningKey.generate()
    const signature = await key.sign('m')
    const invalidKey = `1AAI${'A'.repeat(44)}` // 33 zero bytes: not a SEC1 point
    await expect(verifier.verify('m', signature, invalidKey)).resolves.toBe(false)
    expect(verifier.cachedKeys).toBe(0)
  })

  it('keyCacheSize 0 disables caching but keeps verifying', async () => {
    const verifier = new WebCryptoP256Verifier({ keyCacheSize: 0 })
    const key = NobleP256SigningKey.generate()
    await expect(verifier.verify('m', await key.sign('m'), await key.public())).resolves.toBe(true)
    expect(verifier.cachedKeys).toBe(0)
  })

  it('handles concurrent verifications with one new key', async () => {
    const verifier = new WebCryptoP256Verifier()
    const key = NobleP256SigningKey.generate()
    const publicKey = await key.public()
    const signature = await key.sign('m')
    const results = await Promise.all(
      Array.from({ length: 20 }, () => verifier.verify('m', signature, publicKey)),
    )
    expect(results.every(Boolean)).toBe(true)
    expect(verifier.cachedKeys).toBe(1)
  })

  it('rejects invalid options with ConfigurationError', () => {
    for (const options of [{ keyCacheSize: -1 }, { keyCacheSize: 2.5 }, null, 42]) {
      expect(() => new WebCryptoP256Verifier(options as never)).toThrow(ConfigurationError)
    }
    expect(() => new WebCryptoP256Verifier(null as never)).toThrow(
      expect.objectContaining({ message: 'Invalid configuration: options: expected an object' }),
    )
  })

  it('keeps keys apart whose hex differs only in zero padding (0x0a 0xbc and 0xab 0x0c)', async () => {
    // Find a key with a byte below 0x10 (one hex digit unpadded) followed by one of 0x10 or more,
    // whose digit-shifted twin is also a point: without padding both would have one cache id.
    for (let seed = 1n; ; seed++) {
      const key = NobleP256SigningKey.fromSecretKey(scalarBytes(seed))
      const bytes = decodeCesrAs('1AAI', await key.public())
      for (let i = 1; i < 32; i++) {
        const [a = 0, b = 0] = [bytes[i], bytes[i + 1]]
        if (a === 0 || a >= 0x10 || b < 0x10) continue
        const twin = new Uint8Array(bytes)
        twin[i] = (a << 4) | (b >> 4)
        twin[i + 1] = b & 0x0f
        if (toUncompressedPublicKey(twin) === null) continue
        const verifier = new WebCryptoP256Verifier()
        const signature = await key.sign('m')
        await expect(verifier.verify('m', signature, await key.public())).resolves.toBe(true)
        await expect(verifier.verify('m', signature, encodeCesr('1AAI', twin))).resolves.toBe(false)
        expect(verifier.cachedKeys).toBe(2)
        return
      }
    }
  })
})

describe('WebCryptoP256Verifier on the platform Web Crypto', () => {
  afterEach(() => {
    vi.unstubAllGlobals()
  })

  /** A verifier built while `globalThis.crypto` is `crypto` (it keeps the subtle it found). */
  function verifierOn(crypto: unknown): WebCryptoP256Verifier {
    vi.stubGlobal('crypto', crypto)
    try {
      return new WebCryptoP256Verifier()
    } finally {
      vi.unstubAllGlobals()
    }
  }

  /** The real Web Crypto, recording key imports, with import or verify made to fail on demand. */
  function recordingSubtle(fail: { importKey?: boolean; verify?: boolean } = {}) {
    const imports: { extractable: boolean; usages: KeyUsage[] }[] = []
    const fake = {
      importKey: (
        format: 'raw',
        data: BufferSource,
        algorithm: EcKeyImportParams,
        extractable: boolean,
        usages: KeyUsage[],
      ) => {
        imports.push({ extractable, usages })
        if (fail.importKey === true) return Promise.reject(new Error('import failed'))
        return subtle.importKey(format, data, algorithm, extractable, usages)
      },
      verify: (...args: Parameters<SubtleCrypto['verify']>) =>
        fail.verify === true ? Promise.reject(new Error('verify failed')) : subtle.verify(...args),
    }
    return { fake, imports }
  }

  it('refuses to be built without Web Crypto', () => {
    for (const crypto of [undefined, {}]) {
      expect(() => verifierOn(crypto)).toThrow(
        expect.objectContaining({
          code: 'BA001',
          message:
            'Invalid configuration: crypto.subtle: Web Crypto is not available in this runtime',
        }),
      )
    }
  })

  it('imports each key once, for verification only, and never hands it an invalid point', async () => {
    const { fake, imports } = recordingSubtle()
    const verifier = verifierOn({ subtle: fake })
    const key = NobleP256SigningKey.generate()
    for (const message of ['a', 'b']) {
      await expect(
        verifier.verify(message, await key.sign(message), await key.public()),
      ).resolves.toBe(true)
    }
    await expect(verifier.verify('a', await key.sign('a'), `1AAI${'A'.repeat(44)}`)).resolves.toBe(
      false,
    )
    expect(imports).toEqual([{ extractable: false, usages: ['verify'] }])
  })

  it('resolves false when Web Crypto fails, and does not keep a key that failed to import', async () => {
    const key = NobleP256SigningKey.generate()
    const signature = await key.sign('m')
    const failingImport = verifierOn({ subtle: recordingSubtle({ importKey: true }).fake })
    await expect(failingImport.verify('m', signature, await key.public())).resolves.toBe(false)
    expect(failingImport.cachedKeys).toBe(0)
    const failingVerify = verifierOn({ subtle: recordingSubtle({ verify: true }).fake })
    await expect(failingVerify.verify('m', signature, await key.public())).resolves.toBe(false)
  })
})

describe('WebCryptoP256SigningKey', () => {
  it('generates a non-extractable private key by default', async () => {
    const key = await WebCryptoP256SigningKey.generate()
    expect(key.keyPair.privateKey.extractable).toBe(false)
    await expect(subtle.exportKey('pkcs8', key.keyPair.privateKey)).rejects.toThrow()
    const extractable = await WebCryptoP256SigningKey.generate({ extractable: true })
    expect(extractable.keyPair.privateKey.extractable).toBe(true)
  })

  it('publishes the compressed public key as CESR 1AAI and keeps it cached', async () => {
    const key = await WebCryptoP256SigningKey.generate()
    const publicKey = await key.public()
    expect(publicKey).toMatch(/^1AAI[A-Za-z0-9_-]{44}$/)
    const raw = new Uint8Array(await subtle.exportKey('raw', key.keyPair.publicKey))
    expect(p256.Point.fromBytes(decodeCesrAs('1AAI', publicKey)).toBytes(false)).toEqual(raw)
    await expect(key.public()).resolves.toBe(publicKey)
  })

  it('emits low-S signatures that verify, and rejects non-strings with BA101', async () => {
    const key = await WebCryptoP256SigningKey.generate()
    for (let i = 0; i < 20; i++) {
      const signature = await key.sign(`message ${i}`)
      const s = decodeCesrAs('0I', signature)
        .subarray(32)
        .reduce((acc, b) => (acc << 8n) | BigInt(b), 0n)
      expect(s <= p256.Point.Fn.ORDER >> 1n).toBe(true)
      await expect(key.verify(`message ${i}`, signature)).resolves.toBe(true)
    }
    await expect(key.sign(42 as unknown as string)).rejects.toMatchObject({ code: 'BA101' })
  })

  it('restores a stored key pair with fromCryptoKeyPair', async () => {
    const original = await WebCryptoP256SigningKey.generate()
    const restored = await WebCryptoP256SigningKey.fromCryptoKeyPair(original.keyPair)
    await expect(restored.public()).resolves.toBe(await original.public())
    await expect(original.verify('m', await restored.sign('m'))).resolves.toBe(true)
  })

  it('accepts a pair whose public key lacks the verify usage', async () => {
    const pair = await subtle.generateKey(EC, false, ['sign'])
    expect(pair.publicKey.usages).toEqual([])
    const key = await WebCryptoP256SigningKey.fromCryptoKeyPair(pair)
    await expect(key.verify('m', await key.sign('m'))).resolves.toBe(true)
  })

  it('rejects mismatched, wrong-curve and wrong-algorithm pairs with ConfigurationError', async () => {
    const a = await subtle.generateKey(EC, false, ['sign', 'verify'])
    const b = await subtle.generateKey(EC, false, ['sign', 'verify'])
    const p384 = await subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-384' }, false, ['sign'])
    const ecdh = await subtle.generateKey({ name: 'ECDH', namedCurve: 'P-256' }, false, [
      'deriveBits',
    ])
    const hiddenPublic = await subtle.importKey(
      'raw',
      await subtle.exportKey('raw', a.publicKey),
      EC,
      false,
      ['verify'],
    )
    const fake = (type: string, usages: string[]) => ({ type, algorithm: EC, usages })
    const bad: unknown[] = [
      { privateKey: a.privateKey, publicKey: b.publicKey },
      { privateKey: a.privateKey, publicKey: hiddenPublic },
      { privateKey: fake('private', ['sign']), publicKey: fake('public', ['verify']) },
      { privateKey: fake('private', ['sign']), publicKey: a.publicKey },
      p384,
      ecdh,
      { privateKey: a.publicKey, publicKey: a.privateKey },
      { privateKey: a.privateKey },
      null,
      {},
      42,
    ]
    for (const pair of bad) {
      await expect(
        WebCryptoP256SigningKey.fromCryptoKeyPair(pair as CryptoKeyPair),
      ).rejects.toThrow(ConfigurationError)
    }
  })

  it('imports a secret through JWK, non-extractable unless asked', async () => {
    const secret = p256.utils.randomSecretKey()
    const key = await WebCryptoP256SigningKey.fromSecretKey(secret)
    expect(key.keyPair.privateKey.extractable).toBe(false)
    const exportable = await WebCryptoP256SigningKey.fromSecretKey(secret, { extractable: true })
    const jwk = await subtle.exportKey('jwk', exportable.keyPair.privateKey)
    expect(jwk.d).toMatch(/^[A-Za-z0-9_-]{43}$/)
    await expect(key.public()).resolves.toBe(
      await NobleP256SigningKey.fromSecretKey(secret).public(),
    )
  })

  it('rejects bad secrets and options with ConfigurationError', async () => {
    for (const secret of [new Uint8Array(32), new Uint8Array(31).fill(1), null, 'secret']) {
      await expect(
        WebCryptoP256SigningKey.fromSecretKey(secret as Uint8Array),
      ).rejects.toMatchObject({ code: 'BA001' })
    }
    await expect(
      WebCryptoP256SigningKey.generate({ extractable: 'yes' as unknown as boolean }),
    ).rejects.toMatchObject({ code: 'BA001' })
    await expect(WebCryptoP256SigningKey.generate(null as never)).rejects.toMatchObject({
      code: 'BA001',
    })
  })
})
