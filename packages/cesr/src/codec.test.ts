import fc from 'fast-check'
import { describe, expect, it } from 'vitest'

import { base64UrlEncode } from './base64url.js'
import { decodeCesr, decodeCesrAs, encodeCesr, isCesr } from './codec.js'
import { CESR_CODES } from './codes.js'
import type { CesrCode } from './codes.js'
import { CesrError } from './errors.js'
import type { CesrErrorCode } from './errors.js'

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
const CODES = Object.keys(CESR_CODES) as CesrCode[]

/** Published examples from the protocol specification. */
const EXAMPLES: readonly (readonly [string, CesrCode])[] = [
  ['EOnMhfF6CIKCvXrZkRxwPMBRy6MwgwSBM0H6hb1uDezu', 'E'],
  ['EJ_0GWDWEO5_147xvTIIR94MSalYQ_haXg0_MbGTFaBI', 'E'],
  ['1AAIAkZeridwme6y4GpivAoI9sw5LNyj9BJD5USSAJu165AD', '1AAI'],
  ['1AAIA3gwJej58j_uVqUln-CjkaRihnQophMChhFNq_6bBvRE', '1AAI'],
  ['0ABic13dCJIYixhIS8fd6kfC', '0A'],
  ['0AD-6VwXbCX8cvRIdwaRrGvZ', '0A'],
  [
    '0ID6mIMIBB9CGGygwW8rkAow4J7BgDKALJ-v2A86EmeicR7P304fcLEfRNcu_XI0oCmS-lSDUlFyKFzy9WY29EEY',
    '0I',
  ],
  [
    '0IAdE2pfsEYLNcsSLCm7gbhqMyWvr4sucf0joi3s_T95jUtEbigI5ywksdgRJNbZt7iucO2gCTlmNhUSOrb-uC0-',
    '0I',
  ],
]

function errorOf(run: () => unknown): CesrError | undefined {
  try {
    run()
    return undefined
  } catch (error) {
    expect(error).toBeInstanceOf(CesrError)
    return error as CesrError
  }
}

const errorCode = (run: () => unknown): CesrErrorCode | undefined => errorOf(run)?.code

/** A valid primitive of `code` whose raw bytes are all `fill`. */
const sample = (code: CesrCode, fill = 0xa5): string =>
  encodeCesr(code, new Uint8Array(CESR_CODES[code].rawSize).fill(fill))

const replaceAt = (text: string, index: number, char: string): string =>
  text.slice(0, index) + char + text.slice(index + 1)

const codeArb = fc.constantFrom(...CODES)
const rawFor = (code: CesrCode): fc.Arbitrary<Uint8Array> => {
  const size = CESR_CODES[code].rawSize
  return fc.uint8Array({ minLength: size, maxLength: size })
}
const validText = codeArb.chain((code) => rawFor(code).map((raw) => encodeCesr(code, raw)))
const base64UrlString = (maxLength: number): fc.Arbitrary<string> =>
  fc.array(fc.constantFrom(...ALPHABET), { maxLength }).map((chars) => chars.join(''))
/** Right code and length with arbitrary base64url after it: mostly well-formed, pad bits vary. */
const codePrefixed = codeArb.chain((code) =>
  fc
    .array(fc.constantFrom(...ALPHABET), {
      minLength: CESR_CODES[code].textSize - code.length,
      maxLength: CESR_CODES[code].textSize - code.length,
    })
    .map((chars) => code + chars.join('')),
)
const mutated = fc.oneof(
  fc
    .tuple(validText, fc.nat(), fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }))
    .map(([text, i, char]) => replaceAt(text, i % text.length, char)),
  fc.tuple(validText, fc.nat()).map(([text, n]) => text.slice(0, n % text.length)),
  fc.tuple(validText, fc.string({ minLength: 1, maxLength: 8 })).map(([t, extra]) => t + extra),
  fc.tuple(validText, base64UrlString(8)).map(([t, extra]) => t + extra),
)
const anyText = fc.oneof(
  fc.string({ maxLength: 100 }),
  fc.string({ unit: 'binary', maxLength: 100 }),
  base64UrlString(100),
  validText,
  codePrefixed,
  mutated,
)

describe('published examples', () => {
  it.each(EXAMPLES)('%s decodes as %s and round-trips', (text, code) => {
    const info = CESR_CODES[code]
    expect(text).toHaveLength(info.textSize)
    const decoded = decodeCesr(text)
    expect(decoded.code).toBe(code)
    expect(decoded.raw).toHaveLength(info.rawSize)
    expect(encodeCesr(code, decoded.raw)).toBe(text)
    expect(decodeCesrAs(code, text)).toEqual(decoded.raw)
    expect(isCesr(code, text)).toBe(true)
    for (const other of CODES) if (other !== code) expect(isCesr(other, text)).toBe(false)
  })

  it('encodes as code + base64url(pad zeros + raw) with the code over the leading characters', () => {
    for (const [text, code] of EXAMPLES) {
      const { padSize } = CESR_CODES[code]
      const raw = decodeCesrAs(code, text)
      const padded = base64UrlEncode(new Uint8Array([...new Uint8Array(padSize), ...raw]))
      expect(padded.slice(0, code.length)).toBe('A'.repeat(code.length))
      expect(code + padded.slice(code.length)).toBe(text)
    }
  })

  it('1AAI carries a compressed SEC1 point: the code plus base64url of the bare 33 bytes', () => {
    for (const [text, code] of EXAMPLES) {
      if (code !== '1AAI') continue
      const raw = decodeCesrAs(code, text)
      expect([2, 3]).toContain(raw[0])
      // Three zero pad bytes are exactly the four code characters, so nothing is shared.
      expect(text).toBe('1AAI' + base64UrlEncode(raw))
      // 0x02/0x03 has its top six bits clear, hence the 'A' after the code.
      expect(text[4]).toBe('A')
    }
  })
})

describe('round trip', () => {
  it('decodeCesr(encodeCesr(code, raw)) gives back the code and raw bytes', () => {
    fc.assert(
      fc.property(
        codeArb.chain((code) => fc.tuple(fc.constant(code), rawFor(code))),
        ([code, raw]) => {
          const text = encodeCesr(code, raw)
          expect(text).toHaveLength(CESR_CODES[code].textSize)
          expect(text.startsWith(code)).toBe(true)
          expect(decodeCesr(text)).toEqual({ code, raw })
          expect(decodeCesrAs(code, text)).toEqual(raw)
          expect(isCesr(code, text)).toBe(true)
        },
      ),
      { numRuns: 500 },
    )
  })

  it('handles the extreme byte patterns', () => {
    for (const code of CODES) {
      for (const fill of [0x00, 0xff, 0x80, 0x01]) {
        const raw = new Uint8Array(CESR_CODES[code].rawSize).fill(fill)
        expect(decodeCesr(encodeCesr(code, raw))).toEqual({ code, raw })
      }
    }
  })

  it('encodes subarrays and returns raw bytes in a buffer of their own', () => {
    const backing = new Uint8Array(40).fill(7)
    const text = encodeCesr('E', backing.subarray(4, 36))
    const raw = decodeCesrAs('E', text)
    expect(raw).toEqual(new Uint8Array(32).fill(7))
    expect(raw.byteOffset).toBe(0)
    expect(raw.buffer.byteLength).toBe(32)
  })
})

describe('robustness', () => {
  it('throws nothing but CesrError, accepts only canonical text, and isCesr agrees', () => {
    fc.assert(
      fc.property(anyText, (text) => {
        let decoded: ReturnType<typeof decodeCesr> | undefined
        try {
          decoded = decodeCesr(text)
        } catch (error) {
          expect(error).toBeInstanceOf(CesrError)
        }
        if (decoded !== undefined) expect(encodeCesr(decoded.code, decoded.raw)).toBe(text)
        for (const code of CODES) {
          let accepted = true
          try {
            decodeCesrAs(code, text)
          } catch (error) {
            expect(error).toBeInstanceOf(CesrError)
            accepted = false
          }
          expect(isCesr(code, text)).toBe(accepted)
          expect(accepted).toBe(decoded?.code === code)
        }
      }),
      { numRuns: 3000 },
    )
  })

  it('never quotes more than 8 characters of the input in a message', () => {
    fc.assert(
      fc.property(anyText, (text) => {
        const error = errorOf(() => decodeCesr(text))
        if (error === undefined) return
        for (let i = 0; i + 9 <= text.length; i++) {
          expect(error.message).not.toContain(text.slice(i, i + 9))
        }
      }),
      { numRuns: 1000 },
    )
  })

  it.each([null, undefined, 42, {}, [], true, Symbol('x'), () => 'E', new String(sample('E'))])(
    'rejects the non-string %o with CESR_INVALID_INPUT',
    (value) => {
      expect(errorCode(() => decodeCesr(value as string))).toBe('CESR_INVALID_INPUT')
      expect(errorCode(() => decodeCesrAs('E', value as string))).toBe('CESR_INVALID_INPUT')
      expect(isCesr('E', value)).toBe(false)
    },
  )
})

describe('pad bits', () => {
  // Exhaustive over the character that straddles the pad and the raw bytes.
  it.each([
    ['E', 1, 'ABCDEFGHIJKLMNOP'],
    ['0I', 2, 'ABCD'],
    ['0A', 2, 'ABCD'],
    ['1AAI', 4, ALPHABET],
  ] as const)('%s accepts only %#… at index %i', (code, index, allowed) => {
    const valid = sample(code, 0)
    for (const char of ALPHABET) {
      const text = replaceAt(valid, index, char)
      const ok = allowed.includes(char)
      expect(isCesr(code, text)).toBe(ok)
      expect(errorCode(() => decodeCesr(text))).toBe(ok ? undefined : 'CESR_NONZERO_PAD')
    }
  })
})

describe('decoding errors', () => {
  it('rejects unknown codes', () => {
    const unknown = [
      'X' + sample('E').slice(1),
      '0B' + sample('0I').slice(2),
      '1AAH' + sample('1AAI').slice(4),
      '2AAA' + sample('1AAI').slice(4),
      '-' + sample('E').slice(1),
      '_' + sample('E').slice(1),
      '9AAB',
    ]
    for (const text of unknown) {
      expect(errorCode(() => decodeCesr(text))).toBe('CESR_UNKNOWN_CODE')
      for (const code of CODES) expect(isCesr(code, text)).toBe(false)
    }
    expect(errorOf(() => decodeCesr('0B' + sample('0I').slice(2)))?.message).toContain('"0B"')
  })

  it('rejects a valid primitive of another code, naming the expected one', () => {
    const error = errorOf(() => decodeCesrAs('0I', sample('E')))
    expect(error?.code).toBe('CESR_UNKNOWN_CODE')
    expect(error?.message).toContain('0I')
    expect(errorCode(() => decodeCesrAs('0A', sample('0I')))).toBe('CESR_UNKNOWN_CODE')
    expect(isCesr('0A', sample('0I'))).toBe(false)
  })

  it('rejects wrong lengths', () => {
    for (const code of CODES) {
      const text = sample(code)
      for (const wrong of [text.slice(0, -1), text.slice(0, -4), text + 'A', text + 'AAAA']) {
        expect(errorCode(() => decodeCesr(wrong))).toBe('CESR_INVALID_LENGTH')
        expect(errorCode(() => decodeCesrAs(code, wrong))).toBe('CESR_INVALID_LENGTH')
        expect(isCesr(code, wrong)).toBe(false)
      }
    }
    expect(errorCode(() => decodeCesr(''))).toBe('CESR_INVALID_LENGTH')
    expect(errorCode(() => decodeCesr('0'))).toBe('CESR_INVALID_LENGTH')
    expect(errorCode(() => decodeCesr('1AA'))).toBe('CESR_INVALID_LENGTH')
  })

  it.each(['+', '/', '=', ' ', '\n', '\0', 'é', '\u0141', '\ud800'])(
    'rejects %j anywhere after the code',
    (char) => {
      for (const code of CODES) {
        const valid = sample(code)
        for (const index of [code.length + 1, valid.length - 1]) {
          const text = replaceAt(valid, index, char)
          const error = errorOf(() => decodeCesr(text))
          expect(error?.code).toBe('CESR_INVALID_CHARACTER')
          expect(error?.message).toContain(`index ${index}`)
          expect(isCesr(code, text)).toBe(false)
        }
      }
      expect(errorCode(() => decodeCesr(char + sample('E').slice(1)))).toBe(
        'CESR_INVALID_CHARACTER',
      )
    },
  )

  it('reads U+0080 as an invalid character, not as the start of an unknown code', () => {
    // 128 is the first code outside the hard-size table, which covers ASCII only.
    for (const text of [
      '\u0080',
      '\u0080' + sample('E').slice(1),
      '\u0080AAI' + sample('1AAI').slice(4),
    ]) {
      expect(errorOf(() => decodeCesr(text))).toMatchObject({
        code: 'CESR_INVALID_CHARACTER',
        message: 'invalid base64url character at index 0',
      })
    }
  })

  it('says what was wrong: the code and the sizes, never the input', () => {
    const cases: readonly (readonly [() => unknown, CesrErrorCode, string])[] = [
      [() => decodeCesr(''), 'CESR_INVALID_LENGTH', 'empty CESR text'],
      [
        () => decodeCesr('1AA'),
        'CESR_INVALID_LENGTH',
        'CESR text of 3 characters is shorter than its 4-character code',
      ],
      [
        () => decodeCesr(sample('E') + 'A'),
        'CESR_INVALID_LENGTH',
        'E primitive must be 44 characters, got 45',
      ],
      [
        () => decodeCesrAs('0I', sample('0I').slice(0, -4)),
        'CESR_INVALID_LENGTH',
        '0I primitive must be 88 characters, got 84',
      ],
      [
        () => decodeCesr(replaceAt(sample('E', 0), 1, 'Q')),
        'CESR_NONZERO_PAD',
        'E primitive has non-zero pad bits after the code',
      ],
      [
        () => decodeCesr(null as unknown as string),
        'CESR_INVALID_INPUT',
        'expected a string, got null',
      ],
      [
        () => decodeCesrAs('E', 42 as unknown as string),
        'CESR_INVALID_INPUT',
        'expected a string, got number',
      ],
      [
        () => encodeCesr('E', [0] as unknown as Uint8Array),
        'CESR_INVALID_INPUT',
        'raw must be a Uint8Array',
      ],
      [
        () => encodeCesr('0A', new Uint8Array(15)),
        'CESR_INVALID_RAW_SIZE',
        '0A primitive needs 16 raw bytes, got 15',
      ],
    ]
    for (const [run, code, message] of cases) {
      expect(errorOf(run)).toMatchObject({ code, message })
    }
  })

  it('rejects base64url padding at the end', () => {
    expect(errorCode(() => decodeCesr(sample('E').slice(0, -1) + '='))).toBe(
      'CESR_INVALID_CHARACTER',
    )
  })
})

describe('encoding errors', () => {
  it('rejects raw values of the wrong size', () => {
    for (const code of CODES) {
      const size = CESR_CODES[code].rawSize
      for (const wrong of [0, size - 1, size + 1]) {
        expect(errorCode(() => encodeCesr(code, new Uint8Array(wrong)))).toBe(
          'CESR_INVALID_RAW_SIZE',
        )
      }
    }
  })

  it.each(['X', '0B', '', 'e', '__proto__', 'toString', 'constructor', null, 42, undefined])(
    'rejects the unknown code %o',
    (code) => {
      const c = code as CesrCode
      expect(errorCode(() => encodeCesr(c, new Uint8Array(32)))).toBe('CESR_UNKNOWN_CODE')
      expect(errorCode(() => decodeCesrAs(c, sample('E')))).toBe('CESR_UNKNOWN_CODE')
      expect(isCesr(c, sample('E'))).toBe(false)
    },
  )

  it.each([
    null,
    undefined,
    42,
    'bytes',
    {},
    new Array<number>(32).fill(0),
    new Uint8ClampedArray(32),
  ])('rejects the raw value %o with CESR_INVALID_INPUT', (raw) => {
    expect(errorCode(() => encodeCesr('E', raw as Uint8Array))).toBe('CESR_INVALID_INPUT')
  })
})
