import { ConfigurationError } from '@better-auth/protocol'

/** Lifetimes and tolerances, in milliseconds. */
export interface ExpiryOptions {
  /** Access token lifetime (default 15 min). */
  readonly accessMs: number
  /** How long a session can be refreshed after it was created (default 12 h). */
  readonly refreshMs: number
  /** Authentication challenge lifetime (default 60 s). */
  readonly challengeMs: number
  /** How old an access request's timestamp may be (default 30 s). */
  readonly accessWindowMs: number
  /** How far in the future a timestamp may be, for clocks that disagree (default 5 s). */
  readonly clockSkewMs: number
  /**
   * How long an access nonce stays reserved (default window + skew). It must outlive the window
   * plus the skew: once it lapses the same request would be accepted again.
   */
  readonly accessNonceLockMs: number
}

export const DEFAULT_EXPIRY: Omit<ExpiryOptions, 'accessNonceLockMs'> = {
  accessMs: 15 * 60_000,
  refreshMs: 12 * 3_600_000,
  challengeMs: 60_000,
  accessWindowMs: 30_000,
  clockSkewMs: 5_000,
}

const MAX_DURATION_MS = 366 * 24 * 3_600_000

function duration(field: string, value: unknown, allowZero = false): number {
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw new ConfigurationError(field, 'must be an integer number of milliseconds')
  }
  if (value < 0 || (!allowZero && value === 0) || value > MAX_DURATION_MS) {
    throw new ConfigurationError(
      field,
      `must be ${allowZero ? 'at least 0' : 'positive'} and at most a year`,
    )
  }
  return value
}

export function resolveExpiry(
  input: Partial<ExpiryOptions> = {},
  prefix = 'expiry',
): ExpiryOptions {
  if (typeof input !== 'object' || input === null)
    throw new ConfigurationError(prefix, 'must be an object')
  const merged = { ...DEFAULT_EXPIRY, ...input }
  const expiry = {
    accessMs: duration(`${prefix}.accessMs`, merged.accessMs),
    refreshMs: duration(`${prefix}.refreshMs`, merged.refreshMs),
    challengeMs: duration(`${prefix}.challengeMs`, merged.challengeMs),
    accessWindowMs: duration(`${prefix}.accessWindowMs`, merged.accessWindowMs),
    clockSkewMs: duration(`${prefix}.clockSkewMs`, merged.clockSkewMs, true),
    accessNonceLockMs: 0,
  }
  const minimumLock = expiry.accessWindowMs + expiry.clockSkewMs
  expiry.accessNonceLockMs = duration(
    `${prefix}.accessNonceLockMs`,
    input.accessNonceLockMs ?? minimumLock,
  )
  if (expiry.accessNonceLockMs < minimumLock) {
    throw new ConfigurationError(
      `${prefix}.accessNonceLockMs`,
      `must be at least accessWindowMs + clockSkewMs (${minimumLock}), or a replay is accepted once the lock lapses`,
    )
  }
  if (expiry.refreshMs < expiry.accessMs) {
    throw new ConfigurationError(`${prefix}.refreshMs`, 'must be at least accessMs')
  }
  return expiry
}

/** Throws ConfigurationError unless `value` has every named method. */
export function requireMethods(field: string, value: unknown, methods: readonly string[]): void {
  if (typeof value !== 'object' || value === null) {
    throw new ConfigurationError(field, 'is required')
  }
  for (const method of methods) {
    if (typeof (value as Record<string, unknown>)[method] !== 'function') {
      throw new ConfigurationError(`${field}.${method}`, 'must be a function')
    }
  }
}

export function positiveInteger(field: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
    throw new ConfigurationError(field, 'must be a positive integer')
  }
  return value
}
