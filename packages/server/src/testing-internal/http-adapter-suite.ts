// One behaviour suite for every HTTP adapter (core fetch, node:http, Express, Hono, Next.js,
// fastify): each adapter's test mounts the same routes and runs it.
import {
  BetterAuthClient,
  MemoryRotatingKeyStore,
  MemoryValueStore,
  type Network,
} from '@better-auth/client'
import {
  Blake3Hasher,
  NobleP256SigningKey,
  Rfc3339Timestamper,
  SecureNoncer,
  WebCryptoP256SigningKey,
} from '@better-auth/crypto'
import { STRICT, clientsOver, pinnedKeys, scenarios } from '@better-auth/integration'
import { signPayloadText, type JsonValue, type SigningKey } from '@better-auth/protocol'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { AccessVerifier, VerifiedAccess } from '../access-verifier.js'
import { BetterAuthHttp, type BetterAuthHttpOptions } from '../http/handler.js'
import { PrometheusMetrics } from '../metrics/index.js'
import { MemoryRateLimitStore } from '../rate-limit/memory.js'
import type { RateLimiter } from '../rate-limit/limiter.js'
import { FLOOD_PROXY, checkFlood, floodLimiter } from '../testing/rate-limit-flood.js'
import { BetterAuthServer } from '../server.js'
import { memoryServerStores } from '../stores/memory/index.js'
import { randomId } from '../testing/random.js'
import {
  DefaultIdentityVerifier,
  GzipTokenEncoder,
  WebCryptoP256Verifier,
} from '@better-auth/crypto'

/** What every adapter's test app serves: the protocol routes and the access route `/foo/bar`. */
export interface SuiteAuth {
  readonly http: BetterAuthHttp
  readonly access: AccessVerifier
  /** The `/foo/bar` application code every adapter mounts as an access route. */
  readonly fooBar: (access: VerifiedAccess) => JsonValue
  /** The limits `http` applies, for adapters that build their own core from options (fastify). */
  readonly rateLimit: RateLimiter | undefined
  readonly trustedProxies: readonly string[]
  /** The operations routes `http` serves, for adapters that build their own core (fastify). */
  readonly operations: Pick<BetterAuthHttpOptions, 'health' | 'readiness' | 'metrics' | 'admin'>
}

/** The operator credential of the suite's admin routes. */
export const SUITE_ADMIN_CREDENTIAL = 'suite-operator-credential-0123456789abcdef'

/** The adapter under test, reached through `send`. */
export interface AdapterUnderTest {
  send(request: Request): Promise<Response>
  close(): Promise<void>
}

const BASE = 'http://adapter.test'

export function suiteAuth(bodyLimit = 64 * 1024, rateLimit?: RateLimiter): SuiteAuth {
  const hasher = new Blake3Hasher()
  const stores = memoryServerStores()
  const server = new BetterAuthServer({
    crypto: {
      hasher,
      noncer: new SecureNoncer(),
      verifier: new WebCryptoP256Verifier(),
      keyPairs: {
        response: NobleP256SigningKey.generate(),
        access: NobleP256SigningKey.generate(),
      },
    },
    encoding: {
      timestamper: new Rfc3339Timestamper(),
      tokenEncoder: new GzipTokenEncoder(),
      identityVerifier: new DefaultIdentityVerifier(hasher),
    },
    stores,
  })
  const access = server.accessVerifier({ accessNonce: stores.accessNonce })
  const trustedProxies = rateLimit === undefined ? [] : [FLOOD_PROXY]
  const operations = {
    health: true,
    readiness: true,
    metrics: new PrometheusMetrics(),
    admin: { credential: SUITE_ADMIN_CREDENTIAL },
  }
  return {
    http: new BetterAuthHttp({
      server,
      access,
      bodyLimit,
      rateLimit,
      trustedProxies,
      ...operations,
    }),
    rateLimit,
    trustedProxies,
    operations,
    access,
    fooBar: ({ request }) => {
      const data = request as { foo?: JsonValue; bar?: JsonValue }
      return { wasFoo: data.foo ?? null, wasBar: data.bar ?? null }
    },
  }
}

/** Sends `path` over TCP to a listening server: for adapters that take Node requests. */
export function overTcp(baseUrl: string): (request: Request) => Promise<Response> {
  return (request) => {
    const url = new URL(request.url)
    return fetch(new Request(baseUrl + url.pathname + url.search, request))
  }
}

function post(path: string, body: BodyInit, type = 'application/json'): Request {
  // duplex is required for a streamed body and not yet in the DOM typings.
  const init: RequestInit & { duplex?: 'half' } = {
    method: 'POST',
    body,
    headers: { 'content-type': type },
  }
  if (body instanceof ReadableStream) init.duplex = 'half'
  return new Request(BASE + path, init)
}

/** 50 MB produced lazily in 64 KiB chunks, counting what the receiver pulled. */
function hugeBody(total = 50 * 1024 * 1024): {
  stream: ReadableStream<Uint8Array>
  pulled: () => number
} {
  const chunk = new Uint8Array(64 * 1024).fill(0x61)
  let pulled = 0
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (pulled >= total) {
        controller.close()
        return
      }
      pulled += chunk.byteLength
      controller.enqueue(chunk)
    },
  })
  return { stream, pulled: () => pulled }
}

function memory(): number {
  const { heapUsed, arrayBuffers } = process.memoryUsage()
  return heapUsed + arrayBuffers
}

async function errorCode(response: Response): Promise<string> {
  const body = (await response.json()) as { error?: { code?: string }; payload?: unknown }
  expect(body).not.toHaveProperty('payload')
  return body.error?.code ?? 'none'
}

export interface SuiteOptions {
  /**
   * The app installed its own body parser globally (Express's `express.json()`): it reads, and
   * on refusal drains, every body before any route runs, so the tests of unread bodies on unknown
   * routes and access routes do not apply.
   */
  readonly appParsesBodies?: boolean
}

export function httpAdapterSuite(
  name: string,
  start: (auth: SuiteAuth) => Promise<AdapterUnderTest>,
  options: SuiteOptions = {},
): void {
  const ourBodies = options.appParsesBodies === true ? it.skip : it
  describe(`HTTP adapter: ${name}`, () => {
    let adapter: AdapterUnderTest
    let responseKey: string
    const network: Network = {
      async sendRequest(path, message) {
        return (await adapter.send(post(path, message))).text()
      },
    }

    beforeAll(async () => {
      adapter = await start(suiteAuth())
      responseKey = await (await adapter.send(new Request(BASE + '/key/response'))).text()
    })
    afterAll(() => adapter.close())

    it.each(scenarios.filter((s) => s.id !== 'scenario-4').map((s) => [s.id, s] as const))(
      '%s passes',
      async (_id, scenario) => {
        await scenario.run(clientsOver(network, responseKey), STRICT)
      },
    )

    it('limits per identity and per address, the address forwarded by a trusted proxy', async () => {
      // The adapter must hand the core the peer address (127.0.0.1 here) and the headers.
      const limited = await start(suiteAuth(undefined, floodLimiter(new MemoryRateLimitStore())))
      try {
        await checkFlood((request) => limited.send(request), BASE)
      } finally {
        await limited.close()
      }
    })

    it('serves health, readiness, metrics and the admin routes behind the credential', async () => {
      const health = await adapter.send(new Request(BASE + '/health'))
      expect(health.status).toBe(200)
      expect(await health.json()).toEqual({ status: 'ok' })
      const ready = await adapter.send(new Request(BASE + '/ready'))
      expect(ready.status).toBe(200)
      expect(await ready.json()).toMatchObject({ status: 'ready' })

      const identity = randomId('identity-')
      const admin = (method: string, path: string, credential?: string) =>
        adapter.send(
          new Request(BASE + '/admin/accounts/' + identity + path, {
            method,
            headers: credential === undefined ? {} : { authorization: `Bearer ${credential}` },
          }),
        )
      const missing = await admin('DELETE', '/devices/' + randomId('device-'))
      expect(missing.status).toBe(401)
      expect(missing.headers.get('www-authenticate')).toMatch(/^Bearer /)
      expect(await errorCode(missing)).toBe('BA303')
      const wrong = await admin('DELETE', '', SUITE_ADMIN_CREDENTIAL + 'x')
      expect(wrong.status).toBe(403)
      expect(await errorCode(wrong)).toBe('BA304')
      const devices = await admin('GET', '/devices', SUITE_ADMIN_CREDENTIAL)
      expect(devices.status).toBe(200)
      expect(await devices.json()).toEqual({ devices: [] })
      const unknown = await admin('DELETE', '', SUITE_ADMIN_CREDENTIAL)
      expect(unknown.status).toBe(404)
      expect(await errorCode(unknown)).toBe('BA102')

      const metrics = await adapter.send(new Request(BASE + '/metrics'))
      expect(metrics.status).toBe(200)
      expect(metrics.headers.get('content-type')).toMatch(/^text\/plain; ?version=0\.0\.4/)
      const text = await metrics.text()
      expect(text).toContain('better_auth_http_requests_total{route="health",status="200"}')
      expect(text).toContain('better_auth_http_refusals_total{route="admin.revoke",code="BA303"} 1')
      expect(text).toContain('better_auth_http_refusals_total{route="admin.delete",code="BA304"} 1')
      expect(text).not.toContain(identity)
    })

    it('verifies a signer whose JSON does not round-trip (key order, spacing)', async () => {
      const accessKey = new MemoryRotatingKeyStore({
        generate: (): Promise<SigningKey> => WebCryptoP256SigningKey.generate(),
        hasher: new Blake3Hasher(),
      })
      const reformatting: Network = {
        async sendRequest(path, message) {
          if (path !== '/foo/bar') return network.sendRequest(path, message)
          const { payload } = JSON.parse(message) as {
            payload: { access: JsonValue; request: JsonValue }
          }
          // Members reversed and indented: the bytes differ from any JSON.stringify of the parse.
          const text = `{ "request" : ${JSON.stringify(payload.request, null, 3)},\n "access":${JSON.stringify(payload.access)} }`
          return network.sendRequest(path, await signPayloadText(await accessKey.signer(), text))
        },
      }
      const client = new BetterAuthClient({
        crypto: { hasher: new Blake3Hasher(), noncer: new SecureNoncer() },
        encoding: { timestamper: new Rfc3339Timestamper() },
        io: { network: reformatting },
        stores: {
          identity: new MemoryValueStore(),
          device: new MemoryValueStore(),
          accessToken: new MemoryValueStore(),
          authenticationKey: new MemoryRotatingKeyStore({
            generate: (): Promise<SigningKey> => WebCryptoP256SigningKey.generate(),
            hasher: new Blake3Hasher(),
          }),
          accessKey,
          responseKeys: pinnedKeys(responseKey),
        },
      })
      await client.createAccount(await new Blake3Hasher().sum('recovery'))
      await client.createSession()
      expect(await client.makeAccessRequest('/foo/bar', { foo: 'x', bar: { b: 1, a: 2 } })).toEqual(
        { wasFoo: 'x', wasBar: { b: 1, a: 2 } },
      )
    })

    it('serves the response key as text on GET and POST', async () => {
      for (const method of ['GET', 'POST']) {
        const response = await adapter.send(new Request(BASE + '/key/response', { method }))
        expect(response.status).toBe(200)
        expect(await response.text()).toBe(responseKey)
      }
    })

    it.each(['/account/create', '/foo/bar'])(
      '%s refuses malformed JSON with 400 BA101',
      async (path) => {
        const response = await adapter.send(post(path, '{"payload": {'))
        expect(response.status).toBe(400)
        expect(await errorCode(response)).toBe('BA101')
      },
    )

    it.each(['/account/create', '/foo/bar'])(
      '%s refuses other content types with 415',
      async (path) => {
        const response = await adapter.send(post(path, '<a/>', 'application/xml'))
        expect(response.status).toBe(415)
        expect(await errorCode(response)).toBe('BA101')
      },
    )

    ourBodies('answers an unknown route with 404 BA101 without parsing its 1 MB body', async () => {
      const response = await adapter.send(post('/no/such/route', `{"a":"${'x'.repeat(1 << 20)}`))
      expect(response.status).toBe(404)
      expect(await errorCode(response)).toBe('BA101')
    })

    it('answers a wrong method on a protocol path with 404 BA101', async () => {
      const response = await adapter.send(new Request(BASE + '/account/create'))
      expect(response.status).toBe(404)
      expect(await errorCode(response)).toBe('BA101')
    })

    it.each(
      options.appParsesBodies === true ? ['/account/create'] : ['/account/create', '/foo/bar'],
    )('%s refuses a streamed 50 MB body with 413, memory growing under 5 MB', async (path) => {
      const before = memory()
      let peak = before
      const sampler = setInterval(() => (peak = Math.max(peak, memory())), 1)
      const huge = hugeBody()
      const response = await adapter.send(post(path, huge.stream)).catch(() => undefined)
      clearInterval(sampler)
      peak = Math.max(peak, memory())
      // Over TCP the connection may close before the answer is read; in process it never does.
      if (response !== undefined) {
        expect(response.status).toBe(413)
        expect(await errorCode(response)).toBe('BA101')
      }
      expect(peak - before).toBeLessThan(5 * 1024 * 1024)
      expect(huge.pulled()).toBeLessThan(50 * 1024 * 1024)
    })

    it('refuses a declared oversized body unread', async () => {
      const response = await adapter.send(
        new Request(BASE + '/account/create', {
          method: 'POST',
          body: 'x'.repeat(70 * 1024),
          headers: { 'content-type': 'application/json' },
        }),
      )
      expect(response.status).toBe(413)
    })

    it('still serves after all of the above', async () => {
      await scenarios[0]!.run(clientsOver(network, responseKey), STRICT)
    })
  })
}
