/// <reference types="node" />
import { Buffer } from 'node:buffer'
import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify } from 'node:crypto'
import type { KeyObject } from 'node:crypto'
import { inspect } from 'node:util'
import { encodeCesr } from '@better-auth/cesr'
import { ConfigurationError, InvalidMessageError } from '@better-auth/protocol'
import type { SigningKey, Verifier } from '@better-auth/protocol'
import { isBytes, utf8 } from '../internal/bytes.js'
import { settle } from '../internal/promise.js'
import { batched } from './batch.js'
import {
  PUBLIC_KEY_CODE,
  SIGNATURE_CODE,
  UNCOMPRESSED_KEY_BYTES,
  compressPublicKey,
  decodePublicKey,
  decodeSignature,
  isValidSecretKey,
  isWellFormedSignature,
  normalizeLowS,
} from '../p256/curve.js'
import type { LruCache } from '@better-auth/protocol/internal'
import { keyCache } from '../p256/key-cache.js'
import { pkcs8PemToDer, secretKeyFromJwk } from '../p256/key-formats.js'
import type { P256PrivateJwk } from '../p256/key-formats.js'
import { importPublicKey, importSecretKey, isP256KeyObject } from './key-import.js'

const HASH = 'sha256'

/**
 * Synchronous OpenSSL verification of an r‖s signature. Callers check the signature with
 * isWellFormedSignature first, so out-of-range r or s fail the same way on every backend (and
 * before any key import); high-S is in range and accepted.
 */
function verifyWithKey(key: KeyObject, message: Uint8Array, signature: Uint8Array): boolean {
  try {
    return verify(HASH, message, { key, dsaEncoding: 'ieee-p1363' }, signature)
  } catch {
    return false
  }
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex')
}

export interface NodeP256VerifierOptions {
  /**
   * How many imported public keys to keep (least recently used are evicted). A verification with
   * a key that is not cached costs about three times one with a cached key, so a busy server
   * should not import per request. Default 1024; 0 disables caching.
   */
  keyCacheSize?: number
  /**
   * Whether verifications run batched with the other OpenSSL calls of the same event-loop turn
   * (default true): ~20% less CPU per request for a server under load, one loop turn of latency
   * for a lone call. False verifies where `verify` is called, still resolving asynchronously.
   */
  batch?: boolean
}

/** Options of `NodeP256SigningKey`'s factories. */
export interface NodeP256SigningKeyOptions {
  /**
   * Whether signatures run batched with the other OpenSSL calls of the same event-loop turn
   * (default true); see `NodeP256VerifierOptions.batch`.
   */
  batch?: boolean
}

function batchOption(options: unknown): boolean {
  if (typeof options !== 'object' || options === null) {
    throw new ConfigurationError('options', 'expected an object')
  }
  const { batch = true } = options as { batch?: unknown }
  if (typeof batch !== 'boolean') throw new ConfigurationError('batch', 'expected a boolean')
  return batch
}

/**
 * Imported KeyObjects by an identifier of the key's bytes. Only keys that imported are cached, so
 * junk keys from requests cannot evict good ones. KeyObjects are cached directly (no promise, as
 * in the Web Crypto backend): the import is synchronous, so there is no concurrent import to share.
 */
class KeyObjectCache {
  readonly #keys: LruCache<string, KeyObject>

  constructor(options: unknown) {
    if (typeof options !== 'object' || options === null) {
      throw new ConfigurationError('options', 'expected an object')
    }
    this.#keys = keyCache((options as NodeP256VerifierOptions).keyCacheSize)
  }

  get size(): number {
    return this.#keys.size
  }

  /** The KeyObject for `id`, importing `decode()`'s bytes on a miss; null for invalid keys. */
  get(id: string, decode: () => Uint8Array | null): KeyObject | null {
    const cached = this.#keys.get(id)
    if (cached !== undefined) return cached
    const bytes = decode()
    if (bytes === null) return null
    const key = importPublicKey(bytes)
    if (key !== null) this.#keys.set(id, key)
    return key
  }
}

/**
 * ECDSA P-256 / SHA-256 verification with Node's OpenSSL (`node:crypto`), synchronous underneath:
 * the lowest latency and CPU cost per verification in Node. It runs on the calling thread (the
 * event loop), unlike Web Crypto, which uses libuv's thread pool. Imported public keys are kept in
 * a bounded LRU cache keyed by the CESR text, so a cache hit skips decoding too. Accepts high-S
 * signatures. Resolves false, never rejects, for malformed signatures, keys or messages. Throws
 * ConfigurationError at construction for invalid options.
 */
export class NodeP256Verifier implements Verifier {
  readonly #keys: KeyObjectCache
  readonly #batch: boolean

  constructor(options: NodeP256VerifierOptions = {}) {
    this.#keys = new KeyObjectCache(options)
    this.#batch = batchOption(options)
  }

  /** How many imported public keys are cached right now. */
  get cachedKeys(): number {
    return this.#keys.size
  }

  verify(message: string, signature: string, publicKey: string): Promise<boolean> {
    if (this.#batch) return batched(() => this.#verify(message, signature, publicKey))
    return Promise.resolve(this.#verify(message, signature, publicKey))
  }

  #verify(message: unknown, signature: unknown, publicKey: unknown): boolean {
    if (typeof message !== 'string' || typeof publicKey !== 'string') return false
    const signatureBytes = decodeSignature(signature)
    if (!isWellFormedSignature(signatureBytes)) return false
    const key = this.#keys.get(publicKey, () => decodePublicKey(publicKey))
    if (key === null) return false
    return verifyWithKey(key, utf8(message), signatureBytes)
  }
}

let rawKeys: KeyObjectCache | undefined

/**
 * Verifies an ECDSA P-256 / SHA-256 signature over raw bytes with Node's OpenSSL, as conformance
 * suites (Wycheproof) need: `signature` is 64-byte r‖s, `publicKey` is SEC1 compressed (33 bytes)
 * or uncompressed (65 bytes). Resolves false, never rejects, for malformed input of any type. The
 * Node counterpart of `verifyP256Raw`, which cannot offer a 'node' backend because the main entry
 * must not import `node:` modules.
 */
export function verifyP256RawNode(
  message: Uint8Array,
  signature: Uint8Array,
  publicKey: Uint8Array,
): Promise<boolean> {
  if (!isBytes(message) || !isWellFormedSignature(signature) || !isBytes(publicKey)) {
    return Promise.resolve(false)
  }
  rawKeys ??= new KeyObjectCache({})
  const key = rawKeys.get(hex(publicKey), () => publicKey)
  return Promise.resolve(key !== null && verifyWithKey(key, message, signature))
}

let sharedVerifier: NodeP256Verifier | undefined

/**
 * A P-256 private key held by Node's OpenSSL as a KeyObject, for servers. Signatures are randomized
 * (OpenSSL's ECDSA is not RFC 6979) and normalized to low-S. Persist the key with `toPkcs8Pem()`
 * (or `toJwk()`) and restore it with `fromPkcs8Pem()` (or `fromJwk()`); both formats also move keys
 * to and from `WebCryptoP256SigningKey`. The private key never appears in errors, `String(key)`,
 * `JSON.stringify(key)` or `util.inspect(key)`: all of them show the public key only.
 */
export class NodeP256SigningKey implements SigningKey {
  readonly #privateKey: KeyObject
  readonly #publicKeyObject: KeyObject
  readonly #publicKey: string

  readonly #batch: boolean

  private constructor(privateKey: KeyObject, batch: boolean) {
    this.#batch = batch
    this.#privateKey = privateKey
    this.#publicKeyObject = createPublicKey(privateKey)
    // Exported and encoded once, so public() costs nothing per call. OpenSSL exports EC public
    // keys uncompressed, so the SPKI DER ends with the 65-byte point.
    const raw = new Uint8Array(this.#publicKeyObject.export({ format: 'der', type: 'spki' }))
    const point = raw.subarray(raw.length - UNCOMPRESSED_KEY_BYTES)
    this.#publicKey = encodeCesr(PUBLIC_KEY_CODE, compressPublicKey(point))
  }

  /** A fresh key from OpenSSL's CSPRNG. */
  static generate(options: NodeP256SigningKeyOptions = {}): NodeP256SigningKey {
    const batch = batchOption(options)
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
    return new NodeP256SigningKey(privateKey, batch)
  }

  /**
   * A key from its 32-byte big-endian secret scalar (the same bytes `NobleP256SigningKey` and
   * `WebCryptoP256SigningKey` take). Throws ConfigurationError for anything that is not a scalar in
   * [1, n−1]; the error never contains the bytes.
   */
  static fromSecretKey(
    secretKey: Uint8Array,
    options: NodeP256SigningKeyOptions = {},
  ): NodeP256SigningKey {
    const batch = batchOption(options)
    if (!isValidSecretKey(secretKey)) {
      throw new ConfigurationError('secretKey', 'expected 32 bytes encoding a scalar in [1, n-1]')
    }
    return new NodeP256SigningKey(importSecretKey(secretKey), batch)
  }

  /**
   * A key from an unencrypted PKCS #8 PEM (`-----BEGIN PRIVATE KEY-----`), as `toPkcs8Pem()`,
   * `WebCryptoP256SigningKey.toPkcs8Pem()`, `openssl genpkey -algorithm EC -pkeyopt
   * ec_paramgen_curve:P-256` or `openssl pkcs8 -topk8 -nocrypt` write it. Throws
   * ConfigurationError for anything else (other PEM labels, encrypted keys, other curves, garbage);
   * the error carries neither the PEM nor OpenSSL's message about it.
   */
  static fromPkcs8Pem(pem: string, options: NodeP256SigningKeyOptions = {}): NodeP256SigningKey {
    const batch = batchOption(options)
    // The label check also keeps encrypted PEMs away from OpenSSL's passphrase handling.
    const der = pkcs8PemToDer(pem)
    let privateKey: KeyObject
    try {
      privateKey = createPrivateKey({ key: Buffer.from(der), format: 'der', type: 'pkcs8' })
    } catch {
      throw new ConfigurationError('pem', 'not a valid PKCS #8 PEM private key')
    } finally {
      der.fill(0)
    }
    if (!isP256KeyObject(privateKey)) {
      throw new ConfigurationError('pem', 'expected an EC private key on curve P-256')
    }
    return new NodeP256SigningKey(privateKey, batch)
  }

  /**
   * A key from a P-256 private JWK (`kty` "EC", `crv` "P-256", `d`; `x`/`y` optional but checked
   * against `d` when present), as `toJwk()`, `WebCryptoP256SigningKey.toJwk()` or
   * `crypto.subtle.exportKey('jwk', …)` write it. Throws ConfigurationError naming what is wrong,
   * never the key's values.
   */
  static fromJwk(jwk: JsonWebKey, options: NodeP256SigningKeyOptions = {}): NodeP256SigningKey {
    const batch = batchOption(options)
    const secretKey = secretKeyFromJwk(jwk)
    try {
      return new NodeP256SigningKey(importSecretKey(secretKey), batch)
    } finally {
      secretKey.fill(0)
    }
  }

  /** The private key as an unencrypted PKCS #8 PEM. Store it as the secret it is. */
  toPkcs8Pem(): string {
    return this.#privateKey.export({ format: 'pem', type: 'pkcs8' }).toString()
  }

  /** The private key as a JWK (`kty`, `crv`, `x`, `y`, `d`). Store it as the secret it is. */
  toJwk(): P256PrivateJwk {
    const { x, y, d } = this.#privateKey.export({ format: 'jwk' })
    if (typeof x !== 'string' || typeof y !== 'string' || typeof d !== 'string') {
      throw new ConfigurationError('privateKey', 'OpenSSL did not export an EC JWK')
    }
    return { kty: 'EC', crv: 'P-256', x, y, d }
  }

  public(): Promise<string> {
    return Promise.resolve(this.#publicKey)
  }

  verifier(): Verifier {
    sharedVerifier ??= new NodeP256Verifier()
    return sharedVerifier
  }

  verify(message: string, signature: string): Promise<boolean> {
    if (typeof message !== 'string') return Promise.resolve(false)
    const signatureBytes = decodeSignature(signature)
    if (!isWellFormedSignature(signatureBytes)) return Promise.resolve(false)
    const bytes = utf8(message)
    const key = this.#publicKeyObject
    if (this.#batch) return batched(() => verifyWithKey(key, bytes, signatureBytes))
    return Promise.resolve(verifyWithKey(key, bytes, signatureBytes))
  }

  /** Signs the UTF-8 bytes of `message`; rejects with InvalidMessageError if it is not a string. */
  sign(message: string): Promise<string> {
    if (typeof message !== 'string') {
      return Promise.reject(new InvalidMessageError('message', 'expected a string to sign'))
    }
    const run = () => this.#sign(utf8(message))
    return this.#batch ? batched(run) : settle(run)
  }

  #sign(bytes: Uint8Array): string {
    const signature = sign(HASH, bytes, { key: this.#privateKey, dsaEncoding: 'ieee-p1363' })
    return encodeCesr(SIGNATURE_CODE, normalizeLowS(new Uint8Array(signature)))
  }

  // Explicit, so that what logs show does not depend on how a runtime prints private fields.
  /** `NodeP256SigningKey(<CESR public key>)`: safe to log. */
  toString(): string {
    return `NodeP256SigningKey(${this.#publicKey})`
  }

  /** `{ type, publicKey }`: safe to log or serialize; the private key is never included. */
  toJSON(): { type: 'NodeP256SigningKey'; publicKey: string } {
    return { type: 'NodeP256SigningKey', publicKey: this.#publicKey }
  }
}

// util.inspect (console.log) shows the same as toString. Installed here rather than as a
// `[inspect.custom]` method so that the published types do not depend on @types/node.
Object.defineProperty(NodeP256SigningKey.prototype, inspect.custom, {
  value(this: NodeP256SigningKey): string {
    return this.toString()
  },
})
