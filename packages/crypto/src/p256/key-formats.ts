import { base64UrlDecode, base64UrlEncode, encodeCesr } from '@better-auth/cesr'
import { ConfigurationError } from '@better-auth/protocol'
import { p256 } from '@noble/curves/nist.js'
import { constantTimeEqualBytes, isBytes } from '../internal/bytes.js'
import {
  PUBLIC_KEY_CODE,
  SECRET_KEY_BYTES,
  compressPublicKey,
  decodePublicKey,
  isValidSecretKey,
  toUncompressedPublicKey,
} from './curve.js'

// Every function here runs in any runtime (no `node:` imports): the Node and Web Crypto signing
// keys share them so that both read and write exactly the same JWKs and PEMs.

const COORDINATE_BYTES = 32

/** A P-256 public key as a JSON Web Key (RFC 7518 §6.2.1). */
export interface P256PublicJwk {
  kty: 'EC'
  crv: 'P-256'
  x: string
  y: string
}

/** A P-256 private key as a JSON Web Key (RFC 7518 §6.2.2): the public coordinates and `d`. */
export interface P256PrivateJwk extends P256PublicJwk {
  d: string
}

function jwkCoordinates(uncompressed: Uint8Array): P256PublicJwk {
  return {
    kty: 'EC',
    crv: 'P-256',
    x: base64UrlEncode(uncompressed.subarray(1, 1 + COORDINATE_BYTES)),
    y: base64UrlEncode(uncompressed.subarray(1 + COORDINATE_BYTES)),
  }
}

/** A base64url JWK member of `length` bytes, or null (never the value in an error). */
function jwkBytes(value: unknown, length: number): Uint8Array | null {
  if (typeof value !== 'string') return null
  try {
    const bytes = base64UrlDecode(value)
    return bytes.length === length ? bytes : null
  } catch {
    return null
  }
}

function isEcP256Jwk(jwk: unknown): jwk is Record<string, unknown> {
  if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) return false
  const { kty, crv } = jwk as Record<string, unknown>
  return kty === 'EC' && crv === 'P-256'
}

/** The SEC1 uncompressed point of a public JWK's `x` and `y`, or null if they are not one. */
function jwkPoint(jwk: Record<string, unknown>): Uint8Array | null {
  const x = jwkBytes(jwk.x, COORDINATE_BYTES)
  const y = jwkBytes(jwk.y, COORDINATE_BYTES)
  if (x === null || y === null) return null
  const point = new Uint8Array(1 + 2 * COORDINATE_BYTES)
  point[0] = 4
  point.set(x, 1)
  point.set(y, 1 + COORDINATE_BYTES)
  return toUncompressedPublicKey(point)
}

/** The JWK of a CESR (`1AAI…`) P-256 public key. Throws ConfigurationError for anything else. */
export function p256PublicKeyToJwk(publicKey: string): P256PublicJwk {
  const uncompressed = toUncompressedPublicKey(decodePublicKey(publicKey))
  if (uncompressed === null) {
    throw new ConfigurationError('publicKey', 'expected a CESR P-256 public key (1AAI…)')
  }
  return jwkCoordinates(uncompressed)
}

/**
 * The CESR (`1AAI…`) form of a P-256 public JWK. `d`, if present, is ignored, so a private JWK
 * gives its public key. Throws ConfigurationError when `kty`/`crv` are not EC/P-256 or `x`/`y` are
 * not a point on the curve; the error never contains the JWK's values.
 */
export function p256PublicKeyFromJwk(jwk: JsonWebKey): string {
  if (!isEcP256Jwk(jwk)) {
    throw new ConfigurationError('jwk', 'expected a JWK with kty "EC" and crv "P-256"')
  }
  const point = jwkPoint(jwk)
  if (point === null) {
    throw new ConfigurationError('jwk', 'x and y are not a P-256 point (32 bytes base64url each)')
  }
  return encodeCesr(PUBLIC_KEY_CODE, compressPublicKey(point))
}

/** The private JWK of a validated secret scalar, with the public coordinates computed from it. */
export function privateJwkFromSecretKey(secretKey: Uint8Array): P256PrivateJwk {
  const uncompressed = p256.getPublicKey(secretKey, false)
  return { ...jwkCoordinates(uncompressed), d: base64UrlEncode(secretKey) }
}

/**
 * The 32-byte secret scalar of a P-256 private JWK. `x` and `y` are optional, but when present
 * they must be the public key of `d`: a JWK whose halves disagree is refused rather than giving
 * signatures that its advertised public key cannot verify. Throws ConfigurationError naming what
 * is wrong, never the values.
 */
export function secretKeyFromJwk(jwk: unknown): Uint8Array {
  if (!isEcP256Jwk(jwk)) {
    throw new ConfigurationError('jwk', 'expected a JWK with kty "EC" and crv "P-256"')
  }
  const secretKey = jwkBytes(jwk.d, SECRET_KEY_BYTES)
  if (secretKey === null || !isValidSecretKey(secretKey)) {
    throw new ConfigurationError(
      'jwk',
      'd must be 32 bytes base64url encoding a scalar in [1, n-1]',
    )
  }
  if (jwk.x !== undefined || jwk.y !== undefined) {
    const point = jwkPoint(jwk)
    if (point === null) {
      throw new ConfigurationError('jwk', 'x and y are not a P-256 point (32 bytes base64url each)')
    }
    if (!constantTimeEqualBytes(point, p256.getPublicKey(secretKey, false))) {
      throw new ConfigurationError('jwk', 'x and y are not the public key of d')
    }
  }
  return secretKey
}

const PEM_LINE = 64
const PKCS8_LABEL = 'PRIVATE KEY'
const PEM_PATTERN =
  /^\s*-----BEGIN PRIVATE KEY-----\r?\n([A-Za-z0-9+/=\r\n]+?)\r?\n?-----END PRIVATE KEY-----\s*$/

/**
 * The DER bytes of an unencrypted PKCS #8 PEM (`-----BEGIN PRIVATE KEY-----`). Only the label and
 * the base64 are checked here; the DER itself is left to the importing backend. Throws
 * ConfigurationError without the PEM's content.
 */
export function pkcs8PemToDer(pem: unknown): Uint8Array<ArrayBuffer> {
  const body = typeof pem === 'string' ? PEM_PATTERN.exec(pem)?.[1] : undefined
  if (body === undefined) {
    throw new ConfigurationError('pem', 'expected an unencrypted PKCS #8 PEM private key')
  }
  const base64 = body.replace(/\r?\n/g, '')
  try {
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(base64) || base64.length % 4 !== 0) throw new Error()
    const url = base64.replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_')
    return new Uint8Array(base64UrlDecode(url))
  } catch {
    throw new ConfigurationError('pem', 'the PEM body is not valid base64')
  }
}

/** An unencrypted PKCS #8 PEM of DER bytes: 64-character lines, as OpenSSL writes them. */
export function derToPkcs8Pem(der: Uint8Array): string {
  if (!isBytes(der)) throw new ConfigurationError('der', 'expected a Uint8Array')
  const url = base64UrlEncode(der)
  const base64 = url.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (url.length % 4)) % 4)
  const lines: string[] = []
  for (let i = 0; i < base64.length; i += PEM_LINE) lines.push(base64.slice(i, i + PEM_LINE))
  return `-----BEGIN ${PKCS8_LABEL}-----\n${lines.join('\n')}\n-----END ${PKCS8_LABEL}-----\n`
}
