import { expect, it } from 'vitest'

it('pins the public runtime exports', async () => {
  expect(Object.keys(await import('./index.js')).sort()).toMatchInlineSnapshot(`
    [
      "AccessVerifier",
      "BetterAuthServer",
      "DEFAULT_EXPIRY",
      "MemoryAuthenticationKeyStore",
      "MemoryAuthenticationNonceStore",
      "MemoryRecoveryHashStore",
      "MemoryTimeLockStore",
      "StaticVerificationKeyStore",
      "errorResponse",
      "memoryServerStores",
      "resolveExpiry",
      "signAccessResponse",
    ]
  `)
})
