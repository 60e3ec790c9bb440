import { encodeCesr } from '@better-auth/cesr'
import { ConfigurationError, InvalidMessageError } from '@better-auth/protocol'
import type { SigningKey, Verifier } from '@better-auth/protocol'
import { p256 } from '@noble/curves/nist.js'
import { isBytes, utf8 } from '../internal/bytes.js'
import { settle } from '../internal/promise.js'
import type { P256Backend } from './backend.js'
import {
  PUBLIC_KEY_CODE,
  SIGNATURE_CODE,
  decodePublicKey,
  decodeSignature,
  isValidSecretKey,
  isPublicKeyLength,
  isWellFormedSignature,
} from './curve.js'

function verifyNoble(message: Uint8Array, signature: Uint8Array, publicKey: Uint8Array): boolean {
  if (!isBytes(message) || !isWellFormedSignature(signature) || !isPublicKeyLength(publicKey)) {
    return false
  }
  try {
    // lowS: false because noble rejects high-S by default, while Web Crypto, OpenSSL and the
    // spec's own examples produce them; prehash: SHA-256 over the message bytes. noble decodes the
    // key and checks it is a point on the curve (not the identity), returning false otherwise.
    return p256.verify(signature, message, publicKey, {
      lowS: false,
      prehash: true,
      format: 'compact',
    })
  } catch {
    return false
  }
}

/** The pure-JavaScript backend: synchronous underneath, deterministic, no platform dependency. */
export const nobleBackend: P256Backend = {
  name: 'noble',
  verify: (message, signature, publicKey) =>
    Promise.resolve(verifyNoble(message, signature, publicKey)),
}

/**
 * ECDSA P-256 / SHA-256 verification in pure JavaScript (@noble/curves). Accepts high-S
 * signatures. Resolves false, never rejects, for malformed signatures, keys or messages.
 */
export class NobleP256Verifier implements Verifier {
  verify(message: string, signature: string, publicKey: string): Promise<boolean> {
    if (typeof message !== 'string') return Promise.resolve(false)
    const signatureBytes = decodeSignature(signature)
    const publicKeyBytes = decodePublicKey(publicKey)
    if (signatureBytes === null || publicKeyBytes === null) return Promise.resolve(false)
    return Promise.resolve(verifyNoble(utf8(message), signatureBytes, publicKeyBytes))
  }
}

// Stryker disable all: mutation testing covers verification (above); key generation and signing
// are outside its scope (stryker.config.mjs).
const sharedVerifier = new NobleP256Verifier()

/**
 * A P-256 private key held in memory as bytes. Signatures are deterministic (RFC 6979) and low-S,
 * so the same key and message always give the same signature, which reproducible test vectors
 * rely on. Keep the key out of logs: the secret lives in a private field and is never serialized.
 */
export class NobleP256SigningKey implements SigningKey {
  readonly #secretKey: Uint8Array
  readonly #publicKeyBytes: Uint8Array
  readonly #publicKey: string

  private constructor(secretKey: Uint8Array) {
    this.#secretKey = secretKey
    this.#publicKeyBytes = p256.getPublicKey(secretKey, true)
    this.#publicKey = encodeCesr(PUBLIC_KEY_CODE, this.#publicKeyBytes)
  }

  /** A fresh key from the platform CSPRNG (`crypto.getRandomValues`). */
  static generate(): NobleP256SigningKey {
    return new NobleP256SigningKey(p256.utils.randomSecretKey())
  }

  /**
   * A key from its 32-byte big-endian secret scalar. The bytes are copied, so later changes to
   * `secretKey` do not affect the key. Throws ConfigurationError for anything that is not a scalar
   * in [1, n−1]; the error never contains the bytes.
   */
  static fromSecretKey(secretKey: Uint8Array): NobleP256SigningKey {
    if (!isValidSecretKey(secretKey)) {
      throw new ConfigurationError('secretKey', 'expected 32 bytes encoding a scalar in [1, n-1]')
    }
    return new NobleP256SigningKey(new Uint8Array(secretKey))
  }

  public(): Promise<string> {
    return Promise.resolve(this.#publicKey)
  }

  verifier(): Verifier {
    return sharedVerifier
  }

  verify(message: string, signature: string): Promise<boolean> {
    if (typeof message !== 'string') return Promise.resolve(false)
    const signatureBytes = decodeSignature(signature)
    if (signatureBytes === null) return Promise.resolve(false)
    return Promise.resolve(verifyNoble(utf8(message), signatureBytes, this.#publicKeyBytes))
  }

  /** Signs the UTF-8 bytes of `message`; throws InvalidMessageError if it is not a string. */
  sign(message: string): Promise<string> {
    return settle(() => {
      if (typeof message !== 'string') {
        throw new InvalidMessageError('message', 'expected a string to sign')
      }
      const signature = p256.sign(utf8(message), this.#secretKey, {
        prehash: true,
        lowS: true,
        format: 'compact',
      })
      return encodeCesr(SIGNATURE_CODE, signature)
    })
  }
}
