import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { decodeRevocation, encodeRevocation } from './revocation-message.js'

describe('revocation messages', () => {
  it('round-trip', () => {
    fc.assert(
      fc.property(fc.string(), fc.option(fc.string(), { nil: undefined }), (identity, device) => {
        const revocation = device === undefined ? { identity } : { identity, device }
        expect(decodeRevocation(encodeRevocation(revocation))).toEqual(revocation)
      }),
    )
  })

  it('are refused when they carry anything else', () => {
    for (const text of [
      '',
      'null',
      '[]',
      '{}',
      '{"identity":1}',
      '{"identity":"a","device":2}',
      '{"identity":"a","x":1}',
      'nope',
    ]) {
      expect(decodeRevocation(text)).toBeUndefined()
    }
    fc.assert(
      fc.property(fc.string(), (text) => {
        const decoded = decodeRevocation(text)
        if (decoded !== undefined) expect(typeof decoded.identity).toBe('string')
      }),
    )
  })
})
