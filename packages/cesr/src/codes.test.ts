import { describe, expect, expectTypeOf, it } from 'vitest'

import { CESR_CODES, HARD_SIZES } from './codes.js'
import type { CesrCode, CesrCodeInfo } from './codes.js'

const infos: CesrCodeInfo[] = Object.values(CESR_CODES)

describe('CESR_CODES', () => {
  it('holds exactly the protocol primitives', () => {
    expectTypeOf<CesrCode>().toEqualTypeOf<'E' | '1AAI' | '0I' | '0A'>()
    expect(CESR_CODES).toEqual({
      E: { code: 'E', name: 'Blake3_256', rawSize: 32, textSize: 44, padSize: 1 },
      '1AAI': { code: '1AAI', name: 'ECDSA_256r1', rawSize: 33, textSize: 48, padSize: 3 },
      '0I': { code: '0I', name: 'ECDSA_256r1_Sig', rawSize: 64, textSize: 88, padSize: 2 },
      '0A': { code: '0A', name: 'Salt_128', rawSize: 16, textSize: 24, padSize: 2 },
    })
  })

  it('is frozen all the way down', () => {
    expect(Object.isFrozen(CESR_CODES)).toBe(true)
    for (const info of infos) expect(Object.isFrozen(info)).toBe(true)
  })

  // The codec relies on these invariants; a new table line that breaks one fails here.
  it.each(infos)('$code is self-consistent', (info) => {
    expect(CESR_CODES[info.code]).toBe(info)
    // Pad plus raw fill whole 24-bit groups, so the text has no trailing bits at all.
    expect((info.padSize + info.rawSize) % 3).toBe(0)
    expect(info.textSize).toBe(((info.padSize + info.rawSize) / 3) * 4)
    // The code only overwrites characters that encode pad bits.
    expect(info.code.length * 6).toBeLessThanOrEqual(info.padSize * 8)
    // Parsing selects the code length from the first character alone.
    expect(HARD_SIZES[info.code.charCodeAt(0)]).toBe(info.code.length)
  })
})

describe('HARD_SIZES', () => {
  it('follows the CESR selector rule', () => {
    const size = (c: string): number | undefined => HARD_SIZES[c.charCodeAt(0)]
    expect(size('A')).toBe(1)
    expect(size('Z')).toBe(1)
    expect(size('a')).toBe(1)
    expect(size('z')).toBe(1)
    expect(size('0')).toBe(2)
    expect(size('1')).toBe(4)
    expect(size('-')).toBe(0)
    expect(size('_')).toBe(0)
    expect(size('+')).toBe(0)
  })
})
