import { mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Blake3Hasher } from '@better-auth/crypto'
import { NodeP256Verifier } from '@better-auth/crypto/node'
import { ConfigurationError, InvalidKeyChainError, type SigningKey } from '@better-auth/protocol'
import {
  assertEndorsementHolds,
  verifyEndorsement,
  verifyKeyChain,
  verifyKeySet,
} from '@better-auth/protocol/key-chain'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { ChainFile } from './chain-file.js'
import { KEYS_USAGE, runKeysCommand } from './index.js'
import { KeyChainOperator } from './operator.js'
import { FileKeyVault, type RootKeyVault } from './vault.js'

const crypto = { hasher: new Blake3Hasher(), verifier: new NodeP256Verifier() }
const DAY = 86_400_000
let dir: string
let clock: number
const now = () => new Date(clock)

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'better-auth-keys-'))
  clock = Date.parse('2026-01-01T00:00:00.000Z')
})
afterEach(async () => {
  await rm(dir, { recursive: true, force: true })
})

function operator(vault: RootKeyVault = new FileKeyVault(join(dir, 'private'))) {
  return new KeyChainOperator({ chain: new ChainFile(join(dir, 'chain.json')), vault, now })
}

async function published(): Promise<string[]> {
  return JSON.parse(await readFile(join(dir, 'chain.json'), 'utf8')) as string[]
}

describe('KeyChainOperator', () => {
  it('starts a chain once, keeping the current and the committed next key only', async () => {
    const chain = await operator().init()
    expect(chain.head.sequence).toBe(0)
    expect((await verifyKeyChain(await published(), crypto)).prefix).toBe(chain.prefix)
    expect((await readdir(join(dir, 'private'))).sort()).toEqual(['root-0.pem', 'root-1.pem'])
    expect((await stat(join(dir, 'private', 'root-0.pem'))).mode & 0o777).toBe(0o600)
    expect((await stat(join(dir, 'private'))).mode & 0o777).toBe(0o700)
    await expect(operator().init()).rejects.toBeInstanceOf(ConfigurationError)
  })

  it('rotates to the committed key, destroys the replaced one, and taints on request', async () => {
    const op = operator()
    const { prefix } = await op.init()
    clock += DAY
    await op.rotate()
    clock += DAY
    const rotated = await op.rotate({ taint: true })
    expect(rotated.generations.map((g) => g.tainted)).toEqual([false, true, false])
    const verified = await verifyKeyChain(await published(), crypto, { prefix })
    expect(verified.head).toEqual(rotated.head)
    expect((await readdir(join(dir, 'private'))).sort()).toEqual(['root-2.pem', 'root-3.pem'])
    const vault = new FileKeyVault(join(dir, 'private'))
    expect(await (await vault.signer(2)).public()).toBe(rotated.head.publicKey)
  })

  it('refuses to rotate when the clock is not past the last event, changing nothing', async () => {
    const op = operator()
    await op.init()
    const before = await published()
    await expect(op.rotate()).rejects.toMatchObject({ code: 'BA001', context: { field: 'clock' } })
    expect(await published()).toEqual(before)
    expect((await readdir(join(dir, 'private'))).sort()).toEqual(['root-0.pem', 'root-1.pem'])
  })

  it('finishes an interrupted rotation when run again, with the next key it had created', async () => {
    const files = new FileKeyVault(join(dir, 'private'))
    let failDestroy = true
    const flaky: RootKeyVault = {
      create: (sequence) => files.create(sequence),
      signer: (sequence) => files.signer(sequence),
      destroy: (sequence) => {
        if (failDestroy) return Promise.reject(new Error('power cut'))
        return files.destroy(sequence)
      },
    }
    const op = operator(flaky)
    await op.init()
    clock += DAY
    await expect(op.rotate()).rejects.toThrow('power cut')
    // The log was published before the old key was destroyed: the rotation stands.
    const chain = await verifyKeyChain(await published(), crypto)
    expect(chain.head.sequence).toBe(1)
    failDestroy = false
    clock += DAY
    await op.rotate()
    expect((await verifyKeyChain(await published(), crypto)).head.sequence).toBe(2)
  })

  it('reuses a next key left by a rotation interrupted before the log was written', async () => {
    const files = new FileKeyVault(join(dir, 'private'))
    const op = operator()
    await op.init()
    const leftover = await files.create(2)
    clock += DAY
    await op.rotate()
    const chain = await verifyKeyChain(await published(), crypto)
    expect(chain.head.rotationHash).toBe(await crypto.hasher.sum(await leftover.public()))
  })

  it('refuses a vault key that is not the committed next key', async () => {
    const files = new FileKeyVault(join(dir, 'private'))
    const op = operator()
    await op.init()
    await files.destroy(1)
    await files.create(1)
    clock += DAY
    await expect(op.rotate()).rejects.toMatchObject({ code: 'BA001', context: { field: 'vault' } })
    expect((await published()).length).toBe(1)
  })

  it('refuses a tampered log', async () => {
    const op = operator()
    await op.init()
    clock += DAY
    await op.rotate()
    const [first, second] = await published()
    await writeFile(join(dir, 'chain.json'), JSON.stringify([second, first]))
    await expect(op.show()).rejects.toBeInstanceOf(InvalidKeyChainError)
    await expect(op.rotate()).rejects.toBeInstanceOf(InvalidKeyChainError)
  })

  it('endorses service keys with the current root key', async () => {
    const op = operator()
    await op.init()
    clock += DAY
    const chain = await op.rotate()
    const serviceKey: SigningKey = await new FileKeyVault(join(dir, 'other')).create(0)
    const text = await op.endorse({
      purpose: 'access',
      publicKey: await serviceKey.public(),
      notBefore: now(),
      notAfter: new Date(clock + DAY),
    })
    const verified = await verifyEndorsement(text, chain, crypto.verifier)
    expect(verified.generation.sequence).toBe(1)
    expect(() => assertEndorsementHolds(verified.endorsement, 'access', now())).not.toThrow()
  })
})

describe('better-auth-keys', () => {
  const run = async (...args: string[]) => {
    const out: string[] = []
    const err: string[] = []
    const status = await runKeysCommand(
      ['--dir', dir, ...args],
      {},
      { out: (line) => out.push(line), err: (line) => err.push(line) },
      now,
    )
    return { status, out, err }
  }

  it('init, rotate --taint, show and endorse from the command line', async () => {
    const init = await run('init')
    expect(init.status).toBe(0)
    const prefix = /^prefix (E\S{43})$/.exec(init.out[0] ?? '')?.[1]
    expect(prefix).toBeDefined()
    clock += DAY
    expect((await run('rotate', '--taint')).out.join('\n')).toContain('TAINTED')
    const shown = await run('show', '--json')
    expect(JSON.parse(shown.out[0] ?? '')).toMatchObject({ prefix, current: 1 })
    const chain = await verifyKeyChain(await published(), crypto, { prefix: prefix as string })
    const endorsed = await run(
      'endorse',
      '--purpose',
      'response',
      '--public-key',
      chain.generations[0]?.publicKey as string,
      '--days',
      '7',
    )
    expect(endorsed.status).toBe(0)
    const { endorsement } = await verifyEndorsement(endorsed.out[0] ?? '', chain, crypto.verifier)
    expect(Date.parse(endorsement.notAfter) - Date.parse(endorsement.notBefore)).toBe(7 * DAY)
  })

  it('publishes the key set: live endorsements in, tainted and expired ones left out', async () => {
    await run('init')
    const publicKey = async (label: string) =>
      (await new FileKeyVault(join(dir, 'services')).create(label.length)).public()
    const endorse = async (label: string, ...extra: string[]) =>
      (
        await run(
          'endorse',
          '--purpose',
          'response',
          '--public-key',
          await publicKey(label),
          ...extra,
        )
      ).out[0] as string
    const stolen = await endorse('a')
    clock += DAY
    await run('rotate', '--taint')
    const brief = await endorse('bb', '--days', '1')
    const fresh = await endorse('ccc')
    await writeFile(join(dir, 'endorsements.txt'), `${stolen}\n${brief}\n\n${fresh}\n`)
    clock += DAY
    const published = await run(
      'publish',
      '--out',
      join(dir, 'keyset.json'),
      join(dir, 'endorsements.txt'),
    )
    expect(published.status).toBe(0)
    // Each report names the service key to endorse again and the root key that had signed it.
    expect(published.err).toEqual([
      `left out (tainted): response key ${await publicKey('a')}, endorsed by root key 0`,
      `left out (expired): response key ${await publicKey('bb')}, endorsed by root key 1`,
    ])
    // Never any private material: neither a PEM nor the text of any vault file.
    const vaultFiles = await readdir(join(dir, 'private'))
    expect(vaultFiles.length).toBeGreaterThan(0)
    for (const file of vaultFiles) {
      const secret = (await readFile(join(dir, 'private', file), 'utf8')).trim()
      expect(published.err.join('\n')).not.toContain(secret)
    }
    expect(published.err.join('\n')).not.toMatch(/PRIVATE KEY/)
    const document = (await readFile(join(dir, 'keyset.json'), 'utf8')).trim()
    const set = await verifyKeySet(document, crypto)
    expect([...set.keys.keys()]).toEqual([await publicKey('ccc')])
    expect((await run('publish')).status).toBe(2)
    const report = await operator().publish([stolen, brief, fresh])
    expect(report.leftOut).toEqual([
      { publicKey: await publicKey('a'), purpose: 'response', rootKey: 0, reason: 'tainted' },
      { publicKey: await publicKey('bb'), purpose: 'response', rootKey: 1, reason: 'expired' },
    ])
  })

  it('answers misuse with usage and status 2, protocol refusals with their code and status 1', async () => {
    for (const args of [
      [],
      ['bogus'],
      ['show', 'extra'],
      ['--nope'],
      ['endorse', '--purpose', 'x'],
    ]) {
      const { status, err } = await run(...args)
      expect(status, args.join(' ')).toBe(2)
      expect(err[0]).toContain(KEYS_USAGE)
    }
    const { status, err } = await run('show')
    expect(status).toBe(1)
    expect(err[0]).toMatch(/^BA001 .*run init first/)
  })
})
