import {
  ConfigurationError,
  type RecordedAccountEvent,
  type ServerAccountEventStore,
} from '@better-auth/protocol'
import type { WebhookDeliveryStore } from './delivery-store.js'
import { signWebhook } from './signature.js'

export interface WebhookEndpoint {
  /** A stable name: delivery state is kept under it, so renaming starts from the log's start. */
  readonly id: string
  readonly url: string
  /** The HMAC key the receiver verifies with; never logged or put in an error. */
  readonly secret: string
}

export interface WebhookDispatcherOptions {
  readonly events: ServerAccountEventStore
  readonly deliveries: WebhookDeliveryStore
  readonly endpoints: readonly WebhookEndpoint[]
  /** Attempts before a delivery becomes a dead letter (default 8). */
  readonly maxAttempts?: number
  /** Wait before the second attempt; doubled for each further one (default 1 000 ms). */
  readonly initialBackoffMs?: number
  /** Longest wait between attempts (default 1 hour). */
  readonly maxBackoffMs?: number
  /** Longest wait for a receiver's answer (default 10 000 ms). */
  readonly timeoutMs?: number
  /** Events read from the log and attempts made per pass (default 100). */
  readonly batchSize?: number
  /** For tests: the HTTP client and the clock. */
  readonly fetch?: typeof fetch
  readonly now?: () => number
}

/** What one pass did. */
export interface WebhookPass {
  readonly enqueued: number
  readonly delivered: number
  readonly retried: number
  readonly deadLettered: number
}

/**
 * Delivers the account event log to webhook endpoints, at least once. The log is the outbox: each
 * pass copies new events (by sequence, from each endpoint's cursor) into the delivery store, then
 * attempts the deliveries that are due. A 2xx answer completes a delivery; anything else (another
 * status, a network failure, a timeout) schedules a retry with exponential backoff, and the
 * `maxAttempts`-th failure makes it a dead letter. All of that state is in the delivery store, so
 * a restarted dispatcher carries on where the last one stopped; a delivery whose success was not
 * yet recorded when the process died is sent again, with the same event id for the receiver to
 * deduplicate.
 */
export class WebhookDispatcher {
  readonly #options: WebhookDispatcherOptions
  readonly #maxAttempts: number
  readonly #initialBackoffMs: number
  readonly #maxBackoffMs: number
  readonly #timeoutMs: number
  readonly #batchSize: number
  readonly #fetch: typeof fetch
  readonly #now: () => number
  readonly #endpoints: Map<string, WebhookEndpoint>
  #timer: ReturnType<typeof setTimeout> | undefined
  #running: Promise<unknown> | undefined
  #stopped = true

  constructor(options: WebhookDispatcherOptions) {
    this.#options = options
    this.#maxAttempts = positive('maxAttempts', options.maxAttempts, 8)
    this.#initialBackoffMs = positive('initialBackoffMs', options.initialBackoffMs, 1_000)
    this.#maxBackoffMs = positive('maxBackoffMs', options.maxBackoffMs, 3_600_000)
    this.#timeoutMs = positive('timeoutMs', options.timeoutMs, 10_000)
    this.#batchSize = positive('batchSize', options.batchSize, 100)
    this.#fetch = options.fetch ?? fetch
    this.#now = options.now ?? Date.now
    this.#endpoints = new Map()
    for (const endpoint of options.endpoints) {
      if (
        typeof endpoint.id !== 'string' ||
        endpoint.id === '' ||
        this.#endpoints.has(endpoint.id)
      ) {
        throw new ConfigurationError('endpoints', 'each needs a unique non-empty id')
      }
      if (typeof endpoint.secret !== 'string' || endpoint.secret.length < 16) {
        throw new ConfigurationError('endpoints', 'each needs a secret of at least 16 characters')
      }
      new URL(endpoint.url)
      this.#endpoints.set(endpoint.id, endpoint)
    }
  }

  /** One pass: take new events from the log, then attempt what is due. */
  async pass(): Promise<WebhookPass> {
    const now = this.#now()
    let enqueued = 0
    for (const endpoint of this.#endpoints.values()) {
      const { deliveries, events } = this.#options
      const after = await deliveries.cursor(endpoint.id)
      const fresh = await events.feed(after, this.#batchSize)
      if (fresh.length === 0) continue
      await deliveries.enqueue(endpoint.id, fresh, now)
      enqueued += fresh.length
    }
    const result = { enqueued, delivered: 0, retried: 0, deadLettered: 0 }
    const due = await this.#options.deliveries.due(now, this.#batchSize)
    for (const delivery of due) {
      const endpoint = this.#endpoints.get(delivery.endpoint)
      // An endpoint removed from the configuration: its deliveries wait for it to come back.
      if (endpoint === undefined) continue
      const failure = await this.#attempt(endpoint, delivery.event)
      const { deliveries } = this.#options
      if (failure === undefined) {
        await deliveries.delivered(endpoint.id, delivery.event.sequence)
        result.delivered += 1
      } else if (delivery.attempts + 1 >= this.#maxAttempts) {
        await deliveries.deadLetter(endpoint.id, delivery.event.sequence, failure, this.#now())
        result.deadLettered += 1
      } else {
        const backoff = Math.min(
          this.#maxBackoffMs,
          this.#initialBackoffMs * 2 ** delivery.attempts,
        )
        await deliveries.retry(endpoint.id, delivery.event.sequence, this.#now() + backoff)
        result.retried += 1
      }
    }
    return result
  }

  /** Runs a pass every `intervalMs` until `stop`; a failing pass is retried at the next tick. */
  start(intervalMs = 1_000, onError: (error: unknown) => void = () => undefined): void {
    if (!this.#stopped) return
    this.#stopped = false
    const tick = (): void => {
      this.#running = this.pass()
        .catch(onError)
        .finally(() => {
          if (!this.#stopped) this.#timer = setTimeout(tick, intervalMs)
        })
    }
    tick()
  }

  /** Stops the passes and waits for the one in progress. */
  async stop(): Promise<void> {
    this.#stopped = true
    clearTimeout(this.#timer)
    await this.#running
  }

  /** Resolves undefined on success, else why the attempt failed (no secret, no body). */
  async #attempt(
    endpoint: WebhookEndpoint,
    event: RecordedAccountEvent,
  ): Promise<string | undefined> {
    const body = JSON.stringify(event)
    const headers = await signWebhook(endpoint.secret, event.id, body, this.#now())
    try {
      const response = await this.#fetch(endpoint.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body,
        signal: AbortSignal.timeout(this.#timeoutMs),
      })
      // The body is not needed; reading it frees the connection.
      await response.arrayBuffer().catch(() => undefined)
      return response.ok ? undefined : `HTTP ${response.status}`
    } catch (error) {
      return error instanceof Error ? error.name : 'network failure'
    }
  }
}

function positive(field: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new ConfigurationError(field, 'must be a positive integer')
  }
  return value
}
