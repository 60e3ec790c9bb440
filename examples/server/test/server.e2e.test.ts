import type { Network } from '@better-auth/client'
import { FetchNetwork } from '@better-auth/client'
import {
  STRICT,
  fetchResponseKey,
  generateKey,
  hasher,
  httpClients,
  scenarios,
} from '@better-auth/integration'
import { mkdtemp, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startServer, type RunningServer } from './process.js'

let dataDir: string
let server: RunningServer

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'better-auth-example-'))
  server = await startServer(['--data-dir', dataDir])
}, 30_000)

afterAll(async () => {
  await server?.stop()
  await rm(dataDir, { recursive: true, force: true })
})

describe('the example server process', () => {
  it.each(scenarios.map((s) => [s.id, s] as const))(
    'passes %s over HTTP',
    async (_id, scenario) => {
      await scenario.run(await httpClients(server.url), STRICT)
    },
  )

  it('runs on the embedded SQLite store by default', async () => {
    await expect.poll(() => server.output(), { timeout: 5_000 }).toContain('"stores":"sqlite"')
  })

  it('keeps its keys private on disk', async () => {
    expect((await stat(join(dataDir, 'server-keys.json'))).mode & 0o777).toBe(0o600)
  })

  it('survives a crash mid-scenario: account, devices and session still work', async () => {
    const crashDir = await mkdtemp(join(tmpdir(), 'better-auth-crash-'))
    let current = await startServer(['--data-dir', crashDir])
    const responseKey = await fetchResponseKey(current.url)
    // One network whose target follows the restarted process.
    const network: Network = {
      sendRequest: (path, message) => new FetchNetwork(current.url).sendRequest(path, message),
    }
    const clients = await httpClients(current.url, { network, responseKey })
    try {
      const client = clients.newClient()
      const { identity } = await client.createAccount(
        await hasher.sum(await (await generateKey()).public()),
      )
      const added = clients.newClient()
      await client.linkDevice(await added.generateLinkContainer(identity))
      await client.createSession()

      // No graceful shutdown: whatever was acknowledged must already be on disk.
      expect(await current.stop('SIGKILL')).toBe(null)
      current = await startServer(['--data-dir', crashDir])
      expect(await fetchResponseKey(current.url)).toBe(responseKey)

      await client.refreshSession()
      expect(await client.makeAccessRequest('/foo/bar', { foo: 1, bar: 2 })).toEqual({
        wasFoo: 1,
        wasBar: 2,
      })
      await client.rotateDevice()
      await added.createSession()
      await added.rotateDevice()
    } finally {
      await current.stop()
      await rm(crashDir, { recursive: true, force: true })
    }
  }, 60_000)

  it('refuses an access request replayed after a crash: its nonce was on disk before the answer', async () => {
    const crashDir = await mkdtemp(join(tmpdir(), 'better-auth-crash-'))
    let current = await startServer(['--data-dir', crashDir])
    const sent: { path: string; message: string }[] = []
    const network: Network = {
      sendRequest: (path, message) => {
        sent.push({ path, message })
        return new FetchNetwork(current.url).sendRequest(path, message)
      },
    }
    const clients = await httpClients(current.url, {
      network,
      responseKey: await fetchResponseKey(current.url),
    })
    try {
      const client = clients.newClient()
      await client.createAccount(await hasher.sum(await (await generateKey()).public()))
      await client.createSession()
      expect(await client.makeAccessRequest('/foo/bar', { foo: 1, bar: 2 })).toEqual({
        wasFoo: 1,
        wasBar: 2,
      })
      const access = sent.at(-1)!
      expect(access.path).toBe('/foo/bar')

      // Killed right after the answer: an acknowledged nonce must already be committed.
      expect(await current.stop('SIGKILL')).toBe(null)
      current = await startServer(['--data-dir', crashDir])
      const replay = await fetch(`${current.url}/foo/bar`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: access.message,
      })
      expect(replay.status).toBe(409)
      expect(await replay.json()).toMatchObject({ error: { code: 'BA205' } })
    } finally {
      await current.stop()
      await rm(crashDir, { recursive: true, force: true })
    }
  }, 60_000)

  it('shuts down gracefully on SIGTERM', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'better-auth-term-'))
    const running = await startServer(['--data-dir', dir])
    expect(await running.stop('SIGTERM')).toBe(0)
    await rm(dir, { recursive: true, force: true })
  }, 30_000)
})
