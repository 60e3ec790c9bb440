import { InvalidMessageError, ProtocolError } from '@better-auth/protocol'
import type { VerificationKey, VerificationKeyStore } from '@better-auth/protocol'

/**
 * The server response keys this client trusts, indexed by their CESR public key. A response
 * names its key in `serverIdentity`; only keys added here are ever used to verify it.
 */
export class MemoryVerificationKeyStore implements VerificationKeyStore {
  readonly #keys = new Map<string, VerificationKey>()

  async add(key: VerificationKey): Promise<void> {
    const candidate = key as Partial<Record<keyof VerificationKey, unknown>> | null
    if (
      typeof candidate !== 'object' ||
      candidate === null ||
      typeof candidate.public !== 'function' ||
      typeof candidate.verifier !== 'function'
    ) {
      throw new InvalidMessageError('key', 'expected a VerificationKey')
    }
    const publicKey = await key.public()
    if (typeof publicKey !== 'string') {
      throw new InvalidMessageError('key', 'public() did not resolve a string')
    }
    this.#keys.set(publicKey, key)
  }

  get(identity: string): Promise<VerificationKey> {
    const key = typeof identity === 'string' ? this.#keys.get(identity) : undefined
    if (key === undefined) {
      // The identity comes from an unverified response; echo only a bounded prefix of it.
      const named = typeof identity === 'string' ? identity.slice(0, 64) : typeof identity
      return Promise.reject(
        new ProtocolError('unknown server response key', { serverIdentity: named }),
      )
    }
    return Promise.resolve(key)
  }
}
