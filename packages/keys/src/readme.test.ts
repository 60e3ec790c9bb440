import { readFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Blake3Hasher } from '@better-auth/crypto'
import { NodeP256SigningKey, NodeP256Verifier } from '@better-auth/crypto/node'
import { ConfigurationError, type SigningKey } from '@better-auth/protocol'
import { verifyEndorsement, verifyKeyChain } from '@better-auth/protocol/key-chain'
import { afterEach, beforeEach, expect, it } from 'vitest'

// The examples of README.md, against the package entry ('@better-auth/keys' is ./index.ts).
import { ChainFile, KeyChainOperator, type RootKeyVault } from './index.js'

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8')
const source = readFileSync(new URL('readme.test.ts', import.meta.url), 'utf8')
const crypto = { hasher: new Blake3Hasher(), verifier: new NodeP256Verifier() }

/**
 * A stand-in for a cloud KMS: named keys that never leave it, only their public keys and
 * signatures do, and deletion that is only scheduled.
 */
class FakeKms {
  readonly #keys = new Map<string, SigningKey>()
  readonly scheduled: string[] = []
  signatures = 0

  createKey(name: string): Promise<SigningKey> {
    if (!this.#keys.has(name)) this.#keys.set(name, NodeP256SigningKey.generate())
    return this.key(name)
  }

  key(name: string): Promise<SigningKey> {
    const key = this.#keys.get(name)
    if (key === undefined) {
      return Promise.reject(new ConfigurationError('vault', `the KMS holds no key ${name}`))
    }
    // Only the operations a KMS offers: the public key and a signature.
    const remote: SigningKey = {
      public: () => key.public(),
      sign: (message) => {
        this.signatures++
        return key.sign(message)
      },
      verifier: () => key.verifier(),
      verify: (message, signature) => key.verify(message, signature),
    }
    return Promise.resolve(remote)
  }

  scheduleDeletion(name: string): Promise<void> {
    if (this.#keys.delete(name)) this.scheduled.push(name)
    return Promise.resolve()
  }

  get names(): string[] {
    return [...this.#keys.keys()]
  }
}

let dir: string
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'better-auth-keys-readme-'))
})
afterEach(async () => {
  await rm(dir, { recursive: true, force: true })
})

/** The lines of `text` trimmed, blank ones left out: the README and the test indent differently. */
function lines(text: string): string[] {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '')
}

it('runs every line of the README examples', () => {
  const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((match) => match[1] ?? '')
  expect(blocks.length).toBeGreaterThan(0)
  for (const block of blocks) {
    for (const line of block.split('\n').map((text) => text.trim())) {
      if (line !== '') expect(source.includes(line), line).toBe(true)
    }
    // In order and with nothing between: a line deleted from the README must fail too.
    expect(`\n${lines(source).join('\n')}\n`, block).toContain(`\n${lines(block).join('\n')}\n`)
  }
})

it('links to sections that exist', () => {
  const server = readFileSync(new URL('../../server/README.md', import.meta.url), 'utf8')
  expect(server).toContain('## Key chain deployments: an auth service and application services')
  expect(readme).toContain(
    '../server/README.md#key-chain-deployments-an-auth-service-and-application-services',
  )
})

it('keeps the root keys in a KMS: init, rotate and endorse sign there, nothing is written', async () => {
  const kms = new FakeKms()
  const chainPath = join(dir, 'chain.json')
  await new KeyChainOperator({
    chain: new ChainFile(chainPath),
    vault: {
      create: (sequence) => kms.createKey(`root-${sequence}`),
      signer: (sequence) => kms.key(`root-${sequence}`),
      destroy: (sequence) => kms.scheduleDeletion(`root-${sequence}`),
    },
  }).init()

  // Each root key lives in the KMS under the name of its position; only signatures leave it.
  const kmsVault: RootKeyVault = {
    create: (sequence) => kms.createKey(`root-${sequence}`),
    signer: (sequence) => kms.key(`root-${sequence}`),
    destroy: (sequence) => kms.scheduleDeletion(`root-${sequence}`),
  }
  const operator = new KeyChainOperator({ chain: new ChainFile(chainPath), vault: kmsVault })
  await operator.rotate()

  // Two keys at a time, the replaced one scheduled for deletion.
  expect(kms.names.sort()).toEqual(['root-1', 'root-2'])
  expect(kms.scheduled).toEqual(['root-0'])
  const chain = await verifyKeyChain(await operator.events(), crypto)
  expect(chain.head.sequence).toBe(1)
  // The operator is the endorser rings ask: the KMS signs the endorsement.
  const before = kms.signatures
  const endorsement = await operator.endorse({
    purpose: 'access',
    publicKey: await NodeP256SigningKey.generate().public(),
    notBefore: new Date(),
    notAfter: new Date(Date.now() + 3_600_000),
  })
  expect(kms.signatures).toBe(before + 1)
  expect((await verifyEndorsement(endorsement, chain, crypto.verifier)).generation.sequence).toBe(1)
  // A position the KMS does not hold is refused with the vault's ConfigurationError.
  await expect(kmsVault.signer(7)).rejects.toBeInstanceOf(ConfigurationError)
})
