/**
 * Two auth replicas and an application service, each with its own ServiceKeyRing on one shared
 * key set store, while keys rotate every few hundred milliseconds, the root rotates, and finally
 * the root is rotated with taint (in process; the separate-process run is the example server's).
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
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
import { ChainFile, FileKeyVault, KeyChainOperator } from '@better-auth/keys'
import { BetterAuthError } from '@better-auth/protocol'
import {
  KeySetKeyStore,
  trustedKey,
  verifyKeySet,
  type KeyPurpose,
} from '@better-auth/protocol/key-chain'
import { afterEach, expect, it } from 'vitest'
import { BetterAuthHttp } from '../http/index.js'
import { AccessVerifier, BetterAuthServer, memoryServerStores } from '../index.js'
import { MemoryKeySetStore } from './memory-key-set-store.js'
import { clientOptions, deviceStores } from '../testing-internal/client-world.js'
import { ServiceKeyRing } from './service-key-ring.js'

const hasher = new Blake3Hasher()
const verifier = new NodeP256Verifier()
const crypto = { hasher, verifier }
const timestamper = new Rfc3339Timestamper()
const tokenEncoder = new NodeGzipTokenEncoder()
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

let dir: string | undefined
const rings: ServiceKeyRing[] = []

afterEach(async () => {
  for (const ring of rings.splice(0)) ring.stop()
  if (dir !== undefined) await rm(dir, { recursive: true, force: true })
})

it('serves a client through scheduled key rotations and a root rotation, and refuses tainted keys', async () => {
  dir = await mkdtemp(join(tmpdir(), 'better-auth-replicas-'))
  const operator = new KeyChainOperator({
    chain: new ChainFile(join(dir, 'chain.json')),
    vault: new FileKeyVault(join(dir, 'private')),
  })
  const { prefix } = await operator.init()
  const keySets = new MemoryKeySetStore()
  const ring = async (purposes: KeyPurpose[]) => {
    const created = new ServiceKeyRing({
      prefix,
      store: keySets,
      endorser: operator,
      purposes,
      generateKey: () => NodeP256SigningKey.generate(),
      crypto,
      rotateEveryMs: 400,
      overlapMs: 60_000,
      refreshEveryMs: 50,
    })
    await created.start()
    rings.push(created)
    return created
  }

  // Two auth replicas on one set of stores, each with keys of its own.
  const stores = memoryServerStores()
  const replicas = await Promise.all(
    [0, 1].map(async () => {
      const keys = await ring(['response', 'access'])
      const server = new BetterAuthServer({
        crypto: { hasher, noncer: new SecureNoncer(), verifier, keyPairs: keys.keyPairs() },
        encoding: {
          timestamper,
          tokenEncoder,
          identityVerifier: new DefaultIdentityVerifier(hasher),
        },
        stores: { ...stores, accessVerificationKeys: keys.verificationKeys('access') },
      })
      return new BetterAuthHttp({ server, keySet: keys.keySet })
    }),
  )
  let turn = 0
  // Each request goes to the other replica, as a load balancer might send it.
  const authFetch = ((input: RequestInfo | URL, init?: RequestInit) =>
    replicas[turn++ % 2]!.fetch(new Request(input, init))) as typeof fetch

  // The application service: its own response key, tokens checked against the shared set.
  const appKeys = await ring(['response'])
  const access = new AccessVerifier({
    crypto: { verifier, responseKey: appKeys.signingKey('response') },
    encoding: { timestamper, tokenEncoder },
    stores: {
      accessNonce: memoryServerStores().accessNonce,
      accessVerificationKeys: appKeys.verificationKeys('access'),
    },
  })
  const app = new BetterAuthHttp({ access }).access<{ n: number }>(({ request }) => ({
    n: request.n,
  }))

  const responseKeys = () =>
    new KeySetKeyStore({
      prefix,
      purpose: 'response',
      crypto,
      fetchKeySet: async () => (await authFetch('http://auth.test/key/set')).text(),
      maxAgeMs: 100,
    })
  const client = new BetterAuthClient(
    clientOptions(
      new FetchNetwork('http://auth.test', { fetch: authFetch }),
      deviceStores(responseKeys()),
      timestamper,
    ),
  )
  const appRoute = {
    network: new FetchNetwork('http://app.test', {
      fetch: (input: RequestInfo | URL, init?: RequestInit) => app(new Request(input, init)),
    }),
    responseKeys: responseKeys(),
  }

  const recovery = NodeP256SigningKey.generate()
  await client.createAccount(await hasher.sum(await recovery.public()))
  await client.createSession()
  const seen = new Set<string>()
  let requests = 0
  const started = Date.now()
  let rootRotated = false
  // The taint below is of root key 1: a token of an access key root key 0 endorsed would stay
  // trusted, so the run goes on until both replicas sign with keys root key 1 endorsed (on a
  // loaded machine the rings may not have rotated since the root rotation within 2 s).
  const endorsedByNewRoot = async () => {
    const set = await verifyKeySet(
      await (await authFetch('http://auth.test/key/set')).text(),
      crypto,
      { prefix },
    )
    const now = new Date()
    for (const replica of replicas) {
      const key = await replica.server!.accessPublicKey()
      if (!set.keys.has(key) || trustedKey(set, key, 'access', now).generation.sequence < 1) {
        return false
      }
    }
    return true
  }
  while (Date.now() - started < 2_000 || !(rootRotated && (await endorsedByNewRoot()))) {
    if (Date.now() - started > 20_000) throw new Error('no access key of root key 1 in 20 s')
    if (!rootRotated && Date.now() - started > 1_000) {
      await operator.rotate()
      rootRotated = true
    }
    expect(await client.makeAccessRequest('/n', { n: requests }, appRoute)).toEqual({
      n: requests,
    })
    await client.refreshSession()
    await client.rotateDevice()
    requests += 3
    seen.add(await replicas[0]!.server!.accessPublicKey())
    await sleep(20)
  }
  // Every call above succeeded while the access keys changed several times.
  expect(seen.size).toBeGreaterThan(2)

  // A token of the keys in use now, which root key 1 endorsed.
  await client.refreshSession()
  // The application service has verified (and cached) the token in use.
  expect(await client.makeAccessRequest('/n', { n: 0 }, appRoute)).toEqual({ n: 0 })

  // A taint: every key the tainted root key endorsed is replaced and refused from then on, even
  // a token the application service had verified (and cached) before: its verifier forgets it
  // as soon as its ring's refresh reads the tainted chain, with no call by the application.
  await operator.rotate({ taint: true })
  await appKeys.refresh()
  const refusal = await client.makeAccessRequest('/n', { n: -1 }, appRoute).catch((e: unknown) => e)
  expect(refusal).toBeInstanceOf(BetterAuthError)
  expect((refusal as BetterAuthError).code).toBe('BA402')
  // The auth replicas' refreshes replace their tainted keys too; then a new session works.
  await sleep(300)
  await client.createSession()
  expect(await client.makeAccessRequest('/n', { n: 1 }, appRoute)).toEqual({ n: 1 })
})
