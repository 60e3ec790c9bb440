import { expect, it } from 'vitest'

it('pins the public runtime exports', async () => {
  expect(Object.keys(await import('./index.js')).sort()).toMatchInlineSnapshot(`
    [
      "AccessVerifier",
      "AccountAdmin",
      "AccountHistory",
      "BetterAuthServer",
      "CounterRateLimiter",
      "DEFAULT_EXPIRY",
      "DEFAULT_RATE_LIMITS",
      "DEFAULT_READINESS_TIMEOUT_MS",
      "DEFAULT_WEBHOOK_TOLERANCE_S",
      "DeviceLivenessCache",
      "MemoryAccountEventStore",
      "MemoryAuthenticationKeyStore",
      "MemoryAuthenticationNonceStore",
      "MemoryKeySetStore",
      "MemoryRateLimitStore",
      "MemoryRecoveryHashStore",
      "MemoryRevocationFeed",
      "MemoryTimeLockStore",
      "MemoryWebhookDeliveryStore",
      "OPERATOR_DEVICE",
      "ServiceKeyRing",
      "StaticVerificationKeyStore",
      "WEBHOOK_HEADERS",
      "WebhookDispatcher",
      "checkStores",
      "devicesOf",
      "errorResponse",
      "keyAt",
      "memoryServerStores",
      "resolveExpiry",
      "signAccessResponse",
      "signWebhook",
      "verifyWebhook",
    ]
  `)
})
