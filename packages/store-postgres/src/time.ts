/**
 * Times are stored as BIGINT epoch milliseconds. The protocol's clocks give integers; should a
 * fraction arrive, rounding the expiry up and `now` down errs on the side of a value staying
 * reserved (or a challenge staying live) for under a millisecond longer, never shorter.
 */
export const expiryMs = (expiresAt: number): number => Math.ceil(expiresAt)
export const nowMs = (now: number): number => Math.floor(now)
