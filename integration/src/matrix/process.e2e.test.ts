import { describe, expect, it } from 'vitest'
import { parseServer, type ServerSpec } from './config.js'
import { runServer } from './run.js'
import { freePort, startServer } from './process.js'

// A stand-in server: answers POST /key/response with `status`, optionally ignores SIGTERM and
// forks a child that ignores it too (like the binary `go run` leaves behind).
function fakeServer(options: { status?: number; stubborn?: boolean } = {}): string {
  const { status = 200, stubborn = false } = options
  return `
    const http = require('node:http')
    const { spawn } = require('node:child_process')
    if (${stubborn}) {
      process.on('SIGTERM', () => {})
      const child = spawn(process.execPath, ['-e', "process.on('SIGTERM', () => {}); setInterval(() => {}, 1000)"], { stdio: 'ignore' })
      console.log('child ' + child.pid)
    }
    http.createServer((req, res) => { res.statusCode = ${status}; res.end('1AAI') })
      .listen(Number(process.argv[1]), '127.0.0.1')
  `
}

function spec(fields: Record<string, unknown>): ServerSpec {
  return parseServer(
    {
      name: 'fake',
      expect: 'reference',
      url: 'http://127.0.0.1:{port}',
      port: 0,
      command: '{node}',
      ...fields,
    },
    'test',
    process.cwd(),
  )
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

describe('stopping a server', () => {
  it('escalates to SIGKILL for the whole group when SIGTERM is ignored', async () => {
    const stubborn = spec({
      args: ['-e', fakeServer({ stubborn: true }), '{port}'],
      stopTimeoutMs: 500,
    })
    const port = String(await freePort())
    const server = await startServer(stubborn, `http://127.0.0.1:${port}`, {
      node: process.execPath,
      tempDir: '/tmp',
      port,
    })
    const child = Number(/child (\d+)/.exec(server.log.since(0))?.[1])
    expect(child).toBeGreaterThan(0)
    expect(alive(child)).toBe(true)

    const outcome = await server.stop()
    expect(outcome).toEqual({ signal: 'SIGKILL', exitCode: null, exitSignal: 'SIGKILL' })
    // The forked child was in the group: it is gone too (give init a moment to reap it).
    for (let i = 0; i < 40 && alive(child); i++) await new Promise((r) => setTimeout(r, 50))
    expect(alive(child)).toBe(false)
  }, 20_000)
})

describe('a server that cannot be run', () => {
  it('reports a failed preparation step with the command and its own output', async () => {
    const report = await runServer(
      spec({
        args: ['-e', fakeServer(), '{port}'],
        prepare: [
          {
            command: '{node}',
            args: ['-e', "console.error('go: module lookup: 403 Forbidden'); process.exit(3)"],
          },
        ],
      }),
    )
    expect(report.verdict).toBe('unavailable')
    expect(report.unavailable).toMatch(/^`\S+ -e .*` failed \(exit 3\):\ngo: module lookup: 403/)
    expect(report.failures).toEqual([])
  })

  it('reports a command that does not exist', async () => {
    const report = await runServer(spec({ command: 'better-auth-no-such-command' }))
    expect(report.unavailable).toMatch(
      /could not be started: spawn better-auth-no-such-command ENOENT/,
    )
  })

  it('reports a server that exits before it is ready, with what it printed', async () => {
    const report = await runServer(
      spec({ args: ['-e', "console.log('port taken'); process.exit(4)"] }),
    )
    expect(report.unavailable).toMatch(/exited \(exit 4\) before it was ready:\nport taken/)
  })

  it('gives up on readiness after the timeout and stops the process', async () => {
    const report = await runServer(
      spec({
        args: ['-e', fakeServer({ status: 503 }), '{port}'],
        readiness: { timeoutMs: 1500, intervalMs: 100 },
      }),
    )
    expect(report.unavailable).toMatch(/^not ready after 1500 ms \(last probe: HTTP 503\)/)
    expect(report.verdict).toBe('unavailable')
  }, 20_000)
})
