import { ConfigurationError, InvalidIdentityError, constantTimeEqual } from '@better-auth/protocol'
import type { Hasher, IdentityVerifier } from '@better-auth/protocol'

/**
 * The default identity rule: `identity = hash(publicKey + rotationHash + extra)` (plain string
 * concatenation; `extra` is the recovery hash at account creation). Throws InvalidIdentityError
 * when the identity does not match or any argument is not a string.
 */
export class DefaultIdentityVerifier implements IdentityVerifier {
  readonly #hasher: Hasher

  constructor(hasher: Hasher) {
    if (typeof hasher !== 'object' || hasher === null || typeof hasher.sum !== 'function') {
      throw new ConfigurationError('hasher', 'expected a Hasher')
    }
    this.#hasher = hasher
  }

  async verify(
    identity: string,
    publicKey: string,
    rotationHash: string,
    extra: string,
  ): Promise<void> {
    if (
      typeof identity !== 'string' ||
      typeof publicKey !== 'string' ||
      typeof rotationHash !== 'string' ||
      typeof extra !== 'string'
    ) {
      throw new InvalidIdentityError('identity inputs must be strings')
    }
    const expected = await this.#hasher.sum(publicKey + rotationHash + extra)
    if (!constantTimeEqual(identity, expected)) {
      throw new InvalidIdentityError(
        'identity does not match hash(publicKey + rotationHash + extra)',
      )
    }
  }
}
