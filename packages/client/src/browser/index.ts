/**
 * The client's stores for browsers, in IndexedDB: the rotating key chain, values and pinned
 * verification keys.
 *
 * @module @better-auth/client/browser
 */
export {
  IndexedDbRotatingKeyStore,
  type IndexedDbRotatingKeyStoreOptions,
} from './rotating-key-store.js'
export { IndexedDbValueStore, type IndexedDbValueStoreOptions } from './value-store.js'
export {
  IndexedDbVerificationKeyStore,
  type IndexedDbVerificationKeyStoreOptions,
} from './verification-key-store.js'
export {
  forgetNamespace,
  openBrowserStores,
  requestPersistentStorage,
  type BrowserStores,
  type BrowserStoresOptions,
  type PersistenceResult,
} from './stores.js'
