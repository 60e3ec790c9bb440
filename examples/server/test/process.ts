import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const packageDir = fileURLToPath(new URL('..', import.meta.url))

export interface RunningServer {
  readonly url: string
  /** Everything the process printed so far. */
  output(): string
  readonly process: ChildProcess
  /** Sends `signal` and resolves with the exit code once the process is gone. */
  stop(signal?: NodeJS.Signals): Promise<number | null>
}

/**
 * Starts the real example server (TypeScript sources through tsx, so no build is needed) on a
 * free port and resolves once it listens.
 */
export function startServer(
  args: readonly string[],
  timeoutMs = 20_000,
  env: Record<string, string> = {},
): Promise<RunningServer> {
  // Store URLs from the test environment must not silently change which store a test runs on.
  const inherited = { ...process.env }
  delete inherited.DATABASE_URL
  delete inherited.REDIS_URL
  const child = spawn(
    process.execPath,
    ['--conditions=dev-source', '--import', 'tsx', 'src/main.ts', '--port', '0', ...args],
    {
      cwd: packageDir,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...inherited, LOG_LEVEL: 'info', ...env },
    },
  )
  let output = ''
  let listening = false
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  )
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`server did not start in ${timeoutMs} ms:\n${output}`))
    }, timeoutMs)
    const onData = (chunk: Buffer) => {
      output += chunk.toString()
      const match = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(output)
      if (match === null || listening) return
      listening = true
      clearTimeout(timer)
      resolve({
        url: match[1]!,
        output: () => output,
        process: child,
        stop(signal = 'SIGTERM') {
          if (child.exitCode === null && child.signalCode === null) child.kill(signal)
          return exited
        },
      })
    }
    child.stdout.on('data', onData)
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()))
    void exited.then((code) => {
      clearTimeout(timer)
      reject(new Error(`server exited with ${code}:\n${output}`))
    })
  })
}
