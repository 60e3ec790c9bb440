/// <reference types="node" />
// Node-only, hence its own entry (`@better-auth/server/testing/node`): the contract kit itself runs
// wherever the stores do.
import { createServer, connect, type Server, type Socket } from 'node:net'

/**
 * What to do with a chunk a client sends: pass it on; cut the connection without passing it on
 * (the request never reaches the server); or pass it on and cut the connection when the reply
 * arrives, without passing the reply back (the request runs, the client never learns how).
 */
export type Verdict = 'forward' | 'cut-before' | 'cut-after'

export interface TcpProxyOptions {
  readonly targetPort: number
  /** Looks at each chunk a client sends; default: forward everything. */
  readonly inspect?: (chunk: Buffer) => Verdict
}

/**
 * A TCP forwarder on 127.0.0.1 in front of a real server, so a test can break the connection
 * between a store and its server at a chosen moment, or take the server away altogether,
 * without stopping the server the other tests share.
 */
export interface TcpProxy {
  readonly port: number
  /** The local ports of the proxy's connections to the server, as the server sees them. */
  upstreamPorts(): number[]
  /** Cuts every forwarded connection and stops listening: the server is now unreachable. */
  close(): Promise<void>
}

export async function startTcpProxy(options: TcpProxyOptions): Promise<TcpProxy> {
  const sockets = new Set<Socket>()
  const upstreams = new Set<Socket>()
  const server: Server = createServer((client) => {
    const upstream = connect(options.targetPort, '127.0.0.1')
    upstreams.add(upstream)
    upstream.on('close', () => upstreams.delete(upstream))
    const cut = (): void => {
      client.destroy()
      upstream.destroy()
    }
    let cutOnReply = false
    for (const socket of [client, upstream]) {
      sockets.add(socket)
      socket.on('close', () => {
        sockets.delete(socket)
        cut()
      })
      socket.on('error', cut)
    }
    client.on('data', (chunk: Buffer) => {
      const verdict = options.inspect?.(chunk) ?? 'forward'
      if (verdict === 'cut-before') return cut()
      if (verdict === 'cut-after') cutOnReply = true
      upstream.write(chunk)
    })
    upstream.on('data', (chunk: Buffer) => {
      if (cutOnReply) return cut()
      client.write(chunk)
    })
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  const address = server.address()
  if (address === null || typeof address === 'string') throw new Error('no TCP address')
  return {
    port: address.port,
    upstreamPorts: () => [...upstreams].flatMap((socket) => socket.localPort ?? []),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        for (const socket of sockets) socket.destroy()
      }),
  }
}
