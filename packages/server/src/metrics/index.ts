/**
 * Prometheus metrics of the HTTP layer, on `prom-client` (an optional peer dependency: only this
 * entry point loads it). Give a `PrometheusMetrics` as the HTTP layer's `metrics` option: it hears
 * every request and is served at `GET /metrics`.
 *
 * @module @better-auth/server/metrics
 */
import { ConfigurationError } from '@better-auth/protocol'
import { Counter, Gauge, Histogram, Registry } from 'prom-client'
import type { HttpMetrics } from '../http/handler.js'
import type { HttpSpan, SpanEnd } from '../operations/tracing.js'
import type { WebhookDeliveryStore } from '../webhooks/delivery-store.js'

export interface PrometheusMetricsOptions {
  /** Where the metrics are registered (default a registry of their own). */
  readonly registry?: Registry
  /** Prefix of every metric name (default `better_auth_`). */
  readonly prefix?: string
  /** Latency histogram buckets, in seconds. */
  readonly buckets?: readonly number[]
  /**
   * The webhook delivery store: its pending deliveries and dead letters are counted at each
   * scrape (`webhook_pending_deliveries`, counted up to 10 000; `webhook_dead_letters`).
   */
  readonly webhooks?: Pick<WebhookDeliveryStore, 'due' | 'deadLetters'>
}

const DEFAULT_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5]
// A scrape must stay cheap whatever the backlog: beyond this, the gauge says "at least".
const PENDING_SCAN_LIMIT = 10_000

/**
 * The request metrics, labelled by route name (a fixed set: protocol names, `key`, `health`,
 * `admin.revoke`, …) and BA code, never by identity, device or address:
 * - `http_requests_total{route,status}`;
 * - `http_refusals_total{route,code}`: every failed answer, by its BA code;
 * - `http_request_duration_seconds{route,outcome}`: latency, `outcome` `ok` or the failure kind;
 * - `store_errors_total{route}`: requests that failed because a store did (BA603);
 * - `rate_limited_total{route}`: requests refused by a rate limit (BA804);
 * - `webhook_pending_deliveries`, `webhook_dead_letters` with the `webhooks` option.
 */
export class PrometheusMetrics implements HttpMetrics {
  readonly registry: Registry
  readonly #requests: Counter<'route' | 'status'>
  readonly #refusals: Counter<'route' | 'code'>
  readonly #duration: Histogram<'route' | 'outcome'>
  readonly #storeErrors: Counter<'route'>
  readonly #rateLimited: Counter<'route'>

  constructor(options: PrometheusMetricsOptions = {}) {
    if (typeof options !== 'object' || options === null) {
      throw new ConfigurationError('options', 'must be an object')
    }
    const prefix = options.prefix ?? 'better_auth_'
    if (typeof prefix !== 'string' || !/^[a-zA-Z_:][a-zA-Z0-9_:]*$|^$/.test(prefix)) {
      throw new ConfigurationError('prefix', 'must be a Prometheus metric name prefix')
    }
    this.registry = options.registry ?? new Registry()
    const registers = [this.registry]
    this.#requests = new Counter({
      name: `${prefix}http_requests_total`,
      help: 'Requests answered, by route and HTTP status.',
      labelNames: ['route', 'status'],
      registers,
    })
    this.#refusals = new Counter({
      name: `${prefix}http_refusals_total`,
      help: 'Requests answered with an error, by route and BA code.',
      labelNames: ['route', 'code'],
      registers,
    })
    this.#duration = new Histogram({
      name: `${prefix}http_request_duration_seconds`,
      help: 'Time from the start of a request to its answer, by route and outcome.',
      labelNames: ['route', 'outcome'],
      buckets: [...(options.buckets ?? DEFAULT_BUCKETS)],
      registers,
    })
    this.#storeErrors = new Counter({
      name: `${prefix}store_errors_total`,
      help: 'Requests that failed because a store was unavailable (BA603), by route.',
      labelNames: ['route'],
      registers,
    })
    this.#rateLimited = new Counter({
      name: `${prefix}rate_limited_total`,
      help: 'Requests refused by a rate limit (BA804), by route.',
      labelNames: ['route'],
      registers,
    })
    const { webhooks } = options
    if (webhooks !== undefined) {
      if (typeof webhooks.due !== 'function' || typeof webhooks.deadLetters !== 'function') {
        throw new ConfigurationError('webhooks', 'must be a WebhookDeliveryStore')
      }
      new Gauge({
        name: `${prefix}webhook_pending_deliveries`,
        help: `Webhook deliveries not yet acknowledged (counted up to ${PENDING_SCAN_LIMIT}).`,
        registers,
        async collect() {
          this.set((await webhooks.due(Number.MAX_SAFE_INTEGER, PENDING_SCAN_LIMIT)).length)
        },
      })
      new Gauge({
        name: `${prefix}webhook_dead_letters`,
        help: 'Webhook deliveries given up on after their last attempt.',
        registers,
        async collect() {
          this.set((await webhooks.deadLetters()).length)
        },
      })
    }
  }

  get contentType(): string {
    return this.registry.contentType
  }

  metrics(): Promise<string> {
    return this.registry.metrics()
  }

  start(route: string): HttpSpan {
    const started = performance.now()
    return {
      end: (result: SpanEnd) => {
        const seconds = (performance.now() - started) / 1000
        this.#duration.observe({ route, outcome: result.outcome }, seconds)
        this.#requests.inc({ route, status: String(result.status) })
        if (result.code === undefined) return
        this.#refusals.inc({ route, code: result.code })
        if (result.code === 'BA603') this.#storeErrors.inc({ route })
        if (result.code === 'BA804') this.#rateLimited.inc({ route })
      },
    }
  }
}
