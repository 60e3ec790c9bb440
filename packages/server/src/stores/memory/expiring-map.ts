import { Sweeper } from '@better-auth/protocol'

/**
 * A map whose entries lapse at their own `expiresAt`. Lapsed entries are invisible at once and
 * swept in bulk at most every `sweepIntervalMs`, so memory stays bounded under sustained load
 * without a timer keeping the process alive.
 */
export class ExpiringMap<V> {
  readonly #entries = new Map<string, { value: V; expiresAt: number }>()
  readonly #sweeper: Sweeper<void>

  constructor(sweepIntervalMs = 10_000) {
    this.#sweeper = new Sweeper(sweepIntervalMs, (now) => {
      for (const [key, entry] of this.#entries) {
        if (entry.expiresAt <= now) this.#entries.delete(key)
      }
    })
  }

  get size(): number {
    return this.#entries.size
  }

  get(key: string, now: number): V | undefined {
    const entry = this.#entries.get(key)
    if (entry === undefined) return undefined
    if (entry.expiresAt <= now) {
      this.#entries.delete(key)
      return undefined
    }
    return entry.value
  }

  set(key: string, value: V, expiresAt: number, now: number): void {
    this.#sweeper.maybeSweep(now)
    this.#entries.set(key, { value, expiresAt })
  }

  /** Removes and returns a live entry. */
  take(key: string, now: number): V | undefined {
    const value = this.get(key, now)
    this.#entries.delete(key)
    return value
  }
}
