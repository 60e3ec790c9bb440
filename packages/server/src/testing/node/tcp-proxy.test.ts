import { connect, createServer, type Server, type Socket } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { startTcpProxy, type Verdict } from './index.js'

/** An echo server on 127.0.0.1 that counts what reached it. */
async function echoServer(): Promise<{ server: Server; port: number; received: string[] }> {
  const received: string[] = []
  const server = createServer((socket) => {
    socket.on('data', (chunk: Buffer) => {
      received.push(chunk.toString())
      socket.write(chunk)
    })
    socket.on('error', () => undefined)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()))
  const address = server.address()
  if (address === null || typeof address === 'string') throw new Error('no address')
  return { server, port: address.port, received }
}

/** Sends `text` and resolves with what came back before the connection ended or 300 ms passed. */
function roundTrip(port: number, text: string): Promise<{ reply: string; closed: boolean }> {
  return new Promise((resolve) => {
    const socket: Socket = connect(port, '127.0.0.1', () => socket.write(text))
    let reply = ''
    const done = (closed: boolean) => {
      clearTimeout(timer)
      socket.destroy()
      resolve({ reply, closed })
    }
    const timer = setTimeout(() => done(false), 300)
    socket.on('data', (chunk: Buffer) => {
      reply += chunk.toString()
      if (reply === text) done(false)
    })
    socket.on('close', () => done(true))
    socket.on('error', () => undefined)
  })
}

const servers: Server[] = []
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))))
})

describe('startTcpProxy', () => {
  it('is all the Node testing entry exports', async () => {
    expect(Object.keys(await import('./index.js'))).toEqual(['startTcpProxy'])
  })

  it.each([
    ['forward', 'ping', true, false],
    ['cut-before', '', false, true],
    ['cut-after', '', true, true],
  ] as const)(
    '%s: reply %j, reached the server %s, connection cut %s',
    async (verdict, reply, reached, cut) => {
      const echo = await echoServer()
      servers.push(echo.server)
      const proxy = await startTcpProxy({ targetPort: echo.port, inspect: (): Verdict => verdict })
      const result = await roundTrip(proxy.port, 'ping')
      expect(result).toEqual({ reply, closed: cut })
      // Let a forwarded chunk land before judging whether it reached the server.
      await new Promise((resolve) => setTimeout(resolve, 50))
      expect(echo.received.length > 0).toBe(reached)
      await proxy.close()
    },
  )

  it('reports its upstream ports, and after close the server is unreachable', async () => {
    const echo = await echoServer()
    servers.push(echo.server)
    const proxy = await startTcpProxy({ targetPort: echo.port })
    const socket = connect(proxy.port, '127.0.0.1')
    socket.on('error', () => undefined)
    await new Promise((resolve) => socket.once('connect', resolve))
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(proxy.upstreamPorts()).toHaveLength(1)
    await proxy.close()
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(proxy.upstreamPorts()).toEqual([])
    expect(socket.destroyed).toBe(true)
    expect((await roundTrip(proxy.port, 'ping')).closed).toBe(true)
  })
})
