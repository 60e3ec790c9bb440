/// <reference types="node" />
import { readFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { BetterAuthError } from '@better-auth/protocol'
import type { KeyChain, KeyPurpose } from '@better-auth/protocol/key-chain'
import { ChainFile, writeFileAtomic } from './chain-file.js'
import { KeyChainOperator } from './operator.js'
import { FileKeyVault } from './vault.js'

export const USAGE = `Usage: better-auth-keys <command> [options]

Manages a server key chain: root keys that rotate by forward commitment and endorse the keys
services sign with. Clients and services pin the chain's prefix (printed by init and show).

Commands:
  init                 start a chain: root keys 0 and 1, the inception event
  rotate [--taint]     move to the committed next root key and commit to a new one;
                       --taint declares the current root key compromised, so nothing it
                       endorsed is trusted any more
  show [--json]        verify the chain and print its prefix and root keys
  endorse --purpose response|access --public-key KEY [--days N] [--not-before TIME]
                       print an endorsement of a service key by the current root key,
                       valid from --not-before (default now) for --days (default 30)
  publish [--out FILE] ENDORSEMENT_FILE...
                       write the key set servers publish (the log and the endorsements in
                       the files, one per line); endorsements past their window or by a
                       tainted root key are left out and listed on stderr

Options:
  --dir DIR            where chain.json lives (KEYS_DIR, default ./keys)
  --vault DIR          where the root private keys live (KEYS_VAULT, default DIR/private)
  --help               show this text`

export interface CommandIo {
  readonly out: (line: string) => void
  readonly err: (line: string) => void
}

const DAY_MS = 86_400_000

function describeChain(chain: KeyChain): string[] {
  return [
    `prefix ${chain.prefix}`,
    ...chain.generations.map(
      (g) =>
        `  key ${g.sequence}  ${g.publicKey}  since ${g.createdAt}` +
        (g.tainted ? '  TAINTED' : '') +
        (g.sequence === chain.head.sequence ? '  (current)' : ''),
    ),
  ]
}

function chainJson(chain: KeyChain): string {
  return JSON.stringify({
    prefix: chain.prefix,
    current: chain.head.sequence,
    generations: chain.generations,
  })
}

class UsageError extends Error {}

function isUsageError(error: unknown): error is Error {
  if (error instanceof UsageError) return true
  const code = (error as { code?: unknown } | null)?.code
  return typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS')
}

/** The command line; resolves the exit status instead of exiting, for tests. */
export async function main(
  args: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  io: CommandIo,
  now: () => Date = () => new Date(),
): Promise<number> {
  try {
    const { values, positionals } = parseArgs({
      args: [...args],
      options: {
        dir: { type: 'string' },
        vault: { type: 'string' },
        taint: { type: 'boolean' },
        json: { type: 'boolean' },
        purpose: { type: 'string' },
        'public-key': { type: 'string' },
        days: { type: 'string' },
        'not-before': { type: 'string' },
        out: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: true,
    })
    if (values.help === true) {
      io.out(USAGE)
      return 0
    }
    const [command, ...rest] = positionals
    if (command === undefined) throw new UsageError('expected a command')
    if (command !== 'publish' && rest.length > 0) throw new UsageError('expected one command')
    const dir = resolve(values.dir ?? env.KEYS_DIR ?? 'keys')
    const operator = new KeyChainOperator({
      chain: new ChainFile(join(dir, 'chain.json')),
      vault: new FileKeyVault(resolve(values.vault ?? env.KEYS_VAULT ?? join(dir, 'private'))),
      now,
    })
    switch (command) {
      case 'init':
        describeChain(await operator.init()).forEach((line) => io.out(line))
        return 0
      case 'rotate':
        describeChain(await operator.rotate({ taint: values.taint === true })).forEach((line) =>
          io.out(line),
        )
        return 0
      case 'show': {
        const chain = await operator.show()
        if (values.json === true) io.out(chainJson(chain))
        else describeChain(chain).forEach((line) => io.out(line))
        return 0
      }
      case 'endorse': {
        const purpose = values.purpose
        if (purpose !== 'response' && purpose !== 'access') {
          throw new UsageError('--purpose must be response or access')
        }
        const publicKey = values['public-key']
        if (publicKey === undefined) throw new UsageError('--public-key is required')
        const days = Number(values.days ?? '30')
        if (!Number.isFinite(days) || days <= 0) throw new UsageError('--days must be positive')
        const notBefore =
          values['not-before'] === undefined ? now() : new Date(values['not-before'])
        if (Number.isNaN(notBefore.getTime())) throw new UsageError('--not-before is not a time')
        io.out(
          await operator.endorse({
            purpose: purpose satisfies KeyPurpose,
            publicKey,
            notBefore,
            notAfter: new Date(notBefore.getTime() + days * DAY_MS),
          }),
        )
        return 0
      }
      case 'publish': {
        if (rest.length === 0) throw new UsageError('publish needs endorsement files')
        const texts: string[] = []
        for (const file of rest) {
          const lines = (await readFile(resolve(file), 'utf8')).split('\n')
          texts.push(...lines.map((line) => line.trim()).filter((line) => line !== ''))
        }
        const { document, leftOut } = await operator.publish(texts)
        for (const { publicKey, purpose, rootKey, reason } of leftOut) {
          io.err(
            `left out (${reason}): ${purpose} key ${publicKey}, endorsed by root key ${rootKey}`,
          )
        }
        if (values.out === undefined) io.out(document)
        else await writeFileAtomic(resolve(values.out), document + '\n')
        return 0
      }
      default:
        throw new UsageError(`unknown command ${command}`)
    }
  } catch (error) {
    if (isUsageError(error)) {
      io.err(`${error.message}\n\n${USAGE}`)
      return 2
    }
    if (error instanceof BetterAuthError) {
      io.err(`${error.code} ${error.message}`)
      return 1
    }
    throw error
  }
}
