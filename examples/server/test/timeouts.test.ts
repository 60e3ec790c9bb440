import { NobleP256SigningKey } from '@better-auth/crypto'
import { memoryServerStores } from '@better-auth/server'
import { connect } from 'node:net'
import { describe, expect, it } from 'vitest'
import { DEFAULT_TIMEOUTS, buildApp } from '../src/app.js'

const keys = { response: NobleP256SigningKey.generate(), access: NobleP256SigningKey.generate() }

/**
 * Announces a 1000-byte body and sends one byte every 100 ms, so the connection is never idle;
 * resolves with what the server answered and when the connection closed.
 */
function trickle(port: number): Promise<{ answer: string; closedAfterMs: number; sent: number }> {
  return new Promise((resolve) => {
    const started = Date.now()
    let answer = ''
    let sent = 0
    const socket = connect(port, '127.0.0.1', () => {
      socket.write(
        'POST /account/create HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n' +
          'content-length: 1000\r\n\r\n',
      )
    })
    const timer = setInterval(() => {
      if (sent < 1000 && !socket.destroyed) {
        socket.write('{')
        sent++
      }
    }, 100)
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString()))
    socket.on('error', () => undefined)
    socket.on('close', () => {
      clearInterval(timer)
      resolve({ answer, closedAfterMs: Date.now() - started, sent })
    })
  })
}

describe('slow clients', () => {
  it('cuts a trickled body with 408 once the request deadline passes', async () => {
    const app = await buildApp({
      keys,
      stores: memoryServerStores(),
      timeouts: { requestMs: 1_000, headersMs: 500, checkIntervalMs: 100 },
    })
    await app.listen({ host: '127.0.0.1', port: 0 })
    const { port } = app.server.address() as { port: number }
    const result = await trickle(port)
    await app.close()
    expect(result.answer).toMatch(/^HTTP\/1\.1 408/)
    expect(result.closedAfterMs).toBeGreaterThanOrEqual(900)
    expect(result.closedAfterMs).toBeLessThan(2_000)
    expect(result.sent).toBeLessThan(20)
  })

  it('sets the documented defaults on the HTTP server', async () => {
    const app = await buildApp({ keys, stores: memoryServerStores() })
    expect(app.server.requestTimeout).toBe(DEFAULT_TIMEOUTS.requestMs)
    expect(app.server.headersTimeout).toBe(DEFAULT_TIMEOUTS.headersMs)
    expect(app.server.timeout).toBe(DEFAULT_TIMEOUTS.idleMs)
    await app.close()
  })
})
