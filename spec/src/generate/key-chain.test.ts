import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { Blake3Hasher, NobleP256Verifier, WebCryptoP256Verifier } from '@better-auth/crypto'
import {
  BetterAuthError,
  InvalidEndorsementError,
  InvalidKeyChainError,
} from '@better-auth/protocol'
import {
  assertEndorsementHolds,
  verifyEndorsement,
  verifyKeyChain,
  verifyKeySet,
} from '@better-auth/protocol/key-chain'
import { describe, expect, it } from 'vitest'
import { KEY_CHAIN_FILE, type KeyChainExamples } from './key-chain.js'

// Read from the committed file, so what other implementations test against is what is checked.
const examples = JSON.parse(
  readFileSync(fileURLToPath(new URL(`../../examples/${KEY_CHAIN_FILE}`, import.meta.url)), 'utf8'),
) as KeyChainExamples
const hasher = new Blake3Hasher()
const backends = [
  ['noble', new NobleP256Verifier()],
  ['webcrypto', new WebCryptoP256Verifier()],
] as const

async function refusal(run: () => Promise<unknown>): Promise<unknown> {
  try {
    await run()
  } catch (error) {
    if (error instanceof InvalidKeyChainError) {
      return { fault: error.context.fault, sequence: error.context.sequence }
    }
    if (error instanceof InvalidEndorsementError) return error.context.fault
    if (error instanceof BetterAuthError) return error.code
    throw error
  }
  return 'accepted'
}

describe.each(backends)('the key chain examples (%s)', (_, verifier) => {
  const crypto = { hasher, verifier }
  const full = () => verifyKeyChain(examples.valid[1]!.chain, crypto)

  it.each(examples.valid.map((example) => [example.id, example] as const))(
    'verifies %s as described',
    async (_, example) => {
      const chain = await verifyKeyChain(example.chain, crypto, { prefix: example.prefix })
      expect(chain.prefix).toBe(example.prefix)
      expect(
        chain.generations.map(({ sequence, publicKey, tainted }) => ({
          sequence,
          publicKey,
          tainted,
        })),
      ).toEqual(example.generations)
    },
  )

  it.each(examples.invalid.map((example) => [example.id, example] as const))(
    'refuses %s with its fault',
    async (_, example) => {
      expect(await refusal(() => verifyKeyChain(example.chain, crypto))).toEqual({
        fault: example.fault,
        sequence: example.sequence,
      })
    },
  )

  it.each(examples.endorsements.map((example) => [example.id, example] as const))(
    'gives %s its verdict',
    async (_, example) => {
      const chain = await full()
      const verdict = await refusal(async () => {
        const { endorsement } = await verifyEndorsement(example.endorsement, chain, verifier)
        assertEndorsementHolds(endorsement, example.purpose, new Date(example.at))
      })
      expect(verdict).toBe(example.verdict === 'trusted' ? 'accepted' : example.verdict)
    },
  )

  it('verifies the key set and finds each of its keys', async () => {
    const set = await verifyKeySet(examples.keySet, crypto, { prefix: examples.valid[1]!.prefix })
    expect([...set.keys.keys()].sort()).toEqual(
      ['response-0', 'response-1', 'access-1', 'response-3', 'access-3']
        .map((name) => examples.keys[`service/${name}`])
        .sort(),
    )
  })
})
