import type { KeySetStore, SharedKeySet } from '@better-auth/protocol'

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
    for (const [text, expiresAt] of this.#keys) {
      if (expiresAt > now) keys.push(text)
      else this.#keys.delete(text)
    }
    return Promise.resolve({ chain: [...this.#chain], keys })
  }
}
