/**
 * The examples of README.md's "Key chain deployments" and "Instant revocation" sections, run as
 * written (in process: memory stores and a memory revocation feed stand in for PostgreSQL or
 * Redis; the Redis feed line runs in @better-auth/store-redis's revocation feed test). The first
 * test checks that each of those examples runs, line for line and in order, in this file or that
 * one, so an example edited in the README without its test fails here.
 */
import { readFileSync } from 'node:fs'
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
import { BetterAuthError, type JsonValue } from '@better-auth/protocol'
import { KeySetKeyStore } from '@better-auth/protocol/key-chain'
import { afterEach, expect, it } from 'vitest'
import { BetterAuthHttp } from './http/index.js'
import { expectBlocksRunIn, fencedBlocks } from './testing-internal/readme-examples.js'
import {
  AccessVerifier,
  BetterAuthServer,
  DeviceLivenessCache,
  MemoryKeySetStore,
  MemoryRevocationFeed,
  ServiceKeyRing,
  memoryServerStores,
} from './index.js'
import { clientOptions, deviceStores } from './testing-internal/client-world.js'

const here = new URL('.', import.meta.url)
const readme = readFileSync(new URL('../README.md', here), 'utf8')
const tests = [
  readFileSync(new URL('deployment.readme.test.ts', here), 'utf8'),
  readFileSync(new URL('../../store-redis/src/revocation-feed.e2e.test.ts', here), 'utf8'),
]

/** The ```ts blocks of the README between two headings. */
function examples(from: string, to: string): string[] {
  return fencedBlocks(readme, 'ts', { from, to })
}

const stopped: (() => void | Promise<void>)[] = []
afterEach(async () => {
  for (const stop of stopped.splice(0)) await stop()
})

it('runs every line of the deployment and revocation examples', () => {
  const blocks = [
    ...examples('## Key chain deployments', '## Instant revocation'),
    ...examples('## Instant revocation', '## Errors and HTTP statuses'),
  ]
  expect(blocks).toHaveLength(4)
  expectBlocksRunIn(blocks, tests)
})

it('deploys two auth replicas and an application service, rotates, taints and revokes', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'better-auth-readme-'))
  stopped.push(() => rm(dir, { recursive: true, force: true }))
  const operator = new KeyChainOperator({
    chain: new ChainFile(join(dir, 'chain.json')),
    vault: new FileKeyVault(join(dir, 'private')),
  })
  const { prefix } = await operator.init()
  const endorser = operator
  const stores = { ...memoryServerStores(), keySet: new MemoryKeySetStore() }
  const feed = new MemoryRevocationFeed()
  const hasher = new Blake3Hasher()
  const verifier = new NodeP256Verifier()
  const noncer = new SecureNoncer()
  const timestamper = new Rfc3339Timestamper()
  const tokenEncoder = new NodeGzipTokenEncoder()
  const encoding = {
    timestamper,
    tokenEncoder,
    identityVerifier: new DefaultIdentityVerifier(hasher),
  }
  // Device reads that reach the store from the application service's cache.
  const reads: string[] = []
  const publicKey = stores.authenticationKey.publicKey.bind(stores.authenticationKey)
  stores.authenticationKey.publicKey = (identity, device) => {
    reads.push(device)
    return publicKey(identity, device)
  }

  async function authReplica() {
    const keys = new ServiceKeyRing({
      prefix, // printed by `better-auth-keys init`
      store: stores.keySet, // shared by every replica and application service
      endorser,
      feed, // announces each key set change, and refreshes on every process's announcements
      purposes: ['response', 'access'],
      generateKey: () => NodeP256SigningKey.generate(),
      crypto: { hasher, verifier },
      rotateEveryMs: 86_400_000, // each key signs for a day…
      overlapMs: 12 * 3_600_000, // …and stays endorsed for the longest token lifetime after
    })
    await keys.start()
    const server = new BetterAuthServer({
      crypto: { hasher, noncer, verifier, keyPairs: keys.keyPairs() },
      encoding,
      stores: { ...stores, accessVerificationKeys: keys.verificationKeys('access') },
      revocations: feed,
    })
    const auth = new BetterAuthHttp({ server, keySet: keys.keySet })
    stopped.push(() => keys.stop())
    return { keys, auth }
  }

  async function applicationService() {
    const appKeys = new ServiceKeyRing({
      prefix,
      store: stores.keySet,
      endorser,
      feed,
      purposes: ['response'],
      generateKey: () => NodeP256SigningKey.generate(),
      crypto: { hasher, verifier },
    })
    await appKeys.start()
    const devices = new DeviceLivenessCache({ devices: stores.authenticationKey, feed })
    await devices.start()
    const access = new AccessVerifier({
      crypto: { verifier, responseKey: appKeys.signingKey('response') },
      encoding: { timestamper, tokenEncoder },
      stores: {
        accessNonce: stores.accessNonce,
        accessVerificationKeys: appKeys.verificationKeys('access'),
        devices,
      },
    })
    const app = new BetterAuthHttp({ access }).access(({ request }) => ({ echo: request }))
    stopped.push(
      () => appKeys.stop(),
      () => devices.close(),
    )
    return { appKeys, app }
  }

  const replicas = [await authReplica(), await authReplica()]
  const { appKeys, app } = await applicationService()
  let turn = 0
  const authFetch = (input: RequestInfo | URL, init?: RequestInit) =>
    replicas[turn++ % 2]!.auth.fetch(new Request(input, init))
  const authUrl = 'http://auth.test'

  function clientKeys() {
    // The README's `fetch`: here the replicas, taken in turn as a load balancer would.
    const fetch = authFetch
    const responseKeys = new KeySetKeyStore({
      prefix,
      purpose: 'response',
      crypto: { hasher, verifier },
      fetchKeySet: async () => (await fetch(`${authUrl}/key/set`)).text(),
    })
    return responseKeys
  }

  const client = new BetterAuthClient(
    clientOptions(
      new FetchNetwork(authUrl, { fetch: authFetch }),
      deviceStores(clientKeys()),
      timestamper,
    ),
  )
  const appRoute = {
    network: new FetchNetwork('http://app.test', {
      fetch: (input: RequestInfo | URL, init?: RequestInit) => app(new Request(input, init)),
    }),
    responseKeys: clientKeys(),
  }
  const call = (n: JsonValue) => client.makeAccessRequest('/echo', { n }, appRoute)

  const recovery = NodeP256SigningKey.generate()
  await client.createAccount(await hasher.sum(await recovery.public()))
  await client.createSession()
  expect(await call(1)).toEqual({ echo: { n: 1 } })
  await client.refreshSession()
  expect(await call(2)).toEqual({ echo: { n: 2 } })
  // A compromise of root key 0, which endorsed every key in use: the token the application
  // service verified (and cached) is refused right after its ring reads the taint; a new session
  // gets a token of a key endorsed by root key 1 and works.
  await operator.rotate({ taint: true })
  await appKeys.refresh()
  const refusal = await call(3).catch((error: unknown) => error)
  expect(refusal).toBeInstanceOf(BetterAuthError)
  expect((refusal as BetterAuthError).code).toBe('BA402')
  // The replicas' refreshes replace their keys; the application service's next one trusts them
  // (refused tokens of dropped keys count as fruitless lookups, which hold back another fetch).
  await Promise.all(replicas.map(({ keys }) => keys.refresh()))
  await appKeys.refresh()
  await client.createSession()
  expect(await call(4)).toEqual({ echo: { n: 4 } })

  // A scheduled root rotation changes nothing for anyone.
  await operator.rotate()
  await Promise.all([...replicas.map(({ keys }) => keys.refresh()), appKeys.refresh()])
  expect(await call(5)).toEqual({ echo: { n: 5 } })

  // Revocation: deleting the account reaches the application service through the feed.
  // A request signed now and sent after the deletion (the client forgets its account at once).
  let held = ''
  const holding = new FetchNetwork('http://app.test', {
    fetch: async (input: RequestInfo | URL, init?: RequestInit) => {
      held = await new Request(input, init).text()
      return new Response('{}')
    },
  })
  await client
    .makeAccessRequest('/echo', { n: 6 }, { network: holding, responseKeys: clientKeys() })
    .catch(() => undefined)
  const readsBefore = reads.length
  expect(readsBefore).toBeGreaterThan(0)
  await client.deleteAccount()
  const answer = await app(new Request('http://app.test/echo', { method: 'POST', body: held }))
  expect(await answer.text()).toContain('BA103')
  // An identity's revocation makes each of its devices be read once again (a device's own
  // revocation is applied with no read: the feed contract counts that).
  expect(reads).toHaveLength(readsBefore + 1)
})
