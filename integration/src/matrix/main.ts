/// <reference types="node" />
import { mkdir, writeFile } from 'node:fs/promises'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { checkUrl, ConfigError, loadConfig, parseServer, type MatrixConfig } from './config.js'
import { renderMarkdown } from './markdown.js'
import type { RunningServer } from './process.js'
import { renderMatrix } from './render.js'
import { runMatrix, type Progress } from './run.js'

/** The package directory, from src/matrix (tsx) and dist/matrix (built) alike. */
export const PACKAGE_DIR = fileURLToPath(new URL('../..', import.meta.url))
export const DEFAULT_CONFIG = resolve(PACKAGE_DIR, 'servers.json')
export const DEFAULT_REPORT = resolve(PACKAGE_DIR, 'reports/interop.json')
export const DEFAULT_MARKDOWN = resolve(PACKAGE_DIR, 'reports/RESULTS.md')

export const USAGE = `usage: better-auth-interop [options]
  --config FILE   servers to run (default: ${DEFAULT_CONFIG})
  --only NAME     run only the server NAME from the config (repeatable)
  --client NAME   run only the reference client NAME (repeatable; "none" for none)
  --url URL       test a server already running at URL (loopback only); starts nothing
  --expect KIND   with --url: conformant (default) or reference
  --name NAME     with --url: the column name (default "url")
  --json PATH     where to write the JSON report (default: ${DEFAULT_REPORT})
  --markdown PATH where to write the markdown report (default: ${DEFAULT_MARKDOWN});
                  RESULTS.md in this package is a committed copy of a full run
exit status: 0 all servers met their expectation, 1 some did not, 2 bad usage or config`

export interface CliOptions {
  readonly config: string
  readonly only: readonly string[]
  readonly client: readonly string[]
  readonly url?: string
  readonly expect: 'conformant' | 'reference'
  readonly name: string
  readonly json: string
  readonly markdown: string
  readonly help: boolean
}

const VALUE_FLAGS = [
  '--config',
  '--only',
  '--client',
  '--url',
  '--expect',
  '--name',
  '--json',
  '--markdown',
] as const
type ValueFlag = (typeof VALUE_FLAGS)[number]

export function parseArgs(argv: readonly string[]): CliOptions {
  const values: Partial<Record<ValueFlag, string[]>> = {}
  let help = false
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? ''
    if (arg === '--help' || arg === '-h') {
      help = true
      continue
    }
    const [flag, inline] = arg.includes('=')
      ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)]
      : [arg, undefined]
    if (!(VALUE_FLAGS as readonly string[]).includes(flag)) {
      throw new ConfigError(arg, 'unknown option')
    }
    const value = inline ?? argv[++i]
    if (value === undefined || value === '') throw new ConfigError(flag, 'needs a value')
    ;(values[flag as ValueFlag] ??= []).push(value)
  }
  const single = (flag: ValueFlag): string | undefined => {
    const given = values[flag]
    if (given !== undefined && given.length > 1) throw new ConfigError(flag, 'given more than once')
    return given?.[0]
  }
  const expect = single('--expect') ?? 'conformant'
  if (expect !== 'conformant' && expect !== 'reference') {
    throw new ConfigError('--expect', 'must be conformant or reference')
  }
  const url = single('--url')
  if (url === undefined) {
    for (const flag of ['--expect', '--name'] as const) {
      if (values[flag] !== undefined) throw new ConfigError(flag, 'only meaningful with --url')
    }
  } else if (
    values['--only'] !== undefined ||
    values['--config'] !== undefined ||
    values['--client'] !== undefined
  ) {
    throw new ConfigError('--url', 'cannot be combined with --config, --only or --client')
  }
  return {
    config: resolve(single('--config') ?? DEFAULT_CONFIG),
    only: values['--only'] ?? [],
    client: values['--client'] ?? [],
    ...(url === undefined ? {} : { url: checkUrl(url, '--url') }),
    expect,
    name: single('--name') ?? 'url',
    json: resolve(single('--json') ?? DEFAULT_REPORT),
    markdown: resolve(single('--markdown') ?? DEFAULT_MARKDOWN),
    help,
  }
}

/** The servers the options select (with the builds and clients of the config), validated. */
export async function selectServers(options: CliOptions): Promise<MatrixConfig> {
  if (options.url !== undefined) {
    const spec = parseServer(
      { name: options.name, url: options.url, expect: options.expect },
      '--url',
      process.cwd(),
    )
    return { builds: [], servers: [spec], clients: [] }
  }
  const config = await loadConfig(options.config)
  const pick = <T extends { readonly name: string }>(
    items: readonly T[],
    names: readonly string[],
    flag: string,
    none: string[],
  ): readonly T[] => {
    if (names.length === 0) return items
    const have = items.map((item) => item.name)
    for (const name of names) {
      if (!have.includes(name) && !none.includes(name)) {
        throw new ConfigError(flag, `no "${name}" in ${options.config} (have: ${have.join(', ')})`)
      }
    }
    return items.filter((item) => names.includes(item.name))
  }
  return {
    ...config,
    servers: pick(config.servers, options.only, '--only', []),
    clients: pick(config.clients, options.client, '--client', ['none']),
  }
}

function progressLine(progress: Progress): string {
  switch (progress.kind) {
    case 'server':
      return `[${progress.name}] ${progress.phase}`
    case 'scenario':
      return (
        `[${progress.name}] ${progress.result.status.padEnd(8)} ${progress.result.id}` +
        (progress.result.detail === undefined ? '' : `: ${progress.result.detail}`)
      )
    case 'case':
      return `[${progress.name}] ${progress.result.status.padEnd(8)} ${progress.result.id} (${progress.result.code})`
    case 'client': {
      const { run } = progress
      const what =
        run.unavailable ??
        run.problem?.split('\n')[0] ??
        run.tests.map((test) => `${test.scenario ?? test.name} ${test.status}`).join(', ')
      return `[${progress.name}] client ${run.client}: ${what}`
    }
  }
}

export interface MainIo {
  readonly out: (text: string) => void
  readonly err: (text: string) => void
}

const consoleIo: MainIo = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
}

/** Runs the CLI; resolves the exit status. */
export async function main(argv: readonly string[], io: MainIo = consoleIo): Promise<number> {
  let options: CliOptions
  let config: MatrixConfig
  try {
    options = parseArgs(argv)
    if (options.help) {
      io.out(`${USAGE}\n`)
      return 0
    }
    config = await selectServers(options)
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error
    io.err(`better-auth-interop: ${error.message}\n${USAGE}\n`)
    return 2
  }

  // An interrupted run must not leave a server behind (they hold the shared port).
  let current: RunningServer | undefined
  const interrupt = (signal: NodeJS.Signals) => {
    io.err(`\n${signal}: stopping ${current === undefined ? 'nothing' : `pid ${current.pid}`}\n`)
    void (current?.stop() ?? Promise.resolve()).finally(() => process.exit(130))
  }
  process.once('SIGINT', interrupt)
  process.once('SIGTERM', interrupt)
  try {
    const report = await runMatrix(config, {
      onProgress: (progress) => io.err(`${progressLine(progress)}\n`),
      onStarted: (server) => (current = server),
      values: { configDir: dirname(options.config) },
    })
    io.out(`\n${renderMatrix(report)}`)
    for (const [file, text] of [
      [options.json, `${JSON.stringify(report, null, 2)}\n`],
      [options.markdown, renderMarkdown(report)],
    ] as const) {
      await mkdir(dirname(file), { recursive: true })
      await writeFile(file, text)
    }
    io.out(`report: ${options.json}\nmarkdown: ${options.markdown}\n`)
    return report.ok ? 0 : 1
  } finally {
    process.off('SIGINT', interrupt)
    process.off('SIGTERM', interrupt)
  }
}
