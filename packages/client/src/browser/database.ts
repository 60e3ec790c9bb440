import {
  BetterAuthError,
  ConfigurationError,
  InvalidMessageError,
  StorageUnavailableError,
} from '@better-auth/protocol'
import { openDB, type DBSchema, type IDBPDatabase } from 'idb'
import type { ChainRecord as GenericChainRecord } from '../stores/key-chain.js'

/** The database every store of `openBrowserStores` shares unless `dbName` says otherwise. */
export const DEFAULT_DB_NAME = 'better-auth'
const DB_VERSION = 1
const MAX_NAME_LENGTH = 256

/** A Web Crypto key pair as persisted; `publicKey` is its CESR form, kept to avoid re-exporting. */
export interface StoredKey {
  readonly keyPair: CryptoKeyPair
  readonly publicKey: string
}

/** One rotating key chain as persisted: see KeyChainStore. */
export type ChainRecord = GenericChainRecord<StoredKey>

/**
 * Every record is keyed by `[namespace, name]`, so one account's records form one contiguous key
 * range that `forgetNamespace` deletes with a single range per object store.
 */
export interface BrowserSchema extends DBSchema {
  values: { key: [string, string]; value: string }
  chains: { key: [string, string]; value: ChainRecord }
  responseKeys: { key: [string, string]; value: string }
}

export type BrowserDatabase = IDBPDatabase<BrowserSchema>
export const STORE_NAMES = ['values', 'chains', 'responseKeys'] as const

/**
 * Key material and rotation state must survive a crash once a write reports success: with
 * 'relaxed' durability a browser may acknowledge a commit that a power loss then undoes, and the
 * client would present a key the server has already moved past.
 */
export const WRITE_OPTIONS: IDBTransactionOptions = { durability: 'strict' }

interface BrowserGlobals {
  indexedDB?: IDBFactory | null
  IDBKeyRange?: unknown
  isSecureContext?: boolean
  crypto?: { subtle?: SubtleCrypto }
}

/**
 * Throws ConfigurationError when this runtime cannot hold non-extractable keys persistently.
 * Web Crypto is missing on plain-http pages other than localhost (insecure context); IndexedDB is
 * missing or null when storage is disabled (some private modes, sandboxed iframes, old WebViews).
 */
export function requireBrowserEnvironment(): void {
  const globals = globalThis as BrowserGlobals
  if (globals.crypto?.subtle === undefined) {
    throw new ConfigurationError(
      'crypto.subtle',
      globals.isSecureContext === false
        ? 'Web Crypto needs a secure context: serve the page over https:// or from localhost'
        : 'Web Crypto is not available in this runtime',
    )
  }
  if (globals.indexedDB === undefined || globals.indexedDB === null) {
    throw new ConfigurationError(
      'indexedDB',
      'IndexedDB is not available (storage disabled, a private window that blocks it, or not a browser)',
    )
  }
  if (globals.IDBKeyRange === undefined) {
    throw new ConfigurationError('IDBKeyRange', 'IndexedDB key ranges are not available')
  }
}

export function requireName(value: unknown, field: string): string {
  if (typeof value !== 'string' || value === '' || value.length > MAX_NAME_LENGTH) {
    throw new ConfigurationError(field, `expected a non-empty string of at most ${MAX_NAME_LENGTH}`)
  }
  return value
}

export function requireOptions(options: unknown): Record<string, unknown> {
  if (typeof options !== 'object' || options === null) {
    throw new ConfigurationError('options', 'expected an object')
  }
  return options as Record<string, unknown>
}

const connections = new Map<string, Promise<BrowserDatabase>>()

/**
 * The shared connection to `dbName`, opened on first use. A connection that another tab asks to
 * close (a newer schema version) or that the browser terminates is dropped here and reopened by
 * the next operation, so long-lived pages keep working.
 */
export function connect(dbName: string): Promise<BrowserDatabase> {
  const existing = connections.get(dbName)
  if (existing !== undefined) return existing
  const connection = Promise.resolve().then(() => {
    requireBrowserEnvironment()
    return open(dbName)
  })
  connections.set(dbName, connection)
  connection.catch(() => {
    if (connections.get(dbName) === connection) connections.delete(dbName)
  })
  return connection
}

async function open(dbName: string): Promise<BrowserDatabase> {
  let db: BrowserDatabase | undefined
  const drop = () => {
    const cached = connections.get(dbName)
    if (cached !== undefined) {
      void cached.then((current) => {
        if (current === db) connections.delete(dbName)
      })
    }
  }
  try {
    db = await openDB<BrowserSchema>(dbName, DB_VERSION, {
      upgrade(database) {
        for (const name of STORE_NAMES) {
          if (!database.objectStoreNames.contains(name)) database.createObjectStore(name)
        }
      },
      blocking() {
        drop()
        db?.close()
      },
      terminated: drop,
    })
  } catch (error) {
    // Firefox's private mode, a newer schema from a later app version, a user who blocked site
    // data: the database exists in principle but cannot be used now.
    throw new StorageUnavailableError('indexeddb', error)
  }
  return db
}

/** Closes the shared connection to `dbName`; the next store operation reopens it. */
export async function disconnect(dbName: string): Promise<void> {
  const connection = connections.get(dbName)
  connections.delete(dbName)
  const db = await connection?.catch(() => undefined)
  db?.close()
}

/**
 * Runs `operation` against the database, reporting IndexedDB failures (quota, a connection closed
 * under it, a transaction the browser aborted) as StorageUnavailableError with the cause kept.
 * Errors of the protocol's taxonomy pass through unchanged.
 */
export async function withDatabase<T>(
  dbName: string,
  operation: (db: BrowserDatabase) => Promise<T>,
): Promise<T> {
  const db = await connect(dbName)
  try {
    return await operation(db)
  } catch (error) {
    if (error instanceof BetterAuthError) throw error
    if (error instanceof DOMException && error.name === 'InvalidStateError') {
      // The connection was closed (versionchange, browser shutdown): reopen on the next call.
      if (connections.get(dbName) !== undefined) await disconnect(dbName)
    }
    throw new StorageUnavailableError('indexeddb', error)
  }
}

/** Deletes every record of `namespace` in one transaction: all or nothing. */
export async function deleteNamespace(dbName: string, namespace: string): Promise<void> {
  await withDatabase(dbName, async (db) => {
    const range = IDBKeyRange.bound([namespace], [namespace, []])
    const tx = db.transaction(STORE_NAMES, 'readwrite', WRITE_OPTIONS)
    await Promise.all([...STORE_NAMES.map((name) => tx.objectStore(name).delete(range)), tx.done])
  })
}

export function requireString(value: unknown, field: string): string {
  if (typeof value !== 'string') throw new InvalidMessageError(field, 'expected a string')
  return value
}
