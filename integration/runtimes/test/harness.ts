// Node side of the runtime tests: finds the runtime binaries that npm packages ship, bundles a
// server for a runtime with esbuild, starts it on a random 127.0.0.1 port, and gives the test a
// client of ours whose account and session come from a BetterAuthServer in this process.
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { BetterAuthClient, Network } from '@better-auth/client'
import {
  Blake3Hasher,
  DefaultIdentityVerifier,
  GzipTokenEncoder,
  Rfc3339Timestamper,
  SecureNoncer,
  WebCryptoP256Verifier,
} from '@better-auth/crypto'
import { NodeP256SigningKey } from '@better-auth/crypto/node'
import { clientsOver } from '@better-auth/integration'
import { protocols, type ProtocolName } from '@better-auth/protocol'
import { BetterAuthServer, errorResponse, memoryServerStores } from '@better-auth/server'
import { build } from 'esbuild'

const require = createRequire(import.meta.url)
const SRC = join(dirname(fileURLToPath(import.meta.url)), '..', 'src')

/**
 * The path of a binary inside an npm package (the packages are optional dependencies for
 * linux-x64), or undefined where that package is not installed.
 */
export function packagedBinary(pkg: string, file: string): string | undefined {
  try {
    return join(dirname(require.resolve(`${pkg}/package.json`)), file)
  } catch {
    return undefined
  }
}

/** Whether a runtime test runs here: always in CI (a missing binary fails there), else if found. */
export function runsHere(binary: string | undefined): boolean {
  return binary !== undefined || process.env.CI === 'true'
}

/** A scratch directory for bundles and configs, removed by `cleanup`. */
export async function scratch(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'better-auth-runtime-'))
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) }
}

/**
 * Bundles `src/<entry>.ts` into one ES module for a Web-standard runtime: workspace packages from
 * their TypeScript sources (the `dev-source` condition, so no build is needed), every dependency's
 * browser build (no `node:` imports).
 */
export async function bundle(entry: string, outfile: string): Promise<void> {
  await build({
    entryPoints: [join(SRC, `${entry}.ts`)],
    outfile,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    conditions: ['dev-source', 'worker', 'browser'],
    logLevel: 'warning',
  })
}

/** A port that was free a moment ago, for runtimes that cannot report the one they bound. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() =>
        typeof address === 'object' && address !== null
          ? resolve(address.port)
          : reject(new Error('no port')),
      )
    })
  })
}

export interface RuntimeProcess {
  readonly child: ChildProcess
  /** What the process printed on stdout and stderr so far, for failure messages. */
  output(): string
  stop(): Promise<void>
}

/**
 * Starts a runtime and resolves once it printed something matching `ready` (the port, for runtimes
 * that print it), or once it is running when there is no `ready`. Rejects with the process's output
 * if it exits first or stays silent for `timeoutMs`.
 */
export function start(
  command: string,
  args: readonly string[],
  options: { env?: Record<string, string>; cwd?: string; ready?: RegExp; timeoutMs?: number },
): Promise<{ process: RuntimeProcess; match: RegExpExecArray | null }> {
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  const runtime: RuntimeProcess = {
    child,
    output: () => output,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve()
        // A runtime that ignores SIGTERM must not keep the test run waiting on its pipes.
        const kill = setTimeout(() => child.kill('SIGKILL'), 5_000)
        child.once('exit', () => {
          clearTimeout(kill)
          resolve()
        })
        child.kill('SIGTERM')
      }),
  }
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      void runtime.stop()
      reject(new Error(`${command} did not start in time:\n${output}`))
    }, options.timeoutMs ?? 60_000)
    const { ready } = options
    if (ready === undefined) {
      child.once('spawn', () => {
        clearTimeout(timer)
        resolve({ process: runtime, match: null })
      })
    }
    const onData = (chunk: Buffer) => {
      output += chunk.toString()
      const match = ready?.exec(output) ?? null
      if (match !== null) {
        clearTimeout(timer)
        resolve({ process: runtime, match })
      }
    }
    child.stdout.on('data', onData)
    child.stderr.on('data', onData)
    child.once('error', (error) => {
      clearTimeout(timer)
      reject(error)
    })
    child.once('exit', (code, signal) => {
      clearTimeout(timer)
      reject(new Error(`${command} exited (${code ?? signal}) before it was ready:\n${output}`))
    })
  })
}

/** Resolves once `url` answers at all (workerd prints nothing when it is listening). */
export async function waitForHttp(url: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    try {
      await fetch(url, { method: 'GET', signal: AbortSignal.timeout(5_000) })
      return
    } catch (error) {
      if (Date.now() > deadline) throw error
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  }
}

export interface Keys {
  readonly response: NodeP256SigningKey
  readonly access: NodeP256SigningKey
}

/** The server's keys, generated in Node; the runtime gets the response key as PKCS #8 PEM. */
export function serverKeys(): Keys {
  return { response: NodeP256SigningKey.generate(), access: NodeP256SigningKey.generate() }
}

export interface Session {
  readonly client: BetterAuthClient
  /** The last access request the client sent to the runtime, exactly as sent. */
  lastAccessRequest(): string
}

/**
 * A client with an account and a session. Protocol routes go to a BetterAuthServer in this
 * process; every other path (the application's) goes over HTTP to `appUrl()`.
 */
export async function session(keys: Keys, appUrl: () => string): Promise<Session> {
  const hasher = new Blake3Hasher()
  const server = new BetterAuthServer({
    crypto: {
      hasher,
      noncer: new SecureNoncer(),
      verifier: new WebCryptoP256Verifier(),
      keyPairs: { response: keys.response, access: keys.access },
    },
    encoding: {
      timestamper: new Rfc3339Timestamper(),
      tokenEncoder: new GzipTokenEncoder(),
      identityVerifier: new DefaultIdentityVerifier(hasher),
    },
    stores: memoryServerStores(),
  })
  const routes = new Map<string, ProtocolName>()
  for (const name of Object.keys(protocols) as ProtocolName[])
    routes.set(protocols[name].path, name)
  const accessRequests: string[] = []
  const network: Network = {
    async sendRequest(path, message) {
      const protocol = routes.get(path)
      if (protocol !== undefined) return server.handle(protocol, message).catch(errorResponse)
      accessRequests.push(message)
      return (await post(new URL(path, appUrl()).href, message)).body
    },
  }
  const client = clientsOver(network, await keys.response.public()).newClient()
  await client.createAccount(await hasher.sum('recovery key of a runtime test'))
  await client.createSession()
  return {
    client,
    lastAccessRequest() {
      const last = accessRequests.at(-1)
      if (last === undefined) throw new Error('no access request sent yet')
      return last
    },
  }
}

/** POSTs `body` and returns the status and the body text. */
export async function post(url: string, body: string): Promise<{ status: number; body: string }> {
  const response = await fetch(url, { method: 'POST', body, signal: AbortSignal.timeout(20_000) })
  return { status: response.status, body: await response.text() }
}

/** The BA code of an error body, or 'ok' when the body is not an error. */
export function codeOf(body: string): string {
  const parsed = JSON.parse(body) as { error?: { code?: string } }
  return parsed.error?.code ?? 'ok'
}

/** The same access request with its application request changed (its signature no longer fits). */
export function tampered(message: string): string {
  return message.replace('"request":{', '"request":{"forged":true,')
}
