/** One request's charge against one counter. */
export interface CounterHit {
  /** Opaque, already a keyed hash: stores never see a raw address or identity. */
  readonly key: string
  /** How much this request counts (more for a refused request). */
  readonly cost: number
  /** Length of the counter's window; a counter past its window starts again from zero. */
  readonly windowMs: number
}

/** A counter after a hit. */
export interface CounterState {
  readonly count: number
  /** When the counter's window ends (epoch ms): it starts again from zero after this. */
  readonly resetAtMs: number
}

/**
 * Where rate-limit counters live. `hit` adds each cost to its counter atomically (fixed windows:
 * a counter whose window ended restarts at the cost) and answers the counters in the order given,
 * all in one round trip to the backend: no read-then-write.
 */
export interface RateLimitStore {
  hit(hits: readonly CounterHit[], nowMs: number): Promise<readonly CounterState[]>
  /** Rejects when the backend is unreachable (readiness checks). */
  ping?(): Promise<void>
}
