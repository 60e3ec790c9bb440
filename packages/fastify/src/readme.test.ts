import { readFileSync } from 'node:fs'
import { BetterAuthClient, type Network } from '@better-auth/client'
import {
  Blake3Hasher,
  DefaultIdentityVerifier,
  Rfc3339Timestamper,
  SecureNoncer,
} from '@better-auth/crypto'
import {
  NodeGzipTokenEncoder,
  NodeP256SigningKey,
  NodeP256Verifier,
} from '@better-auth/crypto/node'
import {
  InvalidMessageError,
  StorageUnavailableError,
  decodeUtf8,
  parseAccessResponse,
  protocols,
  verificationKey,
  verifyEnvelope,
  type ErrorCode,
  type JsonValue,
} from '@better-auth/protocol'
import {
  AccessVerifier,
  BetterAuthServer,
  StaticVerificationKeyStore,
  memoryServerStores,
} from '@better-auth/server'
import Fastify, { type FastifyInstance } from 'fastify'
import { describe, expect, it } from 'vitest'
import { clientOptions, createStores } from '../../server/src/testing-internal/client-world.js'

// The examples of README.md, against the package entry ('@better-auth/fastify' is ./index.ts).
import { STATUS_BY_CODE, betterAuth, mapError } from './index.js'

/**
 * The README's usage example and its hand-verified route. Changes for a test: no logger, `inject`
 * instead of `listen`, and `stores` returned so a test can revoke a device.
 */
async function buildApp(): Promise<{
  app: FastifyInstance
  stores: ReturnType<typeof memoryServerStores>
  server: BetterAuthServer
}> {
  const hasher = new Blake3Hasher()
  const verifier = new NodeP256Verifier()
  const timestamper = new Rfc3339Timestamper()
  const tokenEncoder = new NodeGzipTokenEncoder()
  const responseKey = NodeP256SigningKey.generate()
  const accessKey = NodeP256SigningKey.generate()
  const stores = memoryServerStores()
  const server = new BetterAuthServer({
    crypto: {
      hasher,
      noncer: new SecureNoncer(),
      verifier,
      keyPairs: { response: responseKey, access: accessKey },
    },
    encoding: { timestamper, tokenEncoder, identityVerifier: new DefaultIdentityVerifier(hasher) },
    stores,
  })
  const accessVerifier = new AccessVerifier({
    crypto: { verifier },
    encoding: { timestamper, tokenEncoder },
    stores: {
      accessNonce: stores.accessNonce,
      accessVerificationKeys: new StaticVerificationKeyStore([accessKey]),
    },
  })

  const app = Fastify({
    requestTimeout: 10_000,
    connectionTimeout: 30_000,
    http: { headersTimeout: 5_000, connectionsCheckingInterval: 1_000 },
  })
  await app.register(betterAuth, { server, accessVerifier })

  app.post('/orders', { config: { betterAuth: 'access' } }, (request) => {
    const { request: order, token } = request.betterAuth!
    return { ordered: (order as { item: string }).item, for: token.identity }
  })

  await app.register((scope, _options, done) => {
    scope.removeAllContentTypeParsers()
    scope.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, parsed) =>
      parsed(null, body),
    )
    scope.setErrorHandler((error, _request, reply) => {
      const { status, body } = mapError(error)
      return reply.code(status).type('application/json').send(JSON.stringify(body))
    })
    scope.post('/receipts', async (request, reply) => {
      const message = decodeUtf8(request.body as Buffer)
      const { nonce, token } = await scope.betterAuth.verifyAccess(message)
      const signed = await scope.betterAuth.signResponse(nonce, { receiptsOf: token.identity })
      return reply.type('application/json').send(signed)
    })
    done()
  })

  return { app, stores, server }
}

interface Exchange {
  readonly path: string
  readonly request: string
  readonly status: number
  readonly response: string
}

/** A client over `inject` that pins the response key served at /key/response. */
async function clientOf(app: FastifyInstance) {
  const wire: Exchange[] = []
  const network: Network = {
    async sendRequest(path, request) {
      const reply = await app.inject({
        method: 'POST',
        url: path,
        payload: request,
        headers: { 'content-type': 'application/json' },
      })
      wire.push({ path, request, status: reply.statusCode, response: reply.body })
      return reply.body
    },
  }
  const hasher = new Blake3Hasher()
  const verifier = new NodeP256Verifier()
  const responseKey = (await app.inject({ method: 'GET', url: '/key/response' })).body
  const stores = createStores()
  await stores.responseKeys.add(verificationKey(responseKey, verifier))
  const client = new BetterAuthClient(clientOptions(network, stores, new Rfc3339Timestamper()))
  const ids = await client.createAccount(await hasher.sum('recovery key hash'))
  const last = (path: string) => wire.filter((entry) => entry.path === path).at(-1)!
  return { client, ...ids, last, responseKey, verifier }
}

async function post(app: FastifyInstance, url: string, payload: string, contentType?: string) {
  const reply = await app.inject({
    method: 'POST',
    url,
    payload,
    headers: { 'content-type': contentType ?? 'application/json' },
  })
  const body = JSON.parse(reply.body) as { error?: { code: string } }
  expect(body).not.toHaveProperty('payload')
  return [reply.statusCode, body.error?.code ?? 'no error'] as const
}

describe('README: usage', () => {
  it('mounts the protocol routes and the response key', async () => {
    const { app, server } = await buildApp()
    const routes = app.printRoutes({ commonPrefix: false })
    for (const { path } of Object.values(protocols)) expect(routes).toContain(`${path} (POST)`)
    for (const method of ['GET', 'POST'] as const) {
      const key = await app.inject({ method, url: '/key/response' })
      expect(key.statusCode).toBe(200)
      expect(key.headers['content-type']).toMatch(/^text\/plain/)
      expect(key.body).toBe(await server.responsePublicKey())
    }
    await app.close()
  })

  it('serves an access route whose signed answer the client verifies', async () => {
    const { app } = await buildApp()
    const { client, identity, last, responseKey, verifier } = await clientOf(app)
    await client.createSession()
    expect(await client.makeAccessRequest('/orders', { item: 'book' })).toEqual({
      ordered: 'book',
      for: identity,
    })
    const exchange = last('/orders')
    expect(exchange.status).toBe(200)
    await verifyEnvelope(parseAccessResponse(exchange.response), verifier, responseKey, 'response')

    expect(await client.makeAccessRequest('/receipts', {})).toEqual({ receiptsOf: identity })
    await client.refreshSession()
    expect(await client.makeAccessRequest('/orders', { item: 'pen' })).toEqual({
      ordered: 'pen',
      for: identity,
    })
    await app.close()
  })

  it('verifies before validation: request.body is the verified data, schemas apply to it', async () => {
    const { app } = await buildApp()
    const schema = { body: { type: 'object', required: ['item'] } }
    app.post('/items', { config: { betterAuth: 'access' }, schema }, (request) => ({
      body: request.body as JsonValue,
      sameAsVerified: request.body === request.betterAuth!.request,
    }))
    const { client, last } = await clientOf(app)
    await client.createSession()
    expect(await client.makeAccessRequest('/items', { item: 'tea' })).toEqual({
      body: { item: 'tea' },
      sameAsVerified: true,
    })
    await expect(client.makeAccessRequest('/items', { other: 1 })).rejects.toMatchObject({
      code: 'BA101',
    })
    expect(last('/items').status).toBe(400)
    await app.close()
  })

  it('signs whatever JSON value the handler returns, null included', async () => {
    const { app } = await buildApp()
    app.post('/nothing', { config: { betterAuth: 'access' } }, () => null)
    app.post('/later', { config: { betterAuth: 'access' } }, async () =>
      Promise.resolve([1, 'two']),
    )
    const { client } = await clientOf(app)
    await client.createSession()
    expect(await client.makeAccessRequest('/nothing', {})).toBeNull()
    expect(await client.makeAccessRequest('/later', {})).toEqual([1, 'two'])
    await app.close()
  })

  it('leaves other routes alone: request.betterAuth is null there', async () => {
    const { app } = await buildApp()
    app.post('/plain', (request) => ({ auth: request.betterAuth, body: request.body as object }))
    const reply = await app.inject({ method: 'POST', url: '/plain', payload: { a: 1 } })
    expect(reply.json()).toEqual({ auth: null, body: { a: 1 } })
    await app.close()
  })
})

describe('README: options', () => {
  it.each([
    [{ prefix: 'auth/' }, 'prefix'],
    [{ bodyLimit: 0 }, 'bodyLimit'],
    [{ responseKeyPath: 'key' }, 'responseKeyPath'],
  ])('refuses %j at registration, naming the option', async (options, field) => {
    const { server } = await buildApp()
    const app = Fastify()
    await expect(app.register(betterAuth, { server, ...options }).ready()).rejects.toMatchObject({
      code: 'BA001',
      context: { field },
    })
  })

  it('mounts under a prefix with path overrides, and can leave the key route out', async () => {
    const { server } = await buildApp()
    const app = Fastify()
    await app.register(betterAuth, {
      server,
      prefix: '/auth',
      paths: { createAccount: '/signup' },
      responseKeyPath: false,
    })
    const routes = app.printRoutes({ commonPrefix: false })
    expect(routes).toContain('/auth/signup (POST)')
    expect(routes).toContain('/auth/session/request (POST)')
    expect(routes).not.toContain('/key/response')
    await app.close()
  })

  it('refuses an access route when there is no access verifier', async () => {
    const { server } = await buildApp()
    const app = Fastify()
    await app.register(betterAuth, { server })
    await expect(async () => {
      app.post('/orders', { config: { betterAuth: 'access' } }, () => ({}))
      await app.ready()
    }).rejects.toMatchObject({ code: 'BA001', context: { field: 'accessVerifier' } })
    await app.close().catch(() => undefined)
  })
})

describe('README: errors and HTTP statuses', () => {
  it('answers malformed, oversized and unsupported bodies with BA101', async () => {
    const { app } = await buildApp()
    expect(await post(app, '/device/rotate', '{')).toEqual([400, 'BA101'])
    expect(await post(app, '/device/rotate', '{"payload":{}}')).toEqual([400, 'BA101'])
    expect(await post(app, '/device/rotate', 'x'.repeat(64 * 1024 + 1))).toEqual([413, 'BA101'])
    expect(await post(app, '/orders', '{')).toEqual([400, 'BA101'])
    expect(await post(app, '/orders', '{"payload":{}}')).toEqual([400, 'BA101'])
    expect(await post(app, '/orders', `"${'x'.repeat(64 * 1024)}"`)).toEqual([413, 'BA101'])
    expect(await post(app, '/orders', '<order/>', 'application/xml')).toEqual([415, 'BA101'])
    expect(await post(app, '/receipts', '{"payload":{}}')).toEqual([400, 'BA101'])
    await app.close()
  })

  it('answers a replayed access request with 409 BA205 on both kinds of route', async () => {
    const { app } = await buildApp()
    const { client, last } = await clientOf(app)
    await client.createSession()
    await client.makeAccessRequest('/orders', { item: 'book' })
    expect(await post(app, '/orders', last('/orders').request)).toEqual([409, 'BA205'])
    await client.makeAccessRequest('/receipts', {})
    expect(await post(app, '/receipts', last('/receipts').request)).toEqual([409, 'BA205'])
    await app.close()
  })

  it('keeps a revoked device’s access token valid until expiry, refuses its refresh with 401 BA103', async () => {
    const { app, stores } = await buildApp()
    const { client, identity, device, last } = await clientOf(app)
    await client.createSession()
    await stores.authenticationKey.revokeDevice(identity, device)
    expect(await client.makeAccessRequest('/orders', { item: 'book' })).toEqual({
      ordered: 'book',
      for: identity,
    })
    await expect(client.refreshSession()).rejects.toMatchObject({ code: 'BA103' })
    expect(last('/session/refresh').status).toBe(401)
    await expect(stores.authenticationKey.publicKey(identity, device)).rejects.toMatchObject({
      code: 'BA103',
    })
    await app.close()
  })

  it('maps errors with the table of the README', () => {
    // The README's rows, read from the README itself: `| BA401, BA402 | … | 401 |`. The 413 and
    // 415 rows are statuses of particular refusals of BA101, not the code's status.
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8')
    const table: Partial<Record<ErrorCode, number>> = {}
    for (const [, codes, status] of readme.matchAll(
      /^\| (BA\d{3}(?:, BA\d{3})*) \|.*\| (\d{3}) \|$/gm,
    )) {
      if (status === '413' || status === '415') continue
      for (const code of codes!.split(', ')) table[code as ErrorCode] = Number(status)
    }
    expect(STATUS_BY_CODE).toEqual(table)

    const storage = mapError(new StorageUnavailableError('redis', new Error('ECONNRESET')))
    expect(storage).toEqual({
      status: 503,
      known: true,
      body: { error: { code: 'BA603', message: 'Storage backend is unavailable: redis' } },
    })
    expect(mapError(new InvalidMessageError('message', 'bad'))).toMatchObject({ status: 400 })
    const fastifyError = Object.assign(new Error('Unsupported Media Type'), {
      code: 'FST_ERR_CTP_INVALID_MEDIA_TYPE',
      statusCode: 415,
    })
    expect(mapError(fastifyError)).toEqual({
      status: 415,
      known: true,
      body: {
        error: { code: 'BA101', message: 'Invalid message: message: unsupported content type' },
      },
    })
    expect(mapError(new Error('secret at /srv/app.js'))).toEqual({
      status: 500,
      known: false,
      body: { error: { code: 'BA000', message: 'Internal error' } },
    })
  })

  it('answers an error thrown by an access route handler with 500 BA000 and no internals', async () => {
    const { app } = await buildApp()
    app.post('/explode', { config: { betterAuth: 'access' } }, () => {
      throw new Error('secret at /srv/app.js')
    })
    const { client, last } = await clientOf(app)
    await client.createSession()
    await expect(client.makeAccessRequest('/explode', {})).rejects.toMatchObject({ code: 'BA000' })
    expect(last('/explode').status).toBe(500)
    expect(last('/explode').response).not.toContain('secret')
    await app.close()
  })
})
