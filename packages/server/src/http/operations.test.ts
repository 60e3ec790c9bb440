import {
  ConfigurationError,
  StorageUnavailableError,
  type ServerAuthenticationNonceStore,
} from '@better-auth/protocol'
import { describe, expect, it } from 'vitest'
import { PrometheusMetrics } from '../metrics/index.js'
import { createBetterAuth } from '../node/create.js'
import type { SpanEnd } from '../operations/tracing.js'
import { MemoryRateLimitStore } from '../rate-limit/memory.js'
import { memoryServerStores } from '../stores/memory/index.js'
import { MemoryWebhookDeliveryStore } from '../webhooks/delivery-store.js'
import {
  FLOOD_PROXY,
  floodLimiter,
  newIdentity,
  randomAddress,
  sessionRequest,
} from '../testing/rate-limit-flood.js'
import type { BetterAuthHttpOptions } from './handler.js'

const BASE = 'http://ops.test'
const get = (path: string) => new Request(BASE + path)

function app(http: Omit<BetterAuthHttpOptions, 'server' | 'access'>, failingNonces = false) {
  const stores = memoryServerStores()
  const authenticationNonce: ServerAuthenticationNonceStore = failingNonces
    ? {
        put: () => Promise.reject(new StorageUnavailableError('postgres')),
        consume: () => Promise.resolve(undefined),
      }
    : stores.authenticationNonce
  return createBetterAuth({ stores: { ...stores, authenticationNonce }, http }).http
}

/** A tracer that keeps what it heard. */
function recorder() {
  const spans: { route: string; end?: SpanEnd }[] = []
  return {
    spans,
    tracer: {
      start(route: string) {
        const span: { route: string; end?: SpanEnd } = { route }
        spans.push(span)
        return {
          end(result: SpanEnd) {
            span.end = result
          },
        }
      },
    },
  }
}

describe('operations routes', () => {
  it('are absent unless turned on', async () => {
    const http = app({})
    for (const path of ['/health', '/ready', '/metrics', '/admin/accounts/x/devices']) {
      const response = await http.fetch(get(path))
      expect(response.status).toBe(404)
      expect(await response.json()).toMatchObject({ error: { code: 'BA101' } })
    }
    expect(http.routes().map(({ path }) => path)).not.toContain('/health')
  })

  it('health answers ok, uncached, at its path under the prefix', async () => {
    const http = app({ health: true, prefix: '/auth' })
    const response = await http.fetch(get('/auth/health'))
    expect(response.status).toBe(200)
    expect(response.headers.get('cache-control')).toBe('no-store')
    expect(response.headers.get('content-type')).toBe('application/json; charset=utf-8')
    expect(await response.json()).toEqual({ status: 'ok' })
    expect((await http.fetch(get('/health'))).status).toBe(404)
    expect(http.routes()).toContainEqual({ method: 'GET', path: '/auth/health' })
  })

  it('readiness reports every store, memory ones unchecked', async () => {
    const http = app({ readiness: true })
    const response = await http.fetch(get('/ready'))
    expect(response.status).toBe(200)
    expect(await response.json()).toEqual({
      status: 'ready',
      stores: {
        authenticationKey: { status: 'unchecked' },
        accountEvents: { status: 'unchecked' },
        authenticationNonce: { status: 'unchecked' },
        recoveryHash: { status: 'unchecked' },
        accessKeyHash: { status: 'unchecked' },
        accessNonce: { status: 'unchecked' },
      },
    })
  })

  it('readiness answers 503 naming the failed stores, without a driver message', async () => {
    const secret = 'postgres://admin:hunter2@db.internal:5432/auth'
    const http = app({
      readiness: {
        timeoutMs: 50,
        stores: {
          accounts: { ping: () => Promise.resolve() },
          down: { ping: () => Promise.reject(new StorageUnavailableError('postgres', secret)) },
          frozen: { ping: () => new Promise(() => undefined) },
          broken: { ping: () => Promise.reject(new Error(`connect ECONNREFUSED ${secret}`)) },
          memory: {},
        },
      },
    })
    const response = await http.fetch(get('/ready'))
    expect(response.status).toBe(503)
    const text = await response.text()
    expect(text).not.toContain('hunter2')
    expect(text).not.toContain('db.internal')
    expect(JSON.parse(text)).toEqual({
      status: 'unavailable',
      stores: {
        accounts: { status: 'ok' },
        down: { status: 'failed', reason: 'unavailable', code: 'BA603', backend: 'postgres' },
        frozen: { status: 'failed', reason: 'timeout', code: 'BA603' },
        broken: { status: 'failed', reason: 'error', code: 'BA000' },
        memory: { status: 'unchecked' },
      },
    })
  })

  it('readiness includes the rate limiter when it can be pinged', async () => {
    const limiter = floodLimiter(new MemoryRateLimitStore())
    const pinged = Object.assign(limiter, {
      ping: () => Promise.reject(new StorageUnavailableError('redis')),
    })
    const http = app({ readiness: true, rateLimit: pinged })
    const response = await http.fetch(get('/ready'))
    expect(response.status).toBe(503)
    expect(await response.json()).toMatchObject({
      stores: { rateLimit: { status: 'failed', reason: 'unavailable', backend: 'redis' } },
    })
  })

  it('metrics count requests, refusals by code, store errors, rate-limit hits and latency', async () => {
    const deliveries = new MemoryWebhookDeliveryStore()
    const metrics = new PrometheusMetrics({ webhooks: deliveries })
    const limited = app({
      metrics,
      health: true,
      rateLimit: floodLimiter(new MemoryRateLimitStore()),
      trustedProxies: [FLOOD_PROXY],
    })
    const identity = await newIdentity()
    const address = randomAddress()
    const statuses: number[] = []
    for (let i = 0; i < 4; i++) {
      const response = await limited.fetch(sessionRequest(BASE, identity, address), {
        remoteAddress: FLOOD_PROXY,
      })
      statuses.push(response.status)
    }
    expect(statuses).toEqual([200, 200, 200, 429])
    await limited.fetch(new Request(BASE + '/account/create', { method: 'POST', body: '{' }))
    await limited.fetch(get('/health'))
    // Store failures, heard by the same metrics through another HTTP layer.
    const failing = app({ metrics }, true)
    await failing.fetch(sessionRequest(BASE, identity, address))

    const response = await limited.fetch(get('/metrics'))
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8')
    const text = await response.text()
    const lines = text.split('\n')
    for (const line of [
      'better_auth_http_requests_total{route="requestSession",status="200"} 3',
      'better_auth_http_requests_total{route="requestSession",status="429"} 1',
      'better_auth_http_requests_total{route="requestSession",status="503"} 1',
      'better_auth_http_requests_total{route="createAccount",status="400"} 1',
      'better_auth_http_requests_total{route="health",status="200"} 1',
      'better_auth_http_refusals_total{route="requestSession",code="BA804"} 1',
      'better_auth_http_refusals_total{route="requestSession",code="BA603"} 1',
      'better_auth_http_refusals_total{route="createAccount",code="BA101"} 1',
      'better_auth_store_errors_total{route="requestSession"} 1',
      'better_auth_rate_limited_total{route="requestSession"} 1',
      'better_auth_http_request_duration_seconds_count{route="requestSession",outcome="ok"} 3',
      'better_auth_http_request_duration_seconds_count{route="requestSession",outcome="refused"} 1',
      'better_auth_http_request_duration_seconds_count{route="requestSession",outcome="storage"} 1',
      'better_auth_webhook_pending_deliveries 0',
      'better_auth_webhook_dead_letters 0',
    ]) {
      expect(lines).toContain(line)
    }
    // Labels are route names and codes: no identity, address or path reaches the metrics.
    expect(text).not.toContain(identity)
    expect(text).not.toContain(address)
  })

  it('the tracer hears each request start and end with route, outcome and code', async () => {
    const { spans, tracer } = recorder()
    const http = app({ tracer, health: true })
    await http.fetch(get('/health'))
    await http.fetch(new Request(BASE + '/session/create', { method: 'POST', body: '[]' }))
    await http.fetch(get('/key/response'))
    expect(spans).toEqual([
      { route: 'health', end: { status: 200, outcome: 'ok' } },
      { route: 'createSession', end: { status: 400, outcome: 'refused', code: 'BA101' } },
      { route: 'key', end: { status: 200, outcome: 'ok' } },
    ])
  })

  it('a tracer that throws changes no answer', async () => {
    const throwing = {
      start(): never {
        throw new Error('tracer bug')
      },
    }
    const endThrowing = {
      start: () => ({
        end(): never {
          throw new Error('tracer bug')
        },
      }),
    }
    for (const tracer of [throwing, endThrowing]) {
      const response = await app({ tracer, health: true }).fetch(get('/health'))
      expect(response.status).toBe(200)
    }
  })

  it('refuses invalid options at construction', () => {
    const refused = (http: Omit<BetterAuthHttpOptions, 'server' | 'access'>) =>
      expect(() => app(http)).toThrow(ConfigurationError)
    refused({ health: true, healthPath: 'health' })
    refused({ readiness: { timeoutMs: 0 } })
    refused({ metrics: {} as PrometheusMetrics })
    refused({ tracer: {} as never })
    refused({ admin: { credential: 'short' } })
    refused({ admin: { credential: 'x'.repeat(32), path: '/admin/' } })
    expect(() => new PrometheusMetrics({ prefix: 'bad-prefix' })).toThrow(ConfigurationError)
  })

  it('lists the admin subtree for frameworks that mount routes one by one', () => {
    const http = app({ admin: { credential: 'x'.repeat(32) }, metrics: new PrometheusMetrics() })
    expect(http.routes()).toEqual(
      expect.arrayContaining([
        { method: 'GET', path: '/metrics' },
        { method: 'GET', path: '/admin/*' },
        { method: 'DELETE', path: '/admin/*' },
        { method: 'POST', path: '/session/request' },
      ]),
    )
  })
})
