import { InvalidMessageError } from '@better-auth/protocol'
import type { ClientValueStore } from '@better-auth/protocol'
import {
  DEFAULT_DB_NAME,
  WRITE_OPTIONS,
  requireName,
  requireOptions,
  withDatabase,
} from './database.js'

export interface IndexedDbValueStoreOptions {
  /** The account or device this value belongs to; see `openBrowserStores`. */
  namespace: string
  /** Which value: `identity`, `device`, `accessToken`, or any name of the application's. */
  name: string
  /** IndexedDB database name; default `better-auth`. */
  dbName?: string
}

/** Holds one string (identity, device or token) in IndexedDB, under `[namespace, name]`. */
export class IndexedDbValueStore implements ClientValueStore {
  readonly #dbName: string
  readonly #key: [string, string]

  constructor(options: IndexedDbValueStoreOptions) {
    const { namespace, name, dbName = DEFAULT_DB_NAME } = requireOptions(options)
    this.#key = [requireName(namespace, 'namespace'), requireName(name, 'name')]
    this.#dbName = requireName(dbName, 'dbName')
  }

  async store(value: string): Promise<void> {
    if (typeof value !== 'string') throw new InvalidMessageError('value', 'expected a string')
    await withDatabase(this.#dbName, async (db) => {
      const tx = db.transaction('values', 'readwrite', WRITE_OPTIONS)
      await Promise.all([tx.store.put(value, this.#key), tx.done])
    })
  }

  get(): Promise<string | undefined> {
    return withDatabase(this.#dbName, (db) => db.get('values', this.#key))
  }

  async clear(): Promise<void> {
    await withDatabase(this.#dbName, async (db) => {
      const tx = db.transaction('values', 'readwrite', WRITE_OPTIONS)
      await Promise.all([tx.store.delete(this.#key), tx.done])
    })
  }
}
