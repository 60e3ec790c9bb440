import { runInNewContext } from 'node:vm'

import fc from 'fast-check'
import { describe, expect, it } from 'vitest'

import { base64UrlDecode, base64UrlEncode, isUint8Array } from './base64url.js'
import { CesrError } from './errors.js'
import type { CesrErrorCode } from './errors.js'

const ascii = (text: string): Uint8Array => new TextEncoder().encode(text)

function errorCode(run: () => unknown): CesrErrorCode | undefined {
  try {
    run()
    return undefined
  } catch (error) {
    expect(error).toBeInstanceOf(CesrError)
    return (error as CesrError).code
  }
}

const base64UrlChar = fc.constantFrom(
  ...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_',
)

describe('base64UrlEncode', () => {
  it('matches the RFC 4648 §10 vectors without padding', () => {
    expect(base64UrlEncode(ascii(''))).toBe('')
    expect(base64UrlEncode(ascii('f'))).toBe('Zg')
    expect(base64UrlEncode(ascii('fo'))).toBe('Zm8')
    expect(base64UrlEncode(ascii('foo'))).toBe('Zm9v')
    expect(base64UrlEncode(ascii('foob'))).toBe('Zm9vYg')
    expect(base64UrlEncode(ascii('fooba'))).toBe('Zm9vYmE')
    expect(base64UrlEncode(ascii('foobar'))).toBe('Zm9vYmFy')
  })

  it('uses the URL-safe alphabet', () => {
    expect(base64UrlEncode(new Uint8Array([0xfb, 0xff, 0xbf]))).toBe('-_-_')
  })

  it('agrees with Node for every length 0..200', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 200 }), (bytes) => {
        expect(base64UrlEncode(bytes)).toBe(Buffer.from(bytes).toString('base64url'))
      }),
    )
  })

  it('handles inputs larger than one String.fromCharCode chunk', () => {
    const bytes = Uint8Array.from({ length: 100_000 }, (_, i) => (i * 131) & 0xff)
    const text = base64UrlEncode(bytes)
    expect(text).toBe(Buffer.from(bytes).toString('base64url'))
    expect(base64UrlDecode(text)).toEqual(bytes)
  })

  it('accepts subarrays, Buffers and Uint8Arrays from other realms', () => {
    const backing = new Uint8Array([9, 0x66, 0x6f, 0x6f, 9])
    expect(base64UrlEncode(backing.subarray(1, 4))).toBe('Zm9v')
    expect(base64UrlEncode(Buffer.from('foo'))).toBe('Zm9v')
    const foreign: unknown = runInNewContext('new Uint8Array([0x66, 0x6f, 0x6f])')
    expect(foreign instanceof Uint8Array).toBe(false)
    expect(base64UrlEncode(foreign as Uint8Array)).toBe('Zm9v')
  })

  it.each([
    null,
    undefined,
    42,
    'Zm9v',
    {},
    [1, 2, 3],
    new Uint8ClampedArray(3),
    new ArrayBuffer(3),
  ])('rejects %o with CESR_INVALID_INPUT', (value) => {
    expect(errorCode(() => base64UrlEncode(value as Uint8Array))).toBe('CESR_INVALID_INPUT')
  })
})

describe('base64UrlDecode', () => {
  it('decodes the RFC 4648 §10 vectors', () => {
    for (const word of ['', 'f', 'fo', 'foo', 'foob', 'fooba', 'foobar']) {
      expect(base64UrlDecode(Buffer.from(word).toString('base64url'))).toEqual(ascii(word))
    }
    expect(base64UrlDecode('-_-_')).toEqual(new Uint8Array([0xfb, 0xff, 0xbf]))
  })

  it('round-trips every length 0..200', () => {
    for (let length = 0; length <= 200; length++) {
      const bytes = Uint8Array.from({ length }, (_, i) => (i * 37 + length) & 0xff)
      expect(base64UrlDecode(base64UrlEncode(bytes))).toEqual(bytes)
    }
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 200 }), (bytes) => {
        expect(base64UrlDecode(base64UrlEncode(bytes))).toEqual(bytes)
      }),
    )
  })

  it.each([
    ['Zm9v=', 'CESR_INVALID_LENGTH'],
    ['Zg==', 'CESR_INVALID_CHARACTER'],
    ['Zm8=', 'CESR_INVALID_CHARACTER'],
    ['+/8A', 'CESR_INVALID_CHARACTER'],
    ['Zm9/', 'CESR_INVALID_CHARACTER'],
    ['Zm 9v', 'CESR_INVALID_LENGTH'],
    ['Zm9 ', 'CESR_INVALID_CHARACTER'],
    ['Zm9v\n', 'CESR_INVALID_LENGTH'],
    ['Zm\n9', 'CESR_INVALID_CHARACTER'],
    ['Zm9é', 'CESR_INVALID_CHARACTER'],
    // U+0141's low byte is 'A': the decoder must not mask char codes into the table.
    ['Zm9\u0141', 'CESR_INVALID_CHARACTER'],
    // The last code the table holds, and the first one past it (which must not read as 'A').
    ['Zm9\u007f', 'CESR_INVALID_CHARACTER'],
    ['Zm9\u0080', 'CESR_INVALID_CHARACTER'],
    ['\u0080AAA', 'CESR_INVALID_CHARACTER'],
    ['AA\u0080', 'CESR_INVALID_CHARACTER'],
    ['Z', 'CESR_INVALID_LENGTH'],
    ['Zm9vY', 'CESR_INVALID_LENGTH'],
    ['Zh', 'CESR_NONZERO_PAD'],
    ['Zm9', 'CESR_NONZERO_PAD'],
    ['Zm9vYh', 'CESR_NONZERO_PAD'],
  ] as const)('rejects %j with %s', (text, code) => {
    expect(errorCode(() => base64UrlDecode(text))).toBe(code)
  })

  it.each([null, undefined, 42, {}, ['Zm9v'], new Uint8Array(4)])(
    'rejects %o with CESR_INVALID_INPUT',
    (value) => {
      expect(errorCode(() => base64UrlDecode(value as string))).toBe('CESR_INVALID_INPUT')
    },
  )

  it('says what was wrong, and where, without echoing the text', () => {
    const message = (run: () => unknown) => {
      try {
        run()
      } catch (error) {
        return (error as Error).message
      }
      return undefined
    }
    expect(message(() => base64UrlEncode('Zm9v' as unknown as Uint8Array))).toBe(
      'expected a Uint8Array',
    )
    expect(message(() => base64UrlDecode(42 as unknown as string))).toBe(
      'expected a string, got number',
    )
    expect(message(() => base64UrlDecode('Zm9vY'))).toBe('base64url length 5 is impossible')
    expect(message(() => base64UrlDecode('Zm9v\u0080AAA'))).toBe(
      'invalid base64url character at index 4',
    )
  })

  it('accepts only canonical text and throws nothing but CesrError', () => {
    const texts = fc.oneof(
      fc.string({ maxLength: 40 }),
      fc.string({ unit: 'binary', maxLength: 40 }),
      fc.array(base64UrlChar, { maxLength: 40 }).map((chars) => chars.join('')),
    )
    fc.assert(
      fc.property(texts, (text) => {
        let bytes: Uint8Array
        try {
          bytes = base64UrlDecode(text)
        } catch (error) {
          expect(error).toBeInstanceOf(CesrError)
          return
        }
        expect(base64UrlEncode(bytes)).toBe(text)
      }),
      { numRuns: 2000 },
    )
  })
})

describe('isUint8Array', () => {
  it('never runs user code, even for hostile proxies', () => {
    const hostile = new Proxy(new Uint8Array(3), {
      getPrototypeOf() {
        throw new Error('trap')
      },
      get() {
        throw new Error('trap')
      },
    })
    expect(isUint8Array(hostile)).toBe(false)
    const spoofed = { [Symbol.toStringTag]: 'Uint8Array', length: 3 }
    expect(isUint8Array(spoofed)).toBe(false)
  })
})
