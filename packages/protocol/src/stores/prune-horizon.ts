import { ConfigurationError } from '../errors.js'

/**
 * The latest expiry `KeySetStore.pruneEndorsements(now, retentionMs)` may delete: an integer, so
 * that stores keeping expiries rounded up to the millisecond compare exactly, and never after
 * `now`, so that nothing still valid at `now` is deleted.
 */
export function pruneHorizon(now: number, retentionMs: number): number {
  if (typeof now !== 'number' || !Number.isFinite(now)) {
    throw new ConfigurationError('now', 'must be a finite number of epoch milliseconds')
  }
  if (typeof retentionMs !== 'number' || !Number.isSafeInteger(retentionMs) || retentionMs < 0) {
    throw new ConfigurationError('retentionMs', 'must be a non-negative integer')
  }
  return Math.floor(now) - retentionMs
}
