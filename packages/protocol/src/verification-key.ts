import { InvalidMessageError } from './errors.js'
import type { VerificationKey, Verifier } from './interfaces/crypto.js'
import { publicKey as publicKeyValidator } from './schema.js'

/** A verification key for a known CESR public key, e.g. a server key a client pins. */
export function verificationKey(publicKey: string, verifier: Verifier): VerificationKey {
  const key = publicKeyValidator(publicKey, 'publicKey')
  if (typeof verifier?.verify !== 'function') {
    throw new InvalidMessageError('verifier', 'must implement verify()')
  }
  return {
    public: () => Promise.resolve(key),
    verifier: () => verifier,
    verify: (message, signature) => verifier.verify(message, signature, key),
  }
}
