import { constantTimeEqual, storeErrors, type ServerRecoveryHashStore } from '@better-auth/protocol'

export class MemoryRecoveryHashStore implements ServerRecoveryHashStore {
  readonly #hashes = new Map<string, string>()

  register(identity: string, recoveryHash: string): Promise<void> {
    if (this.#hashes.has(identity)) return Promise.reject(storeErrors.identityExists())
    this.#hashes.set(identity, recoveryHash)
    return Promise.resolve()
  }

  rotate(identity: string, expectedHash: string, nextHash: string): Promise<void> {
    const stored = this.#hashes.get(identity)
    if (stored === undefined || !constantTimeEqual(stored, expectedHash)) {
      return Promise.reject(storeErrors.recoveryMismatch())
    }
    this.#hashes.set(identity, nextHash)
    return Promise.resolve()
  }

  replace(identity: string, nextHash: string): Promise<void> {
    if (!this.#hashes.has(identity)) return Promise.reject(storeErrors.unknownIdentity())
    this.#hashes.set(identity, nextHash)
    return Promise.resolve()
  }

  delete(identity: string): Promise<void> {
    this.#hashes.delete(identity)
    return Promise.resolve()
  }
}
