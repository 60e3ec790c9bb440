import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { constantTimeEqual } from './constant-time.js'

describe('constantTimeEqual', () => {
  it('is string equality', () => {
    const cases: [string, string, boolean][] = [
      ['', '', true],
      ['a', 'a', true],
      ['abc', 'abc', true],
      ['abc', 'abd', false],
      ['abc', 'xbc', false],
      ['abc', 'ab', false],
      ['ab', 'abc', false],
      ['', 'a', false],
      // Differences in one bit, in the high bits of a UTF-16 unit, and in the last unit only.
      ['a', '`', false],
      ['\u0100', '\u0000', false],
      ['E'.repeat(44), `${'E'.repeat(43)}F`, false],
    ]
    for (const [a, b, expected] of cases) {
      expect(constantTimeEqual(a, b), `${a} ${b}`).toBe(expected)
      expect(constantTimeEqual(b, a), `${b} ${a}`).toBe(expected)
    }
  })

  it('property: agrees with ===', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), (a, b) => {
        expect(constantTimeEqual(a, b)).toBe(a === b)
        expect(constantTimeEqual(a, a)).toBe(true)
      }),
    )
  })
})
