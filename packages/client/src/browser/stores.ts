import type { Hasher } from '@better-auth/protocol'
import type { ClientStores } from '../options.js'
import {
  DEFAULT_DB_NAME,
  connect,
  deleteNamespace,
  disconnect,
  requireName,
  requireOptions,
} from './database.js'
import { IndexedDbRotatingKeyStore } from './rotating-key-store.js'
import { IndexedDbValueStore } from './value-store.js'
import { IndexedDbVerificationKeyStore } from './verification-key-store.js'

export interface BrowserStoresOptions {
  /**
   * Separates accounts (or devices) that share one origin: each namespace has its own identity,
   * device, token, key chains and pinned response keys. Any non-empty string, e.g. a local
   * account label; it is not sent anywhere.
   */
  namespace: string
  /** IndexedDB database name; default `better-auth`. */
  dbName?: string
  /** The protocol hash for forward commitments; default BLAKE3 (`Blake3Hasher`). */
  hasher?: Hasher
}

/** Every store a `BetterAuthClient` needs, persisted in IndexedDB under one namespace. */
export interface BrowserStores extends ClientStores {
  readonly namespace: string
  readonly identity: IndexedDbValueStore
  readonly device: IndexedDbValueStore
  readonly accessToken: IndexedDbValueStore
  readonly authenticationKey: IndexedDbRotatingKeyStore
  readonly accessKey: IndexedDbRotatingKeyStore
  readonly responseKeys: IndexedDbVerificationKeyStore
  /** Deletes everything of this namespace (logout / forget this device): `forgetNamespace`. */
  forget(): Promise<void>
  /**
   * Closes the shared database connection (e.g. before deleting the database); any later store
   * operation reopens it.
   */
  close(): Promise<void>
}

/**
 * Opens the stores of one namespace. Checks the environment and opens the database up front, so
 * an unusable browser fails here: ConfigurationError (BA001) when Web Crypto or IndexedDB is
 * missing (insecure context, storage disabled), StorageUnavailableError (BA603) when the database
 * cannot be opened (private mode refusing storage, a newer schema).
 */
export async function openBrowserStores(options: BrowserStoresOptions): Promise<BrowserStores> {
  const { namespace, dbName = DEFAULT_DB_NAME, hasher } = requireOptions(options)
  const ns = requireName(namespace, 'namespace')
  const db = requireName(dbName, 'dbName')
  await connect(db)
  const chain = (name: string) =>
    new IndexedDbRotatingKeyStore({
      namespace: ns,
      name,
      dbName: db,
      hasher: hasher as Hasher | undefined,
    })
  return Object.freeze({
    namespace: ns,
    identity: new IndexedDbValueStore({ namespace: ns, name: 'identity', dbName: db }),
    device: new IndexedDbValueStore({ namespace: ns, name: 'device', dbName: db }),
    accessToken: new IndexedDbValueStore({ namespace: ns, name: 'accessToken', dbName: db }),
    authenticationKey: chain('authenticationKey'),
    accessKey: chain('accessKey'),
    responseKeys: new IndexedDbVerificationKeyStore({ namespace: ns, dbName: db }),
    forget: () => deleteNamespace(db, ns),
    close: () => disconnect(db),
  })
}

/**
 * Deletes every record of `namespace` (identity, device, token, both key chains, pinned keys) in
 * one transaction. Use it for logout or "forget this device" after, or instead of, unlinking: the
 * non-extractable keys are gone for good, so keep the recovery key.
 */
export async function forgetNamespace(
  namespace: string,
  options: { dbName?: string } = {},
): Promise<void> {
  const { dbName = DEFAULT_DB_NAME } = requireOptions(options)
  await deleteNamespace(requireName(dbName, 'dbName'), requireName(namespace, 'namespace'))
}

/**
 * How the origin's storage is kept: `persisted` (the browser will not evict it under storage
 * pressure), `best-effort` (it may), or `unsupported` (no Storage API, or it failed).
 */
export type PersistenceResult = 'persisted' | 'best-effort' | 'unsupported'

interface StorageManagerLike {
  persisted?: () => Promise<boolean>
  persist?: () => Promise<boolean>
}

/**
 * Asks the browser to keep this origin's storage (`navigator.storage.persist()`), so keys are not
 * evicted under storage pressure. Browsers decide by their own rules (Chrome grants it to sites
 * with engagement or installed as an app, Firefox may prompt, Safari may ignore it), and even
 * persisted storage is lost when the user clears site data: the recovery key remains the fallback.
 */
export async function requestPersistentStorage(): Promise<PersistenceResult> {
  const storage = (globalThis as { navigator?: { storage?: StorageManagerLike } }).navigator
    ?.storage
  if (typeof storage?.persist !== 'function') return 'unsupported'
  try {
    if (typeof storage.persisted === 'function' && (await storage.persisted())) return 'persisted'
    return (await storage.persist()) ? 'persisted' : 'best-effort'
  } catch {
    return 'unsupported'
  }
}
