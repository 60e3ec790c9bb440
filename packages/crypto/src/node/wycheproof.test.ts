import { encodeCesr } from '@better-auth/cesr'
import { p256 } from '@noble/curves/nist.js'
import { describe, expect, it } from 'vitest'
import { verifyP256Raw } from '../p256/raw.js'
import { asUtf8, wycheproofCases, wycheproofFile } from '../testing-internal/vectors.js'
import { NodeP256Verifier, verifyP256RawNode } from './p256.js'

const cases = wycheproofCases

describe('Wycheproof ecdsa_secp256r1_sha256_p1363 on the node backend', () => {
  it('every valid vector verifies, every invalid one is rejected, none throws', async () => {
    expect(cases).toHaveLength(wycheproofFile.numberOfTests)
    const outcomes = { valid: [0, 0], invalid: [0, 0], acceptable: [0, 0] }
    const mismatches: number[] = []
    for (const test of cases) {
      // verifyP256RawNode returns a promise that must never reject: awaiting inside the loop
      // fails the test on the first rejection.
      const ok = await verifyP256RawNode(test.message, test.signature, test.publicKey)
      outcomes[test.result][ok ? 0 : 1]! += 1
      if (test.result === 'valid' && !ok) mismatches.push(test.tcId)
      if (test.result === 'invalid' && ok) mismatches.push(test.tcId)
    }
    expect(mismatches).toEqual([])
    expect(outcomes).toEqual({ valid: [173, 0], invalid: [0, 89], acceptable: [0, 0] })
  })

  it('also verifies with the compressed form of each key', async () => {
    for (const test of cases.filter((t) => t.result === 'valid')) {
      const compressed = p256.Point.fromBytes(test.publicKey).toBytes(true)
      await expect(verifyP256RawNode(test.message, test.signature, compressed)).resolves.toBe(true)
    }
  })

  it('agrees with the noble and webcrypto backends on every vector', async () => {
    for (const test of cases) {
      const node = await verifyP256RawNode(test.message, test.signature, test.publicKey)
      await expect(
        verifyP256Raw('noble', test.message, test.signature, test.publicKey),
      ).resolves.toBe(node)
      await expect(
        verifyP256Raw('webcrypto', test.message, test.signature, test.publicKey),
      ).resolves.toBe(node)
    }
  })

  it('the CESR verifier agrees with the raw result on every 64-byte signature', async () => {
    const verifier = new NodeP256Verifier()
    let checked = 0
    for (const test of cases) {
      const message = asUtf8(test.message)
      if (message === null || test.signature.length !== 64) continue
      const signature = encodeCesr('0I', test.signature)
      const publicKey = encodeCesr('1AAI', p256.Point.fromBytes(test.publicKey).toBytes(true))
      const expected = await verifyP256RawNode(test.message, test.signature, test.publicKey)
      await expect(verifier.verify(message, signature, publicKey)).resolves.toBe(expected)
      if (test.result === 'valid') expect(expected).toBe(true)
      checked++
    }
    expect(checked).toBe(241)
  })
})
