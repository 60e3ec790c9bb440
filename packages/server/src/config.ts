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
  /**
   * The clock tolerance (default 5 s): how far in the future a timestamp may be, and the most that
   * the clocks of any two servers sharing stores may disagree. Replay locks outlast a message's
   * acceptance by this much, so a server whose clock is behind never finds one lapsed.
   */
  readonly clockSkewMs: number
  /**
   * How long after an access request's own timestamp its nonce stays reserved (default window +
   * skew). It must outlive the window plus the skew: once it lapses the same request would be
   * accepted again by a server whose clock is behind.
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

/**
 * Replay locks are timed by the message they protect, never by the accepting server's clock: an
 * access nonce from the request's signed timestamp, a spent access key from the token's refresh
 * expiry. Every server then derives the same expiry for the same message, and judges it by the
 * same clock it judges freshness by. A store that drops a lock by another clock (Redis by its own,
 * a sweep by the `now` of whichever server sweeps) drops it at most `clockSkewMs` early as seen by
 * any server within the tolerance, which the `clockSkewMs` added here covers. The extra
 * millisecond makes the bound inclusive: stores free a value from `expiresAt` on, while a message
 * is still acceptable at its last instant.
 */
export function accessNonceLockExpiry(
  requestTime: number,
  expiry: Pick<ExpiryOptions, 'accessNonceLockMs'>,
): number {
  return requestTime + expiry.accessNonceLockMs + 1
}

/** See accessNonceLockExpiry: a token is refreshable up to and including its refresh expiry. */
export function spentAccessKeyLockExpiry(
  refreshExpiry: number,
  expiry: Pick<ExpiryOptions, 'clockSkewMs'>,
): number {
  return refreshExpiry + expiry.clockSkewMs + 1
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
