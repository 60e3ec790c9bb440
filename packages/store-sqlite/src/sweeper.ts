/**
 * Deletes expired rows at most once per interval, piggybacked on writes that carry a `now`, so
 * no timer keeps the process alive and an idle server does no work. Expired rows are already
 * ignored by every read, so sweeping bounds the file's size and never affects correctness.
 */
export class Sweeper {
  readonly #intervalMs: number
  readonly #sweep: (now: number) => number
  #nextSweep = Number.NEGATIVE_INFINITY

  constructor(intervalMs: number, sweep: (now: number) => number) {
    this.#intervalMs = intervalMs
    this.#sweep = sweep
  }

  maybeSweep(now: number): void {
    if (this.#intervalMs === Number.POSITIVE_INFINITY || now < this.#nextSweep) return
    this.#nextSweep = now + this.#intervalMs
    this.#sweep(now)
  }
}
