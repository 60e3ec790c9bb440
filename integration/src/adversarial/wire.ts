/** What came back for one POST: a status and body, or why nothing came back. */
export type WireResponse =
  | { readonly kind: 'response'; readonly status: number; readonly text: string }
  | { readonly kind: 'no-response'; readonly reason: string }

export const DEFAULT_REQUEST_TIMEOUT_MS = 15_000

/**
 * Raw HTTP to a server under test. Unlike the client's Network it keeps the status and never
 * interprets the body, so hostile messages can be judged on exactly what the server answered.
 */
export class Wire {
  readonly baseUrl: string
  readonly #timeoutMs: number

  constructor(baseUrl: string, timeoutMs = DEFAULT_REQUEST_TIMEOUT_MS) {
    this.baseUrl = baseUrl.replace(/\/+$/, '')
    this.#timeoutMs = timeoutMs
  }

  async post(path: string, body: string): Promise<WireResponse> {
    try {
      const response = await fetch(this.baseUrl + path, {
        method: 'POST',
        body,
        headers: { 'content-type': 'application/json' },
        signal: AbortSignal.timeout(this.#timeoutMs),
      })
      return { kind: 'response', status: response.status, text: await response.text() }
    } catch (error) {
      return { kind: 'no-response', reason: describeFetchError(error) }
    }
  }
}

/** fetch() hides the socket error in `cause`; that is the part worth reporting. */
export function describeFetchError(error: unknown): string {
  if (!(error instanceof Error)) return String(error)
  const cause = error.cause
  if (cause instanceof Error) {
    const code = (cause as { code?: unknown }).code
    return typeof code === 'string' ? `${code}: ${cause.message}` : cause.message
  }
  return error.name === 'TimeoutError' ? 'timed out' : error.message
}

export type Verdict = 'refused' | 'ACCEPTED'

export interface Judgement {
  readonly verdict: Verdict
  /** The server's error code, or the best short description of its answer. */
  readonly code: string
  /** The HTTP status, when there was a response. */
  readonly status?: number
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function clip(text: string, length = 60): string {
  const flat = text.replace(/\s+/g, ' ').trim()
  return flat.length > length ? `${flat.slice(0, length)}…` : flat
}

/** The code of an error body: `{"error":{"code"}}` in this project, a bare string elsewhere. */
function errorCodeOf(body: Record<string, unknown>): string {
  const error = body['error']
  if (isRecord(error) && typeof error['code'] === 'string') return clip(error['code'], 24)
  if (typeof error === 'string') return `"${clip(error, 40)}"`
  return 'error body'
}

/**
 * The interop contract's rule: a protocol failure is a non-2xx status or a JSON body without a
 * `payload` key. Anything else (a signed payload, or a 2xx that is not an error body) counts as
 * accepted, because a client or proxy could not tell it from success. No response at all (the
 * server dropped the connection) is a refusal; whether the server survived is checked apart.
 */
export function judge(response: WireResponse): Judgement {
  if (response.kind === 'no-response') {
    return { verdict: 'refused', code: `no response (${clip(response.reason, 40)})` }
  }
  let body: unknown
  try {
    body = JSON.parse(response.text)
  } catch {
    body = undefined
  }
  const ok = response.status >= 200 && response.status < 300
  const status = response.status
  if (!ok) {
    return {
      verdict: 'refused',
      code: isRecord(body) ? errorCodeOf(body) : 'non-JSON body',
      status,
    }
  }
  if (isRecord(body) && !Object.hasOwn(body, 'payload')) {
    return { verdict: 'refused', code: errorCodeOf(body), status }
  }
  if (isRecord(body)) return { verdict: 'ACCEPTED', code: 'signed payload', status }
  return { verdict: 'ACCEPTED', code: `not an error body: ${clip(response.text, 40)}`, status }
}
