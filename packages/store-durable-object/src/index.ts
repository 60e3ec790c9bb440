export { BetterAuthNonceObject } from './object.js'
export {
  DurableObjectAuthenticationNonceStore,
  DurableObjectTimeLockStore,
  type DurableObjectStoreOptions,
} from './stores.js'
export type { NonceNamespace, NonceObjectState, NonceObjectStorage } from './bindings.js'
