import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { constantTimeEqualBytes, isBytes } from './bytes.js'

describe('constantTimeEqualBytes', () => {
  it('is true exactly for equal contents', () => {
    expect(constantTimeEqualBytes(new Uint8Array([1, 2, 3]), new Uint8Array([1, 2, 3]))).toBe(true)
    expect(constantTimeEqualBytes(new Uint8Array(0), new Uint8Array(0))).toBe(true)
    expect(constantTimeEqualBytes(new Uint8Array([1, 2, 3]), new Uint8Array([1, 2, 4]))).toBe(false)
    expect(constantTimeEqualBytes(new Uint8Array([1, 2, 3]), new Uint8Array([1, 2]))).toBe(false)
    expect(constantTimeEqualBytes(new Uint8Array([0]), new Uint8Array([0x80]))).toBe(false)
  })

  it('property: agrees with element-wise comparison', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), fc.uint8Array({ maxLength: 40 }), (a, b) => {
        const expected = a.length === b.length && a.every((v, i) => v === b[i])
        expect(constantTimeEqualBytes(a, b)).toBe(expected)
        expect(constantTimeEqualBytes(a, new Uint8Array(a))).toBe(true)
      }),
    )
  })

  it('is false for anything that is not a Uint8Array', () => {
    const bytes = new Uint8Array([1])
    for (const bad of [
      null,
      undefined,
      42,
      '\u0001',
      [1],
      { 0: 1, length: 1 },
      new Uint16Array([1]),
    ]) {
      expect(constantTimeEqualBytes(bad as unknown as Uint8Array, bytes)).toBe(false)
      expect(constantTimeEqualBytes(bytes, bad as unknown as Uint8Array)).toBe(false)
    }
  })
})

describe('isBytes', () => {
  it('accepts real Uint8Arrays only, not look-alikes', () => {
    expect(isBytes(new Uint8Array(1))).toBe(true)
    expect(isBytes(new Uint8Array(new ArrayBuffer(4), 1, 2))).toBe(true)
    expect(isBytes({ [Symbol.toStringTag]: 'Uint8Array', length: 1 })).toBe(false)
    expect(isBytes(new Uint8ClampedArray(1))).toBe(false)
    expect(isBytes(new DataView(new ArrayBuffer(1)))).toBe(false)
  })
})
