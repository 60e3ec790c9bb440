/**
 * The better-auth client for browsers, edge runtimes and Node: accounts, devices, sessions and
 * signed access requests, with in-memory stores.
 *
 * @module @better-auth/client
 */
export {
  BetterAuthClient,
  type AccessService,
  type AccountIds,
  type UnverifiedRotation,
} from './client.js'
export { UnverifiedResponseError } from './errors.js'
export {
  BetterAuthSession,
  type CrossTabLock,
  type SessionChange,
  type SessionListener,
  type SessionOptions,
  type SessionView,
} from './session.js'
export type { BetterAuthClientOptions, ClientPaths, ClientStores } from './options.js'
export { FetchNetwork, type FetchNetworkOptions, type Network } from './network.js'
export { MemoryValueStore } from './stores/memory-value-store.js'
export {
  KeyChainStore,
  sameChainRecord,
  type ChainKey,
  type ChainKeys,
  type ChainRecord,
  type KeyChainPersistence,
  type KeyChainStoreOptions,
} from './stores/key-chain.js'
export {
  MemoryRotatingKeyStore,
  type MemoryRotatingKeyStoreOptions,
} from './stores/memory-rotating-key-store.js'
export { MemoryVerificationKeyStore } from './stores/memory-verification-key-store.js'
