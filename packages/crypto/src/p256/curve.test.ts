import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { N, scalar, scalarBytes } from '../testing-internal/scalars.js'
import {
  decodePublicKey,
  decodeSignature,
  isPublicKeyLength,
  isWellFormedSignature,
  normalizeLowS,
} from './curve.js'

// The byte-wise scalar arithmetic is checked against its BigInt definition.

function signature(r: bigint, s: bigint): Uint8Array {
  const out = new Uint8Array(64)
  out.set(scalarBytes(r), 0)
  out.set(scalarBytes(s), 32)
  return out
}

/** Scalars biased to the edges that matter: 0, 1, n/2, n − 1, n and 2^256 − 1 and their neighbours. */
const EDGES = [0n, 1n, 2n, N >> 1n, (N >> 1n) + 1n, N - 2n, N - 1n, N, N + 1n, (1n << 256n) - 1n]
const anyScalar = fc.oneof(
  fc.constantFrom(...EDGES),
  fc.bigInt({ min: 0n, max: (1n << 256n) - 1n }),
  fc.bigInt({ min: N - 1000n, max: N + 1000n }),
)

describe('isWellFormedSignature', () => {
  it('accepts exactly r, s in [1, n − 1]', () => {
    fc.assert(
      fc.property(anyScalar, anyScalar, (r, s) => {
        const expected = r > 0n && r < N && s > 0n && s < N
        expect(isWellFormedSignature(signature(r, s))).toBe(expected)
      }),
      { numRuns: 3000 },
    )
  })

  it('refuses anything that is not 64 bytes', () => {
    expect(isWellFormedSignature(new Uint8Array(63).fill(1))).toBe(false)
    expect(isWellFormedSignature(new Uint8Array(65).fill(1))).toBe(false)
    expect(isWellFormedSignature(Array.from({ length: 64 }, () => 1))).toBe(false)
  })
})

describe('normalizeLowS', () => {
  it('replaces s > n/2 with n − s and keeps r and low s as they are', () => {
    const inRange = fc.bigInt({ min: 1n, max: N - 1n })
    fc.assert(
      fc.property(inRange, fc.oneof(inRange, fc.constantFrom(...EDGES.slice(1, 7))), (r, s) => {
        const input = signature(r, s)
        const copy = new Uint8Array(input)
        const out = normalizeLowS(input)
        expect(scalar(out.subarray(0, 32))).toBe(r)
        expect(scalar(out.subarray(32))).toBe(s > N >> 1n ? N - s : s)
        expect(input).toEqual(copy)
      }),
      { numRuns: 3000 },
    )
  })

  it('returns low-S input itself, without a copy', () => {
    const input = signature(5n, N >> 1n)
    expect(normalizeLowS(input)).toBe(input)
  })
})

describe('public key and CESR checks', () => {
  it('isPublicKeyLength: a Uint8Array of 33 or 65 bytes, nothing else', () => {
    for (const length of [33, 65]) expect(isPublicKeyLength(new Uint8Array(length))).toBe(true)
    for (const length of [0, 32, 34, 64, 66]) {
      expect(isPublicKeyLength(new Uint8Array(length))).toBe(false)
    }
    for (const value of [new Array(33).fill(2), new Uint16Array(33), 'A'.repeat(33), null]) {
      expect(isPublicKeyLength(value)).toBe(false)
    }
  })

  it('decodeSignature and decodePublicKey return null for anything else', () => {
    for (const text of [
      '',
      'garbage',
      `1AAI${'A'.repeat(44)}`.slice(0, -1),
      `0I${'A'.repeat(86)}`,
    ]) {
      if (!text.startsWith('1AAI')) expect(decodePublicKey(text), text).toBeNull()
      if (!text.startsWith('0I')) expect(decodeSignature(text), text).toBeNull()
    }
    for (const value of [null, undefined, 42, new Uint8Array(64)]) {
      expect(decodeSignature(value)).toBeNull()
      expect(decodePublicKey(value)).toBeNull()
    }
    expect(decodeSignature(`0I${'A'.repeat(86)}`)).toEqual(new Uint8Array(64))
    expect(decodePublicKey(`1AAI${'A'.repeat(44)}`)).toEqual(new Uint8Array(33))
  })
})

describe('normalizeLowS on other lengths', () => {
  it('returns anything but 64 bytes unchanged', () => {
    for (const length of [0, 63, 65]) {
      const input = new Uint8Array(length).fill(0xff)
      expect(normalizeLowS(input)).toBe(input)
      expect(input.every((byte) => byte === 0xff)).toBe(true)
    }
  })
})
