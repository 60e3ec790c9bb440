import { NobleP256SigningKey } from '@better-auth/crypto'
import { memoryServerStores } from '@better-auth/server'
import { SqliteStores } from '@better-auth/store-sqlite'
import type { AddressInfo } from 'node:net'
import { describe, expect, it } from 'vitest'
import { buildApp } from '../src/app.js'
import { buildServer, type Framework, type Logger } from '../src/frameworks.js'
import { logTracer } from '../src/tracing.js'

const keys = { response: NobleP256SigningKey.generate(), access: NobleP256SigningKey.generate() }
const CREDENTIAL = 'example-operator-credential-0123456789'
const IDENTITY = 'EAbcdefghijklmnopqrstuvwxyz0123456789ABCDEFG'

describe('the example server’s operations (fastify)', () => {
  it('serves health, readiness and metrics, and no admin routes without a credential', async () => {
    const lines: Parameters<Logger>[] = []
    const app = await buildApp({
      keys,
      stores: memoryServerStores(),
      tracer: logTracer((...line) => lines.push(line)),
    })
    try {
      const health = await app.inject({ method: 'GET', url: '/health' })
      expect([health.statusCode, health.json()]).toEqual([200, { status: 'ok' }])
      const ready = await app.inject({ method: 'GET', url: '/ready' })
      expect(ready.statusCode).toBe(200)
      expect(ready.json()).toMatchObject({
        status: 'ready',
        stores: {
          authenticationKey: { status: 'unchecked' },
          accessNonce: { status: 'unchecked' },
        },
      })
      const refused = await app.inject({
        method: 'POST',
        url: '/session/request',
        payload: '{}',
        headers: { 'content-type': 'application/json' },
      })
      expect(refused.statusCode).toBe(400)
      const admin = await app.inject({ method: 'GET', url: `/admin/accounts/${IDENTITY}/devices` })
      expect(admin.statusCode).toBe(404)

      const metrics = await app.inject({ method: 'GET', url: '/metrics' })
      expect(metrics.statusCode).toBe(200)
      expect(metrics.headers['content-type']).toMatch(/^text\/plain; ?version=0\.0\.4/)
      const text = metrics.body.split('\n')
      expect(text).toContain('better_auth_http_requests_total{route="health",status="200"} 1')
      expect(text).toContain('better_auth_http_requests_total{route="ready",status="200"} 1')
      expect(text).toContain(
        'better_auth_http_refusals_total{route="requestSession",code="BA101"} 1',
      )
      expect(text).toContain(
        'better_auth_http_request_duration_seconds_count{route="requestSession",outcome="refused"} 1',
      )
      // The tracer logged one debug line per request it answered.
      expect(lines.map(([level, message, fields]) => [level, message, fields?.route])).toEqual([
        ['debug', 'request', 'health'],
        ['debug', 'request', 'ready'],
        ['debug', 'request', 'requestSession'],
        ['debug', 'request', 'metrics'],
      ])
      expect(lines[2]![2]).toMatchObject({ status: 400, outcome: 'refused', code: 'BA101' })
    } finally {
      await app.close()
    }
  })

  it('serves the admin routes behind the credential, on SQLite', async () => {
    const stores = SqliteStores.open({ filename: ':memory:' })
    const app = await buildApp({ keys, stores, adminCredential: CREDENTIAL })
    try {
      const url = `/admin/accounts/${IDENTITY}`
      const ask = (method: 'GET' | 'DELETE', path: string, credential?: string) =>
        app.inject({
          method,
          url: url + path,
          headers: credential === undefined ? {} : { authorization: `Bearer ${credential}` },
        })
      const missing = await ask('DELETE', '')
      expect([missing.statusCode, missing.json()]).toEqual([
        401,
        { error: { code: 'BA303', message: 'Credential required' } },
      ])
      expect(missing.headers['www-authenticate']).toMatch(/^Bearer /)
      const wrong = await ask('DELETE', '', 'x' + CREDENTIAL)
      expect([wrong.statusCode, wrong.json()]).toMatchObject([403, { error: { code: 'BA304' } }])
      const devices = await ask('GET', '/devices', CREDENTIAL)
      expect([devices.statusCode, devices.json()]).toEqual([200, { devices: [] }])
      const unknown = await ask('DELETE', '', CREDENTIAL)
      expect([unknown.statusCode, unknown.json()]).toMatchObject([
        404,
        { error: { code: 'BA102' } },
      ])
      const ready = await app.inject({ method: 'GET', url: '/ready' })
      expect(ready.json()).toMatchObject({
        status: 'ready',
        stores: { authenticationKey: { status: 'ok' }, accessNonce: { status: 'ok' } },
      })
      await stores.close()
      const down = await app.inject({ method: 'GET', url: '/ready' })
      expect(down.statusCode).toBe(503)
      expect(down.json()).toMatchObject({
        status: 'unavailable',
        stores: { authenticationKey: { status: 'failed', code: 'BA603', backend: 'sqlite' } },
      })
    } finally {
      await app.close()
      await stores.close()
    }
  })
})

describe.each<Framework>(['express', 'hono', 'node'])('operations on %s', (framework) => {
  it('serves health, metrics and the admin routes', async () => {
    const server = buildServer(
      framework,
      { keys, stores: memoryServerStores(), adminCredential: CREDENTIAL },
      () => undefined,
    )
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    try {
      const health = await fetch(base + '/health')
      expect([health.status, await health.json()]).toEqual([200, { status: 'ok' }])
      const admin = await fetch(`${base}/admin/accounts/${IDENTITY}/devices`, {
        headers: { authorization: `Bearer ${CREDENTIAL}` },
      })
      expect([admin.status, await admin.json()]).toEqual([200, { devices: [] }])
      const refused = await fetch(`${base}/admin/accounts/${IDENTITY}`, { method: 'DELETE' })
      expect(refused.status).toBe(401)
      const metrics = await (await fetch(base + '/metrics')).text()
      expect(metrics).toContain('better_auth_http_requests_total{route="health",status="200"} 1')
      expect(metrics).toContain(
        'better_auth_http_refusals_total{route="admin.delete",code="BA303"} 1',
      )
    } finally {
      await new Promise((resolve) => server.close(resolve))
    }
  })
})
