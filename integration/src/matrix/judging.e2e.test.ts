import { mkdtemp, rm } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { scenarios } from '../scenarios.js'
import { loadConfig } from './config.js'
import { DEFAULT_CONFIG } from './main.js'
import { freePort, startServer, type RunningServer } from './process.js'
import { runScenarios } from './scenarios.js'

/**
 * Our server behind a proxy that makes it answer like the reference servers do: every protocol
 * error as `200 {"error":"an error occured"}`, and `/bad/nonce` with the 12-character nonce.
 */
function referenceLikeProxy(target: string): Server {
  return createServer((request, response) => {
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.on('end', () => {
      void fetch(target + (request.url ?? '/'), {
        method: request.method ?? 'POST',
        body: Buffer.concat(chunks),
        headers: { 'content-type': 'application/json' },
      })
        .then(async (answer) => {
          let text = await answer.text()
          let status = answer.status
          if (/"error"\s*:\s*\{/.test(text) && !text.includes('"payload"')) {
            text = '{"error":"an error occured"}'
            status = 200
          } else if (request.url === '/bad/nonce') {
            text = text.replace(/"nonce":"[^"]*"/, '"nonce":"0A0123456789"')
          }
          response.writeHead(status, { 'content-type': 'application/json' }).end(text)
        })
        .catch(() => response.destroy())
    })
  })
}

describe('scenarios against a server that answers like the references', () => {
  let server: RunningServer
  let proxy: Server
  let proxyUrl: string
  let dir: string
  const only = scenarios.filter((scenario) => ['scenario-3', 'scenario-4'].includes(scenario.id))

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'better-auth-interop-judging-'))
    const port = await freePort()
    const spec = (await loadConfig(DEFAULT_CONFIG)).servers.find((s) => s.name === 'ours-node')
    if (spec === undefined) throw new Error('servers.json has no ours-node')
    server = await startServer({ ...spec, port, netns: false }, `http://127.0.0.1:${port}`, {
      node: process.execPath,
      tempDir: dir,
      port: String(port),
    })
    proxy = referenceLikeProxy(server.url)
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve))
    const address = proxy.address()
    if (address === null || typeof address !== 'object') throw new Error('no proxy port')
    proxyUrl = `http://127.0.0.1:${address.port}`
  }, 60_000)

  afterAll(async () => {
    proxy?.closeAllConnections()
    await new Promise((resolve) => proxy?.close(resolve))
    await server?.stop()
    await rm(dir, { recursive: true, force: true })
  })

  it('judges a foreign server on behaviour and records what it sent', async () => {
    const results = await runScenarios(proxyUrl, { scenarios: only, strict: false })
    expect(results[0]).toMatchObject({
      id: 'scenario-3',
      status: 'pass',
      observed: [
        'refresh of the unlinked device: refused with no error code ("an error occured"), ' +
          'HTTP 200; BA103 expected',
      ],
    })
    expect(results[1]).toMatchObject({ id: 'scenario-4', status: 'finding' })
    expect(results[1]?.detail).toContain(
      '/bad/nonce answers the malformed nonce "0A0123456789" (12 characters',
    )
  }, 60_000)

  it('holds our own implementations to the exact codes', async () => {
    const results = await runScenarios(proxyUrl, { scenarios: only, strict: true })
    expect(results.map((result) => result.status)).toEqual(['FAIL', 'FAIL'])
    expect(results[0]?.detail).toContain('refresh of the unlinked device: expected BA103')
  }, 60_000)
})
