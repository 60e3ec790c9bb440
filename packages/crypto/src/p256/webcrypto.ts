import { encodeCesr } from '@better-auth/cesr'
import { ConfigurationError, InvalidMessageError } from '@better-auth/protocol'
import type { SigningKey, Verifier } from '@better-auth/protocol'
import { copyBytes, isBytes, utf8 } from '../internal/bytes.js'
import type { P256Backend } from './backend.js'
import {
  PUBLIC_KEY_CODE,
  SIGNATURE_CODE,
  UNCOMPRESSED_KEY_BYTES,
  compressPublicKey,
  decodePublicKey,
  decodeSignature,
  isPublicKeyLength,
  isValidSecretKey,
  isWellFormedSignature,
  normalizeLowS,
  toUncompressedPublicKey,
} from './curve.js'
import type { LruCache } from '@better-auth/protocol/internal'
import { keyCache } from './key-cache.js'
import {
  derToPkcs8Pem,
  pkcs8PemToDer,
  privateJwkFromSecretKey,
  secretKeyFromJwk,
} from './key-formats.js'
import type { P256PrivateJwk } from './key-formats.js'

// Stryker disable all: read once at import, before a mutant could be active
const KEY_ALGORITHM: EcKeyImportParams = { name: 'ECDSA', namedCurve: 'P-256' }
const SIGNATURE_ALGORITHM: EcdsaParams = { name: 'ECDSA', hash: 'SHA-256' }
// Stryker restore all

/** Web Crypto of this runtime, or a ConfigurationError when there is none (very old runtimes). */
function subtleCrypto(): SubtleCrypto {
  const subtle = (globalThis as { crypto?: { subtle?: SubtleCrypto } }).crypto?.subtle
  if (subtle === undefined) {
    throw new ConfigurationError('crypto.subtle', 'Web Crypto is not available in this runtime')
  }
  return subtle
}

function hex(bytes: Uint8Array): string {
  let out = ''
  for (const byte of bytes) out += byte.toString(16).padStart(2, '0')
  return out
}

async function verifyWithKey(
  subtle: SubtleCrypto,
  key: CryptoKey,
  message: Uint8Array,
  signature: Uint8Array,
): Promise<boolean> {
  try {
    return await subtle.verify(SIGNATURE_ALGORITHM, key, copyBytes(signature), copyBytes(message))
  } catch {
    return false
  }
}

export interface WebCryptoP256VerifierOptions {
  /**
   * How many imported public keys to keep (least recently used are evicted). Importing a key costs
   * a point decompression and a Web Crypto import, so a busy server should not do it per request.
   * Default 1024; 0 disables caching.
   */
  keyCacheSize?: number
}

/** Verification through Web Crypto with a bounded cache of imported public keys. */
class WebCryptoBackend implements P256Backend {
  readonly name = 'webcrypto'
  readonly #subtle: SubtleCrypto
  readonly #keys: LruCache<string, Promise<CryptoKey | null>>

  constructor(options: WebCryptoP256VerifierOptions) {
    if (typeof options !== 'object' || options === null) {
      throw new ConfigurationError('options', 'expected an object')
    }
    this.#keys = keyCache(options.keyCacheSize)
    this.#subtle = subtleCrypto()
  }

  get cachedKeys(): number {
    return this.#keys.size
  }

  async verify(
    message: Uint8Array,
    signature: Uint8Array,
    publicKey: Uint8Array,
  ): Promise<boolean> {
    if (!isBytes(message) || !isWellFormedSignature(signature)) return false
    const key = await this.#importKey(publicKey)
    if (key === null) return false
    return verifyWithKey(this.#subtle, key, message, signature)
  }

  #importKey(publicKey: Uint8Array): Promise<CryptoKey | null> {
    if (!isPublicKeyLength(publicKey)) return Promise.resolve(null)
    const id = hex(publicKey)
    const cached = this.#keys.get(id)
    if (cached !== undefined) return cached
    // Invalid points are rejected here and never cached, so junk keys cannot evict good ones.
    const uncompressed = toUncompressedPublicKey(publicKey)
    if (uncompressed === null) return Promise.resolve(null)
    // The promise is cached, not the key, so concurrent requests with one new key import it once.
    const pending = this.#subtle
      .importKey('raw', uncompressed, KEY_ALGORITHM, false, ['verify'])
      .catch(() => {
        this.#keys.delete(id)
        return null
      })
    this.#keys.set(id, pending)
    return pending
  }
}

let defaultBackend: WebCryptoBackend | undefined

/** The backend behind `verifyP256Raw('webcrypto', …)` and signing keys' verifiers. */
export function webCryptoBackend(): P256Backend {
  defaultBackend ??= new WebCryptoBackend({})
  return defaultBackend
}

/**
 * ECDSA P-256 / SHA-256 verification through the platform's Web Crypto (`crypto.subtle`): native
 * speed in Node, browsers and edge runtimes. Accepts high-S signatures. Resolves false, never
 * rejects, for malformed signatures, keys or messages. Throws ConfigurationError at construction
 * when the runtime has no Web Crypto or the options are invalid.
 */
export class WebCryptoP256Verifier implements Verifier {
  readonly #backend: WebCryptoBackend

  constructor(options: WebCryptoP256VerifierOptions = {}) {
    this.#backend = new WebCryptoBackend(options)
  }

  /** How many imported public keys are cached right now. */
  get cachedKeys(): number {
    return this.#backend.cachedKeys
  }

  async verify(message: string, signature: string, publicKey: string): Promise<boolean> {
    if (typeof message !== 'string') return false
    const signatureBytes = decodeSignature(signature)
    const publicKeyBytes = decodePublicKey(publicKey)
    if (signatureBytes === null || publicKeyBytes === null) return false
    return this.#backend.verify(utf8(message), signatureBytes, publicKeyBytes)
  }
}

// Stryker disable all: mutation testing covers verification (above); key generation, signing and
// key formats are outside its scope (stryker.config.mjs).
export interface WebCryptoP256KeyOptions {
  /**
   * Whether the private key can be exported from Web Crypto. Default false: the key can still be
   * stored (browsers persist CryptoKey objects in IndexedDB) but its bytes never reach JavaScript.
   */
  extractable?: boolean
}

function extractableOption(options: unknown): boolean {
  if (typeof options !== 'object' || options === null) {
    throw new ConfigurationError('options', 'expected an object')
  }
  const { extractable = false } = options as WebCryptoP256KeyOptions
  if (typeof extractable !== 'boolean') {
    throw new ConfigurationError('extractable', 'expected a boolean')
  }
  return extractable
}

function isEcdsaP256Key(value: unknown, type: KeyType): value is CryptoKey {
  if (typeof value !== 'object' || value === null) return false
  const key = value as Partial<CryptoKey>
  const algorithm = key.algorithm as Partial<EcKeyAlgorithm> | undefined
  return (
    key.type === type &&
    algorithm?.name === 'ECDSA' &&
    algorithm.namedCurve === 'P-256' &&
    Array.isArray(key.usages)
  )
}

/**
 * A P-256 private key held by Web Crypto. The private key may be non-extractable (the default for
 * `generate`), so it can live in a browser's IndexedDB without its bytes ever being readable.
 * Signatures are randomized (Web Crypto has no deterministic ECDSA) and normalized to low-S.
 */
export class WebCryptoP256SigningKey implements SigningKey {
  /** The Web Crypto key pair, e.g. to persist in IndexedDB and restore with `fromCryptoKeyPair`. */
  readonly keyPair: CryptoKeyPair
  readonly #subtle: SubtleCrypto
  readonly #verifyKey: CryptoKey
  readonly #publicKey: string

  private constructor(
    subtle: SubtleCrypto,
    keyPair: CryptoKeyPair,
    verifyKey: CryptoKey,
    publicKey: string,
  ) {
    this.#subtle = subtle
    this.keyPair = keyPair
    this.#verifyKey = verifyKey
    this.#publicKey = publicKey
  }

  /**
   * Exports the public key once and keeps its CESR form, so `public()` costs nothing per call.
   * A public key that cannot verify (usages without 'verify') is re-imported for verification.
   */
  static async #create(
    subtle: SubtleCrypto,
    keyPair: CryptoKeyPair,
  ): Promise<WebCryptoP256SigningKey> {
    const raw = new Uint8Array(await subtle.exportKey('raw', keyPair.publicKey))
    if (raw.length !== UNCOMPRESSED_KEY_BYTES) {
      throw new ConfigurationError('keyPair', 'public key did not export as an uncompressed point')
    }
    const verifyKey = keyPair.publicKey.usages.includes('verify')
      ? keyPair.publicKey
      : await subtle.importKey('raw', raw, KEY_ALGORITHM, true, ['verify'])
    const publicKey = encodeCesr(PUBLIC_KEY_CODE, compressPublicKey(raw))
    return new WebCryptoP256SigningKey(subtle, keyPair, verifyKey, publicKey)
  }

  /** A fresh key pair; the private key is non-extractable unless `extractable: true`. */
  static async generate(options: WebCryptoP256KeyOptions = {}): Promise<WebCryptoP256SigningKey> {
    const extractable = extractableOption(options)
    const subtle = subtleCrypto()
    const generated = await subtle.generateKey(KEY_ALGORITHM, extractable, ['sign', 'verify'])
    return WebCryptoP256SigningKey.#create(subtle, generated)
  }

  /**
   * Wraps an existing ECDSA P-256 key pair (for example one restored from IndexedDB). Its public
   * key must be exportable (Web Crypto always generates it so). Signs and verifies a probe message
   * once, so a pair whose halves do not belong together fails here with ConfigurationError rather
   * than later with signatures nobody can verify.
   */
  static async fromCryptoKeyPair(keyPair: CryptoKeyPair): Promise<WebCryptoP256SigningKey> {
    if (typeof keyPair !== 'object' || keyPair === null) {
      throw new ConfigurationError('keyPair', 'expected a CryptoKeyPair')
    }
    const { privateKey, publicKey } = keyPair
    if (!isEcdsaP256Key(privateKey, 'private') || !privateKey.usages.includes('sign')) {
      throw new ConfigurationError('keyPair', "privateKey must be an ECDSA P-256 key with 'sign'")
    }
    if (!isEcdsaP256Key(publicKey, 'public')) {
      throw new ConfigurationError('keyPair', 'publicKey must be an ECDSA P-256 public key')
    }
    const subtle = subtleCrypto()
    let matches: boolean
    let key: WebCryptoP256SigningKey
    try {
      key = await WebCryptoP256SigningKey.#create(subtle, { privateKey, publicKey })
      const probe = 'better-auth key pair check'
      matches = await key.verify(probe, await key.sign(probe))
    } catch (error) {
      if (error instanceof ConfigurationError) throw error
      // Web Crypto failures are DOMExceptions; report them in the package's error taxonomy.
      throw new ConfigurationError('keyPair', 'key pair cannot sign or export its public key')
    }
    if (!matches) throw new ConfigurationError('keyPair', 'publicKey does not belong to privateKey')
    return key
  }

  /**
   * Imports a 32-byte big-endian secret scalar through JWK (`d`, with `x`/`y` computed by noble),
   * the one private-key import format every Web Crypto implementation supports without ASN.1.
   * Throws ConfigurationError for anything that is not a scalar in [1, n−1].
   */
  static async fromSecretKey(
    secretKey: Uint8Array,
    options: WebCryptoP256KeyOptions = {},
  ): Promise<WebCryptoP256SigningKey> {
    if (!isValidSecretKey(secretKey)) {
      throw new ConfigurationError('secretKey', 'expected 32 bytes encoding a scalar in [1, n-1]')
    }
    const extractable = extractableOption(options)
    const subtle = subtleCrypto()
    const { d, ...publicJwk } = privateJwkFromSecretKey(secretKey)
    const privateKey = await subtle.importKey(
      'jwk',
      { ...publicJwk, d },
      KEY_ALGORITHM,
      extractable,
      ['sign'],
    )
    const publicKey = await subtle.importKey('jwk', publicJwk, KEY_ALGORITHM, true, ['verify'])
    return WebCryptoP256SigningKey.#create(subtle, { privateKey, publicKey })
  }

  /**
   * A key from a P-256 private JWK (`kty` "EC", `crv` "P-256", `d`; `x`/`y` optional but checked
   * against `d` when present), as `toJwk()`, `NodeP256SigningKey.toJwk()` or any runtime's
   * `crypto.subtle.exportKey('jwk', …)` write it. Non-extractable unless `extractable: true`.
   * Throws ConfigurationError naming what is wrong, never the key's values.
   */
  static async fromJwk(
    jwk: JsonWebKey,
    options: WebCryptoP256KeyOptions = {},
  ): Promise<WebCryptoP256SigningKey> {
    extractableOption(options)
    const secretKey = secretKeyFromJwk(jwk)
    try {
      return await WebCryptoP256SigningKey.fromSecretKey(secretKey, options)
    } finally {
      secretKey.fill(0)
    }
  }

  /**
   * A key from an unencrypted PKCS #8 PEM (`-----BEGIN PRIVATE KEY-----`), as `toPkcs8Pem()`,
   * `NodeP256SigningKey.toPkcs8Pem()` or OpenSSL write it: the format Cloudflare Workers, Deno and
   * Bun secrets usually hold. Non-extractable unless `extractable: true`. Throws
   * ConfigurationError for other labels, encrypted keys, other curves and garbage; the error
   * carries neither the PEM nor the runtime's message about it.
   */
  static async fromPkcs8Pem(
    pem: string,
    options: WebCryptoP256KeyOptions = {},
  ): Promise<WebCryptoP256SigningKey> {
    extractableOption(options)
    const der = pkcs8PemToDer(pem)
    const subtle = subtleCrypto()
    let jwk: JsonWebKey
    try {
      // Imported extractable only to read the public coordinates, which PKCS #8 may omit and Web
      // Crypto cannot derive from a private key otherwise; the key kept is imported from `d`.
      const imported = await subtle.importKey('pkcs8', der, KEY_ALGORITHM, true, ['sign'])
      jwk = await subtle.exportKey('jwk', imported)
    } catch {
      throw new ConfigurationError('pem', 'expected a PKCS #8 EC private key on curve P-256')
    } finally {
      der.fill(0)
    }
    if (jwk.crv !== 'P-256') {
      throw new ConfigurationError('pem', 'expected a PKCS #8 EC private key on curve P-256')
    }
    return WebCryptoP256SigningKey.fromJwk(jwk, options)
  }

  /**
   * The private key as an unencrypted PKCS #8 PEM, readable by `NodeP256SigningKey.fromPkcs8Pem`
   * and OpenSSL. Only for extractable keys (ConfigurationError otherwise).
   */
  async toPkcs8Pem(): Promise<string> {
    const der = new Uint8Array(await this.#export('pkcs8'))
    try {
      return derToPkcs8Pem(der)
    } finally {
      der.fill(0)
    }
  }

  /** The private key as a JWK (`kty`, `crv`, `x`, `y`, `d`). Only for extractable keys. */
  async toJwk(): Promise<P256PrivateJwk> {
    const { x, y, d } = await this.#export('jwk')
    if (typeof x !== 'string' || typeof y !== 'string' || typeof d !== 'string') {
      throw new ConfigurationError('keyPair', 'the private key did not export as an EC JWK')
    }
    return { kty: 'EC', crv: 'P-256', x, y, d }
  }

  #export(format: 'pkcs8'): Promise<ArrayBuffer>
  #export(format: 'jwk'): Promise<JsonWebKey>
  async #export(format: 'pkcs8' | 'jwk'): Promise<ArrayBuffer | JsonWebKey> {
    if (!this.keyPair.privateKey.extractable) {
      throw new ConfigurationError('keyPair', 'the private key is not extractable')
    }
    return this.#subtle.exportKey(format, this.keyPair.privateKey)
  }

  public(): Promise<string> {
    return Promise.resolve(this.#publicKey)
  }

  verifier(): Verifier {
    return sharedVerifier()
  }

  async verify(message: string, signature: string): Promise<boolean> {
    if (typeof message !== 'string') return false
    const signatureBytes = decodeSignature(signature)
    if (!isWellFormedSignature(signatureBytes)) return false
    return verifyWithKey(this.#subtle, this.#verifyKey, utf8(message), signatureBytes)
  }

  /** Signs the UTF-8 bytes of `message`; rejects with InvalidMessageError if it is not a string. */
  async sign(message: string): Promise<string> {
    if (typeof message !== 'string') {
      throw new InvalidMessageError('message', 'expected a string to sign')
    }
    const signature = await this.#subtle.sign(
      SIGNATURE_ALGORITHM,
      this.keyPair.privateKey,
      utf8(message),
    )
    return encodeCesr(SIGNATURE_CODE, normalizeLowS(new Uint8Array(signature)))
  }
}

let defaultVerifier: WebCryptoP256Verifier | undefined

function sharedVerifier(): WebCryptoP256Verifier {
  defaultVerifier ??= new WebCryptoP256Verifier()
  return defaultVerifier
}
