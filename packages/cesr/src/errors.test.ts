import { describe, expect, it } from 'vitest'

import { CesrError, describe as describeValue } from './errors.js'

describe('CesrError', () => {
  it('is an Error carrying a stable code, a name and an optional cause', () => {
    const cause = new Error('inner')
    const error = new CesrError('CESR_INVALID_LENGTH', 'too short', { cause })
    expect(error).toBeInstanceOf(Error)
    expect(error).toBeInstanceOf(CesrError)
    expect(error.name).toBe('CesrError')
    expect(error.code).toBe('CESR_INVALID_LENGTH')
    expect(error.message).toBe('too short')
    expect(error.cause).toBe(cause)
    expect(new CesrError('CESR_INVALID_INPUT', 'x').cause).toBeUndefined()
  })
})

describe('describe', () => {
  it('quotes at most 8 characters of a string and only the type of anything else', () => {
    expect(describeValue('E')).toBe('"E"')
    expect(describeValue('12345678')).toBe('"12345678"')
    expect(describeValue('123456789-secret')).toBe('"12345678"… (16 chars)')
    expect(describeValue(null)).toBe('null')
    expect(describeValue(42)).toBe('number')
    expect(describeValue({ toString: () => 'secret' })).toBe('object')
    expect(describeValue(Symbol('secret'))).toBe('symbol')
  })
})
