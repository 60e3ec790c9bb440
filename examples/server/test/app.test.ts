import type { Network } from '@better-auth/client'
import { NobleP256SigningKey } from '@better-auth/crypto'
import { STRICT, clientsOver, scenarios } from '@better-auth/integration'
import { StorageUnavailableError, protocols, type ServerTimeLockStore } from '@better-auth/protocol'
import { memoryServerStores } from '@better-auth/server'
import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp, type AppStores } from '../src/app.js'

const keys = { response: NobleP256SigningKey.generate(), access: NobleP256SigningKey.generate() }

async function appWith(stores: AppStores = memoryServerStores()): Promise<FastifyInstance> {
  return buildApp({ keys, stores, corsOrigins: ['http://localhost:5173'] })
}

function injectNetwork(app: FastifyInstance): Network {
  return {
    async sendRequest(path, message) {
      const response = await app.inject({
        method: 'POST',
        url: path,
        payload: message,
        headers: { 'content-type': 'application/json' },
      })
      return response.body
    },
  }
}

const protocolPaths = Object.values(protocols).map((p) => p.path)
const allPaths = [...protocolPaths, '/foo/bar', '/bad/nonce']

let app: FastifyInstance
beforeAll(async () => {
  app = await appWith()
})
afterAll(() => app.close())

async function post(path: string, payload: string | Buffer, contentType = 'application/json') {
  return app.inject({
    method: 'POST',
    url: path,
    payload,
    headers: { 'content-type': contentType },
  })
}

function errorCode(body: string): string {
  const parsed = JSON.parse(body) as { error?: { code?: string }; payload?: unknown }
  expect(parsed).not.toHaveProperty('payload')
  return parsed.error?.code ?? 'none'
}

describe('interop HTTP contract (inject)', () => {
  it.each(scenarios.map((s) => [s.id, s] as const))('%s passes', async (_id, scenario) => {
    const responseKey = (await app.inject({ method: 'POST', url: '/key/response' })).body
    await scenario.run(clientsOver(injectNetwork(app), responseKey), STRICT)
  })

  it('serves the response key as text', async () => {
    for (const method of ['GET', 'POST'] as const) {
      const response = await app.inject({ method, url: '/key/response' })
      expect(response.statusCode).toBe(200)
      expect(response.body).toBe(await keys.response.public())
    }
  })

  it.each(allPaths)('%s refuses malformed JSON with 400 BA101', async (path) => {
    const response = await post(path, '{"payload": {')
    expect(response.statusCode).toBe(400)
    expect(errorCode(response.body)).toBe('BA101')
  })

  it.each(allPaths)('%s refuses a 10 MB body with 413 BA101', async (path) => {
    const response = await post(path, Buffer.alloc(10 * 1024 * 1024, 0x61))
    expect(response.statusCode).toBe(413)
    expect(errorCode(response.body)).toBe('BA101')
  })

  it.each(allPaths)('%s refuses valid JSON of the wrong shape with 400 BA101', async (path) => {
    const response = await post(path, JSON.stringify({ payload: { hello: 'world' }, signature: 1 }))
    expect(response.statusCode).toBe(400)
    expect(errorCode(response.body)).toBe('BA101')
  })

  it.each(protocolPaths)('%s answers GET (wrong method) with a 404 error body', async (path) => {
    const response = await app.inject({ method: 'GET', url: path })
    expect(response.statusCode).toBe(404)
    expect(errorCode(response.body)).toBe('BA101')
  })

  it('answers an unknown path with a 404 error body', async () => {
    const response = await post('/no/such/route', '{}')
    expect(response.statusCode).toBe(404)
    expect(errorCode(response.body)).toBe('BA101')
  })

  it.each([
    ['malformed JSON', '{"payload": {'],
    ['a 1 MB body', `{"a":"${'x'.repeat(1024 * 1024)}"}`],
    ['a 2 MB body', Buffer.alloc(2 * 1024 * 1024, 0x61)],
  ])('answers %s to an unknown route with 404 BA101 without parsing it', async (_name, body) => {
    const response = await post('/no/such/route', body)
    expect(response.statusCode).toBe(404)
    expect(errorCode(response.body)).toBe('BA101')
  })

  it.each([
    ['an unknown route', 'POST', '/nope', 'application/xml', '<a/>'],
    ['a bad content type', 'POST', '/foo/bar', 'application/xml', '<a/>'],
    ['an empty JSON body', 'POST', '/foo/bar', 'application/json', ''],
    ['a wrong method', 'PUT', '/account/create', 'application/json', '{}'],
    ['a bad URL', 'GET', '/%E0%A4%A', 'text/plain', ''],
  ] as const)(
    'never answers %s in fastify’s own format',
    async (_name, method, url, type, body) => {
      const response = await app.inject({
        method,
        url,
        payload: body,
        headers: { 'content-type': type },
      })
      expect(response.statusCode).toBeGreaterThanOrEqual(400)
      expect(response.body).not.toContain('FST_')
      expect(errorCode(response.body)).toBe('BA101')
    },
  )

  it('refuses other content types on access routes', async () => {
    const response = await post('/foo/bar', '<xml/>', 'application/xml')
    expect(response.statusCode).toBe(415)
    expect(errorCode(response.body)).toBe('BA101')
  })

  it('still serves after all of the above', async () => {
    const responseKey = (await app.inject({ method: 'POST', url: '/key/response' })).body
    await scenarios[0]!.run(clientsOver(injectNetwork(app), responseKey), STRICT)
  })

  it('answers an unexpected failure with 500 BA000 and no internals', async () => {
    const stores = memoryServerStores()
    const broken: ServerTimeLockStore = {
      reserve: () => Promise.reject(new Error('disk on fire at /var/lib/secret')),
    }
    const failing = await appWith({ ...stores, accessNonce: broken })
    const responseKey = (await failing.inject({ method: 'POST', url: '/key/response' })).body
    const client = clientsOver(injectNetwork(failing), responseKey).newClient()
    await client.createAccount('EOnMhfF6CIKCvXrZkRxwPMBRy6MwgwSBM0H6hb1uDezu')
    await client.createSession()
    await expect(client.makeAccessRequest('/foo/bar', {})).rejects.toMatchObject({ code: 'BA000' })
    const raw = await failing.inject({ method: 'POST', url: '/foo/bar', payload: 'x' })
    expect(raw.body).not.toContain('secret')
    await failing.close()
  })

  it('answers a lost store connection with 503 BA603, never a false success', async () => {
    const stores = memoryServerStores()
    const lost = new StorageUnavailableError('redis', new Error('connection reset'))
    const failing = await appWith({
      ...stores,
      authenticationNonce: {
        put: () => Promise.reject(lost),
        consume: () => Promise.reject(lost),
      },
    })
    const responseKey = (await failing.inject({ method: 'POST', url: '/key/response' })).body
    const client = clientsOver(injectNetwork(failing), responseKey).newClient()
    await client.createAccount('EOnMhfF6CIKCvXrZkRxwPMBRy6MwgwSBM0H6hb1uDezu')
    await expect(client.createSession()).rejects.toMatchObject({ code: 'BA603' })
    const raw = await failing.inject({
      method: 'POST',
      url: '/session/request',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({
        payload: {
          access: { nonce: '0ABic13dCJIYixhIS8fd6kfC' },
          request: { authentication: { identity: 'EOnMhfF6CIKCvXrZkRxwPMBRy6MwgwSBM0H6hb1uDezu' } },
        },
      }),
    })
    expect(raw.body).toContain('BA603')
    expect(raw.statusCode).toBe(503)
    expect(errorCode(raw.body)).toBe('BA603')
    expect(raw.body).not.toContain('connection reset')
    await failing.close()
  })

  it('allows the configured origin only (CORS)', async () => {
    const preflight = await app.inject({
      method: 'OPTIONS',
      url: '/account/create',
      headers: { origin: 'http://localhost:5173', 'access-control-request-method': 'POST' },
    })
    expect(preflight.statusCode).toBe(204)
    expect(preflight.headers['access-control-allow-origin']).toBe('http://localhost:5173')
    const other = await app.inject({
      method: 'POST',
      url: '/key/response',
      headers: { origin: 'http://evil.example' },
    })
    expect(other.headers['access-control-allow-origin']).toBeUndefined()
  })
})
