import { Blake3Hasher, WebCryptoP256SigningKey } from '@better-auth/crypto'
import { ConfigurationError, InvalidStateError } from '@better-auth/protocol'
import type {
  ClientRotatingKeyStore,
  Hasher,
  KeyCommitment,
  PendingRotation,
  PreparedChain,
  SigningKey,
} from '@better-auth/protocol'
import {
  DEFAULT_DB_NAME,
  WRITE_OPTIONS,
  requireName,
  requireOptions,
  withDatabase,
  type ChainRecord,
  type StoredKey,
} from './database.js'

export interface IndexedDbRotatingKeyStoreOptions {
  /** The account or device this chain belongs to; see `openBrowserStores`. */
  namespace: string
  /** Which chain: `authenticationKey` or `accessKey`. */
  name: string
  /** IndexedDB database name; default `better-auth`. */
  dbName?: string
  /** The protocol hash for forward commitments; default BLAKE3 (`Blake3Hasher`). */
  hasher?: Hasher
}

/** Wrapped keys kept per store: the chain's three keys plus slack for a replaced chain. */
const WRAPPED_KEY_CACHE_SIZE = 8

/**
 * A forward-committed key chain of non-extractable Web Crypto P-256 keys, persisted in IndexedDB.
 * The CryptoKey objects themselves are stored (structured clone keeps them non-extractable), so
 * page scripts can sign with them but no script, extension API or storage dump can read them.
 *
 * Every state change is one IndexedDB transaction over one record holding the current key, the
 * committed next key and the prepared rotation; a chain from `prepareInitialize()` is held in
 * memory and written by its `commit()` in one such transaction. A page closed at any point
 * therefore finds either the old or the new state after a reload, and a rotation prepared by
 * `next()` before the tab closed is returned again by `next()` after the reload, so the retry
 * sends the same keys.
 */
export class IndexedDbRotatingKeyStore implements ClientRotatingKeyStore {
  readonly #dbName: string
  readonly #key: [string, string]
  readonly #hasher: Hasher
  /** Wrapped SigningKeys by CESR public key: a key restored once is not re-checked per use. */
  readonly #wrapped = new Map<string, Promise<SigningKey>>()
  /** The rotation this instance last handed out; commit() applies only that one. */
  #handedOut: { publicKey: string; rotationHash: string } | undefined
  #preparing: Promise<PendingRotation> | undefined

  constructor(options: IndexedDbRotatingKeyStoreOptions) {
    const { namespace, name, dbName = DEFAULT_DB_NAME, hasher } = requireOptions(options)
    this.#key = [requireName(namespace, 'namespace'), requireName(name, 'name')]
    this.#dbName = requireName(dbName, 'dbName')
    if (hasher !== undefined && typeof (hasher as Partial<Hasher>)?.sum !== 'function') {
      throw new ConfigurationError('hasher', 'expected a Hasher')
    }
    this.#hasher = (hasher as Hasher | undefined) ?? new Blake3Hasher()
  }

  async initialize(): Promise<KeyCommitment> {
    const current = await this.#generate()
    const next = await this.#generate()
    const rotationHash = await this.#hasher.sum(next.publicKey)
    const record: ChainRecord = { current, next }
    await this.#write(record)
    this.#handedOut = undefined
    return { publicKey: current.publicKey, rotationHash }
  }

  /**
   * The new chain lives only in this object until `commit()`, which writes it in one transaction:
   * a page closed before that finds the old chain untouched, and the prepared keys are gone.
   */
  async prepareInitialize(): Promise<PreparedChain> {
    // What the new chain is meant to replace, read before generating: a change after this point
    // (another tab's session, recovery, rotation or clear) was not seen by the caller.
    const replaced = chainKeys(await this.#read())
    const current = await this.#generate()
    const next = await this.#generate()
    const rotationHash = await this.#hasher.sum(next.publicKey)
    const signer = await this.#restore(current)
    let state: 'prepared' | 'committed' | 'discarded' = 'prepared'

    const commit = async (): Promise<void> => {
      if (state !== 'prepared') {
        throw new InvalidStateError(`the prepared chain was already ${state}`)
      }
      // Keys are already generated: the transaction only reads and writes, so it cannot commit
      // early while waiting on Web Crypto.
      await withDatabase(this.#dbName, async (db) => {
        const tx = db.transaction('chains', 'readwrite', WRITE_OPTIONS)
        const latest = chainKeys(await tx.store.get(this.#key))
        if (latest?.current !== replaced?.current || latest?.next !== replaced?.next) {
          await tx.done
          throw new InvalidStateError('the key chain changed since prepareInitialize()')
        }
        const record: ChainRecord = { current, next }
        await Promise.all([tx.store.put(record, this.#key), tx.done])
      })
      state = 'committed'
      // A rotation handed out before belongs to the replaced chain.
      this.#handedOut = undefined
    }

    const discard = (): Promise<void> => {
      if (state === 'prepared') {
        state = 'discarded'
        this.#wrapped.delete(current.publicKey)
        this.#wrapped.delete(next.publicKey)
      }
      return Promise.resolve()
    }

    return Object.freeze({ publicKey: current.publicKey, rotationHash, signer, commit, discard })
  }

  async signer(): Promise<SigningKey> {
    const record = await this.#read()
    if (record === undefined) throw notInitialized()
    return this.#restore(record.current)
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
    const record = await this.#read()
    if (record === undefined) throw notInitialized()
    if (record.pending !== undefined) return this.#handOut(record.next, record.pending.rotationHash)

    // Generated before the transaction opens: an IndexedDB transaction commits as soon as it
    // waits on anything but its own requests, so no Web Crypto call may happen inside it.
    const after = await this.#generate()
    const rotationHash = await this.#hasher.sum(after.publicKey)
    const persistedHash = await withDatabase(this.#dbName, async (db) => {
      const tx = db.transaction('chains', 'readwrite', WRITE_OPTIONS)
      const latest = await tx.store.get(this.#key)
      if (
        latest === undefined ||
        latest.current.publicKey !== record.current.publicKey ||
        latest.next.publicKey !== record.next.publicKey
      ) {
        await tx.done
        throw new InvalidStateError('the key chain changed while preparing a rotation')
      }
      // Another tab prepared this rotation first: adopt its keys, so both send the same rotation.
      if (latest.pending !== undefined) {
        await tx.done
        return latest.pending.rotationHash
      }
      const prepared: ChainRecord = { ...latest, pending: { after, rotationHash } }
      await Promise.all([tx.store.put(prepared, this.#key), tx.done])
      return rotationHash
    })
    return this.#handOut(record.next, persistedHash)
  }

  async #handOut(next: StoredKey, rotationHash: string): Promise<PendingRotation> {
    const signer = await this.#restore(next)
    this.#handedOut = { publicKey: next.publicKey, rotationHash }
    return Object.freeze({ signer, publicKey: next.publicKey, rotationHash })
  }

  async commit(): Promise<void> {
    // commit() refers to the rotation next() is preparing, as with the memory store.
    await this.#preparing?.catch(() => undefined)
    const expected = this.#handedOut
    if (expected === undefined) {
      throw new InvalidStateError('no pending rotation to commit; call next() first')
    }
    await withDatabase(this.#dbName, async (db) => {
      const tx = db.transaction('chains', 'readwrite', WRITE_OPTIONS)
      const record = await tx.store.get(this.#key)
      const pending = record?.pending
      if (record === undefined || pending === undefined) {
        await tx.done
        throw new InvalidStateError('no pending rotation to commit; call next() first')
      }
      // Another tab replaced the chain (new session, recovery) after this one sent its request:
      // committing its rotation would adopt keys this request never revealed.
      if (
        record.next.publicKey !== expected.publicKey ||
        pending.rotationHash !== expected.rotationHash
      ) {
        await tx.done
        throw new InvalidStateError('the key chain changed while committing')
      }
      const advanced: ChainRecord = { current: record.next, next: pending.after }
      await Promise.all([tx.store.put(advanced, this.#key), tx.done])
    })
    this.#handedOut = undefined
  }

  async clear(): Promise<void> {
    await withDatabase(this.#dbName, async (db) => {
      const tx = db.transaction('chains', 'readwrite', WRITE_OPTIONS)
      await Promise.all([tx.store.delete(this.#key), tx.done])
    })
    this.#handedOut = undefined
    this.#wrapped.clear()
  }

  #read(): Promise<ChainRecord | undefined> {
    return withDatabase(this.#dbName, (db) => db.get('chains', this.#key))
  }

  async #write(record: ChainRecord): Promise<void> {
    await withDatabase(this.#dbName, async (db) => {
      const tx = db.transaction('chains', 'readwrite', WRITE_OPTIONS)
      await Promise.all([tx.store.put(record, this.#key), tx.done])
    })
  }

  /** A fresh non-extractable key pair, remembered so signing with it needs no restore step. */
  async #generate(): Promise<StoredKey> {
    const key = await WebCryptoP256SigningKey.generate({ extractable: false })
    const publicKey = await key.public()
    this.#remember(publicKey, Promise.resolve(key))
    return { keyPair: key.keyPair, publicKey }
  }

  /**
   * The SigningKey for a stored pair. fromCryptoKeyPair signs and verifies a probe, so a record
   * whose halves do not belong together, or whose public key is not the one recorded with it, is
   * reported instead of producing signatures the server refuses.
   */
  #restore(stored: StoredKey): Promise<SigningKey> {
    const cached = this.#wrapped.get(stored.publicKey)
    if (cached !== undefined) return cached
    const restored = WebCryptoP256SigningKey.fromCryptoKeyPair(stored.keyPair).then(async (key) => {
      if ((await key.public()) !== stored.publicKey) {
        throw new InvalidStateError('a stored key pair does not match its recorded public key')
      }
      return key
    })
    this.#remember(stored.publicKey, restored)
    restored.catch(() => this.#wrapped.delete(stored.publicKey))
    return restored
  }

  #remember(publicKey: string, key: Promise<SigningKey>): void {
    this.#wrapped.set(publicKey, key)
    for (const oldest of this.#wrapped.keys()) {
      if (this.#wrapped.size <= WRAPPED_KEY_CACHE_SIZE) break
      this.#wrapped.delete(oldest)
    }
  }
}

/** The public keys that identify a stored chain; a pending rotation does not change them. */
function chainKeys(record: ChainRecord | undefined): { current: string; next: string } | undefined {
  return record === undefined
    ? undefined
    : { current: record.current.publicKey, next: record.next.publicKey }
}

function notInitialized(): InvalidStateError {
  return new InvalidStateError('the key store is not initialized')
}
