/**
 * Cloudflare Durable Object nonce and time-lock stores, shared by every isolate of a Worker.
 *
 * @module @better-auth/store-durable-object
 */
export { BetterAuthNonceObject } from './object.js'
export {
  DurableObjectAuthenticationNonceStore,
  DurableObjectTimeLockStore,
  type DurableObjectStoreOptions,
} from './stores.js'
export type { NonceNamespace, NonceObjectState, NonceObjectStorage } from './bindings.js'
