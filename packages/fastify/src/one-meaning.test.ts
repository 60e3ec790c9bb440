import {
  Blake3Hasher,
  DefaultIdentityVerifier,
  GzipTokenEncoder,
  NobleP256SigningKey,
  Rfc3339Timestamper,
  SecureNoncer,
  WebCryptoP256Verifier,
} from '@better-auth/crypto'
import { encodeAccessToken, signPayloadText, type JsonValue } from '@better-auth/protocol'
import {
  AccessVerifier,
  BetterAuthServer,
  StaticVerificationKeyStore,
  memoryServerStores,
} from '@better-auth/server'
import Fastify from 'fastify'
import { describe, expect, it } from 'vitest'
import { betterAuth } from './index.js'

// Over HTTP, what the server acts on must be exactly what was signed: bytes that are not UTF-8,
// duplicate keys, nesting beyond the limit and numbers a double cannot hold are answered 400 BA101
// before the handler runs, and the refused request's nonce still works afterwards.

const hasher = new Blake3Hasher()
const verifier = new WebCryptoP256Verifier()
const timestamper = new Rfc3339Timestamper()
const tokenEncoder = new GzipTokenEncoder()
const noncer = new SecureNoncer()
const responseKey = NobleP256SigningKey.generate()
const accessKey = NobleP256SigningKey.generate()
const clientKey = NobleP256SigningKey.generate()

async function app() {
  const stores = memoryServerStores()
  const server = new BetterAuthServer({
    crypto: { hasher, noncer, verifier, keyPairs: { response: responseKey, access: accessKey } },
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
  const fastify = Fastify()
  await fastify.register(betterAuth, { server, accessVerifier })
  const seen: unknown[] = []
  fastify.post('/orders', { config: { betterAuth: 'access' } }, (request) => {
    seen.push(request.body)
    return { ok: true }
  })
  fastify.post('/ledger', { config: { betterAuth: 'access-text' } }, (request) => {
    seen.push(request.body)
    return { received: request.body as string }
  })
  await fastify.ready()
  const post = (url: string, payload: string | Buffer) =>
    fastify.inject({
      method: 'POST',
      url,
      payload,
      headers: { 'content-type': 'application/json' },
    })
  return { fastify, post, seen }
}

const now = Date.now()
const token = await encodeAccessToken(
  {
    serverIdentity: await accessKey.public(),
    device: await hasher.sum('device'),
    identity: await hasher.sum('identity'),
    publicKey: await clientKey.public(),
    rotationHash: await hasher.sum('next'),
    issuedAt: new Date(now).toISOString(),
    expiry: new Date(now + 15 * 60_000).toISOString(),
    refreshExpiry: new Date(now + 12 * 3_600_000).toISOString(),
    attributes: {},
  },
  accessKey,
  tokenEncoder,
)

function access(nonce: string): string {
  return `{"nonce":"${nonce}","timestamp":"${new Date().toISOString()}","token":"${token}"}`
}

const sign = (payloadText: string) => signPayloadText(clientKey, payloadText)

function codeOf(body: string): JsonValue {
  return (JSON.parse(body) as { error?: { code: string } }).error?.code ?? 'ok'
}

describe('@better-auth/fastify: one signature, one meaning', () => {
  it('refuses bytes that are not UTF-8 on an access route, where they used to become U+FFFD', async () => {
    const { fastify, post, seen } = await app()
    const nonce = await noncer.generate128()
    // Signed over U+FFFD, sent with the invalid byte 0xC3 in its place: a decoder that repairs
    // bytes would verify a signature over bytes that were never sent.
    const message = await sign(`{"access":${access(nonce)},"request":{"name":"\ufffd("}}`)
    const bytes = Buffer.from(message.replace('\ufffd(', 'INVALID'))
    const at = bytes.indexOf('INVALID')
    const sent = Buffer.concat([
      bytes.subarray(0, at),
      Buffer.from([0xc3, 0x28]),
      bytes.subarray(at + 7),
    ])
    const refused = await post('/orders', sent)
    expect(refused.statusCode).toBe(400)
    expect(codeOf(refused.body)).toBe('BA101')
    expect(refused.body).toMatch(/UTF-8/)
    expect(seen).toEqual([])
    const valid = await post('/orders', await sign(`{"access":${access(nonce)},"request":{}}`))
    expect(valid.statusCode).toBe(200)
    await fastify.close()
  })

  it('refuses bytes that are not UTF-8 on a protocol route', async () => {
    const { fastify, post } = await app()
    const identity = await hasher.sum('identity')
    const text = `{"payload":{"access":{"nonce":"${await noncer.generate128()}"},"request":{"authentication":{"identity":"${identity}"}}}}`
    const response = await post(
      '/session/request',
      Buffer.concat([Buffer.from(text), Buffer.from([0xff])]),
    )
    expect(response.statusCode).toBe(400)
    expect(codeOf(response.body)).toBe('BA101')
    expect(response.body).toMatch(/UTF-8/)
    expect((await post('/session/request', text)).statusCode).toBe(200)
    await fastify.close()
  })

  it.each([
    [
      'two nonces',
      (nonce: string) =>
        `{"access":${access(nonce).replace('{', `{"nonce":"${nonce}",`)},"request":{}}`,
    ],
    [
      'two tokens',
      (nonce: string) =>
        `{"access":${access(nonce).replace('{', `{"token":"${token}",`)},"request":{}}`,
    ],
    [
      'two timestamps',
      (nonce: string) =>
        `{"access":${access(nonce).replace('{', `{"timestamp":"${new Date().toISOString()}",`)},"request":{}}`,
    ],
    [
      'two request members',
      (nonce: string) => `{"access":${access(nonce)},"request":{"qty":1},"request":{"qty":100}}`,
    ],
    [
      'a duplicate key in the data',
      (nonce: string) => `{"access":${access(nonce)},"request":{"qty":1,"qty":100}}`,
    ],
    [
      '20 000 nested arrays',
      (nonce: string) =>
        `{"access":${access(nonce)},"request":${'['.repeat(20_000)}${']'.repeat(20_000)}}`,
    ],
    [
      'an integer a double cannot hold',
      (nonce: string) => `{"access":${access(nonce)},"request":{"id":9007199254740993}}`,
    ],
    [
      'a decimal that does not read back as itself',
      (nonce: string) => `{"access":${access(nonce)},"request":{"price":0.30000000000000001}}`,
    ],
  ])('%s: 400 BA101, the handler never runs, the nonce is not spent', async (_name, payload) => {
    const { fastify, post, seen } = await app()
    const nonce = await noncer.generate128()
    const refused = await post('/orders', await sign(payload(nonce)))
    expect(refused.statusCode).toBe(400)
    expect(codeOf(refused.body)).toBe('BA101')
    expect(seen).toEqual([])
    const valid = await post(
      '/orders',
      await sign(`{"access":${access(nonce)},"request":{"qty":1}}`),
    )
    expect(valid.statusCode).toBe(200)
    expect(seen).toEqual([{ qty: 1 }])
    await fastify.close()
  })

  it("hands an 'access-text' route the exact text of its data, numbers unchecked", async () => {
    const { fastify, post, seen } = await app()
    const data = '{"id": 9007199254740993, "price": 0.30000000000000001}'
    const message = await sign(`{"access":${access(await noncer.generate128())},"request":${data}}`)
    expect((await post('/orders', message)).statusCode).toBe(400)
    const response = await post('/ledger', message)
    expect(response.statusCode).toBe(200)
    expect(seen).toEqual([data])
    expect(response.body).toContain(JSON.stringify({ received: data }))
    // Duplicates stay refused on raw-text routes.
    const twice = await sign(
      `{"access":${access(await noncer.generate128())},"request":{"id":1,"id":2}}`,
    )
    expect((await post('/ledger', twice)).statusCode).toBe(400)
    await fastify.close()
  })

  it('refuses an unknown betterAuth route mode when the route is declared', async () => {
    const fastify = Fastify()
    const stores = memoryServerStores()
    const accessVerifier = new AccessVerifier({
      crypto: { verifier },
      encoding: { timestamper, tokenEncoder },
      stores: {
        accessNonce: stores.accessNonce,
        accessVerificationKeys: new StaticVerificationKeyStore([accessKey]),
      },
    })
    const server = new BetterAuthServer({
      crypto: { hasher, noncer, verifier, keyPairs: { response: responseKey, access: accessKey } },
      encoding: {
        timestamper,
        tokenEncoder,
        identityVerifier: new DefaultIdentityVerifier(hasher),
      },
      stores,
    })
    await fastify.register(betterAuth, { server, accessVerifier })
    // A misspelt mode must not leave the route unverified.
    expect(() =>
      fastify.post('/typo', { config: { betterAuth: 'acess' as 'access' } }, () => null),
    ).toThrow(/betterAuth/)
    await fastify.close()
  })
})
