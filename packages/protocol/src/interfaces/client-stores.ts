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
 * A new key chain prepared by `prepareInitialize()`: its commitment and current key, held apart
 * from the stored chain until `commit()`. It lets a client sign with the new chain while the old
 * one stays usable, so a refused or lost request loses nothing.
 */
export interface PreparedChain extends KeyCommitment {
  /** The new chain's current key (the one `publicKey` names); it signs the request. */
  readonly signer: SigningKey
  /**
   * Replaces the stored chain (and any pending rotation) with this one, in one atomic step.
   * Throws InvalidStateError when the stored chain changed since `prepareInitialize()` (another
   * caller initialized, committed a rotation or cleared it), or when this chain was discarded;
   * the stored chain is then left as it is. A commit that failed for another reason (storage)
   * may be retried; a second commit after a successful one throws InvalidStateError.
   */
  commit(): Promise<void>
  /** Drops the prepared keys. The stored chain is untouched; a no-op after `commit()`. */
  discard(): Promise<void>
}

/**
 * A key chain with forward commitment. A rotation is two-phase: `next()` prepares it and keeps
 * returning the same pending rotation until `commit()`, so a request that failed or was lost can
 * be retried with the same keys.
 *
 * Replacing the whole chain (account creation, recovery, a new session) is two-phase as well:
 * `prepareInitialize()` holds the new chain apart, and its `commit()` installs it only after the
 * server accepted it. `initialize()` replaces the chain at once.
 *
 * `@better-auth/client` implements this state machine once (`KeyChainStore`) over a small
 * persistence interface; a custom store normally implements only that persistence.
 */
export interface ClientRotatingKeyStore {
  /**
   * Generates the current and the next key, replacing any previous chain (and a pending
   * rotation) immediately. Prefer `prepareInitialize()` when the new chain still has to be
   * accepted by a server.
   */
  initialize(): Promise<KeyCommitment>
  /** Generates a new chain without touching the stored one; see PreparedChain. */
  prepareInitialize(): Promise<PreparedChain>
  /** The current key; throws InvalidStateError when the store is not initialized. */
  signer(): Promise<SigningKey>
  next(): Promise<PendingRotation>
  commit(): Promise<void>
  clear(): Promise<void>
}

/** What changed in the keys a VerificationKeyStore trusts. */
export interface VerificationKeyChange {
  /** Keys (CESR identities) it trusted before and no longer does, e.g. after a taint. */
  readonly withdrawn: readonly string[]
}

/** Resolves a server public key (by its CESR identity) to a verification key. */
export interface VerificationKeyStore {
  /** Throws InvalidTokenError (server side) or ProtocolError (client side) for unknown keys. */
  get(identity: string): Promise<VerificationKey>
  /**
   * Optional, for stores whose keys change while in use: calls `listener` whenever the keys it
   * trusts change, so that whoever keeps results verified with a withdrawn key (the
   * AccessVerifier's token cache) forgets them. Answers a function that ends the calls.
   */
  onChange?(listener: (change: VerificationKeyChange) => void): () => void
}
