import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { InvalidMessageError } from '../errors.js'
import { decodeUtf8 } from './utf8.js'

const bytes = (...values: number[]) => new Uint8Array(values)

describe('decodeUtf8', () => {
  it('decodes valid UTF-8 exactly', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), (text) => {
        expect(decodeUtf8(new TextEncoder().encode(text))).toBe(text)
      }),
    )
  })

  it.each([
    ['a stray continuation byte', bytes(0x7b, 0x80, 0x7d)],
    ['a truncated sequence', bytes(0x22, 0xe2, 0x82, 0x22)],
    ['an overlong encoding', bytes(0xc0, 0xaf)],
    ['an encoded surrogate', bytes(0xed, 0xa0, 0x80)],
    ['a byte that never occurs', bytes(0xff)],
  ])('refuses %s with BA101 instead of writing U+FFFD', (_name, input) => {
    expect(() => decodeUtf8(input)).toThrow(InvalidMessageError)
    expect(() => decodeUtf8(input, 'response')).toThrow(/response: not valid UTF-8/)
  })

  it('keeps a byte order mark, so the JSON reader refuses it rather than it vanishing', () => {
    expect(decodeUtf8(bytes(0xef, 0xbb, 0xbf, 0x7b, 0x7d))).toBe('\ufeff{}')
  })

  it('accepts an ArrayBuffer', () => {
    expect(decodeUtf8(bytes(0x7b, 0x7d).buffer)).toBe('{}')
  })
})
