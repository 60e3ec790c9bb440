import { expect, it } from 'vitest'

it('pins the public runtime exports', async () => {
  expect(Object.keys(await import('./index.js')).sort()).toMatchInlineSnapshot(`
    [
      "AccessVerifier",
      "AccountHistory",
      "BetterAuthServer",
      "DEFAULT_EXPIRY",
      "DeviceLivenessCache",
      "MemoryAccountEventStore",
      "MemoryAuthenticationKeyStore",
      "MemoryAuthenticationNonceStore",
      "MemoryRecoveryHashStore",
      "MemoryRevocationFeed",
      "MemoryTimeLockStore",
      "StaticVerificationKeyStore",
      "devicesOf",
      "errorResponse",
      "keyAt",
      "memoryServerStores",
      "resolveExpiry",
      "signAccessResponse",
    ]
  `)
})
