import { Blake3Hasher, WebCryptoP256SigningKey } from '@better-auth/crypto'
import { ConfigurationError, InvalidStateError } from '@better-auth/protocol'
import type { Hasher, SigningKey } from '@better-auth/protocol'
import {
  KeyChainStore,
  sameChainRecord,
  type ChainKeys,
  type KeyChainPersistence,
} from '../stores/key-chain.js'
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
 * One chain record in IndexedDB. compareAndSave is one `readwrite` transaction (read, compare,
 * put or delete) with `durability: 'strict'`, so tabs sharing the record never overwrite each
 * other's changes. Keys are generated before it opens: a transaction commits as soon as it waits
 * on anything but its own requests.
 */
class IndexedDbChainPersistence implements KeyChainPersistence<StoredKey> {
  readonly #dbName: string
  readonly #key: [string, string]

  constructor(dbName: string, key: [string, string]) {
    this.#dbName = dbName
    this.#key = key
  }

  load(): Promise<ChainRecord | undefined> {
    return withDatabase(this.#dbName, (db) => db.get('chains', this.#key))
  }

  compareAndSave(
    expected: ChainRecord | undefined,
    record: ChainRecord | undefined,
  ): Promise<boolean> {
    return withDatabase(this.#dbName, async (db) => {
      const tx = db.transaction('chains', 'readwrite', WRITE_OPTIONS)
      if (!sameChainRecord(await tx.store.get(this.#key), expected)) {
        await tx.done
        return false
      }
      const write =
        record === undefined ? tx.store.delete(this.#key) : tx.store.put(record, this.#key)
      await Promise.all([write, tx.done])
      return true
    })
  }
}

/**
 * Non-extractable Web Crypto P-256 keys. The CryptoKey objects themselves are persisted
 * (structured clone keeps them non-extractable): page scripts can sign with them, but no script,
 * extension API or storage dump can read them.
 */
class WebCryptoChainKeys implements ChainKeys<StoredKey> {
  /** Wrapped SigningKeys by CESR public key: a key restored once is not re-checked per use. */
  readonly #wrapped = new Map<string, Promise<SigningKey>>()

  async generate(): Promise<StoredKey> {
    const key = await WebCryptoP256SigningKey.generate({ extractable: false })
    const publicKey = await key.public()
    this.#remember(publicKey, Promise.resolve(key))
    return { keyPair: key.keyPair, publicKey }
  }

  /**
   * fromCryptoKeyPair signs and verifies a probe, so a record whose halves do not belong together,
   * or whose public key is not the one recorded with it, is reported instead of producing
   * signatures the server refuses.
   */
  signer(stored: StoredKey): Promise<SigningKey> {
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

/**
 * A forward-committed key chain of non-extractable Web Crypto P-256 keys, persisted in IndexedDB:
 * KeyChainStore's state machine over one record per chain. Every state change is one transaction
 * over that record (current key, committed next key, prepared rotation); a chain from
 * `prepareInitialize()` is held in memory until its `commit()` writes it. A page closed at any
 * point therefore finds either the old or the new state after a reload, and a rotation prepared by
 * `next()` before the tab closed is returned again by `next()` after the reload, so the retry
 * sends the same keys.
 */
export class IndexedDbRotatingKeyStore extends KeyChainStore<StoredKey> {
  constructor(options: IndexedDbRotatingKeyStoreOptions) {
    const { namespace, name, dbName = DEFAULT_DB_NAME, hasher } = requireOptions(options)
    const key: [string, string] = [requireName(namespace, 'namespace'), requireName(name, 'name')]
    const database = requireName(dbName, 'dbName')
    if (hasher !== undefined && typeof (hasher as Partial<Hasher>)?.sum !== 'function') {
      throw new ConfigurationError('hasher', 'expected a Hasher')
    }
    super({
      persistence: new IndexedDbChainPersistence(database, key),
      keys: new WebCryptoChainKeys(),
      hasher: (hasher as Hasher | undefined) ?? new Blake3Hasher(),
    })
  }
}
