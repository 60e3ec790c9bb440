import {
  ConfigurationError,
  InvalidMessageError,
  NetworkError,
  decodeUtf8,
} from '@better-auth/protocol'

/** Carries one protocol message to the server and returns the server's reply text. */
export interface Network {
  /**
   * Sends `message` to `path` and resolves the response body, whatever its status: protocol
   * failures arrive as JSON error bodies that the client interprets. Rejects only when no
   * response body could be obtained.
   */
  sendRequest(path: string, message: string): Promise<string>
}

export interface FetchNetworkOptions {
  /** Defaults to the global `fetch`. */
  fetch?: typeof fetch
  /** Per request, covering the response body too. Default 30 000. */
  timeoutMs?: number
  /** Extra headers for every request (for example an API gateway key). */
  headers?: Record<string, string>
}

export const DEFAULT_TIMEOUT_MS = 30_000
// setTimeout, which AbortSignal.timeout uses, overflows above 2^31 - 1 ms and fires at once.
const MAX_TIMEOUT_MS = 2 ** 31 - 1

function validateHeaders(headers: unknown): Record<string, string> {
  if (typeof headers !== 'object' || headers === null || Array.isArray(headers)) {
    throw new ConfigurationError('headers', 'expected an object of strings')
  }
  const result: Record<string, string> = {}
  for (const [name, value] of Object.entries(headers)) {
    if (typeof value !== 'string') {
      throw new ConfigurationError(`headers.${name}`, 'expected a string')
    }
    if (name.toLowerCase() === 'content-type') {
      throw new ConfigurationError(`headers.${name}`, 'the protocol fixes the content type')
    }
    result[name] = value
  }
  return result
}

// URL.canParse is missing from browsers older than 2023.
function isAbsoluteUrl(text: string): boolean {
  try {
    new URL(text)
    return true
  } catch {
    return false
  }
}

function isTimeout(error: unknown): boolean {
  return (
    typeof error === 'object' &&
    error !== null &&
    (error as { name?: unknown }).name === 'TimeoutError'
  )
}

/** The text of an error response when it can be a protocol error body (UTF-8 JSON). */
function errorBodyText(bytes: ArrayBuffer): string | undefined {
  let text: string
  try {
    text = decodeUtf8(bytes, 'response')
  } catch {
    return undefined
  }
  return text.trimStart().startsWith('{') ? text : undefined
}

/**
 * A Network over the Fetch API, so the same code runs in browsers, edge runtimes and Node ≥ 18.
 * Every request is a POST of the message to `baseUrl + path`.
 */
export class FetchNetwork implements Network {
  readonly #baseUrl: string
  readonly #fetch: typeof fetch
  readonly #timeoutMs: number
  readonly #headers: Record<string, string>

  constructor(baseUrl: string, options: FetchNetworkOptions = {}) {
    if (typeof baseUrl !== 'string' || !isAbsoluteUrl(baseUrl)) {
      throw new ConfigurationError('baseUrl', 'expected an absolute URL')
    }
    if (typeof options !== 'object' || options === null) {
      throw new ConfigurationError('options', 'expected an object')
    }
    const { fetch: fetchOption, timeoutMs = DEFAULT_TIMEOUT_MS, headers = {} } = options
    if (fetchOption !== undefined && typeof fetchOption !== 'function') {
      throw new ConfigurationError('fetch', 'expected a function')
    }
    if (fetchOption === undefined && typeof globalThis.fetch !== 'function') {
      throw new ConfigurationError('fetch', 'no global fetch in this runtime; pass one')
    }
    if (!Number.isInteger(timeoutMs) || timeoutMs <= 0 || timeoutMs > MAX_TIMEOUT_MS) {
      throw new ConfigurationError('timeoutMs', `expected an integer in 1..${MAX_TIMEOUT_MS}`)
    }
    // Paths start with '/', so a trailing slash on the base would double it.
    this.#baseUrl = baseUrl.replace(/\/+$/, '')
    // The global is looked up per call (a polyfill installed later still counts) and never
    // called as a method of this object: browsers throw "Illegal invocation" when fetch gets a
    // `this` other than the global.
    this.#fetch = fetchOption ?? ((input, init) => globalThis.fetch(input, init))
    this.#timeoutMs = timeoutMs
    this.#headers = validateHeaders(headers)
  }

  async sendRequest(path: string, message: string): Promise<string> {
    if (typeof path !== 'string' || !path.startsWith('/')) {
      throw new InvalidMessageError('path', 'expected a path starting with "/"')
    }
    if (typeof message !== 'string') throw new InvalidMessageError('message', 'expected a string')
    const fetchFunction = this.#fetch
    const url = this.#baseUrl + path
    // Messages name the path only: a base URL may carry credentials or keys in its query.
    try {
      const response = await fetchFunction(url, {
        method: 'POST',
        body: message,
        headers: { ...this.#headers, 'content-type': 'application/json' },
        signal: AbortSignal.timeout(this.#timeoutMs),
      })
      // Not response.text(): it turns invalid bytes into U+FFFD, and a signature must cover
      // exactly the bytes received.
      const bytes = await response.arrayBuffer()
      if (response.ok) return decodeUtf8(bytes, 'response')
      // A proxy or crash page is not a protocol answer; reporting it as a malformed message
      // would hide that the server never saw the request.
      const text = errorBodyText(bytes)
      if (text === undefined) {
        throw new NetworkError(`HTTP ${response.status} without a protocol body from ${path}`)
      }
      return text
    } catch (error) {
      if (error instanceof NetworkError || error instanceof InvalidMessageError) throw error
      if (isTimeout(error)) {
        throw new NetworkError(`no response from ${path} within ${this.#timeoutMs} ms`, error)
      }
      throw new NetworkError(`request to ${path} failed`, error)
    }
  }
}
