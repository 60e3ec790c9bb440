import { describe, expect, it } from 'vitest'
import { DEFAULT_EXPIRY, resolveExpiry } from './config.js'

function fieldOf(run: () => unknown): unknown {
  try {
    run()
  } catch (error) {
    expect(error).toMatchObject({ code: 'BA001', name: 'ConfigurationError' })
    return (error as { context: { field: unknown } }).context.field
  }
  throw new Error('expected a ConfigurationError')
}

describe('resolveExpiry', () => {
  it('defaults to the protocol lifetimes, and the nonce lock to window + skew', () => {
    expect(resolveExpiry()).toEqual({
      ...DEFAULT_EXPIRY,
      accessNonceLockMs: DEFAULT_EXPIRY.accessWindowMs + DEFAULT_EXPIRY.clockSkewMs,
    })
    expect(DEFAULT_EXPIRY).toEqual({
      accessMs: 900_000,
      refreshMs: 43_200_000,
      challengeMs: 60_000,
      accessWindowMs: 30_000,
      clockSkewMs: 5_000,
    })
  })

  it('refuses a nonce lock that lapses before the window plus skew: a replay would pass', () => {
    expect(fieldOf(() => resolveExpiry({ accessNonceLockMs: 34_999 }))).toBe(
      'expiry.accessNonceLockMs',
    )
    expect(resolveExpiry({ accessNonceLockMs: 35_000 }).accessNonceLockMs).toBe(35_000)
  })

  it.each([
    ['accessMs', { accessMs: 0 }],
    ['accessMs', { accessMs: -1 }],
    ['accessMs', { accessMs: 1.5 }],
    ['refreshMs', { refreshMs: Number.NaN }],
    ['challengeMs', { challengeMs: '60' }],
    ['accessWindowMs', { accessWindowMs: 400 * 24 * 3_600_000 }],
    ['clockSkewMs', { clockSkewMs: -5 }],
    ['refreshMs', { accessMs: 60_000, refreshMs: 30_000 }],
  ])('names expiry.%s when it is invalid', (field, input) => {
    expect(fieldOf(() => resolveExpiry(input as never))).toBe(`expiry.${field}`)
  })

  it('allows no clock skew at all', () => {
    expect(resolveExpiry({ clockSkewMs: 0 }).clockSkewMs).toBe(0)
  })
})
