/// <reference types="node" />
import { spawn, type ChildProcess } from 'node:child_process'
import { readlink } from 'node:fs/promises'
import { connect, createServer, type Server, type Socket } from 'node:net'
import { join } from 'node:path'
import { UnavailableError, type Launcher } from './process.js'

/**
 * Joins two sockets both ways. A half-closed side is passed on with end() (so a response written
 * just before the server closes still arrives); an error on one side destroys the other.
 */
function splice(a: Socket, b: Socket): void {
  a.pipe(b)
  b.pipe(a)
  a.on('error', () => b.destroy())
  b.on('error', () => a.destroy())
}

/**
 * The forwarder that runs inside the namespace: unix socket → 127.0.0.1:PORT. A separate process
 * (the namespace is entered with nsenter), written as plain JavaScript so any node runs it as is;
 * it is `splice` above plus a listener.
 */
const INNER_FORWARDER = `
const net = require('node:net')
const [socketPath, port] = process.argv.slice(1)
net.createServer((outer) => {
  const inner = net.connect(Number(port), '127.0.0.1')
  outer.pipe(inner); inner.pipe(outer)
  outer.on('error', () => inner.destroy()); inner.on('error', () => outer.destroy())
}).listen(socketPath, () => console.log('listening'))
`

function waitForLine(child: ChildProcess, line: string, timeoutMs: number, what: string) {
  return new Promise<void>((resolve, reject) => {
    let output = ''
    const timer = setTimeout(() => fail(`no "${line}" after ${timeoutMs} ms`), timeoutMs)
    const fail = (why: string) => {
      clearTimeout(timer)
      reject(new UnavailableError(`${what}: ${why}${output === '' ? '' : `:\n${output.trim()}`}`))
    }
    const collect = (chunk: Buffer) => {
      output += chunk.toString('utf8')
      if (output.split('\n').some((text) => text.trim() === line)) {
        clearTimeout(timer)
        resolve()
      }
    }
    child.stdout?.on('data', collect)
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')))
    child.once('error', (error) => fail(error.message))
    child.once('exit', (code, signal) => fail(`exited (${code ?? signal})`))
  })
}

function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  return new Promise((resolve) => {
    child.once('exit', () => resolve())
    try {
      process.kill(-(child.pid ?? 0), 'SIGKILL')
    } catch {
      resolve()
    }
  })
}

/** A loopback-only network namespace that servers and clients are started in. */
export interface Namespace {
  /** Runs a command inside the namespace (`nsenter --net`), in the caller's other namespaces. */
  readonly launch: Launcher
  /**
   * Makes `127.0.0.1:port` inside reachable from outside: resolves the outside URL (a free
   * loopback port of this process). Connections are refused, not hung, while nothing listens.
   */
  bridge(port: number, socketDir: string): Promise<string>
  close(): Promise<void>
}

/**
 * Creates a network namespace with only `lo` up, held open by a sleeping process (needs root, or
 * CAP_SYS_ADMIN, as CI has). Everything started through `launch` shares it; nothing in it can
 * reach the machine's network, and nothing outside sees its 127.0.0.1:8080.
 */
export async function openNamespace(): Promise<Namespace> {
  const holder = spawn(
    'unshare',
    ['--net', '--', 'sh', '-c', 'ip link set lo up && echo up && exec sleep 2147483647'],
    { stdio: ['ignore', 'pipe', 'pipe'], detached: true },
  )
  const helpers: ChildProcess[] = [holder]
  const listeners: Server[] = []
  const sockets = new Set<Socket>()
  const close = async () => {
    // close() waits for open connections, and fetch keeps them alive: end them first.
    for (const socket of sockets) socket.destroy()
    await Promise.all(listeners.map((server) => new Promise((done) => server.close(done))))
    await Promise.all(helpers.map(kill))
  }
  try {
    await waitForLine(holder, 'up', 10_000, 'cannot create a network namespace (unshare --net)')
    const target = `/proc/${holder.pid}/ns/net`
    // Never let anything run in the machine's own namespace by mistake.
    if ((await readlink(target)) === (await readlink('/proc/self/ns/net'))) {
      throw new UnavailableError('unshare --net left the holder in the host namespace')
    }
  } catch (error) {
    await close()
    throw error
  }
  const launch: Launcher = (command, args) => ({
    command: 'nsenter',
    args: [`--net=/proc/${holder.pid}/ns/net`, '--', command, ...args],
  })
  return {
    launch,
    async bridge(port, socketDir) {
      const socketPath = join(socketDir, `netns-${holder.pid}-${port}.sock`)
      const inner = launch(process.execPath, ['-e', INNER_FORWARDER, socketPath, String(port)])
      const forwarder = spawn(inner.command, inner.args, {
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true,
      })
      helpers.push(forwarder)
      await waitForLine(forwarder, 'listening', 10_000, 'the namespace forwarder did not start')
      const outer = createServer((socket) => {
        const inside = connect(socketPath)
        for (const end of [socket, inside]) {
          sockets.add(end)
          end.once('close', () => sockets.delete(end))
        }
        splice(socket, inside)
      })
      listeners.push(outer)
      await new Promise<void>((resolve, reject) => {
        outer.once('error', reject)
        outer.listen(0, '127.0.0.1', resolve)
      })
      const address = outer.address()
      if (address === null || typeof address !== 'object') throw new Error('no port assigned')
      return `http://127.0.0.1:${address.port}`
    },
    close,
  }
}
