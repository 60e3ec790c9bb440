import type { Revocation, RevocationFeed, RevocationListener } from '@better-auth/protocol'

/**
 * Revocations and key set notices within one process: for a server and its verifiers sharing
 * memory, and tests.
 */
export class MemoryRevocationFeed implements RevocationFeed {
  readonly #listeners = new Set<RevocationListener>()

  publish(revocation: Revocation): Promise<void> {
    for (const listener of this.#listeners) listener.revoked(revocation)
    return Promise.resolve()
  }

  announceKeySetChange(): Promise<void> {
    for (const listener of this.#listeners) listener.keySetChanged?.()
    return Promise.resolve()
  }

  subscribe(listener: RevocationListener): Promise<() => Promise<void>> {
    this.#listeners.add(listener)
    return Promise.resolve(() => {
      this.#listeners.delete(listener)
      return Promise.resolve()
    })
  }
}
