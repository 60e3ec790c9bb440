import type { KeySetStore, SharedKeySet } from '@better-auth/protocol'
import { pruneHorizon } from '@better-auth/protocol/internal'

/** The shared key set in process memory: for a single process and tests. */
export class MemoryKeySetStore implements KeySetStore {
  #chain: readonly string[] = []
  /** Endorsement text → expiry (epoch ms). */
  readonly #keys = new Map<string, number>()

  publishChain(chain: readonly string[]): Promise<void> {
    if (chain.length > this.#chain.length) this.#chain = [...chain]
    return Promise.resolve()
  }

  addEndorsement(text: string, expiresAt: number): Promise<void> {
    this.#keys.set(text, Math.max(expiresAt, this.#keys.get(text) ?? expiresAt))
    return Promise.resolve()
  }

  read(now: number): Promise<SharedKeySet> {
    const keys: string[] = []
    for (const [text, expiresAt] of this.#keys) if (expiresAt > now) keys.push(text)
    return Promise.resolve({ chain: [...this.#chain], keys })
  }

  pruneEndorsements(now: number, retentionMs: number): Promise<number> {
    // In the executor, so that a refused retention rejects rather than throws.
    return new Promise((resolve) => {
      const horizon = pruneHorizon(now, retentionMs)
      let pruned = 0
      for (const [text, expiresAt] of this.#keys) {
        if (expiresAt <= horizon && this.#keys.delete(text)) pruned++
      }
      resolve(pruned)
    })
  }
}
