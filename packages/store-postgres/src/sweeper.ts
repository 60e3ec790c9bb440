/**
 * Deletes expired rows at most once per interval, piggybacked on writes that carry a `now`, so
 * no timer keeps the process alive and an idle server does no work. Expired rows are already
 * ignored by every read, so sweeping bounds the tables' size and never affects correctness.
 */
export class Sweeper {
  readonly #intervalMs: number
  readonly #sweep: (now: number) => Promise<number>
  #nextSweep = Number.NEGATIVE_INFINITY

  constructor(intervalMs: number, sweep: (now: number) => Promise<number>) {
    this.#intervalMs = intervalMs
    this.#sweep = sweep
  }

  async maybeSweep(now: number): Promise<void> {
    if (this.#intervalMs === Number.POSITIVE_INFINITY || now < this.#nextSweep) return
    // Claimed before awaiting, so of many concurrent writes only one sweeps.
    const previous = this.#nextSweep
    this.#nextSweep = now + this.#intervalMs
    try {
      await this.#sweep(now)
    } catch (error) {
      // Let the next write try again rather than skipping a whole interval.
      this.#nextSweep = previous
      throw error
    }
  }
}
