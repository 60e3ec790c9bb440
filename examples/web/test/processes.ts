import { spawn, type ChildProcess } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { extname, join, normalize, sep } from 'node:path'
import { fileURLToPath } from 'node:url'

export const webDir = fileURLToPath(new URL('..', import.meta.url))
const exampleServerDir = fileURLToPath(new URL('../../server', import.meta.url))

/** Runs `command` to completion within `timeoutMs`, failing with its output otherwise. */
export function run(args: readonly string[], cwd: string, timeoutMs: number): Promise<string> {
  const child = spawn(process.execPath, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()))
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()))
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`${args.join(' ')} did not finish in ${timeoutMs} ms:\n${output}`))
    }, timeoutMs)
    child.once('exit', (code) => {
      clearTimeout(timer)
      if (code === 0) resolve(output)
      else reject(new Error(`${args.join(' ')} exited with ${code}:\n${output}`))
    })
  })
}

/** Builds the web app with Vite into `outDir`. */
export async function buildWebApp(outDir: string): Promise<void> {
  const vite = join(webDir, 'node_modules', 'vite', 'bin', 'vite.js')
  await run(
    [vite, 'build', '--outDir', outDir, '--emptyOutDir', '--logLevel', 'warn'],
    webDir,
    120_000,
  )
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json',
}

export interface StaticSite {
  readonly origin: string
  close(): Promise<void>
}

/** Serves the built app on 127.0.0.1 with a free port (what `vite preview` does, in-process). */
export async function serveStatic(root: string): Promise<StaticSite> {
  const server: Server = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://127.0.0.1').pathname
    const file = normalize(join(root, path === '/' ? 'index.html' : path))
    if (!file.startsWith(root + sep) && file !== root) {
      response.writeHead(403).end()
      return
    }
    readFile(file).then(
      (body) => {
        response.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'text/plain' })
        response.end(body)
      },
      () => response.writeHead(404).end(),
    )
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    origin: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

export interface RunningServer {
  readonly url: string
  readonly process: ChildProcess
  /**
   * How many `POST path` requests the server has logged so far (fastify's `incoming request`;
   * CORS preflights are OPTIONS and not counted).
   */
  requests(path: string): number
  stop(): Promise<void>
}

/**
 * Starts the example server from its TypeScript sources (tsx, `dev-source`) on a free port, with
 * CORS allowing `corsOrigin`; resolves once it listens. `env` adds variables such as
 * `ACCESS_LIFETIME_MS`.
 */
export function startExampleServer(
  dataDir: string,
  corsOrigin: string,
  { env = {}, timeoutMs = 30_000 }: { env?: Record<string, string>; timeoutMs?: number } = {},
): Promise<RunningServer> {
  const args = ['--port', '0', '--data-dir', dataDir, '--cors-origins', corsOrigin]
  const child = spawn(
    process.execPath,
    ['--conditions=dev-source', '--import', 'tsx', 'src/main.ts', ...args],
    {
      cwd: exampleServerDir,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...env, LOG_LEVEL: 'info' },
    },
  )
  let output = ''
  // POSTed paths in arrival order, from the server's own log (one JSON line per event).
  const paths: string[] = []
  let pending = ''
  const readLog = (chunk: Buffer) => {
    const lines = (pending + chunk.toString()).split('\n')
    pending = lines.pop() ?? ''
    for (const line of lines) {
      if (!line.includes('"incoming request"')) continue
      const { req } = JSON.parse(line) as { req?: { method?: string; url?: string } }
      if (req?.method === 'POST' && req.url !== undefined) paths.push(req.url)
    }
  }
  const requests = (path: string) => paths.filter((url) => url === path).length
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return
    child.kill('SIGTERM')
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000)
    await exited
    clearTimeout(timer)
  }
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`example server did not start in ${timeoutMs} ms:\n${output}`))
    }, timeoutMs)
    const onData = (chunk: Buffer) => {
      output += chunk.toString()
      readLog(chunk)
      const match = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(output)
      if (match === null) return
      clearTimeout(timer)
      child.stdout.off('data', onData)
      child.stdout.on('data', readLog)
      resolve({ url: match[1]!, process: child, requests, stop })
    }
    child.stdout.on('data', onData)
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()))
    void exited.then(() => {
      clearTimeout(timer)
      reject(new Error(`example server exited early:\n${output}`))
    })
  })
}
