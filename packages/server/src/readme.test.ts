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
  parseAccessRequest,
  parseAccessResponse,
  protocols,
  verificationKey,
  verifyEnvelope,
  type ProtocolName,
} from '@better-auth/protocol'
import { describe, expect, it } from 'vitest'

// The examples of README.md, against the package entry ('@better-auth/server' is ./index.ts).
import {
  AccessVerifier,
  BetterAuthServer,
  DEFAULT_EXPIRY,
  StaticVerificationKeyStore,
  errorResponse,
  memoryServerStores,
} from './index.js'
import { clientOptions, createStores } from './testing-internal/client-world.js'

/** The README's quick start. The only change: a clock the test can move, for expiry. */
function quickStart(clock: () => number) {
  const hasher = new Blake3Hasher()
  const verifier = new NodeP256Verifier()
  const timestamper = new Rfc3339Timestamper({ clock })
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
    attributes: () => ({ permissionsByRole: { user: ['read'] } }),
  })

  const accessVerifier = new AccessVerifier({
    crypto: { verifier },
    encoding: { timestamper, tokenEncoder },
    stores: {
      accessNonce: stores.accessNonce,
      accessVerificationKeys: new StaticVerificationKeyStore([accessKey]),
    },
  })

  const protocolByPath = new Map(
    (Object.keys(protocols) as ProtocolName[]).map((name) => [protocols[name].path, name]),
  )

  async function handle(path: string, body: string): Promise<string> {
    try {
      const protocol = protocolByPath.get(path)
      if (protocol !== undefined) return await server.handle(protocol, body)
      if (path === '/orders') {
        const { request, token, nonce } = await accessVerifier.verify<{ item: string }>(body)
        return await server.accessResponse(nonce, { ordered: request.item, for: token.identity })
      }
      throw new InvalidMessageError('path', 'no such route')
    } catch (error) {
      return errorResponse(error)
    }
  }

  // The README's opt-in revocation check: the same verifier with `stores.devices`.
  const liveAccessVerifier = new AccessVerifier({
    crypto: { verifier },
    encoding: { timestamper, tokenEncoder },
    stores: {
      accessNonce: stores.accessNonce,
      accessVerificationKeys: new StaticVerificationKeyStore([accessKey]),
      devices: stores.authenticationKey,
    },
  })

  return { server, accessVerifier, liveAccessVerifier, stores, handle, verifier }
}

type App = ReturnType<typeof quickStart>

/** A client over `app.handle` that pins the response key, recording what went over the wire. */
async function clientOf(
  app: App,
  clock: () => number,
  extraRoutes: Record<string, (body: string) => Promise<string>> = {},
) {
  const wire: { path: string; request: string; response: string }[] = []
  const network: Network = {
    async sendRequest(path, request) {
      const route = extraRoutes[path]
      const response = await (route === undefined ? app.handle(path, request) : route(request))
      wire.push({ path, request, response })
      return response
    },
  }
  const hasher = new Blake3Hasher()
  const stores = createStores()
  await stores.responseKeys.add(verificationKey(await app.server.responsePublicKey(), app.verifier))
  const client = new BetterAuthClient(
    clientOptions(network, stores, new Rfc3339Timestamper({ clock })),
  )
  const recoveryKey = NodeP256SigningKey.generate()
  const ids = await client.createAccount(await hasher.sum(await recoveryKey.public()))
  const last = (path: string) => wire.filter((entry) => entry.path === path).at(-1)!
  return { client, ...ids, last }
}

function codeOf(body: string): string {
  const parsed = JSON.parse(body) as { error?: { code: string }; payload?: unknown }
  expect(parsed).not.toHaveProperty('payload')
  return parsed.error?.code ?? 'no error'
}

describe('README: quick start', () => {
  it('serves a client end to end, with responses the client verifies', async () => {
    const app = quickStart(Date.now)
    const { client, identity, last } = await clientOf(app, Date.now)
    await client.rotateDevice()
    await client.createSession()
    expect(await client.makeAccessRequest('/orders', { item: 'book' })).toEqual({
      ordered: 'book',
      for: identity,
    })
    await client.refreshSession()
    expect(await client.makeAccessRequest('/orders', { item: 'pen' })).toEqual({
      ordered: 'pen',
      for: identity,
    })

    // The access response is signed by the response key and echoes the request nonce.
    const { request, response } = last('/orders')
    const envelope = parseAccessResponse(response)
    await verifyEnvelope(envelope, app.verifier, await app.server.responsePublicKey(), 'response')
    expect(envelope.payload.access.nonce).toBe(parseAccessRequest(request).payload.access.nonce)
    expect(envelope.payload.access.serverIdentity).toBe(await app.server.responsePublicKey())
  })

  it('answers malformed messages and unknown paths with a BA101 error body', async () => {
    const app = quickStart(Date.now)
    expect(codeOf(await app.handle('/device/rotate', '{"payload":{}}'))).toBe('BA101')
    expect(codeOf(await app.handle('/orders', 'not json'))).toBe('BA101')
    expect(JSON.parse(await app.handle('/nowhere', '{}'))).toEqual({
      error: { code: 'BA101', message: 'Invalid message: path: no such route' },
    })
  })

  it('refuses a replayed access request (BA205) and a replayed rotation (BA104)', async () => {
    const app = quickStart(Date.now)
    const { client, last } = await clientOf(app, Date.now)
    await client.rotateDevice()
    expect(codeOf(await app.handle('/device/rotate', last('/device/rotate').request))).toBe('BA104')
    await client.createSession()
    await client.makeAccessRequest('/orders', { item: 'book' })
    expect(codeOf(await app.handle('/orders', last('/orders').request))).toBe('BA205')
  })

  it('hides unexpected failures behind BA000', () => {
    expect(JSON.parse(errorResponse(new TypeError('x at /srv/app.js:1')))).toEqual({
      error: { code: 'BA000', message: 'Internal error' },
    })
  })
})

describe('README: security notes, revocation', () => {
  it('keeps access tokens valid until expiry after a revocation, refuses refresh at once', async () => {
    let now = Date.now()
    const clock = () => now
    const app = quickStart(clock)

    // The README's opt-in liveness check (`stores.devices`), on a route of its own.
    const live = async (body: string): Promise<string> => {
      try {
        const verified = await app.liveAccessVerifier.verify<{ item: string }>(body)
        const { request, token, nonce } = verified
        return await app.server.accessResponse(nonce, {
          ordered: request.item,
          for: token.identity,
        })
      } catch (error) {
        return errorResponse(error)
      }
    }
    const { client, identity, device } = await clientOf(app, clock, { '/live/orders': live })
    await client.createSession()
    expect(await client.makeAccessRequest('/live/orders', { item: 'book' })).toEqual({
      ordered: 'book',
      for: identity,
    })

    await app.stores.authenticationKey.revokeDevice(identity, device)

    // Stateless verification: the token still works until it expires…
    expect(await client.makeAccessRequest('/orders', { item: 'pen' })).toEqual({
      ordered: 'pen',
      for: identity,
    })
    // …unless the verifier checks device liveness (`stores.devices`).
    await expect(client.makeAccessRequest('/live/orders', { item: 'pen' })).rejects.toMatchObject({
      code: 'BA103',
    })
    // Refresh is refused at once.
    await expect(client.refreshSession()).rejects.toMatchObject({ code: 'BA103' })
    // Once the access lifetime has passed, the token is refused everywhere.
    now += DEFAULT_EXPIRY.accessMs + 1
    await expect(client.makeAccessRequest('/orders', { item: 'pen' })).rejects.toMatchObject({
      code: 'BA401',
    })
  })
})

describe('README: options', () => {
  it('names the bad option in a ConfigurationError', () => {
    const app = quickStart(Date.now)
    expect(app.server.expiry).toEqual({ ...DEFAULT_EXPIRY, accessNonceLockMs: 35_000 })
    expect(
      () =>
        new AccessVerifier({
          crypto: { verifier: app.verifier },
          encoding: {
            timestamper: new Rfc3339Timestamper(),
            tokenEncoder: new NodeGzipTokenEncoder(),
          },
          stores: {
            accessNonce: app.stores.accessNonce,
            accessVerificationKeys: new StaticVerificationKeyStore([]),
          },
          expiry: { accessWindowMs: 30_000, clockSkewMs: 5_000, accessNonceLockMs: 1_000 },
        }),
    ).toThrow(
      expect.objectContaining({
        code: 'BA001',
        context: expect.objectContaining({ field: 'expiry.accessNonceLockMs' }),
      }),
    )
  })
})
