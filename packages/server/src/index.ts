/**
 * The better-auth server: the protocol methods, the access verifier and in-memory stores.
 *
 * @module @better-auth/server
 */
export { BetterAuthServer } from './server.js'
export {
  AccessVerifier,
  signAccessResponse,
  type AccessResult,
  type AccessVerifyOptions,
  type VerifiedAccess,
} from './access-verifier.js'
export { DEFAULT_EXPIRY, resolveExpiry, type ExpiryOptions } from './config.js'
export type {
  AccessVerifierOptions,
  AccountEventListener,
  AttributesContext,
  AttributesProvider,
  BetterAuthServerOptions,
  SessionSubject,
} from './options.js'
export { errorResponse } from './error-response.js'
export { AccountAdmin, OPERATOR_DEVICE, type AccountAdminContext } from './admin.js'
export {
  DEFAULT_READINESS_TIMEOUT_MS,
  checkStores,
  type ReadinessReport,
  type StoreCheck,
} from './operations/readiness.js'
export { StaticVerificationKeyStore } from './stores/static-verification-keys.js'
export {
  AccountHistory,
  devicesOf,
  keyAt,
  type DeviceState,
  type DeviceSummary,
} from './history.js'
export {
  DeviceLivenessCache,
  type DeviceLivenessCacheOptions,
} from './revocation/device-liveness-cache.js'
export { MemoryRevocationFeed } from './revocation/memory-feed.js'
export {
  MemoryAccountEventStore,
  MemoryAuthenticationKeyStore,
  MemoryAuthenticationNonceStore,
  MemoryRecoveryHashStore,
  MemoryTimeLockStore,
  memoryServerStores,
} from './stores/memory/index.js'
export {
  DEFAULT_WEBHOOK_TOLERANCE_S,
  MemoryWebhookDeliveryStore,
  WEBHOOK_HEADERS,
  WebhookDispatcher,
  signWebhook,
  verifyWebhook,
  type DeadLetter,
  type PendingDelivery,
  type WebhookDeliveryStore,
  type WebhookDispatcherOptions,
  type WebhookEndpoint,
  type WebhookPass,
} from './webhooks/index.js'
export {
  CounterRateLimiter,
  DEFAULT_RATE_LIMITS,
  type LimitedRequest,
  type RateLimitPolicyName,
  type RateLimitQuota,
  type RateLimitRule,
  type RateLimitVerdict,
  type RateLimiter,
  type RateLimiterOptions,
  type RouteRateLimit,
} from './rate-limit/limiter.js'
export { MemoryRateLimitStore } from './rate-limit/memory.js'
export type { CounterHit, CounterState, RateLimitStore } from './rate-limit/store.js'
export { MemoryKeySetStore } from './keys/memory-key-set-store.js'
export { ServiceKeyRing, type ServiceKeyRingOptions } from './keys/service-key-ring.js'
