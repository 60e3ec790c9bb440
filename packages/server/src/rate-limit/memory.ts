import type { CounterHit, CounterState, RateLimitStore } from './store.js'

interface Counter {
  count: number
  resetAtMs: number
}

/**
 * Counters in this process's memory: one process's limits only (several processes each count
 * alone; share a SQLite, PostgreSQL or Redis store instead). Expired counters are swept once the
 * map passes `sweepAbove` entries, so a flood of distinct keys holds at most a window's worth.
 */
export class MemoryRateLimitStore implements RateLimitStore {
  readonly #counters = new Map<string, Counter>()
  readonly #sweepAbove: number
  #nextSweepAbove: number

  constructor(options: { readonly sweepAbove?: number } = {}) {
    this.#sweepAbove = options.sweepAbove ?? 10_000
    this.#nextSweepAbove = this.#sweepAbove
  }

  hit(hits: readonly CounterHit[], nowMs: number): Promise<readonly CounterState[]> {
    if (this.#counters.size > this.#nextSweepAbove) this.#sweep(nowMs)
    return Promise.resolve(hits.map((hit) => this.#hitOne(hit, nowMs)))
  }

  ping(): Promise<void> {
    return Promise.resolve()
  }

  /** Number of live counters, for tests of the sweep. */
  get size(): number {
    return this.#counters.size
  }

  #hitOne({ key, cost, windowMs }: CounterHit, nowMs: number): CounterState {
    const counter = this.#counters.get(key)
    if (counter === undefined || counter.resetAtMs <= nowMs) {
      const fresh = { count: cost, resetAtMs: nowMs + windowMs }
      this.#counters.set(key, fresh)
      return { ...fresh }
    }
    counter.count += cost
    return { ...counter }
  }

  #sweep(nowMs: number): void {
    for (const [key, counter] of this.#counters) {
      if (counter.resetAtMs <= nowMs) this.#counters.delete(key)
    }
    // Live counters alone may pass the threshold: sweep again only after as many more arrive.
    this.#nextSweepAbove = Math.max(this.#sweepAbove, this.#counters.size * 2)
  }
}
