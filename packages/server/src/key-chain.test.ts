/**
 * A deployment whose clients and application service pin only the server key chain's prefix
 * (issue 16): an auth service and an application service, each answering with its own endorsed
 * response key, served over the HTTP core; root and service keys rotate under a live client.
 */
import { BetterAuthClient, FetchNetwork } from '@better-auth/client'
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
import { InvalidEndorsementError } from '@better-auth/protocol'
import {
  KeySetKeyStore,
  endorseKey,
  inceptKeyChain,
  rotateKeyChain,
  serializeKeySet,
  verifyKeyChain,
  type KeyChain,
  type KeyPurpose,
} from '@better-auth/protocol/key-chain'
import { describe, expect, it } from 'vitest'
import { BetterAuthHttp } from './http/index.js'
import { AccessVerifier, BetterAuthServer, memoryServerStores } from './index.js'
import { clientOptions, deviceStores } from './testing-internal/client-world.js'

const hasher = new Blake3Hasher()
const verifier = new NodeP256Verifier()
const crypto = { hasher, verifier }
const timestamper = new Rfc3339Timestamper()
const tokenEncoder = new NodeGzipTokenEncoder()
const DAY = 86_400_000

/** The operator's side: root keys in memory, the published log and endorsements. */
async function operator() {
  const roots = [NodeP256SigningKey.generate(), NodeP256SigningKey.generate()]
  const commit = async (key: NodeP256SigningKey) => hasher.sum(await key.public())
  let time = Date.now() - DAY
  const first = await inceptKeyChain({
    signer: roots[0]!,
    rotationHash: await commit(roots[1]!),
    createdAt: new Date(time),
    hasher,
  })
  const texts = [first.text]
  let chain: KeyChain = await verifyKeyChain(texts, crypto)
  const endorsements: string[] = []
  return {
    prefix: chain.prefix,
    keySet: () => serializeKeySet({ chain: texts, keys: endorsements }),
    async endorse(key: NodeP256SigningKey, purpose: KeyPurpose): Promise<void> {
      const sequence = chain.head.sequence
      endorsements.push(
        await endorseKey({
          chain,
          generation: chain.generations[sequence]!,
          signer: roots[sequence]!,
          purpose,
          publicKey: await key.public(),
          notBefore: new Date(Date.now() - DAY),
          notAfter: new Date(Date.now() + DAY),
        }),
      )
    },
    async rotate(taint = false): Promise<void> {
      const sequence = chain.head.sequence + 1
      roots.push(NodeP256SigningKey.generate())
      time += 1000
      const event = await rotateKeyChain(chain.head, {
        signer: roots[sequence]!,
        rotationHash: await commit(roots[sequence + 1]!),
        createdAt: new Date(time),
        taint,
        hasher,
      })
      texts.push(event.text)
      chain = await verifyKeyChain(texts, crypto, { prefix: chain.prefix })
    },
  }
}

type Operator = Awaited<ReturnType<typeof operator>>

/** The auth service: one store, a response key that can be replaced (a restart with a new key). */
async function authService(ops: Operator) {
  const stores = memoryServerStores()
  const accessKey = NodeP256SigningKey.generate()
  await ops.endorse(accessKey, 'access')
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
  let http: BetterAuthHttp
  const useKey = async (responseKey: NodeP256SigningKey, endorse = true) => {
    if (endorse) await ops.endorse(responseKey, 'response')
    http = new BetterAuthHttp({ server: serverWith(responseKey), keySet: ops.keySet })
  }
  await useKey(NodeP256SigningKey.generate())
  const fetchFn = ((input: RequestInfo | URL, init?: RequestInit) =>
    http.fetch(new Request(input, init))) as typeof fetch
  return { fetch: fetchFn, useKey }
}

/** An application service: its own response key, tokens checked through the key set. */
async function appService(ops: Operator, auth: { fetch: typeof fetch }) {
  const responseKey = NodeP256SigningKey.generate()
  await ops.endorse(responseKey, 'response')
  let keySetFetches = 0
  const access = new AccessVerifier({
    crypto: { verifier, responseKey },
    encoding: { timestamper, tokenEncoder },
    stores: {
      accessNonce: memoryServerStores().accessNonce,
      accessVerificationKeys: new KeySetKeyStore({
        prefix: ops.prefix,
        purpose: 'access',
        crypto,
        fetchKeySet: async () => {
          keySetFetches++
          return (await auth.fetch('http://auth.test/key/set')).text()
        },
      }),
    },
  })
  const whoami = new BetterAuthHttp({ access }).access<{ ping: number }>(({ token, request }) => ({
    device: token.device,
    pong: request.ping,
  }))
  return {
    fetch: ((input: RequestInfo | URL, init?: RequestInit) =>
      whoami(new Request(input, init))) as typeof fetch,
    keySetFetches: () => keySetFetches,
  }
}

function device(ops: Operator, auth: { fetch: typeof fetch }, options: { maxAgeMs?: number } = {}) {
  const responseKeys = new KeySetKeyStore({
    prefix: ops.prefix,
    purpose: 'response',
    crypto,
    fetchKeySet: async () => (await auth.fetch('http://auth.test/key/set')).text(),
    ...options,
  })
  return new BetterAuthClient(
    clientOptions(
      new FetchNetwork('http://auth.test', { fetch: auth.fetch }),
      deviceStores(responseKeys),
      timestamper,
    ),
  )
}

describe('clients and services that pin the server key chain', () => {
  it('follow response-key, access-key and root rotations with no failed request', async () => {
    const ops = await operator()
    const auth = await authService(ops)
    const app = await appService(ops, auth)
    const client = device(ops, auth)
    const appRoute = {
      network: new FetchNetwork('http://app.test', { fetch: app.fetch }),
      responseKeys: new KeySetKeyStore({
        prefix: ops.prefix,
        purpose: 'response',
        crypto,
        fetchKeySet: async () => (await auth.fetch('http://auth.test/key/set')).text(),
      }),
    }
    const recovery = NodeP256SigningKey.generate()
    const { device: id } = await client.createAccount(await hasher.sum(await recovery.public()))
    await client.createSession()
    expect(await client.makeAccessRequest('/whoami', { ping: 1 }, appRoute)).toEqual({
      device: id,
      pong: 1,
    })

    // A new response key, endorsed and published: the next rotation's response is signed by it.
    await auth.useKey(NodeP256SigningKey.generate())
    await client.rotateDevice()
    await client.refreshSession()

    // The root key rotates; the new current root key endorses the next response key.
    await ops.rotate()
    await auth.useKey(NodeP256SigningKey.generate())
    await client.rotateDevice()
    await client.createSession()
    expect(await client.makeAccessRequest('/whoami', { ping: 2 }, appRoute)).toEqual({
      device: id,
      pong: 2,
    })
    // The application service fetched the key set once: tokens are signed by one endorsed key.
    expect(app.keySetFetches()).toBe(1)
  })

  it('refuse a response key endorsed by a root key declared compromised', async () => {
    const ops = await operator()
    const auth = await authService(ops)
    const client = device(ops, auth, { maxAgeMs: 0 })
    const recovery = NodeP256SigningKey.generate()
    await client.createAccount(await hasher.sum(await recovery.public()))
    await client.createSession()

    // Root key 1 endorses a response key, which then leaks with root key 1.
    await ops.rotate()
    const leaked = NodeP256SigningKey.generate()
    await auth.useKey(leaked)
    await client.refreshSession()
    await ops.rotate(true)

    // A server still answering with the leaked key is no longer believed.
    await auth.useKey(leaked, false)
    await expect(client.createSession()).rejects.toBeInstanceOf(InvalidEndorsementError)
    // With a key endorsed by the new root key, the session goes on.
    await auth.useKey(NodeP256SigningKey.generate())
    await client.createSession()
    await client.refreshSession()
  })

  it('an unknown key-set route or one not configured answers 404', async () => {
    const http = new BetterAuthHttp({ keySet: () => '{"chain":[],"keys":[]}' })
    const served = await http.fetch(new Request('http://auth.test/key/set'))
    expect(served.status).toBe(200)
    expect(served.headers.get('content-type')).toMatch(/^application\/json/)
    expect(await served.text()).toBe('{"chain":[],"keys":[]}')
    const elsewhere = new BetterAuthHttp({ keySet: () => '{}', keySetPath: '/keys' })
    expect((await elsewhere.fetch(new Request('http://auth.test/key/set'))).status).toBe(404)
    expect((await elsewhere.fetch(new Request('http://auth.test/keys'))).status).toBe(200)
  })
})
