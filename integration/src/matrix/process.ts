/// <reference types="node" />
import { spawn, type ChildProcess } from 'node:child_process'
import { createServer } from 'node:net'
import type { ServerLog } from '../adversarial/run.js'
import { describeFetchError } from '../adversarial/wire.js'
import type { ServerSpec, StepSpec } from './config.js'

/**
 * Values for placeholders in commands, args, env, cwd and urls: `{node}`, `{tempDir}`, `{port}`,
 * and for reference rows `{src}` (the extracted archive), `{cache}` (kept between runs) and
 * `{configDir}` (the directory of servers.json). Unknown `{…}` text is left alone.
 */
export type Placeholders = Readonly<Record<string, string>>

export function substitute(text: string, values: Placeholders): string {
  let result = text
  for (const [name, value] of Object.entries(values)) result = result.replaceAll(`{${name}}`, value)
  return result
}

/** Runs a command somewhere else (inside a network namespace): the command line to spawn. */
export type Launcher = (
  command: string,
  args: readonly string[],
) => { command: string; args: string[] }

/** A server that could not be prepared or started; the message says what the command said. */
export class UnavailableError extends Error {
  override readonly name = 'UnavailableError'
}

/** Asks the kernel for a free loopback port (released again before the server binds it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer()
    probe.once('error', reject)
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address()
      probe.close(() => {
        if (address !== null && typeof address === 'object') resolve(address.port)
        else reject(new Error('no port assigned'))
      })
    })
  })
}

const OUTPUT_CAP = 256 * 1024

/** Keeps the last 256 KiB a process wrote (stdout and stderr interleaved). */
export class OutputBuffer implements ServerLog {
  #text = ''
  #dropped = 0

  append(chunk: string): void {
    this.#text += chunk
    if (this.#text.length > OUTPUT_CAP) {
      const cut = this.#text.length - OUTPUT_CAP
      this.#text = this.#text.slice(cut)
      this.#dropped += cut
    }
  }

  mark(): number {
    return this.#dropped + this.#text.length
  }

  since(mark: number): string {
    return this.#text.slice(Math.max(0, mark - this.#dropped))
  }

  /** The last `lines` lines, for error messages. */
  tail(lines = 20): string {
    return this.#text.trimEnd().split('\n').slice(-lines).join('\n')
  }
}

function commandLine(command: string, args: readonly string[]): string {
  return [command, ...args]
    .map((part) => (/[\s"']/.test(part) ? JSON.stringify(part) : part))
    .join(' ')
}

interface Spawned {
  readonly child: ChildProcess
  readonly output: OutputBuffer
  /** Resolves once the process has exited (or could not be spawned at all). */
  readonly exited: Promise<{ code: number | null; signal: string | null; error?: Error }>
}

function spawnGroup(
  command: string,
  args: readonly string[],
  cwd: string,
  env: Readonly<Record<string, string>>,
): Spawned {
  // Its own process group, so stopping reaches what it forks too (`go run`, npx, shell wrappers).
  const child = spawn(command, [...args], {
    cwd,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  })
  const output = new OutputBuffer()
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => output.append(chunk))
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => output.append(chunk))
  const exited = new Promise<{ code: number | null; signal: string | null; error?: Error }>(
    (resolve) => {
      child.once('error', (error) => resolve({ code: null, signal: null, error }))
      child.once('exit', (code, signal) => resolve({ code, signal }))
    },
  )
  return { child, output, exited }
}

function signalGroup(pid: number | undefined, signal: NodeJS.Signals | 0): boolean {
  if (pid === undefined) return false
  try {
    process.kill(-pid, signal)
    return true
  } catch {
    return false
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Whether `promise` settles within `ms`; the timer is cleared so it never holds the process. */
function settledWithin<T>(promise: Promise<T>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const expired = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms)
  })
  return Promise.race([promise.then(() => true), expired]).finally(() => clearTimeout(timer))
}

export interface StopOutcome {
  /** The strongest signal that had to be sent. */
  readonly signal: 'SIGTERM' | 'SIGKILL' | 'none'
  readonly exitCode: number | null
  readonly exitSignal: string | null
}

/**
 * SIGTERM to the whole group; SIGKILL to the group if the leader has not exited after
 * `timeoutMs`, or if anything else of the group is still there once it has.
 */
async function stopGroup(spawned: Spawned, timeoutMs: number): Promise<StopOutcome> {
  const pid = spawned.child.pid
  let signal: StopOutcome['signal'] = 'none'
  if (signalGroup(pid, 'SIGTERM')) signal = 'SIGTERM'
  if (!(await settledWithin(spawned.exited, timeoutMs))) {
    signalGroup(pid, 'SIGKILL')
    signal = 'SIGKILL'
    await settledWithin(spawned.exited, 5_000)
  }
  // Children that outlived the leader (a `go run` binary, say) still carry its group id.
  const deadline = Date.now() + timeoutMs
  while (signalGroup(pid, 0) && Date.now() < deadline) await sleep(50)
  if (signalGroup(pid, 'SIGKILL')) signal = 'SIGKILL'
  const exit = await spawned.exited
  return { signal, exitCode: exit.code, exitSignal: exit.signal }
}

export interface CommandOutcome {
  readonly line: string
  /** Why it did not run to a zero exit, or undefined when it did. */
  readonly problem?: string
  readonly exitCode: number | null
  readonly output: OutputBuffer
}

/** Runs a command to completion in its own process group, stopped after `timeoutMs`. */
export async function runCommand(
  command: string,
  args: readonly string[],
  cwd: string,
  env: Readonly<Record<string, string>>,
  timeoutMs: number,
  launch?: Launcher,
): Promise<CommandOutcome> {
  const line = commandLine(command, args)
  const launched = launch === undefined ? { command, args: [...args] } : launch(command, args)
  const spawned = spawnGroup(launched.command, launched.args, cwd, env)
  if (!(await settledWithin(spawned.exited, timeoutMs))) {
    await stopGroup(spawned, 1_000)
    const problem = `\`${line}\` did not finish in ${timeoutMs} ms`
    return { line, problem, exitCode: null, output: spawned.output }
  }
  const exit = await spawned.exited
  const problem =
    exit.error !== undefined
      ? `cannot run \`${line}\`: ${exit.error.message}`
      : exit.code !== 0
        ? `\`${line}\` failed (${exit.code === null ? `signal ${exit.signal}` : `exit ${exit.code}`})`
        : undefined
  return {
    line,
    ...(problem === undefined ? {} : { problem }),
    exitCode: exit.code,
    output: spawned.output,
  }
}

/** Runs a preparation step to completion; UnavailableError with its output when it fails. */
export async function runStep(step: StepSpec, values: Placeholders): Promise<void> {
  const outcome = await runCommand(
    substitute(step.command, values),
    step.args.map((arg) => substitute(arg, values)),
    substitute(step.cwd, values),
    Object.fromEntries(
      Object.entries(step.env).map(([name, value]) => [name, substitute(value, values)]),
    ),
    step.timeoutMs,
  )
  if (outcome.problem !== undefined) {
    const tail = outcome.output.tail()
    throw new UnavailableError(tail === '' ? outcome.problem : `${outcome.problem}:\n${tail}`)
  }
}

/** One POST /key/response; the status, or why there was none. */
export async function probe(
  url: string,
  timeoutMs: number,
): Promise<{ status: number } | { error: string }> {
  try {
    const response = await fetch(`${url}/key/response`, {
      method: 'POST',
      signal: AbortSignal.timeout(timeoutMs),
    })
    await response.arrayBuffer()
    return { status: response.status }
  } catch (error) {
    return { error: describeFetchError(error) }
  }
}

export interface RunningServer {
  readonly url: string
  readonly pid: number | undefined
  /** Everything the server wrote, for explaining answers without error codes. */
  readonly log: OutputBuffer
  /** Resolves (without stopping anything) when the process exits. */
  readonly exited: Promise<unknown>
  stop(): Promise<StopOutcome>
}

/**
 * Starts `spec` (which must have a start command) and resolves once POST /key/response answers
 * 200. Refuses to start when something already answers at the URL: the matrix would otherwise
 * test that process instead of this one.
 */
export async function startServer(
  spec: ServerSpec,
  url: string,
  values: Placeholders,
  launch?: Launcher,
): Promise<RunningServer> {
  const start = spec.start
  if (start === undefined) throw new UnavailableError(`${spec.name} has no start command`)
  const before = await probe(url, 1_000)
  if ('status' in before) {
    throw new UnavailableError(
      `something already answers at ${url} (HTTP ${before.status}); stop it or use another port`,
    )
  }
  const command = substitute(start.command, values)
  const args = start.args.map((arg) => substitute(arg, values))
  const env = Object.fromEntries(
    Object.entries(start.env).map(([name, value]) => [name, substitute(value, values)]),
  )
  const launched = launch === undefined ? { command, args } : launch(command, args)
  const spawned = spawnGroup(launched.command, launched.args, substitute(start.cwd, values), env)
  let gone = false
  void spawned.exited.then(() => (gone = true))
  const server: RunningServer = {
    url,
    pid: spawned.child.pid,
    log: spawned.output,
    exited: spawned.exited,
    stop: () => stopGroup(spawned, spec.stopTimeoutMs),
  }

  const deadline = Date.now() + spec.readiness.timeoutMs
  let last = 'no attempt'
  while (Date.now() < deadline) {
    if (gone) {
      const exit = await spawned.exited
      const how =
        exit.error !== undefined
          ? `could not be started: ${exit.error.message}`
          : `exited (${exit.code === null ? `signal ${exit.signal}` : `exit ${exit.code}`}) before it was ready`
      await server.stop()
      throw new UnavailableError(
        `\`${commandLine(command, args)}\` ${how}:\n${spawned.output.tail()}`,
      )
    }
    const answer = await probe(url, Math.min(2_000, spec.readiness.intervalMs * 8))
    if ('status' in answer && answer.status === 200) return server
    last = 'status' in answer ? `HTTP ${answer.status}` : answer.error
    await sleep(spec.readiness.intervalMs)
  }
  await server.stop()
  throw new UnavailableError(
    `not ready after ${spec.readiness.timeoutMs} ms (last probe: ${last}):\n${spawned.output.tail()}`,
  )
}
