// Scalar helpers for the P-256 tests, in BigInt: the straightforward definitions the byte-wise
// production code is checked against.
import { decodeCesrAs, encodeCesr } from '@better-auth/cesr'
import { p256 } from '@noble/curves/nist.js'

/** The order n of P-256's base point. */
export const N = p256.Point.Fn.ORDER

/** A big-endian byte string as an integer. */
export function scalar(bytes: Uint8Array): bigint {
  return bytes.reduce((acc, b) => (acc << 8n) | BigInt(b), 0n)
}

/** An integer below 2^256 as 32 big-endian bytes. */
export function scalarBytes(value: bigint): Uint8Array {
  const out = new Uint8Array(32)
  for (let i = 31; i >= 0; i--) {
    out[i] = Number(value & 0xffn)
    value >>= 8n
  }
  return out
}

/** Whether a CESR signature's s is above n/2. */
export function isHighS(signature: string): boolean {
  return scalar(decodeCesrAs('0I', signature).subarray(32)) > N >> 1n
}

/** The other valid signature over the same bytes: (r, n − s). */
export function flipS(signature: string): string {
  const raw = new Uint8Array(decodeCesrAs('0I', signature))
  raw.set(scalarBytes(N - scalar(raw.subarray(32))), 32)
  return encodeCesr('0I', raw)
}
