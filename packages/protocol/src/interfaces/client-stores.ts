import type { SigningKey, VerificationKey } from './crypto.js'

/** Holds one string (identity, device or token) for a client. */
export interface ClientValueStore {
  store(value: string): Promise<void>
  /** Resolves undefined when nothing is stored. */
  get(): Promise<string | undefined>
  clear(): Promise<void>
}

export interface KeyCommitment {
  /** The CESR public key of the current key. */
  readonly publicKey: string
  /** hash(next public key): the forward commitment. */
  readonly rotationHash: string
}

export interface PendingRotation {
  /** The key that was committed to; it signs the rotation request. */
  readonly signer: SigningKey
  /** Its public key, revealed by the rotation. */
  readonly publicKey: string
  /** hash(public key of the freshly generated key after it). */
  readonly rotationHash: string
}

/**
 * A key chain with forward commitment. A rotation is two-phase: `next()` prepares it and keeps
 * returning the same pending rotation until `commit()`, so a request that failed or was lost can
 * be retried with the same keys.
 */
export interface ClientRotatingKeyStore {
  /** Generates the current and the next key, replacing any previous chain. */
  initialize(): Promise<KeyCommitment>
  /** The current key; throws InvalidStateError when the store is not initialized. */
  signer(): Promise<SigningKey>
  next(): Promise<PendingRotation>
  commit(): Promise<void>
  clear(): Promise<void>
}

/** Resolves a server public key (by its CESR identity) to a verification key. */
export interface VerificationKeyStore {
  /** Throws InvalidTokenError (server side) or ProtocolError (client side) for unknown keys. */
  get(identity: string): Promise<VerificationKey>
}
