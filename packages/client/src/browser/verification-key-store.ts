import { WebCryptoP256Verifier } from '@better-auth/crypto'
import {
  ConfigurationError,
  InvalidMessageError,
  ProtocolError,
  verificationKey,
} from '@better-auth/protocol'
import type { VerificationKey, VerificationKeyStore, Verifier } from '@better-auth/protocol'
import {
  DEFAULT_DB_NAME,
  WRITE_OPTIONS,
  requireName,
  requireOptions,
  withDatabase,
} from './database.js'

export interface IndexedDbVerificationKeyStoreOptions {
  /** The account or device these pinned keys belong to; see `openBrowserStores`. */
  namespace: string
  /** IndexedDB database name; default `better-auth`. */
  dbName?: string
  /** Verifies response signatures; default `new WebCryptoP256Verifier()`. */
  verifier?: Verifier
}

/**
 * The server response keys this client trusts (pinned), persisted in IndexedDB as CESR public
 * keys. A response names its key in `serverIdentity`; only keys added here are ever used to
 * verify it, so a key pinned once survives reloads and a forged response naming another key fails.
 */
export class IndexedDbVerificationKeyStore implements VerificationKeyStore {
  readonly #dbName: string
  readonly #namespace: string
  readonly #verifier: Verifier

  constructor(options: IndexedDbVerificationKeyStoreOptions) {
    const { namespace, dbName = DEFAULT_DB_NAME, verifier } = requireOptions(options)
    this.#namespace = requireName(namespace, 'namespace')
    this.#dbName = requireName(dbName, 'dbName')
    if (verifier !== undefined && typeof (verifier as Partial<Verifier>)?.verify !== 'function') {
      throw new ConfigurationError('verifier', 'expected a Verifier')
    }
    this.#verifier = (verifier as Verifier | undefined) ?? new WebCryptoP256Verifier()
  }

  /** Pins a response key, given as a CESR public key or anything with `public()`. */
  async add(key: string | Pick<VerificationKey, 'public'>): Promise<void> {
    const publicKey = typeof key === 'string' ? key : await publicKeyOf(key)
    // verificationKey() validates the CESR encoding, so only well-formed keys are persisted.
    verificationKey(publicKey, this.#verifier)
    await withDatabase(this.#dbName, async (db) => {
      const tx = db.transaction('responseKeys', 'readwrite', WRITE_OPTIONS)
      await Promise.all([tx.store.put(publicKey, [this.#namespace, publicKey]), tx.done])
    })
  }

  /** Unpins a response key (after the server rotated it away). */
  async remove(publicKey: string): Promise<void> {
    if (typeof publicKey !== 'string')
      throw new InvalidMessageError('publicKey', 'expected a string')
    await withDatabase(this.#dbName, async (db) => {
      const tx = db.transaction('responseKeys', 'readwrite', WRITE_OPTIONS)
      await Promise.all([tx.store.delete([this.#namespace, publicKey]), tx.done])
    })
  }

  /** The pinned CESR public keys. */
  list(): Promise<string[]> {
    return withDatabase(this.#dbName, (db) =>
      db.getAll('responseKeys', IDBKeyRange.bound([this.#namespace], [this.#namespace, []])),
    )
  }

  async get(identity: string): Promise<VerificationKey> {
    const stored =
      typeof identity === 'string' && identity !== ''
        ? await withDatabase(this.#dbName, (db) =>
            db.get('responseKeys', [this.#namespace, identity]),
          )
        : undefined
    if (stored === undefined) {
      // The identity comes from an unverified response; echo only a bounded prefix of it.
      const named = typeof identity === 'string' ? identity.slice(0, 64) : typeof identity
      throw new ProtocolError('unknown server response key', { serverIdentity: named })
    }
    return verificationKey(stored, this.#verifier)
  }
}

async function publicKeyOf(key: unknown): Promise<string> {
  const candidate = key as Partial<Pick<VerificationKey, 'public'>> | null
  if (
    typeof candidate !== 'object' ||
    candidate === null ||
    typeof candidate.public !== 'function'
  ) {
    throw new InvalidMessageError('key', 'expected a CESR public key or a VerificationKey')
  }
  const publicKey = await candidate.public()
  if (typeof publicKey !== 'string') {
    throw new InvalidMessageError('key', 'public() did not resolve a string')
  }
  return publicKey
}
