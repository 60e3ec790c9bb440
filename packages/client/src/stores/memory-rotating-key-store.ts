import { ConfigurationError, InvalidStateError } from '@better-auth/protocol'
import type {
  ClientRotatingKeyStore,
  Hasher,
  KeyCommitment,
  PendingRotation,
  PreparedChain,
  SigningKey,
} from '@better-auth/protocol'

export interface MemoryRotatingKeyStoreOptions {
  /** Makes a fresh signing key, e.g. `() => WebCryptoP256SigningKey.generate()`. */
  generate: () => Promise<SigningKey> | SigningKey
  /** The protocol hash, used for the forward commitments `hash(next public key)`. */
  hasher: Hasher
}

interface Chain {
  current: SigningKey
  /** The key `current` committed to: hash(next.public()) is the published rotationHash. */
  next: SigningKey
  /** Prepared by next(), applied by commit(); settles to the rotation and the key after it. */
  pending: Promise<{ rotation: PendingRotation; after: SigningKey }> | undefined
}

/**
 * A forward-committed key chain held in memory. A rotation is two-phase: `next()` prepares it and
 * returns the same pending rotation until `commit()`, so a request that failed or was lost can be
 * retried with exactly the same keys. Replacing the chain is two-phase too: `prepareInitialize()`
 * holds the new chain apart until its `commit()`.
 */
export class MemoryRotatingKeyStore implements ClientRotatingKeyStore {
  readonly #generate: () => Promise<SigningKey> | SigningKey
  readonly #hasher: Hasher
  #chain: Chain | undefined

  constructor(options: MemoryRotatingKeyStoreOptions) {
    if (typeof options !== 'object' || options === null) {
      throw new ConfigurationError('options', 'expected an object')
    }
    if (typeof options.generate !== 'function') {
      throw new ConfigurationError('generate', 'expected a function returning a SigningKey')
    }
    if (typeof options.hasher?.sum !== 'function') {
      throw new ConfigurationError('hasher', 'expected a Hasher')
    }
    this.#generate = options.generate
    this.#hasher = options.hasher
  }

  async #newKey(): Promise<SigningKey> {
    const key = await this.#generate()
    if (typeof key?.sign !== 'function' || typeof key.public !== 'function') {
      throw new ConfigurationError('generate', 'did not produce a SigningKey')
    }
    return key
  }

  async #commitment(key: SigningKey): Promise<string> {
    return this.#hasher.sum(await key.public())
  }

  async initialize(): Promise<KeyCommitment> {
    const { chain, commitment } = await this.#newChain()
    // Installed only once everything succeeded: a failing generator leaves the old chain intact.
    this.#chain = chain
    return commitment
  }

  async prepareInitialize(): Promise<PreparedChain> {
    // The chain the new one is meant to replace, taken before generating: whatever happens to the
    // store from here on (a commit, another initialize, clear) was not seen by the caller.
    const replaced = this.#chain
    const { chain, commitment } = await this.#newChain()
    let state: 'prepared' | 'committed' | 'discarded' = 'prepared'
    return Object.freeze({
      ...commitment,
      signer: chain.current,
      commit: (): Promise<void> => {
        if (state !== 'prepared') {
          return Promise.reject(new InvalidStateError(`the prepared chain was already ${state}`))
        }
        if (this.#chain !== replaced) {
          return Promise.reject(
            new InvalidStateError('the key chain changed since prepareInitialize()'),
          )
        }
        this.#chain = chain
        state = 'committed'
        return Promise.resolve()
      },
      discard: (): Promise<void> => {
        if (state === 'prepared') state = 'discarded'
        return Promise.resolve()
      },
    })
  }

  async #newChain(): Promise<{ chain: Chain; commitment: KeyCommitment }> {
    const current = await this.#newKey()
    const next = await this.#newKey()
    const commitment = {
      publicKey: await current.public(),
      rotationHash: await this.#commitment(next),
    }
    return { chain: { current, next, pending: undefined }, commitment }
  }

  signer(): Promise<SigningKey> {
    if (this.#chain === undefined) return Promise.reject(notInitialized())
    return Promise.resolve(this.#chain.current)
  }

  next(): Promise<PendingRotation> {
    const chain = this.#chain
    if (chain === undefined) return Promise.reject(notInitialized())
    // Memoizing the promise, not its result, makes concurrent callers share one rotation.
    chain.pending ??= this.#prepare(chain)
    const pending = chain.pending
    return pending.then(
      ({ rotation }) => rotation,
      (error: unknown) => {
        if (chain.pending === pending) chain.pending = undefined
        throw error
      },
    )
  }

  async #prepare(chain: Chain): Promise<{ rotation: PendingRotation; after: SigningKey }> {
    const after = await this.#newKey()
    const rotation: PendingRotation = Object.freeze({
      signer: chain.next,
      publicKey: await chain.next.public(),
      rotationHash: await this.#commitment(after),
    })
    return { rotation, after }
  }

  async commit(): Promise<void> {
    const chain = this.#chain
    if (chain?.pending === undefined) {
      throw new InvalidStateError('no pending rotation to commit; call next() first')
    }
    const { after } = await chain.pending
    // initialize(), a prepared chain's commit() or clear() may have replaced the chain while the
    // rotation was settling.
    if (this.#chain !== chain) throw new InvalidStateError('the key chain changed while committing')
    this.#chain = { current: chain.next, next: after, pending: undefined }
  }

  clear(): Promise<void> {
    this.#chain = undefined
    return Promise.resolve()
  }
}

function notInitialized(): InvalidStateError {
  return new InvalidStateError('the key store is not initialized')
}
