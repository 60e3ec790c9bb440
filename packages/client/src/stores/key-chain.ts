import { InvalidStateError } from '@better-auth/protocol'
import type {
  ClientRotatingKeyStore,
  Hasher,
  KeyCommitment,
  PendingRotation,
  PreparedChain,
  SigningKey,
} from '@better-auth/protocol'

/** A key as a store persists it: whatever it needs to sign again, and its CESR public key. */
export interface ChainKey {
  readonly publicKey: string
}

/**
 * One forward-committed key chain: the current key, the key it committed to, and the rotation
 * `next()` prepared (the key after `next` and the commitment to it). Persisted as one record, so
 * a single write changes all of it and no reader sees one part without the other.
 */
export interface ChainRecord<K extends ChainKey> {
  readonly current: K
  readonly next: K
  readonly pending?: { readonly after: K; readonly rotationHash: string }
}

/**
 * What a rotating key store persists; the state machine (next / prepare / commit / discard) is
 * KeyChainStore's, written once. `compareAndSave` is the only write and must be atomic: it
 * replaces the stored record (deletes it for `undefined`) only when the stored one is still
 * `expected` as `sameChainRecord` compares them, and resolves whether it did.
 */
export interface KeyChainPersistence<K extends ChainKey> {
  load(): Promise<ChainRecord<K> | undefined>
  compareAndSave(
    expected: ChainRecord<K> | undefined,
    record: ChainRecord<K> | undefined,
  ): Promise<boolean>
}

/** How a store makes keys and signs with the keys it persisted. */
export interface ChainKeys<K extends ChainKey> {
  generate(): Promise<K>
  signer(key: K): Promise<SigningKey>
}

export interface KeyChainStoreOptions<K extends ChainKey> {
  readonly persistence: KeyChainPersistence<K>
  readonly keys: ChainKeys<K>
  /** The protocol hash, for the forward commitments `hash(next public key)`. */
  readonly hasher: Hasher
}

/** Equal when they name the same keys and the same prepared rotation. */
export function sameChainRecord<K extends ChainKey>(
  a: ChainRecord<K> | undefined,
  b: ChainRecord<K> | undefined,
): boolean {
  if (a === undefined || b === undefined) return a === b
  return (
    sameChain(a, b) &&
    a.pending?.after.publicKey === b.pending?.after.publicKey &&
    a.pending?.rotationHash === b.pending?.rotationHash
  )
}

/** The same chain, whatever rotation is prepared on it: a prepared rotation changes no key. */
function sameChain<K extends ChainKey>(
  a: ChainRecord<K> | undefined,
  b: ChainRecord<K> | undefined,
): boolean {
  if (a === undefined || b === undefined) return a === b
  return a.current.publicKey === b.current.publicKey && a.next.publicKey === b.next.publicKey
}

// Writers that keep racing this one (other tabs rotating in a loop) are a bug, not a load.
const MAX_WRITE_ATTEMPTS = 16

/**
 * A forward-committed key chain over any persistence. A rotation is two-phase: `next()` prepares
 * it, persists it, and keeps returning the same pending rotation until `commit()`, so a request
 * that failed or was lost (even across a reload, with a persistent store) is retried with the
 * same keys. Replacing the chain is two-phase too: `prepareInitialize()` holds the new chain apart
 * until its `commit()`. Every write is a compare-and-save against what was read, so a change made
 * meanwhile by another instance over the same record (another tab) is noticed, never overwritten.
 */
export class KeyChainStore<K extends ChainKey> implements ClientRotatingKeyStore {
  readonly #persistence: KeyChainPersistence<K>
  readonly #keys: ChainKeys<K>
  readonly #hasher: Hasher
  /** The rotation this instance last handed out; commit() applies only that one. */
  #handedOut: { publicKey: string; rotationHash: string } | undefined
  #preparing: Promise<PendingRotation> | undefined

  constructor(options: KeyChainStoreOptions<K>) {
    this.#persistence = options.persistence
    this.#keys = options.keys
    this.#hasher = options.hasher
  }

  async initialize(): Promise<KeyCommitment> {
    // Generated before anything is written: a failing generator leaves the old chain intact.
    const { record, commitment } = await this.#newChain()
    await this.#update(() => record)
    this.#handedOut = undefined
    return commitment
  }

  async prepareInitialize(): Promise<PreparedChain> {
    // The chain the new one is meant to replace, read before generating: whatever happens to the
    // store from here on (a commit, another initialize, clear) was not seen by the caller.
    const replaced = await this.#persistence.load()
    const { record, commitment } = await this.#newChain()
    const signer = await this.#keys.signer(record.current)
    let state: 'prepared' | 'committed' | 'discarded' = 'prepared'

    const commit = async (): Promise<void> => {
      if (state !== 'prepared') {
        throw new InvalidStateError(`the prepared chain was already ${state}`)
      }
      await this.#update((latest) => {
        if (!sameChain(latest, replaced)) {
          throw new InvalidStateError('the key chain changed since prepareInitialize()')
        }
        return record
      })
      state = 'committed'
      // A rotation handed out before belongs to the replaced chain.
      this.#handedOut = undefined
    }
    const discard = (): Promise<void> => {
      if (state === 'prepared') state = 'discarded'
      return Promise.resolve()
    }
    return Object.freeze({ ...commitment, signer, commit, discard })
  }

  async signer(): Promise<SigningKey> {
    const record = await this.#persistence.load()
    if (record === undefined) throw notInitialized()
    return this.#keys.signer(record.current)
  }

  next(): Promise<PendingRotation> {
    // Concurrent callers of one instance share one preparation (and one generated key).
    if (this.#preparing === undefined) {
      const preparing = this.#prepare()
      this.#preparing = preparing
      const settle = () => {
        if (this.#preparing === preparing) this.#preparing = undefined
      }
      preparing.then(settle, settle)
    }
    return this.#preparing
  }

  async #prepare(): Promise<PendingRotation> {
    // The chain is read as of this call, and the key after it generated alongside (a spare one if
    // a rotation is already prepared): never inside the write, since a persistence whose write is
    // a transaction (IndexedDB) must not wait on anything else.
    const loading = this.#persistence.load()
    const generating = this.#keys.generate()
    generating.catch(() => undefined)
    const record = await loading
    if (record === undefined) throw notInitialized()
    if (record.pending !== undefined) return this.#handOut(record.next, record.pending.rotationHash)
    const after = await generating
    const rotationHash = await this.#hasher.sum(after.publicKey)
    const prepared: ChainRecord<K> = { ...record, pending: { after, rotationHash } }
    if (await this.#persistence.compareAndSave(record, prepared)) {
      return this.#handOut(record.next, rotationHash)
    }
    const latest = await this.#persistence.load()
    if (latest === undefined || !sameChain(latest, record)) {
      throw new InvalidStateError('the key chain changed while preparing a rotation')
    }
    // Another instance (tab) prepared this rotation first: adopt its keys, so both send the same.
    if (latest.pending === undefined) throw notPrepared()
    return this.#handOut(latest.next, latest.pending.rotationHash)
  }

  async #handOut(next: K, rotationHash: string): Promise<PendingRotation> {
    const signer = await this.#keys.signer(next)
    this.#handedOut = { publicKey: next.publicKey, rotationHash }
    return Object.freeze({ signer, publicKey: next.publicKey, rotationHash })
  }

  async commit(): Promise<void> {
    // commit() refers to the rotation next() is preparing.
    await this.#preparing?.catch(() => undefined)
    const expected = this.#handedOut
    if (expected === undefined) throw notPrepared()
    await this.#update((record) => {
      const pending = record?.pending
      if (record === undefined || pending === undefined) throw notPrepared()
      // The chain was replaced (new session, recovery, another tab) after this rotation was
      // handed out: committing would adopt keys its request never revealed.
      if (
        record.next.publicKey !== expected.publicKey ||
        pending.rotationHash !== expected.rotationHash
      ) {
        throw new InvalidStateError('the key chain changed while committing')
      }
      return { current: record.next, next: pending.after }
    })
    this.#handedOut = undefined
  }

  async clear(): Promise<void> {
    await this.#update(() => undefined)
    this.#handedOut = undefined
  }

  async #newChain(): Promise<{ record: ChainRecord<K>; commitment: KeyCommitment }> {
    const current = await this.#keys.generate()
    const next = await this.#keys.generate()
    const rotationHash = await this.#hasher.sum(next.publicKey)
    return { record: { current, next }, commitment: { publicKey: current.publicKey, rotationHash } }
  }

  /** Read, decide, compare-and-save; decided again on what another writer saved meanwhile. */
  async #update(
    decide: (latest: ChainRecord<K> | undefined) => ChainRecord<K> | undefined,
  ): Promise<void> {
    for (let attempt = 0; attempt < MAX_WRITE_ATTEMPTS; attempt++) {
      const latest = await this.#persistence.load()
      if (await this.#persistence.compareAndSave(latest, decide(latest))) return
    }
    throw new InvalidStateError('the key chain keeps changing under this store')
  }
}

function notInitialized(): InvalidStateError {
  return new InvalidStateError('the key store is not initialized')
}

function notPrepared(): InvalidStateError {
  return new InvalidStateError('no pending rotation to commit; call next() first')
}
