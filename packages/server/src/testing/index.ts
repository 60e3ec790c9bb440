/**
 * `@better-auth/server/testing`: the behavioural contract every server store implementation must
 * satisfy, as vitest suites (vitest is an optional peer dependency, needed only here).
 *
 * @module @better-auth/server/testing
 */
export {
  describeStoreContract,
  type StoreContractOptions,
  type StoreContractTarget,
  type StoreFactory,
} from './contract.js'
export type { AccountEventStores } from './account-events.js'
export type { OperationsStores } from './operations.js'
export {
  expectBetterAuthError,
  expectRejection,
  newDeviceKey,
  nextDeviceKey,
  rejectionOf,
  type ErrorClass,
} from './assertions.js'
export { randomId } from './random.js'
export {
  checkFlood,
  checkSharedLimit,
  FLOOD_LIMITS,
  FLOOD_PROXY,
  type FloodSend,
} from './rate-limit-flood.js'
export { describeRevocationFeed } from './revocation-feed.js'
export { describeKeySetStore } from './key-set-store.js'
