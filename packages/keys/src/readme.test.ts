import { existsSync, readFileSync } from 'node:fs'
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Blake3Hasher } from '@better-auth/crypto'
import { NodeP256SigningKey, NodeP256Verifier } from '@better-auth/crypto/node'
import { ConfigurationError, type SigningKey } from '@better-auth/protocol'
import { verifyEndorsement, verifyKeyChain, verifyKeySet } from '@better-auth/protocol/key-chain'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import {
  expectBlocksRunIn,
  fencedBlocks,
  lines,
  runShell,
  shellCommands,
} from '../../server/src/testing-internal/readme-examples.js'

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

it('runs every line of the README examples', () => {
  expectBlocksRunIn(fencedBlocks(readme, 'ts'), [source])
})

it('links to sections that exist', () => {
  const server = readFileSync(new URL('../../server/README.md', import.meta.url), 'utf8')
  expect(server).toContain('## Key chain deployments: an auth service and application services')
  expect(readme).toContain(
    '../server/README.md#key-chain-deployments-an-auth-service-and-application-services',
  )
  const example = readFileSync(
    new URL('../../../examples/server/README.md', import.meta.url),
    'utf8',
  )
  expect(example).toContain('### One credential per application service')
  expect(readme).toContain('../../examples/server/README.md#one-credential-per-application-service')
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

const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url))
const DAY = 86_400_000

describe.skipIf(!existsSync(cli))('the README commands, on the built CLI (needs the build)', () => {
  it('runs each command of "The command" in order, with the outcome the README gives', async () => {
    const [block] = fencedBlocks(readme, 'sh', { from: '## The command', to: '## What each' })
    const commands = shellCommands(block ?? '')
    // The README's order: a command moved, added or removed there must be looked at here.
    expect(commands.map((command) => command.split(' ').slice(1, 3).join(' '))).toEqual([
      'init',
      'show',
      'rotate',
      'rotate --taint',
      'endorse --purpose',
      'publish --out',
    ])
    const serviceKey = await NodeP256SigningKey.generate().public()
    const events = async () =>
      JSON.parse(await readFile(join(dir, 'keys', 'chain.json'), 'utf8')) as string[]
    const vault = async () => (await readdir(join(dir, 'keys', 'private'))).length
    const run = async (index: number) => {
      // The README elides the service key (`1AAI…`); everything else runs as written.
      const command = commands[index]!.replace('1AAI…', serviceKey)
      expect(command).not.toContain('…')
      const result = await runShell(command, dir, {
        'better-auth-keys': `exec "${process.execPath}" "${cli}" "$@"`,
      })
      expect(result, command).toMatchObject({ status: 0, err: '' })
      return result.out
    }

    // init: root keys 0 and 1, the inception; prints the prefix.
    const init = await run(0)
    const prefix = /^prefix (E\S{43})$/m.exec(init)?.[1] as string
    expect(prefix).toBeDefined()
    expect(await events()).toHaveLength(1)
    expect(await vault()).toBe(2)
    // show: verifies the log, lists the root keys.
    const shown = await run(1)
    expect(shown).toContain(`prefix ${prefix}`)
    expect(shown).toMatch(/key 0 {2}1AAI\S+ {2}since \S+ {2}\(current\)/)
    // rotate: the committed next key; the vault still holds two.
    const rotated = await run(2)
    expect(await events()).toHaveLength(2)
    expect(rotated).toMatch(/key 1 .*\(current\)/)
    expect(rotated).not.toContain('TAINTED')
    expect(await vault()).toBe(2)
    // rotate --taint: key 1 is marked compromised, key 2 is current.
    const tainted = await run(3)
    expect(await events()).toHaveLength(3)
    expect(tainted).toMatch(/key 1 .*TAINTED/)
    expect(tainted).toMatch(/key 2 .*\(current\)/)
    const chain = await verifyKeyChain(await events(), crypto, { prefix })
    expect(chain.generations.map((generation) => generation.tainted)).toEqual([false, true, false])
    // endorse … >> endorsements.txt: the current root key vouches for the service key, 30 days.
    await run(4)
    const [line, ...more] = lines(await readFile(join(dir, 'endorsements.txt'), 'utf8'))
    expect(more).toEqual([])
    const verified = await verifyEndorsement(line!, chain, crypto.verifier)
    expect(verified.generation.sequence).toBe(2)
    expect(verified.endorsement).toMatchObject({ purpose: 'response', publicKey: serviceKey })
    const { notBefore, notAfter } = verified.endorsement
    expect(Date.parse(notAfter) - Date.parse(notBefore)).toBe(30 * DAY)
    // publish: the key set the auth service serves, with the log and the endorsement.
    await run(5)
    const keySet = await verifyKeySet(await readFile(join(dir, 'keyset.json'), 'utf8'), crypto, {
      prefix,
    })
    expect(keySet.chain.head.sequence).toBe(2)
    expect([...keySet.keys.keys()]).toEqual([serviceKey])
    // Six processes on a loaded machine.
  }, 60_000)
})
