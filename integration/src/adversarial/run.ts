import { withTimeout } from '../timeout.js'
import { adversarialCases, type AdversarialCase } from './cases.js'
import { Driver, SetupError } from './driver.js'
import { DEFAULT_REQUEST_TIMEOUT_MS, judge, Wire } from './wire.js'

/**
 * `refused` and `ACCEPTED` judge the hostile message; `error` means it was never judged (set-up
 * refused, harness failure, timeout, or the server was already down).
 */
export type CaseStatus = 'refused' | 'ACCEPTED' | 'error'

export interface CaseResult {
  readonly id: string
  readonly title: string
  readonly proves: string
  readonly status: CaseStatus
  /** The server's error code for a refusal, what it answered otherwise, or why it errored. */
  readonly code: string
  /** The HTTP status of the answer to the hostile message, when there was one. */
  readonly httpStatus?: number
  /** Whether the server still answered `/key/response`, with the same key, after the case. */
  readonly alive: boolean
  /** The last line the server logged during the case, when its answer carried no code. */
  readonly serverLog?: string
  readonly ms: number
}

/** Read access to a started server's output, to explain answers that carry no error code. */
export interface ServerLog {
  /** A position in the output; `since(mark)` returns what was logged after it. */
  mark(): number
  since(mark: number): string
}

export interface AdversarialOptions {
  readonly cases?: readonly AdversarialCase[]
  /** Per case, set-up included. Default 60 s. */
  readonly caseTimeoutMs?: number
  readonly requestTimeoutMs?: number
  readonly serverLog?: ServerLog
  readonly onResult?: (result: CaseResult) => void
}

/**
 * Lines that explain nothing: stack frames (`at …`) and access-log lines (`"POST /path HTTP/1.1"
 * 200`), which Python's http.server and Puma print for every request, refused or not.
 */
const NOISE = /^at\s|"(?:GET|POST|PUT|DELETE) \/\S* HTTP\/\d/

/** The last line of a server's output that can say why it refused (its error message). */
export function lastLine(text: string): string | undefined {
  const lines = text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !NOISE.test(line))
  const last = lines.at(-1)
  if (last === undefined) return undefined
  return last.length > 160 ? `${last.slice(0, 160)}…` : last
}

async function stillAlive(wire: Wire, responseKey: string): Promise<boolean> {
  // One retry: a server that is slow right after a 2 MB body is not a dead server.
  for (let attempt = 0; attempt < 2; attempt++) {
    const answer = await wire.post('/key/response', '')
    if (answer.kind === 'response' && answer.status === 200 && answer.text.trim() === responseKey) {
      return true
    }
    await new Promise((resolve) => setTimeout(resolve, 500))
  }
  return false
}

/**
 * Runs hostile messages against a server that follows the interop HTTP contract, one case at a
 * time, and checks after each one that the server is still up with the same response key.
 */
export async function runAdversarial(
  baseUrl: string,
  options: AdversarialOptions = {},
): Promise<CaseResult[]> {
  const wire = new Wire(baseUrl, options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS)
  const driver = await Driver.connect(wire)
  const results: CaseResult[] = []
  let down = false
  for (const testCase of options.cases ?? adversarialCases) {
    const started = Date.now()
    const base = { id: testCase.id, title: testCase.title, proves: testCase.proves }
    let result: CaseResult
    if (down) {
      result = { ...base, status: 'error', code: 'not run: server down', alive: false, ms: 0 }
    } else {
      const mark = options.serverLog?.mark()
      let status: CaseStatus
      let code: string
      let httpStatus: number | undefined
      try {
        const answer = await withTimeout(
          testCase.run(driver),
          options.caseTimeoutMs ?? 60_000,
          `case ${testCase.id}`,
        )
        ;({ verdict: status, code, status: httpStatus } = judge(answer))
      } catch (error) {
        status = 'error'
        code = error instanceof SetupError ? error.message : `harness: ${String(error)}`
      }
      // Read before the liveness probe, whose own log lines would otherwise come last.
      const logged =
        mark === undefined || /^BA\d{3}/.test(code)
          ? undefined
          : lastLine(options.serverLog?.since(mark) ?? '')
      const alive = await stillAlive(wire, driver.responseKey)
      down = !alive
      result = {
        ...base,
        status,
        code,
        ...(httpStatus === undefined ? {} : { httpStatus }),
        alive,
        ...(logged === undefined ? {} : { serverLog: logged }),
        ms: Date.now() - started,
      }
    }
    results.push(result)
    options.onResult?.(result)
  }
  return results
}
