import {
  Blake3Hasher,
  DefaultIdentityVerifier,
  GzipTokenEncoder,
  NobleP256SigningKey,
  Rfc3339Timestamper,
  SecureNoncer,
  WebCryptoP256Verifier,
} from '@better-auth/crypto'
import { clientsOver, scenarios } from '@better-auth/integration'
import { protocols, type JsonValue } from '@better-auth/protocol'
import {
  AccessVerifier,
  BetterAuthServer,
  StaticVerificationKeyStore,
  memoryServerStores,
} from '@better-auth/server'
import Fastify, { type FastifyInstance } from 'fastify'
import { describe, expect, it } from 'vitest'
import { betterAuth, type BetterAuthPluginOptions } from './index.js'

const hasher = new Blake3Hasher()
const verifier = new WebCryptoP256Verifier()
const timestamper = new Rfc3339Timestamper()
const tokenEncoder = new GzipTokenEncoder()
const responseKey = NobleP256SigningKey.generate()
const accessKey = NobleP256SigningKey.generate()

function fixture() {
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
  return { server, accessVerifier }
}

async function clientsFor(app: FastifyInstance, prefix = '') {
  return clientsOver(
    {
      async sendRequest(path, message) {
        const url = path === '/foo/bar' || path === '/bad/nonce' ? path : prefix + path
        const headers = { 'content-type': 'application/json' }
        return (await app.inject({ method: 'POST', url, payload: message, headers })).body
      },
    },
    await responseKey.public(),
  )
}

/** Clients over `app` that also record what each access route answered on the wire. */
async function recordingClients(app: FastifyInstance, route: string) {
  const sent: string[] = []
  const answers: { status: number; body: unknown }[] = []
  const factory = clientsOver(
    {
      async sendRequest(path, message) {
        const headers = { 'content-type': 'application/json' }
        const response = await app.inject({ method: 'POST', url: path, payload: message, headers })
        if (path === route) {
          sent.push(message)
          answers.push({ status: response.statusCode, body: response.json() })
        }
        return response.body
      },
    },
    await responseKey.public(),
  )
  const client = factory.newClient()
  await client.createAccount(await hasher.sum('recovery'))
  await client.createSession()
  return { client, sent, answers }
}

describe('@better-auth/fastify', () => {
  it('mounts every protocol route under a prefix and serves the response key', async () => {
    const app = Fastify()
    await app.register(betterAuth, { ...fixture(), prefix: '/auth' })
    const routes = app.printRoutes({ commonPrefix: false })
    for (const { path } of Object.values(protocols)) expect(routes).toContain(`/auth${path} (POST)`)
    const key = await app.inject({ method: 'GET', url: '/auth/key/response' })
    expect(key.body).toBe(await responseKey.public())
    expect(key.headers['content-type']).toMatch(/^text\/plain/)
    await app.close()
  })

  it('serves the key set document when given one, read at each request', async () => {
    const app = Fastify()
    let document = '{"chain":[],"keys":[]}'
    await app.register(betterAuth, { ...fixture(), keySet: () => document, keySetPath: '/keys' })
    expect((await app.inject({ method: 'GET', url: '/keys' })).body).toBe(document)
    document = '{"chain":["x"],"keys":[]}'
    const answer = await app.inject({ method: 'GET', url: '/keys' })
    expect(answer.body).toBe(document)
    expect(answer.headers['content-type']).toMatch(/^application\/json/)
    await app.close()
  })

  it('hands access routes the verified request and token, and signs what they return', async () => {
    const app = Fastify()
    await app.register(betterAuth, fixture())
    const seen: JsonValue[] = []
    app.post('/foo/bar', { config: { betterAuth: 'access' } }, (request) => {
      const access = request.betterAuth!
      seen.push(access.request, access.token.attributes)
      const data = access.request as { foo: string; bar: string }
      return { wasFoo: data.foo, wasBar: data.bar }
    })
    await scenarios[0]!.run(await clientsFor(app))
    expect(seen).toEqual([{ foo: 'bar', bar: 'foo' }, {}])
    await app.close()
  })

  it('verifies before validation: body schemas and hooks see the verified request', async () => {
    const app = Fastify()
    await app.register(betterAuth, fixture())
    const hookSaw: unknown[] = []
    app.post(
      '/orders',
      {
        config: { betterAuth: 'access' },
        schema: {
          body: {
            type: 'object',
            required: ['item'],
            properties: { item: { type: 'string' }, count: { type: 'integer', minimum: 1 } },
            additionalProperties: false,
          },
        },
        preValidation: (request, _reply, done) => {
          hookSaw.push(['preValidation', request.betterAuth?.nonce !== undefined])
          done()
        },
        preHandler: async (request, reply) => {
          hookSaw.push(['preHandler', request.body])
          if ((request.body as { item: string }).item === 'forbidden') {
            await reply.code(403).send({ refused: true })
          }
        },
      },
      (request) => ({ ordered: request.body as JsonValue }),
    )
    const { client, answers } = await recordingClients(app, '/orders')

    expect(await client.makeAccessRequest('/orders', { item: 'tea', count: 2 })).toEqual({
      ordered: { item: 'tea', count: 2 },
    })
    expect(hookSaw).toEqual([
      ['preValidation', true],
      ['preHandler', { item: 'tea', count: 2 }],
    ])
    // The schema applies to the application payload, not to the envelope around it.
    await expect(client.makeAccessRequest('/orders', { count: 0 })).rejects.toThrow()
    // A preHandler hook still decides: its reply goes out as sent, unsigned.
    await expect(client.makeAccessRequest('/orders', { item: 'forbidden' })).rejects.toThrow()
    expect(hookSaw.at(-1)).toEqual(['preHandler', { item: 'forbidden' }])
    expect(answers.map((answer) => answer.status)).toEqual([200, 400, 403])
    expect(answers[2]!.body).toEqual({ refused: true })
    await app.close()
  })

  it("gives the application's own preValidation hooks the verified request, not fastify's stand-in", async () => {
    const app = Fastify()
    await app.register(betterAuth, fixture())
    const saw: unknown[] = []
    // Hooks of the app and of a child context run before a route's own hooks.
    app.addHook('preValidation', (request, _reply, done) => {
      if (request.url === '/orders') saw.push(['app', request.body])
      done()
    })
    await app.register((child, _options, done) => {
      child.addHook('preValidation', async (request) => {
        saw.push(['child', request.body])
        await Promise.resolve()
      })
      child.post('/orders', { config: { betterAuth: 'access' } }, (request) => ({
        ordered: request.body as JsonValue,
      }))
      done()
    })
    app.post('/plain', (request) => ({ plain: request.body as JsonValue }))
    const { client } = await recordingClients(app, '/orders')
    expect(await client.makeAccessRequest('/orders', { item: 'tea' })).toEqual({
      ordered: { item: 'tea' },
    })
    expect(saw).toEqual([
      ['app', { item: 'tea' }],
      ['child', { item: 'tea' }],
    ])
    // The application's other routes keep what fastify parsed.
    const plain = await app.inject({ method: 'POST', url: '/plain', payload: { n: 1 } })
    expect(plain.json()).toEqual({ plain: { n: 1 } })
    await app.close()
  })

  it('answers 400 to a schema violation and 401 to a forgery, never running the handler', async () => {
    const app = Fastify()
    await app.register(betterAuth, fixture())
    let ran = 0
    app.post(
      '/orders',
      {
        config: { betterAuth: 'access' },
        schema: { body: { type: 'object', required: ['item'] } },
      },
      () => {
        ran++
        return {}
      },
    )
    const { client, sent, answers } = await recordingClients(app, '/orders')
    await expect(client.makeAccessRequest('/orders', { other: 1 })).rejects.toThrow()
    expect(answers).toEqual([
      { status: 400, body: { error: expect.objectContaining({ code: 'BA101' }) as unknown } },
    ])
    const invalid = await app.inject({
      method: 'POST',
      url: '/orders',
      payload: sent[0]!.replace('"other":1', '"other":2'),
      headers: { 'content-type': 'application/json' },
    })
    expect(invalid.statusCode).toBe(401)
    expect(invalid.json()).toMatchObject({ error: { code: 'BA201' } })
    expect(ran).toBe(0)
    await app.close()
  })

  it.each([
    ['before register', 'before'],
    ['after register without await', 'unawaited'],
  ])(
    'refuses an access route declared %s instead of serving it unverified',
    async (_name, when) => {
      const app = Fastify()
      let ran = 0
      const declare = () =>
        app.post('/early', { config: { betterAuth: 'access' } }, () => {
          ran++
          return { served: true }
        })
      if (when === 'before') declare()
      const registering = app.register(betterAuth, fixture())
      if (when === 'unawaited') declare()
      await registering
      const response = await app.inject({
        method: 'POST',
        url: '/early',
        payload: '{"payload":{}}',
        headers: { 'content-type': 'application/json' },
      })
      expect(response.statusCode).toBe(500)
      expect(response.json()).toMatchObject({ code: 'BA001' })
      expect(response.body).toContain('declared before @better-auth/fastify loaded')
      expect(ran).toBe(0)
      await app.close()
    },
  )

  it('answers null for a handler that returns nothing, signed like any response', async () => {
    const app = Fastify()
    await app.register(betterAuth, fixture())
    app.post('/fire', { config: { betterAuth: 'access' } }, async () => {
      await Promise.resolve()
    })
    const { client, answers } = await recordingClients(app, '/fire')
    expect(await client.makeAccessRequest('/fire', { go: true })).toBeNull()
    expect(answers).toEqual([
      {
        status: 200,
        body: expect.objectContaining({
          payload: expect.objectContaining({ response: null }) as unknown,
        }) as unknown,
      },
    ])
    await app.close()
  })

  it('leaves the application routes and their JSON parsing alone', async () => {
    const app = Fastify()
    await app.register(betterAuth, fixture())
    app.post('/plain', (request) => ({
      echoed: request.body as JsonValue,
      auth: request.betterAuth,
    }))
    const response = await app.inject({ method: 'POST', url: '/plain', payload: { a: 1 } })
    expect(response.json()).toEqual({ echoed: { a: 1 }, auth: null })
    await app.close()
  })

  it('answers 413 to an oversized access request and keeps serving access routes', async () => {
    const app = Fastify()
    await app.register(betterAuth, { ...fixture(), bodyLimit: 1024 })
    app.post('/foo/bar', { config: { betterAuth: 'access' } }, () => ({ wasFoo: 1, wasBar: 2 }))
    const big = await app.inject({
      method: 'POST',
      url: '/foo/bar',
      payload: `{"payload":"${'x'.repeat(2048)}"}`,
      headers: { 'content-type': 'application/json' },
    })
    expect(big.statusCode).toBe(413)
    expect(big.json()).toMatchObject({ error: { code: 'BA101' } })
    const bad = await app.inject({
      method: 'POST',
      url: '/foo/bar',
      payload: '{"payload":{}}',
      headers: { 'content-type': 'application/json' },
    })
    expect(bad.statusCode).toBe(400)
    expect(bad.json()).toMatchObject({ error: { code: 'BA101' } })
    await app.close()
  })

  it('refuses an access route when no access verifier is configured', async () => {
    const app = Fastify()
    await app.register(betterAuth, { server: fixture().server })
    await expect(async () => {
      app.post('/foo/bar', { config: { betterAuth: 'access' } }, () => ({}))
      await app.ready()
    }).rejects.toMatchObject({ code: 'BA001' })
    await app.close().catch(() => undefined)
  })

  it.each([
    ['no server', {}, 'server'],
    ['a bad prefix', { prefix: 'auth/' }, 'prefix'],
    ['a bad body limit', { bodyLimit: -1 }, 'bodyLimit'],
    ['a bad key path', { responseKeyPath: 'key' }, 'responseKeyPath'],
  ])('rejects %s at register time', async (_name, options, field) => {
    const app = Fastify()
    const merged = { ...fixture(), ...options } as BetterAuthPluginOptions
    if (field === 'server') delete (merged as { server?: unknown }).server
    await expect(app.register(betterAuth, merged).ready()).rejects.toMatchObject({
      code: 'BA001',
      context: { field },
    })
  })

  it('does not mutate the options passed in', async () => {
    const options = Object.freeze({ ...fixture(), prefix: '/auth', paths: Object.freeze({}) })
    const app = Fastify()
    await app.register(betterAuth, options)
    await app.ready()
    expect(Object.keys(options).sort()).toEqual(['accessVerifier', 'paths', 'prefix', 'server'])
    await app.close()
  })

  it('keeps answering after malformed and oversized bodies', async () => {
    const app = Fastify()
    await app.register(betterAuth, { ...fixture(), bodyLimit: 1024 })
    const big = await app.inject({
      method: 'POST',
      url: '/device/rotate',
      payload: 'x'.repeat(2048),
    })
    expect(big.statusCode).toBe(413)
    expect(big.json()).toMatchObject({ error: { code: 'BA101' } })
    const bad = await app.inject({ method: 'POST', url: '/device/rotate', payload: '{' })
    expect(bad.statusCode).toBe(400)
    const client = (await clientsFor(app)).newClient()
    await client.createAccount(await hasher.sum('recovery'))
    await client.rotateDevice()
    await client.createSession()
    await app.close()
  })
})
