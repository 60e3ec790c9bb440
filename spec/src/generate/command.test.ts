import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { DEFAULT_OUT_DIR, USAGE, runCli } from './command.js'
import { MARKDOWN_FILE, VECTORS_FILE, generateExamples } from './index.js'
import { KEY_CHAIN_FILE } from './key-chain.js'

let dir: string
let out: string[]
let err: string[]
const io = { out: (line: string) => out.push(line), err: (line: string) => err.push(line) }

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'spec-examples-'))
  out = []
  err = []
})
afterEach(async () => {
  await rm(dir, { recursive: true, force: true })
})

describe('generate command', () => {
  it('defaults to spec/examples', () => {
    expect(DEFAULT_OUT_DIR).toBe(fileURLToPath(new URL('../../examples', import.meta.url)))
  })

  it('writes every file into --out, creating it', async () => {
    const target = join(dir, 'nested', 'examples')
    expect(await runCli(['--out', target], io)).toBe(0)
    const { files } = await generateExamples()
    expect((await readdir(target)).sort()).toEqual([MARKDOWN_FILE, KEY_CHAIN_FILE, VECTORS_FILE])
    for (const [name, contents] of files) {
      expect(await readFile(join(target, name), 'utf8')).toBe(contents)
    }
    expect(out).toHaveLength(3)
  })

  it('leaves files that are already current alone', async () => {
    await runCli(['--out', dir], io)
    out = []
    expect(await runCli(['--out', dir], io)).toBe(0)
    expect(out).toEqual([`${dir} already up to date`])
  })

  it('--check passes on current files and writes nothing', async () => {
    await runCli(['--out', dir], io)
    out = []
    expect(await runCli(['--out', dir, '--check'], io)).toBe(0)
    expect(out).toEqual([`${dir} is up to date`])
    expect(err).toEqual([])
  })

  it('--check fails on a stale file, names it, and does not repair it', async () => {
    await runCli(['--out', dir], io)
    const path = join(dir, VECTORS_FILE)
    await writeFile(path, 'stale')
    expect(await runCli(['--out', dir, '--check'], io)).toBe(1)
    expect(err[0]).toBe(`${path} differs from a fresh generation`)
    expect(err).toHaveLength(2)
    expect(await readFile(path, 'utf8')).toBe('stale')
  })

  it('--check fails when the files are missing, without creating them', async () => {
    const target = join(dir, 'missing')
    expect(await runCli(['--check', '--out', target], io)).toBe(1)
    expect(err).toHaveLength(4)
    await expect(readdir(target)).rejects.toMatchObject({ code: 'ENOENT' })
  })

  it('prints usage for --help', async () => {
    expect(await runCli(['--help'], io)).toBe(0)
    expect(out).toEqual([USAGE])
  })

  it.each([[['--bogus']], [['positional']], [['--out']]])(
    'rejects %j with usage and status 2',
    async (args) => {
      expect(await runCli(args, io)).toBe(2)
      expect(err[0]).toContain(USAGE)
      expect(out).toEqual([])
    },
  )
})
