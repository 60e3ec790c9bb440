import { Blake3Hasher } from '@better-auth/crypto'
import { NodeP256SigningKey, NodeP256Verifier } from '@better-auth/crypto/node'
import { ChainFile, FileKeyVault, KeyChainOperator } from '@better-auth/keys'
import { NobleP256SigningKey } from '@better-auth/crypto'
import {
  verifyEndorsement,
  verifyKeyChain,
  type EndorseRequest,
} from '@better-auth/protocol/key-chain'
import { memoryServerStores } from '@better-auth/server'
import { mkdtemp, rm } from 'node:fs/promises'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Registry } from 'prom-client'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { buildApp } from '../src/app.js'
import { ENDORSE_BODY_LIMIT, EndorsementRoute, RemoteEndorser } from '../src/endorsement.js'
import { buildServer, type Framework } from '../src/frameworks.js'

const crypto = { hasher: new Blake3Hasher(), verifier: new NodeP256Verifier() }
// Two application services, each with its own credential; a third one's was revoked (removed).
const CREDENTIAL = 'c'.repeat(40)
const BILLING = 'b'.repeat(40)
const REVOKED = 'r'.repeat(40)
const HOUR = 3_600_000

let dir: string
let operator: KeyChainOperator
let route: EndorsementRoute
let publicKey: string
/** Every request the route passed on to the endorser (which reads the chain and the root key). */
let endorsed: EndorseRequest[]
let metrics: Registry

/** The endorsements counted for each service. */
async function countedFor(): Promise<Record<string, number>> {
  const counted: Record<string, number> = {}
  const metric = await metrics.getSingleMetric('better_auth_endorsements_total')?.get()
  for (const { labels, value } of metric?.values ?? []) counted[String(labels.service)] = value
  return counted
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'better-auth-endorse-'))
  operator = new KeyChainOperator({
    chain: new ChainFile(join(dir, 'chain.json')),
    vault: new FileKeyVault(join(dir, 'private')),
  })
  await operator.init()
  endorsed = []
  metrics = new Registry()
  route = new EndorsementRoute({
    credentials: { orders: CREDENTIAL, billing: BILLING },
    metrics,
    endorser: {
      events: () => operator.events(),
      endorse: (request) => {
        endorsed.push(request)
        return operator.endorse(request)
      },
    },
    maxWindowMs: 2 * HOUR,
    clockSkewMs: 60_000,
  })
  publicKey = await NodeP256SigningKey.generate().public()
})

afterEach(() => rm(dir, { recursive: true, force: true }))

const request = (fields: Record<string, unknown> = {}) =>
  JSON.stringify({
    purpose: 'response',
    publicKey,
    notBefore: new Date(Date.now() - 60_000).toISOString(),
    notAfter: new Date(Date.now() + HOUR).toISOString(),
    ...fields,
  })

const refusal = async (authorization: string | undefined, body: string) => {
  let read = false
  const answer = await route.handle(authorization, () => {
    read = true
    return Promise.resolve(body)
  })
  return {
    status: answer.status,
    code: (JSON.parse(answer.body) as { error: { code: string } }).error.code,
    read,
  }
}

describe('the endorsement route', () => {
  it('endorses a response key and answers the chain it is signed under', async () => {
    const answer = await route.handle(`Bearer ${CREDENTIAL}`, () => Promise.resolve(request()))
    expect(answer.status).toBe(200)
    const { endorsement, chain } = JSON.parse(answer.body) as {
      endorsement: string
      chain: string[]
    }
    const verified = await verifyEndorsement(
      endorsement,
      await verifyKeyChain(chain, crypto),
      crypto.verifier,
    )
    expect(verified.endorsement).toMatchObject({ purpose: 'response', publicKey })
    expect(await countedFor()).toEqual({ orders: 1 })
  })

  it('tells the services apart, counts each, and refuses a revoked one', async () => {
    const ask = (credential: string) =>
      route.handle(`Bearer ${credential}`, () => Promise.resolve(request()))
    expect((await ask(BILLING)).status).toBe(200)
    expect((await ask(CREDENTIAL)).status).toBe(200)
    expect((await ask(BILLING)).status).toBe(200)
    expect(await countedFor()).toEqual({ orders: 1, billing: 2 })
    expect(await refusal(`Bearer ${REVOKED}`, request())).toEqual({
      status: 403,
      code: 'BA304',
      read: false,
    })
    // Another service's secret with a byte changed, or cut short, is no credential either.
    for (const near of [BILLING.slice(0, -1) + 'c', BILLING.slice(0, 32), `${BILLING}b`]) {
      expect(await refusal(`Bearer ${near}`, request())).toMatchObject({ code: 'BA304' })
    }
    expect(endorsed).toHaveLength(3)
  })

  it.each([
    [{}, 'must name at least one credential'],
    [{ orders: 'short' }, 'at least 32 characters'],
    [{ orders: CREDENTIAL, billing: CREDENTIAL }, 'gives one secret to two names'],
  ])('refuses the credentials %j at construction', (credentials, message) => {
    expect(
      () =>
        new EndorsementRoute({
          credentials,
          endorser: operator,
          maxWindowMs: HOUR,
          clockSkewMs: 60_000,
        }),
    ).toThrow(message)
  })

  it('refuses a stranger before reading the body', async () => {
    expect(await refusal(undefined, request())).toEqual({ status: 401, code: 'BA303', read: false })
    expect(await refusal(`Basic ${CREDENTIAL}`, request())).toMatchObject({ code: 'BA303' })
    expect(await refusal(`Bearer ${'d'.repeat(40)}`, request())).toEqual({
      status: 403,
      code: 'BA304',
      read: false,
    })
  })

  it.each([
    ['an access key: that would mint tokens', { purpose: 'access' }],
    [
      'a window longer than the service endorses',
      { notAfter: new Date(Date.now() + 3 * HOUR).toISOString() },
    ],
    ['a window starting long ago', { notBefore: new Date(Date.now() - HOUR).toISOString() }],
    [
      'a window that ends before it starts',
      { notAfter: new Date(Date.now() - 1000).toISOString() },
    ],
    ['a time that is not one', { notBefore: 'yesterday' }],
    // Readable by Date, in the window, but not the one spelling an endorsement carries.
    ['a time in another spelling', { notBefore: new Date(Date.now() - 1000).toUTCString() }],
    [
      'a time that rolls over',
      { notAfter: `${new Date().getUTCFullYear() + 1}-02-30T00:00:00.000Z` },
    ],
    ['a key that is not one', { publicKey: 'not a key' }],
    ['a key that is not a string', { publicKey: 42 }],
  ])('refuses %s (BA101) before the endorser is asked', async (_name, fields) => {
    expect(await refusal(`Bearer ${CREDENTIAL}`, request(fields))).toMatchObject({
      status: 400,
      code: 'BA101',
    })
    expect(endorsed).toEqual([])
  })

  it.each(['{', '[]', 'null', '"response"'])('refuses the body %s (BA101)', async (body) => {
    expect(await refusal(`Bearer ${CREDENTIAL}`, body)).toMatchObject({
      status: 400,
      code: 'BA101',
    })
    expect(endorsed).toEqual([])
  })
})

describe('RemoteEndorser', () => {
  const served = (): typeof fetch => async (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input))
    if (url.pathname === '/key/set') {
      return new Response(JSON.stringify({ chain: await operator.events(), keys: [] }))
    }
    const headers = new Headers(init?.headers)
    const answer = await route.handle(headers.get('authorization') ?? undefined, () =>
      Promise.resolve(init?.body as string),
    )
    return new Response(answer.body, { status: answer.status })
  }

  it('has response keys endorsed by the auth service, and refuses another chain', async () => {
    const { prefix } = await operator.show()
    const remote = new RemoteEndorser({
      authUrl: 'http://auth.test',
      credential: CREDENTIAL,
      prefix,
      crypto,
      fetch: served(),
    })
    expect(await remote.events()).toEqual(await operator.events())
    const notBefore = new Date(Date.now() - 1000)
    const text = await remote.endorse({
      purpose: 'response',
      publicKey,
      notBefore,
      notAfter: new Date(Date.now() + HOUR),
    })
    expect(
      (await verifyEndorsement(text, await operator.show(), crypto.verifier)).endorsement.publicKey,
    ).toBe(publicKey)
    // The auth service's refusal arrives as its error class.
    await expect(
      remote.endorse({
        purpose: 'access',
        publicKey,
        notBefore,
        notAfter: new Date(Date.now() + HOUR),
      }),
    ).rejects.toMatchObject({ code: 'BA101', context: { remote: true } })
    const pinnedElsewhere = new RemoteEndorser({
      authUrl: 'http://auth.test',
      credential: CREDENTIAL,
      prefix: 'E' + prefix.slice(1, -1) + (prefix.endsWith('A') ? 'B' : 'A'),
      crypto,
      fetch: served(),
    })
    await expect(pinnedElsewhere.events()).rejects.toMatchObject({ code: 'BA701' })
    const wrongCredential = new RemoteEndorser({
      authUrl: 'http://auth.test',
      credential: 'x'.repeat(40),
      prefix,
      crypto,
      fetch: served(),
    })
    await expect(
      wrongCredential.endorse({
        purpose: 'response',
        publicKey,
        notBefore,
        notAfter: new Date(Date.now() + HOUR),
      }),
    ).rejects.toMatchObject({ code: 'BA304' })
  })
})

describe.each<Framework | 'fastify'>(['fastify', 'express', 'hono', 'node'])(
  'POST /key/endorse on %s',
  (framework) => {
    const keys = {
      response: NobleP256SigningKey.generate(),
      access: NobleP256SigningKey.generate(),
    }

    async function listening(): Promise<{ url: string; close: () => Promise<unknown> }> {
      const options = { keys, stores: memoryServerStores(), endorsement: route }
      if (framework === 'fastify') {
        const app = await buildApp(options)
        const url = await app.listen({ host: '127.0.0.1', port: 0 })
        return { url, close: () => app.close() }
      }
      const server = buildServer(framework, options, () => undefined)
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
      return { url, close: () => new Promise((resolve) => server.close(resolve)) }
    }

    it('endorses for the credential, and refuses everything else with a BA code', async () => {
      const { url, close } = await listening()
      const post = async (body: string, headers: Record<string, string> = {}) => {
        const answer = await fetch(`${url}/key/endorse`, {
          method: 'POST',
          body,
          headers: { 'content-type': 'application/json', ...headers },
        })
        const text = await answer.text()
        return {
          status: answer.status,
          code: (JSON.parse(text) as { error?: { code: string } }).error?.code,
        }
      }
      const bearer = { authorization: `Bearer ${CREDENTIAL}` }
      const tooLarge = request({ padding: 'x'.repeat(ENDORSE_BODY_LIMIT) })
      try {
        expect(await post(request(), bearer)).toEqual({ status: 200, code: undefined })
        expect(endorsed).toHaveLength(1)
        // Each service with its own credential; a revoked one is refused like a stranger's.
        const billing = { authorization: `Bearer ${BILLING}` }
        expect(await post(request(), billing)).toEqual({ status: 200, code: undefined })
        expect(await post(request(), { authorization: `Bearer ${REVOKED}` })).toEqual({
          status: 403,
          code: 'BA304',
        })
        expect(await countedFor()).toEqual({ orders: 1, billing: 1 })
        // The credential is checked before the body is read: a stranger's large body is not
        // refused for its size but for the missing credential.
        expect(await post(tooLarge)).toEqual({ status: 401, code: 'BA303' })
        expect(await post(tooLarge, { authorization: `Bearer ${'d'.repeat(40)}` })).toEqual({
          status: 403,
          code: 'BA304',
        })
        expect(await post(tooLarge, bearer)).toEqual({ status: 413, code: 'BA101' })
        expect(await post(request(), { ...bearer, 'content-type': 'application/xml' })).toEqual({
          status: 415,
          code: 'BA101',
        })
        expect(await post(request({ purpose: 'access' }), bearer)).toEqual({
          status: 400,
          code: 'BA101',
        })
        expect(endorsed).toHaveLength(2)
      } finally {
        await close()
      }
    })
  },
)
