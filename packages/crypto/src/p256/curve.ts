import { decodeCesrAs } from '@better-auth/cesr'
import { p256 } from '@noble/curves/nist.js'
import { isBytes } from '../internal/bytes.js'

/** Byte lengths of the encodings this suite accepts. */
export const SIGNATURE_BYTES = 64
export const COMPRESSED_KEY_BYTES = 33
export const UNCOMPRESSED_KEY_BYTES = 65
export const SECRET_KEY_BYTES = 32

/** CESR codes for the P-256 primitives. */
export const PUBLIC_KEY_CODE = '1AAI'
export const SIGNATURE_CODE = '0I'

const SCALAR_BYTES = 32

function scalarBytes(value: bigint): Uint8Array {
  const bytes = new Uint8Array(SCALAR_BYTES)
  for (let i = SCALAR_BYTES - 1; i >= 0; i--) {
    bytes[i] = Number(value & 0xffn)
    value >>= 8n
  }
  return bytes
}

// Scalars are compared and negated byte by byte against these big-endian constants: on every
// verification and signature, BigInt conversions cost ~30× as much. Signatures are public, so an
// early exit leaks nothing.
const ORDER = scalarBytes(p256.Point.Fn.ORDER)
const HALF_ORDER = scalarBytes(p256.Point.Fn.ORDER >> 1n)

/** Sign of (bytes[from … from+32) − reference), both big-endian. */
function compareScalar(bytes: Uint8Array, from: number, reference: Uint8Array): number {
  for (let i = 0; i < SCALAR_BYTES; i++) {
    const difference = (bytes[from + i] ?? 0) - (reference[i] ?? 0)
    if (difference !== 0) return difference
  }
  return 0
}

/** Whether bytes[from … from+32) is a scalar in [1, n−1]. */
function isNonZeroScalar(bytes: Uint8Array, from: number): boolean {
  let any = 0
  for (let i = from; i < from + SCALAR_BYTES; i++) any |= bytes[i] ?? 0
  return any !== 0 && compareScalar(bytes, from, ORDER) < 0
}

/**
 * Whether `signature` is an IEEE P1363 r‖s pair with both scalars in [1, n−1]. Both backends check
 * this before verifying, so the outcome for out-of-range scalars does not depend on how a runtime's
 * Web Crypto happens to treat them. High-S values are in range and therefore accepted.
 */
export function isWellFormedSignature(signature: unknown): signature is Uint8Array {
  if (!isBytes(signature) || signature.length !== SIGNATURE_BYTES) return false
  return isNonZeroScalar(signature, 0) && isNonZeroScalar(signature, SCALAR_BYTES)
}

/** Whether `publicKey` has the length of a compressed or uncompressed SEC1 P-256 point. */
export function isPublicKeyLength(publicKey: unknown): publicKey is Uint8Array {
  return (
    isBytes(publicKey) &&
    (publicKey.length === COMPRESSED_KEY_BYTES || publicKey.length === UNCOMPRESSED_KEY_BYTES)
  )
}

/**
 * The SEC1 uncompressed form of a compressed (33-byte) or uncompressed (65-byte) P-256 public key,
 * or null when the bytes do not encode a point on the curve. Web Crypto only imports uncompressed
 * points portably (Chromium rejects compressed ones), so noble decompresses and validates here.
 */
export function toUncompressedPublicKey(publicKey: unknown): Uint8Array<ArrayBuffer> | null {
  if (!isPublicKeyLength(publicKey)) return null
  try {
    // fromBytes checks the point is on the curve and is not the identity.
    return new Uint8Array(p256.Point.fromBytes(publicKey).toBytes(false))
  } catch {
    return null
  }
}

/** Compresses an uncompressed SEC1 point that is already known to be valid (e.g. from Web Crypto). */
export function compressPublicKey(uncompressed: Uint8Array): Uint8Array {
  const compressed = new Uint8Array(COMPRESSED_KEY_BYTES)
  // The prefix carries the parity of y: 0x02 for even, 0x03 for odd.
  compressed[0] = 0x02 | ((uncompressed[UNCOMPRESSED_KEY_BYTES - 1] ?? 0) & 1)
  compressed.set(uncompressed.subarray(1, 33), 1)
  return compressed
}

/** Decodes a CESR `0I` signature, or null for anything that is not one. */
export function decodeSignature(signature: unknown): Uint8Array | null {
  if (typeof signature !== 'string') return null
  try {
    return decodeCesrAs(SIGNATURE_CODE, signature)
  } catch {
    return null
  }
}

/** Decodes a CESR `1AAI` public key, or null for anything that is not one. */
export function decodePublicKey(publicKey: unknown): Uint8Array | null {
  if (typeof publicKey !== 'string') return null
  try {
    return decodeCesrAs(PUBLIC_KEY_CODE, publicKey)
  } catch {
    return null
  }
}

/** Whether `secret` is a valid P-256 secret scalar: 32 big-endian bytes in [1, n−1]. */
export function isValidSecretKey(secret: unknown): secret is Uint8Array {
  if (!isBytes(secret) || secret.length !== SECRET_KEY_BYTES) return false
  try {
    return p256.utils.isValidSecretKey(secret)
  } catch {
    return false
  }
}

/**
 * Rewrites a well-formed r‖s signature with s > n/2 as the equivalent (r, n − s). Both are valid;
 * emitting low-S keeps our signatures acceptable to verifiers that insist on it (Bitcoin-style
 * libraries, noble with its defaults). Returns the input unchanged when s is already low.
 */
export function normalizeLowS(signature: Uint8Array): Uint8Array {
  if (signature.length !== SIGNATURE_BYTES) return signature
  if (compareScalar(signature, SCALAR_BYTES, HALF_ORDER) <= 0) return signature
  const out = new Uint8Array(signature)
  // n − s, byte by byte from the least significant end.
  let borrow = 0
  for (let i = SCALAR_BYTES - 1; i >= 0; i--) {
    const difference = (ORDER[i] ?? 0) - (signature[SCALAR_BYTES + i] ?? 0) - borrow
    borrow = difference < 0 ? 1 : 0
    out[SCALAR_BYTES + i] = difference & 0xff
  }
  return out
}
