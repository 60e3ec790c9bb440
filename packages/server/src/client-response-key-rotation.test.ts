/**
 * @better-auth/client against this server when the server's response key changes between a
 * rotation's request and its response (issue 12): the client keeps the rotation it could not
 * verify, commits nothing, and completes it with resumeUnverified() once the new key is pinned.
 * Here rather than in the client package, which cannot depend on the server (the server's tests
 * already depend on the client).
 */
import {
  BetterAuthClient,
  type MemoryVerificationKeyStore,
  UnverifiedResponseError,
  type Network,
} from '@better-auth/client'
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
  InvalidHashError,
  protocols,
  verificationKey,
  type ProtocolName,
} from '@better-auth/protocol'
import { describe, expect, it } from 'vitest'
import {
  AccessVerifier,
  BetterAuthServer,
  StaticVerificationKeyStore,
  errorResponse,
  memoryServerStores,
} from './index.js'
import { clientOptions, createStores } from './testing-internal/client-world.js'

const hasher = new Blake3Hasher()
const verifier = new NodeP256Verifier()
const timestamper = new Rfc3339Timestamper()
const tokenEncoder = new NodeGzipTokenEncoder()
const protocolByPath = new Map(
  (Object.keys(protocols) as ProtocolName[]).map((name) => [protocols[name].path, name]),
)

/**
 * One deployment whose response key can be replaced: `rotateResponseKey()` swaps in a server
 * over the same stores and access key, as a restart with a new key would.
 */
function deployment() {
  const stores = memoryServerStores()
  const accessKey = NodeP256SigningKey.generate()
  const serverWith = (responseKey: NodeP256SigningKey) =>
    new BetterAuthServer({
      crypto: {
        hasher,
        noncer: new SecureNoncer(),
        verifier,
        keyPairs: { response: responseKey, access: accessKey },
      },
      encoding: {
        timestamper,
        tokenEncoder,
        identityVerifier: new DefaultIdentityVerifier(hasher),
      },
      stores,
    })
  let server = serverWith(NodeP256SigningKey.generate())
  const accessVerifier = new AccessVerifier({
    crypto: { verifier },
    encoding: { timestamper, tokenEncoder },
    stores: {
      accessNonce: stores.accessNonce,
      accessVerificationKeys: new StaticVerificationKeyStore([accessKey]),
    },
  })
  const network: Network = {
    async sendRequest(path, body) {
      try {
        const protocol = protocolByPath.get(path)
        if (protocol !== undefined) return await server.handle(protocol, body)
        if (path === '/whoami') {
          const { token, nonce } = await accessVerifier.verify(body)
          return await server.accessResponse(nonce, { device: token.device })
        }
        throw new InvalidMessageError('path', 'no such route')
      } catch (error) {
        return errorResponse(error)
      }
    },
  }
  return {
    network,
    responsePublicKey: () => server.responsePublicKey(),
    rotateResponseKey() {
      server = serverWith(NodeP256SigningKey.generate())
    },
  }
}

type Deployment = ReturnType<typeof deployment>

async function pin(keys: MemoryVerificationKeyStore, app: Deployment): Promise<void> {
  await keys.add(verificationKey(await app.responsePublicKey(), verifier))
}

async function device(app: Deployment) {
  const stores = createStores()
  const { responseKeys } = stores
  await pin(responseKeys, app)
  const client = new BetterAuthClient(clientOptions(app.network, stores, timestamper))
  const currentKey = async (name: 'authenticationKey' | 'accessKey') =>
    (await stores[name].signer()).public()
  return { client, stores, responseKeys, currentKey }
}

async function newAccount(app: Deployment) {
  const first = await device(app)
  const recoveryKey = NodeP256SigningKey.generate()
  const ids = await first.client.createAccount(await hasher.sum(await recoveryKey.public()))
  await first.client.createSession()
  return { ...first, ...ids }
}

async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => expect.fail('expected a rejection'),
    (error: unknown) => error,
  )
}

describe('the server rotates its response key during a rotation', () => {
  it('rotateDevice: nothing is committed until resumeUnverified(), then the device keeps working', async () => {
    const app = deployment()
    const { client, responseKeys, currentKey, device: id } = await newAccount(app)
    const before = await currentKey('authenticationKey')

    app.rotateResponseKey()
    const error = await rejectionOf(client.rotateDevice())
    expect(error).toBeInstanceOf(UnverifiedResponseError)
    expect(error).toMatchObject({
      code: 'BA803',
      protocol: 'rotateDevice',
      serverIdentity: await app.responsePublicKey(),
    })
    expect(await currentKey('authenticationKey')).toBe(before)
    expect(client.unverifiedRotations()).toEqual([
      { protocol: 'rotateDevice', serverIdentity: await app.responsePublicKey() },
    ])

    // The server did accept it: sending the same rotation again is refused, and changes nothing.
    const retry = await rejectionOf(client.rotateDevice())
    expect(retry).toBeInstanceOf(InvalidHashError)
    expect(retry).toMatchObject({ code: 'BA104' })
    expect(await currentKey('authenticationKey')).toBe(before)

    // Without the new key pinned, resuming verifies nothing and commits nothing.
    expect(await rejectionOf(client.resumeUnverified())).toBeInstanceOf(UnverifiedResponseError)
    expect(await currentKey('authenticationKey')).toBe(before)

    await pin(responseKeys, app)
    expect(await client.resumeUnverified()).toEqual(['rotateDevice'])
    expect(await currentKey('authenticationKey')).not.toBe(before)
    expect(client.unverifiedRotations()).toEqual([])

    await client.rotateDevice()
    await client.createSession()
    await client.refreshSession()
    expect(await client.makeAccessRequest('/whoami', {})).toEqual({ device: id })
  })

  it('refreshSession: the old token keeps working until resumeUnverified() stores the new one', async () => {
    const app = deployment()
    const { client, stores, responseKeys, currentKey, device: id } = await newAccount(app)
    const token = await stores.accessToken.get()
    const before = await currentKey('accessKey')

    app.rotateResponseKey()
    const error = await rejectionOf(client.refreshSession())
    expect(error).toMatchObject({ name: 'UnverifiedResponseError', protocol: 'refreshSession' })
    expect(await stores.accessToken.get()).toBe(token)
    expect(await currentKey('accessKey')).toBe(before)
    // A replay of the spent access key, refused.
    expect(await rejectionOf(client.refreshSession())).toMatchObject({ code: 'BA205' })

    await pin(responseKeys, app)
    expect(await client.resumeUnverified()).toEqual(['refreshSession'])
    expect(await stores.accessToken.get()).not.toBe(token)
    expect(await client.makeAccessRequest('/whoami', {})).toEqual({ device: id })
    await client.refreshSession()
  })

  it('linkDevice: resuming commits the link, and both devices keep working', async () => {
    const app = deployment()
    const original = await newAccount(app)
    const added = await device(app)
    const container = await added.client.generateLinkContainer(original.identity)

    app.rotateResponseKey()
    await expect(original.client.linkDevice(container)).rejects.toBeInstanceOf(
      UnverifiedResponseError,
    )
    await pin(original.responseKeys, app)
    await pin(added.responseKeys, app)
    expect(await original.client.resumeUnverified()).toEqual(['linkDevice'])

    await original.client.rotateDevice()
    await added.client.createSession()
    await added.client.rotateDevice()
    expect(await added.client.makeAccessRequest('/whoami', {})).toEqual({
      device: await added.stores.device.get(),
    })
  })

  it('a new session replaces the access chain, and with it a kept refresh', async () => {
    const app = deployment()
    const { client, responseKeys } = await newAccount(app)
    app.rotateResponseKey()
    await expect(client.refreshSession()).rejects.toBeInstanceOf(UnverifiedResponseError)
    await pin(responseKeys, app)
    await client.createSession()
    expect(client.unverifiedRotations()).toEqual([])
    expect(await client.resumeUnverified()).toEqual([])
  })
})
