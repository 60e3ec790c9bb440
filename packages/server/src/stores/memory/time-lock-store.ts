import type { ServerTimeLockStore } from '@better-auth/protocol'
import { ExpiringMap } from './expiring-map.js'

export class MemoryTimeLockStore implements ServerTimeLockStore {
  readonly #locks = new ExpiringMap<true>()

  get size(): number {
    return this.#locks.size
  }

  reserve(value: string, expiresAt: number, now: number): Promise<boolean> {
    if (this.#locks.get(value, now) !== undefined) return Promise.resolve(false)
    this.#locks.set(value, true, expiresAt, now)
    return Promise.resolve(true)
  }
}
