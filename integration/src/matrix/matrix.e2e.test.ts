import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { adversarialCases } from '../adversarial/cases.js'
import { scenarios } from '../scenarios.js'
import { loadConfig, type ServerSpec } from './config.js'
import { DEFAULT_CONFIG, main } from './main.js'
import { freePort, startServer, type RunningServer } from './process.js'
import { runServer, type MatrixReport } from './run.js'

/**
 * Our server as servers.json declares it, on a free port outside a namespace (`make test` does
 * not need root; the namespaced run is `make test-integration`).
 */
async function exampleServer(port = 0): Promise<ServerSpec> {
  const config = await loadConfig(DEFAULT_CONFIG)
  const spec = config.servers.find((entry) => entry.name === 'ours-node')
  if (spec === undefined) throw new Error('servers.json has no ours-node')
  return { ...spec, port, netns: false }
}

function groupGone(pid: number | undefined): boolean {
  try {
    process.kill(-pid!, 0)
    return false
  } catch {
    return true
  }
}

describe('the matrix against the example server', () => {
  it('starts it, passes every scenario, refuses every hostile message and stops it', async () => {
    const pids: (number | undefined)[] = []
    const report = await runServer(await exampleServer(), {
      onStarted: (server) => pids.push(server?.pid),
    })

    expect(report.unavailable).toBeUndefined()
    expect(report.scenarios.map((result) => [result.id, result.status, result.detail])).toEqual(
      scenarios.map((scenario) => [scenario.id, 'pass', undefined]),
    )
    expect(report.adversarial.map((result) => [result.id, result.status, result.alive])).toEqual(
      adversarialCases.map((testCase) => [testCase.id, 'refused', true]),
    )
    // Refused by a protocol check with its own code, never by an internal error (BA000).
    for (const result of report.adversarial) expect(result.code).toMatch(/^BA[1-5]\d\d$/)
    expect(report).toMatchObject({ verdict: 'pass', failures: [], findings: [] })

    expect(report.stop).toEqual({ signal: 'SIGTERM', exitCode: 0, exitSignal: null })
    expect(pids).toHaveLength(2)
    expect(groupGone(pids[0])).toBe(true)
  }, 120_000)
})

describe('a server that is already running', () => {
  let running: RunningServer
  let spec: ServerSpec
  let dir: string

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'better-auth-interop-e2e-'))
    const port = await freePort()
    spec = await exampleServer(port)
    running = await startServer(spec, `http://127.0.0.1:${port}`, {
      node: process.execPath,
      tempDir: dir,
      port: String(port),
    })
  }, 60_000)

  afterAll(async () => {
    await running?.stop()
    await rm(dir, { recursive: true, force: true })
  })

  it('is tested through --url, and the JSON report is written', async () => {
    const out: string[] = []
    const err: string[] = []
    const json = join(dir, 'reports/interop.json')
    const markdown = join(dir, 'reports/RESULTS.md')
    const args = ['--url', running.url, '--name', 'ours', '--json', json, '--markdown', markdown]
    const status = await main(args, {
      out: (text) => out.push(text),
      err: (text) => err.push(text),
    })
    const text = out.join('')
    expect(status, text + err.join('')).toBe(0)
    expect(text).toMatch(/^\s+\| ours$/m)
    expect(text).toMatch(/^replayed-access-nonce\s+\| refused \(BA\d{3}, HTTP \d{3}\)$/m)
    expect(text).toContain('Result: OK (1 server)')
    const report = JSON.parse(await readFile(json, 'utf8')) as MatrixReport
    expect(report.ok).toBe(true)
    expect(report.servers[0]).toMatchObject({ name: 'ours', started: false, verdict: 'pass' })
    expect(await readFile(markdown, 'utf8')).toContain('### ours (conformant): pass')
  }, 120_000)

  it('is not mistaken for a server the runner was asked to start on the same port', async () => {
    const report = await runServer(spec)
    expect(report.verdict).toBe('fail')
    expect(report.unavailable).toContain(`something already answers at ${running.url}`)
    expect(report.scenarios).toEqual([])
  }, 30_000)

  it('exits 1 with the reason when --url points at nothing', async () => {
    const out: string[] = []
    const status = await main(
      [
        ...['--url', `http://127.0.0.1:${await freePort()}`],
        ...['--json', join(dir, 'none.json'), '--markdown', join(dir, 'none.md')],
      ],
      { out: (text) => out.push(text), err: () => undefined },
    )
    expect(status).toBe(1)
    expect(out.join('')).toMatch(/unavailable: nothing answers POST .*\/key\/response with 200/)
  }, 30_000)
})

describe('the CLI with a bad config', () => {
  it('exits 2 and names the problem', async () => {
    const err: string[] = []
    const status = await main(['--only', 'nonexistent'], {
      out: () => undefined,
      err: (text) => err.push(text),
    })
    expect(status).toBe(2)
    expect(err.join('')).toContain(
      '--only: no "nonexistent" in ' +
        DEFAULT_CONFIG +
        ' (have: ours-node, ours-express, ours-hono, ours-node-http, ts, go, rust, python, ruby)',
    )
  })
})
