import { runInNewContext } from 'node:vm'
import { describe, expect, it } from 'vitest'

// The examples of README.md, against the package entry ('@better-auth/cesr' is ./index.ts).
import {
  CESR_CODES,
  CesrError,
  base64UrlDecode,
  base64UrlEncode,
  decodeCesr,
  decodeCesrAs,
  encodeCesr,
  isCesr,
} from './index.js'

const DIGEST = 'EOnMhfF6CIKCvXrZkRxwPMBRy6MwgwSBM0H6hb1uDezu'
const PUBLIC_KEY = '1AAIAkZeridwme6y4GpivAoI9sw5LNyj9BJD5USSAJu165AD'

function codeOf(run: () => unknown): string {
  try {
    run()
  } catch (error) {
    expect(error).toBeInstanceOf(CesrError)
    return (error as CesrError).code
  }
  throw new Error('expected a CesrError')
}

describe('README: usage', () => {
  it('encodes a nonce and decodes it back', () => {
    const bytes = crypto.getRandomValues(new Uint8Array(16))
    const nonce = encodeCesr('0A', bytes)
    expect(nonce).toHaveLength(24)
    expect(nonce.startsWith('0A')).toBe(true)
    expect(decodeCesr(nonce)).toEqual({ code: '0A', raw: bytes })
    expect(decodeCesrAs('0A', nonce)).toEqual(bytes)
  })

  it('decodes a digest and a compressed public key', () => {
    const { code, raw } = decodeCesr(DIGEST)
    expect(code).toBe('E')
    expect(raw).toHaveLength(32)
    expect(encodeCesr('E', raw)).toBe(DIGEST)

    const point = decodeCesrAs('1AAI', PUBLIC_KEY)
    expect(point).toHaveLength(33)
    expect([2, 3]).toContain(point[0])
    expect(encodeCesr('1AAI', point)).toBe(PUBLIC_KEY)
  })

  it('checks without throwing, and reports a wrong type with CESR_UNKNOWN_CODE', () => {
    const nonce = encodeCesr('0A', new Uint8Array(16))
    expect(isCesr('0A', nonce)).toBe(true)
    expect(isCesr('E', nonce)).toBe(false)
    expect(isCesr('E', 42)).toBe(false)
    expect(codeOf(() => decodeCesrAs('E', nonce))).toBe('CESR_UNKNOWN_CODE')
    expect(CESR_CODES['0I'].textSize).toBe(88)
  })
})

describe('README: the primitives table', () => {
  it('matches CESR_CODES', () => {
    expect(
      Object.values(CESR_CODES).map(({ code, name, rawSize, textSize, padSize }) => [
        code,
        name,
        rawSize,
        textSize,
        padSize,
      ]),
    ).toEqual([
      ['E', 'Blake3_256', 32, 44, 1],
      ['1AAI', 'ECDSA_256r1', 33, 48, 3],
      ['0I', 'ECDSA_256r1_Sig', 64, 88, 2],
      ['0A', 'Salt_128', 16, 24, 2],
    ])
  })
})

describe('README: strictness and errors', () => {
  it('gives each error code where the README says', () => {
    expect(codeOf(() => decodeCesr('XYZ'))).toBe('CESR_UNKNOWN_CODE')
    expect(codeOf(() => encodeCesr('Z' as 'E', new Uint8Array(32)))).toBe('CESR_UNKNOWN_CODE')
    expect(codeOf(() => decodeCesr(''))).toBe('CESR_INVALID_LENGTH')
    expect(codeOf(() => decodeCesr('1AA'))).toBe('CESR_INVALID_LENGTH')
    expect(codeOf(() => decodeCesr(DIGEST.slice(0, -1)))).toBe('CESR_INVALID_LENGTH')
    expect(codeOf(() => base64UrlDecode('AAAAA'))).toBe('CESR_INVALID_LENGTH')
    expect(codeOf(() => decodeCesr(DIGEST.slice(0, -1) + '+'))).toBe('CESR_INVALID_CHARACTER')
    // A digest's second character must be A–P: the rest are non-zero pad bits.
    expect(codeOf(() => decodeCesr('EQ' + DIGEST.slice(2)))).toBe('CESR_NONZERO_PAD')
    expect(codeOf(() => base64UrlDecode('-_9'))).toBe('CESR_NONZERO_PAD')
    expect(codeOf(() => encodeCesr('E', new Uint8Array(31)))).toBe('CESR_INVALID_RAW_SIZE')
    expect(codeOf(() => decodeCesr(42 as unknown as string))).toBe('CESR_INVALID_INPUT')
    expect(codeOf(() => encodeCesr('E', [1, 2] as unknown as Uint8Array))).toBe(
      'CESR_INVALID_INPUT',
    )
  })

  it('is strict base64url without padding', () => {
    expect(base64UrlEncode(new Uint8Array([0xfb, 0xff]))).toBe('-_8')
    expect(base64UrlDecode('-_8')).toEqual(new Uint8Array([0xfb, 0xff]))
    for (const text of ['-_8=', '+/8', '-_ 8']) {
      expect(() => base64UrlDecode(text)).toThrow(CesrError)
    }
  })

  it('quotes at most 8 characters of the input, and invalid characters by index only', () => {
    const secret = 'S'.repeat(32)
    let message = ''
    try {
      encodeCesr(secret as 'E', new Uint8Array(32))
    } catch (caught) {
      expect(caught).toMatchObject({ name: 'CesrError', code: 'CESR_UNKNOWN_CODE' })
      message = (caught as CesrError).message
    }
    expect(message).toBe('unknown CESR code "SSSSSSSS"… (32 chars)')

    try {
      decodeCesr(DIGEST.slice(0, 20) + '€' + DIGEST.slice(21))
    } catch (caught) {
      message = (caught as CesrError).message
    }
    expect(message).toBe('invalid base64url character at index 20')
  })

  it('accepts a Buffer and a Uint8Array from another realm, but not an ArrayBuffer', () => {
    const foreign = runInNewContext('new Uint8Array(16)') as Uint8Array
    expect(foreign).not.toBeInstanceOf(Uint8Array)
    expect(encodeCesr('0A', foreign)).toBe(encodeCesr('0A', new Uint8Array(16)))
    expect(encodeCesr('0A', Buffer.alloc(16))).toBe(encodeCesr('0A', new Uint8Array(16)))
    expect(codeOf(() => encodeCesr('0A', new ArrayBuffer(16) as unknown as Uint8Array))).toBe(
      'CESR_INVALID_INPUT',
    )
  })
})
