import { encodeCesr } from '@better-auth/cesr'
import { p256 } from '@noble/curves/nist.js'
import { describe, expect, it } from 'vitest'
import { asUtf8, wycheproofCases, wycheproofFile } from '../testing-internal/vectors.js'
import type { P256BackendName } from './backend.js'
import { NobleP256Verifier } from './noble.js'
import { verifyP256Raw } from './raw.js'
import { WebCryptoP256Verifier } from './webcrypto.js'

const BACKENDS: readonly P256BackendName[] = ['noble', 'webcrypto']

const cases = wycheproofCases

describe('Wycheproof ecdsa_secp256r1_sha256_p1363', () => {
  it('loads every test in the file', () => {
    expect(cases).toHaveLength(wycheproofFile.numberOfTests)
    expect(cases).toHaveLength(262)
  })

  for (const backend of BACKENDS) {
    it(`${backend}: every valid vector verifies, every invalid one is rejected without throwing`, async () => {
      const outcomes = { valid: [0, 0], invalid: [0, 0], acceptable: [0, 0] }
      const mismatches: number[] = []
      for (const test of cases) {
        const ok = await verifyP256Raw(backend, test.message, test.signature, test.publicKey)
        outcomes[test.result][ok ? 0 : 1]! += 1
        if (test.result === 'valid' && !ok) mismatches.push(test.tcId)
        if (test.result === 'invalid' && ok) mismatches.push(test.tcId)
      }
      expect(mismatches).toEqual([])
      // 173 valid and 89 invalid; this file has no 'acceptable' vectors.
      expect(outcomes).toEqual({ valid: [173, 0], invalid: [0, 89], acceptable: [0, 0] })
    })

    it(`${backend}: also verifies with the compressed form of each key`, async () => {
      for (const test of cases.filter((t) => t.result === 'valid')) {
        const compressed = p256.Point.fromBytes(test.publicKey).toBytes(true)
        await expect(
          verifyP256Raw(backend, test.message, test.signature, compressed),
        ).resolves.toBe(true)
      }
    })
  }

  it('the CESR verifiers agree with each other and with the raw result on every vector', async () => {
    const noble = new NobleP256Verifier()
    const webcrypto = new WebCryptoP256Verifier()
    let checked = 0
    for (const test of cases) {
      const message = asUtf8(test.message)
      if (message === null || test.signature.length !== 64) continue
      const signature = encodeCesr('0I', test.signature)
      const publicKey = encodeCesr('1AAI', p256.Point.fromBytes(test.publicKey).toBytes(true))
      const expected = await verifyP256Raw('noble', test.message, test.signature, test.publicKey)
      await expect(noble.verify(message, signature, publicKey)).resolves.toBe(expected)
      await expect(webcrypto.verify(message, signature, publicKey)).resolves.toBe(expected)
      if (test.result === 'valid') expect(expected).toBe(true)
      checked++
    }
    // Every test with a 64-byte signature (all have UTF-8 messages) runs through both verifiers;
    // the other 21 have DER-sized, empty or truncated signatures that CESR 0I cannot carry.
    expect(checked).toBe(241)
  })
})
