import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { isAbsolute, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { generateExamples } from './index.js'

/** spec/examples, wherever the command is started from. */
export const DEFAULT_OUT_DIR = fileURLToPath(new URL('../../examples', import.meta.url))

export const USAGE = `Usage: generate [--out DIR] [--check]

Runs every protocol through @better-auth/client and @better-auth/server in process, with
deterministic keys, nonces and clock, and writes EXAMPLES.md and spec-examples.json; and the
server key chain examples, key-chain.json.

  --out DIR  where the files go (default: spec/examples; relative to the current directory)
  --check    write nothing; exit 1 if the files in DIR differ from a fresh generation
  --help     show this text`

export interface CliIo {
  readonly out: (line: string) => void
  readonly err: (line: string) => void
}

async function readIfPresent(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8')
  } catch (error) {
    if ((error as { code?: unknown }).code === 'ENOENT') return undefined
    throw error
  }
}

/** The generator's command line; resolves the exit status instead of exiting, for tests. */
export async function runCli(args: readonly string[], io: CliIo): Promise<number> {
  let values: { out?: string; check?: boolean; help?: boolean }
  try {
    ;({ values } = parseArgs({
      args: [...args],
      options: {
        out: { type: 'string' },
        check: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }))
  } catch (error) {
    io.err(`${(error as Error).message}\n\n${USAGE}`)
    return 2
  }
  if (values.help === true) {
    io.out(USAGE)
    return 0
  }
  const outDir = values.out === undefined ? DEFAULT_OUT_DIR : resolve(values.out)
  // Paths below the current directory print relative, anything else in full.
  const shown = (path: string): string => {
    const rel = relative(process.cwd(), path)
    return rel === '' || rel.startsWith('..') || isAbsolute(rel) ? path : rel
  }

  const { files } = await generateExamples()
  const stale: string[] = []
  for (const [name, contents] of files) {
    const path = join(outDir, name)
    if ((await readIfPresent(path)) === contents) continue
    stale.push(path)
    if (values.check === true) continue
    await mkdir(outDir, { recursive: true })
    await writeFile(path, contents, 'utf8')
    io.out(`wrote ${shown(path)}`)
  }

  if (values.check === true) {
    if (stale.length === 0) {
      io.out(`${shown(outDir)} is up to date`)
      return 0
    }
    for (const path of stale) io.err(`${shown(path)} differs from a fresh generation`)
    io.err('regenerate with `make spec-examples` and commit the result')
    return 1
  }
  if (stale.length === 0) io.out(`${shown(outDir)} already up to date`)
  return 0
}
