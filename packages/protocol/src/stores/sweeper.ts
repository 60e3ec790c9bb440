/**
 * Deletes expired rows at most once per interval, piggybacked on writes that carry a `now`, so
 * no timer keeps the process alive and an idle server does no work. Expired entries are already
 * ignored by every read, so sweeping bounds the storage used and never affects correctness.
 *
 * `sweep` may be synchronous (it then runs inside the caller's call) or return a promise. A sweep
 * is claimed before it runs, so of many concurrent writes only one sweeps; one that fails is not
 * counted, and the next write tries again rather than skipping a whole interval.
 */
export class Sweeper<R> {
  readonly #intervalMs: number
  readonly #sweep: (now: number) => R
  #nextSweep = Number.NEGATIVE_INFINITY

  constructor(intervalMs: number, sweep: (now: number) => R) {
    this.#intervalMs = intervalMs
    this.#sweep = sweep
  }

  /** Sweeps when one is due at `now`, returning what `sweep` returned; undefined otherwise. */
  maybeSweep(now: number): R | undefined {
    if (this.#intervalMs === Number.POSITIVE_INFINITY || now < this.#nextSweep) return undefined
    const previous = this.#nextSweep
    const claimed = now + this.#intervalMs
    this.#nextSweep = claimed
    const release = (): void => {
      if (this.#nextSweep === claimed) this.#nextSweep = previous
    }
    let result: R
    try {
      result = this.#sweep(now)
    } catch (error) {
      release()
      throw error
    }
    // The caller awaits the promise itself and sees its rejection; this only releases the claim.
    if (isPromiseLike(result)) result.then(undefined, release)
    return result
  }
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    'then' in value &&
    typeof value.then === 'function'
  )
}
