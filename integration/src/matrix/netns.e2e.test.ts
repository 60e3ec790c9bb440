import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openNamespace, type Namespace } from './netns.js'
import { runCommand } from './process.js'

// A namespace needs root (CI and these machines run as root); elsewhere there is nothing to test.
const root = process.getuid?.() === 0

// Answers one request, then exits.
const SERVE = `require('node:http').createServer((q, s) => { s.end('inside'); setTimeout(() => process.exit(0), 100) }).listen(8080, '127.0.0.1')`

describe.skipIf(!root)('a network namespace', () => {
  let ns: Namespace
  let dir: string
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'better-auth-interop-netns-'))
    ns = await openNamespace()
  })
  afterAll(async () => {
    await ns?.close()
    await rm(dir, { recursive: true, force: true })
  })

  it('has only loopback, and what runs in it is reached through the bridge alone', async () => {
    const links = await runCommand('ip', ['-o', 'link'], dir, {}, 10_000, ns.launch)
    expect(links.output.tail().trim().split('\n')).toHaveLength(1)
    expect(links.output.tail()).toContain('lo:')

    const url = await ns.bridge(8080, dir)
    // Nothing listens inside yet: refused through the bridge, not hung.
    await expect(fetch(url, { signal: AbortSignal.timeout(5_000) })).rejects.toThrow()

    const server = runCommand(process.execPath, ['-e', SERVE], dir, {}, 20_000, ns.launch)
    let answer: string | undefined
    for (let attempt = 0; attempt < 100 && answer === undefined; attempt++) {
      answer = await fetch(url)
        .then((response) => response.text())
        .catch(() => new Promise<undefined>((resolve) => setTimeout(resolve, 100)))
    }
    expect(answer).toBe('inside')
    // The machine's own 127.0.0.1:8080 is not that server.
    const outside = await fetch('http://127.0.0.1:8080', { signal: AbortSignal.timeout(2_000) })
      .then((response) => response.text())
      .catch(() => 'nothing')
    expect(outside).not.toBe('inside')
    expect((await server).exitCode).toBe(0)
  }, 60_000)
})
