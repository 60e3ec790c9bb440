import { expect, it } from 'vitest'

it('pins the public runtime exports', async () => {
  expect(Object.keys(await import('./index.js')).sort()).toMatchInlineSnapshot(`
    [
      "AccessVerifier",
      "AccountHistory",
      "BetterAuthServer",
      "DEFAULT_EXPIRY",
      "MemoryAccountEventStore",
      "MemoryAuthenticationKeyStore",
      "MemoryAuthenticationNonceStore",
      "MemoryRecoveryHashStore",
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
