/**
 * A production-shaped deployment in separate processes on one PostgreSQL + Redis pair: two auth
 * replicas (fastify and node:http) and two application services (express and hono), each on its
 * own port, with rotating service keys endorsed by a root key chain and revocations over Redis
 * pub/sub. Our client signs up, signs in, refreshes and calls both applications while the service
 * keys rotate and the root key rotates; then the root key is rotated with taint; then a device is
 * revoked on the auth service.
 *
 * The second application service runs on Node (hono), not workerd: an application service
 * subscribes to the revocation feed (a long-lived Redis or PostgreSQL connection) and shares the
 * key set through those stores, which a Worker cannot hold open outside a Durable Object, and the
 * example server is a Node executable.
 */
import { BetterAuthClient, FetchNetwork } from '@better-auth/client'
import { Blake3Hasher, Rfc3339Timestamper } from '@better-auth/crypto'
import { NodeP256SigningKey, NodeP256Verifier } from '@better-auth/crypto/node'
import { ChainFile, FileKeyVault, KeyChainOperator } from '@better-auth/keys'
import { BetterAuthError } from '@better-auth/protocol'
import { KeySetKeyStore, verifyKeySet, type KeyPurpose } from '@better-auth/protocol/key-chain'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  clientOptions,
  deviceStores,
} from '../../../packages/server/src/testing-internal/client-world.js'
import { startServer, type RunningServer } from './process.js'

const databaseUrl = process.env.DATABASE_URL
const redisUrl = process.env.REDIS_URL

const hasher = new Blake3Hasher()
const crypto = { hasher, verifier: new NodeP256Verifier() }
const ADMIN = 'a'.repeat(40)
const ENDORSE = 'e'.repeat(40)
// Each service key signs for 1.5 s, so several rotations happen while the client works.
const ROTATE_MS = 1500
const REFRESH_MS = 200

/** Calls `probe` until it answers something other than undefined, at most `timeoutMs`. */
async function poll<T>(timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const answer = await probe()
    if (answer !== undefined) return answer
    if (Date.now() > deadline) throw new Error(`no answer in ${timeoutMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

/** The refusal code of a failed call, or undefined when it succeeded. */
async function refusal(call: () => Promise<unknown>): Promise<string | undefined> {
  try {
    await call()
    return undefined
  } catch (error) {
    if (error instanceof BetterAuthError) return error.code
    throw error
  }
}

/** `better_auth_device_store_reads_total` of a process. */
async function deviceStoreReads(server: RunningServer): Promise<number> {
  const text = await (await fetch(`${server.url}/metrics`)).text()
  const match = /^better_auth_device_store_reads_total (\d+)$/m.exec(text)
  if (match === null) throw new Error('no device store read counter')
  return Number(match[1])
}

describe.skipIf(databaseUrl === undefined || redisUrl === undefined)(
  'auth replicas and application services in separate processes',
  () => {
    let root: string
    let database: string
    let operator: KeyChainOperator
    let prefix: string
    const auths: RunningServer[] = []
    const apps: RunningServer[] = []

    beforeAll(async () => {
      root = await mkdtemp(join(tmpdir(), 'better-auth-deployment-'))
      // A database of its own: the key set store keeps one chain per database.
      database = `deployment_${Date.now()}_${Math.floor(Math.random() * 1e6)}`
      const admin = new pg.Client({ connectionString: databaseUrl })
      await admin.connect()
      await admin.query(`CREATE DATABASE ${database}`)
      await admin.end()
      const url = new URL(databaseUrl!)
      url.pathname = `/${database}`

      // The operator's chain and vault; the auth replicas are given both, nobody else either.
      const keys = join(root, 'keys')
      operator = new KeyChainOperator({
        chain: new ChainFile(join(keys, 'chain.json')),
        vault: new FileKeyVault(join(keys, 'private')),
      })
      prefix = (await operator.init()).prefix

      const shared = {
        DATABASE_URL: url.toString(),
        REDIS_URL: redisUrl!,
        KEY_ROTATE_MS: String(ROTATE_MS),
        KEY_OVERLAP_MS: '60000',
        KEY_REFRESH_MS: String(REFRESH_MS),
        REVOCATION: 'feed',
        ENDORSE_CREDENTIAL: ENDORSE,
        TRACING: 'off',
        // The limits are the rate-limit suite's subject; this client works faster than a person.
        RATE_LIMIT: 'off',
      }
      const auth = (framework: string) =>
        startServer(['--data-dir', join(root, 'auth')], 60_000, {
          ...shared,
          FRAMEWORK: framework,
          KEY_CHAIN_DIR: keys,
          KEY_CHAIN_PREFIX: prefix,
          ADMIN_CREDENTIAL: ADMIN,
        })
      // Both migrate the schema at once: the migrations take a lock.
      auths.push(...(await Promise.all([auth('fastify'), auth('node')])))
      const app = (framework: string, authUrl: string) =>
        startServer(['--data-dir', join(root, `app-${framework}`)], 60_000, {
          ...shared,
          ROLE: 'app',
          FRAMEWORK: framework,
          KEY_CHAIN_PREFIX: prefix,
          AUTH_URL: authUrl,
        })
      // Each application service has its keys endorsed by another replica (fastify, node:http).
      apps.push(...(await Promise.all([app('express', auths[0]!.url), app('hono', auths[1]!.url)])))
    }, 120_000)

    afterAll(async () => {
      await Promise.all([...auths, ...apps].map((server) => server.stop()))
      if (database !== undefined) {
        const admin = new pg.Client({ connectionString: databaseUrl })
        await admin.connect()
        await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`)
        await admin.end()
      }
      await rm(root, { recursive: true, force: true })
    })

    it('rotates every key under load, refuses a tainted generation, and revokes within 1 s', async () => {
      // The client pins the chain prefix only; every other key it learns from /key/set.
      const networks = auths.map((auth) => new FetchNetwork(auth.url))
      let turn = 0
      // Each call goes to the other replica, as a load balancer might send it.
      const network = {
        sendRequest: (path: string, message: string) =>
          networks[turn++ % networks.length]!.sendRequest(path, message),
      }
      const keySet = async () => (await fetch(`${auths[turn++ % 2]!.url}/key/set`)).text()
      const responseKeys = () =>
        new KeySetKeyStore({
          prefix,
          purpose: 'response',
          crypto,
          fetchKeySet: keySet,
          maxAgeMs: 500,
        })
      const client = new BetterAuthClient(
        clientOptions(network, deviceStores(responseKeys()), new Rfc3339Timestamper()),
      )
      const services = apps.map((app) => ({
        network: new FetchNetwork(app.url),
        responseKeys: responseKeys(),
      }))
      let sent = 0
      const call = async (index: number) => {
        const n = sent++
        const answer = await client.makeAccessRequest(
          '/foo/bar',
          { foo: `${n}`, bar: index },
          services[index],
        )
        expect(answer).toEqual({ wasFoo: `${n}`, wasBar: index })
      }

      // Sign-up and sign-in.
      const recovery = NodeP256SigningKey.generate()
      const { identity, device } = await client.createAccount(
        await hasher.sum(await recovery.public()),
      )
      await client.createSession()

      // Legitimate traffic while the service keys rotate, and the root key rotates halfway.
      const failures: string[] = []
      const attempt = async (what: string, task: () => Promise<unknown>) => {
        try {
          await task()
        } catch (error) {
          failures.push(`${what}: ${String(error)}`)
        }
      }
      const started = Date.now()
      let rootRotated = false
      let requests = 0
      for (let i = 0; Date.now() - started < 4 * ROTATE_MS + 1000; i++) {
        if (!rootRotated && Date.now() - started > 2 * ROTATE_MS) {
          await operator.rotate()
          rootRotated = true
        }
        await attempt('express app', () => call(0))
        await attempt('hono app', () => call(1))
        await attempt('refresh', () => client.refreshSession())
        requests += 3
        if (i % 3 === 0) {
          await attempt('device rotation', () => client.rotateDevice())
          requests++
        }
      }
      expect(failures).toEqual([])
      expect(rootRotated).toBe(true)

      // Every process's keys rotated: the set holds several generations of each.
      const before = await verifyKeySet(await keySet(), crypto, { prefix })
      const endorsed = (purpose: KeyPurpose, generation?: number) =>
        [...before.keys.values()]
          .flat()
          .filter(
            (e) =>
              e.endorsement.purpose === purpose &&
              (generation === undefined || e.generation.sequence === generation),
          )
          .map((e) => e.endorsement.publicKey)
      expect(before.chain.head.sequence).toBe(1)
      // Four processes sign responses, two sign tokens; each made a key every 1.5 s at least.
      expect(endorsed('response').length).toBeGreaterThanOrEqual(4 * 3)
      expect(endorsed('access').length).toBeGreaterThanOrEqual(2 * 3)
      const taintedResponse = endorsed('response', 1)
      const taintedAccess = endorsed('access', 1)
      expect(taintedResponse.length).toBeGreaterThanOrEqual(4)
      console.info(
        `before the taint: ${requests} requests, 0 failed; ` +
          `${endorsed('response').length} response and ${endorsed('access').length} access keys endorsed`,
      )

      // Compromise: root key 1 is tainted. The token in hand was signed by an access key that key
      // endorsed, and every response key it endorsed must be refused from now on.
      await operator.rotate({ taint: true })
      const taintedAt = Date.now()
      const early: (string | undefined)[] = []
      const refusedAfter: number[] = []
      for (const index of [0, 1]) {
        // Until the application service has read the new chain (within KEY_REFRESH_MS) it may
        // still accept the token, and then the client refuses its answer, signed by a response
        // key of the tainted generation (BA702) once the client has read the chain (within its
        // maxAgeMs); from then on the service refuses the token itself, every time.
        await poll(5000, async () => {
          const code = await refusal(() => call(index))
          if (code === 'BA402') return code
          early.push(code)
          return undefined
        })
        refusedAfter.push(Date.now() - taintedAt)
        for (let i = 0; i < 3; i++) expect(await refusal(() => call(index))).toBe('BA402')
      }
      expect(early.every((code) => code === undefined || code === 'BA702')).toBe(true)
      expect(await poll(5000, () => refusal(() => client.refreshSession()))).toBe('BA402')
      const taintLatency = Date.now() - taintedAt
      const after = (purpose: KeyPurpose) =>
        new KeySetKeyStore({ prefix, purpose, crypto, fetchKeySet: keySet })
      for (const [purpose, keys] of [
        ['response', taintedResponse],
        ['access', taintedAccess],
      ] as const) {
        const store = after(purpose)
        for (const key of keys) {
          // The verified set leaves out what a tainted root key endorsed: the key is unknown.
          await expect(store.get(key)).rejects.toMatchObject({ code: 'BA702' })
        }
      }
      // Signing in again gets a token from the replacement keys, accepted everywhere.
      await poll(5000, async () =>
        (await refusal(() => client.createSession())) ? undefined : true,
      )
      for (const index of [0, 1]) {
        await poll(5000, async () => ((await refusal(() => call(index))) ? undefined : true))
      }
      console.info(
        `taint: the old token refused by the services ${refusedAfter.join(' and ')} ms and by ` +
          `the auth service ${taintLatency} ms after the rotation; before ` +
          `that ${early.filter((c) => c === undefined).length} answered, ` +
          `${early.filter((c) => c === 'BA702').length} refused by the client (BA702)`,
      )

      // Revocation: warm both application services, then count their device store reads.
      for (const index of [0, 1]) await call(index)
      const readsBefore = await Promise.all(apps.map(deviceStoreReads))
      const sentAt = performance.now()
      const revoked = await fetch(`${auths[1]!.url}/admin/accounts/${identity}/devices/${device}`, {
        method: 'DELETE',
        headers: { authorization: `Bearer ${ADMIN}` },
      })
      expect(revoked.status).toBe(200)
      // The auth service answers once the revocation is stored and published on the feed: from
      // then on it is in force, and each service must refuse the device within 1 s. Two requests
      // in flight per service, so the refusal is seen within about half a round trip.
      const revokedAt = performance.now()
      const propagation = await Promise.all(
        [0, 1].map(async (index) => {
          let refused: string | undefined
          const poller = () =>
            poll(5000, async () => {
              if (refused !== undefined) return refused
              const code = await refusal(() => call(index))
              refused ??= code
              return code
            })
          await Promise.all([poller(), poller()])
          const now = performance.now()
          return { code: refused, ms: now - revokedAt, sinceSent: now - sentAt }
        }),
      )
      for (const { code, ms } of propagation) {
        expect(code).toBe('BA103')
        expect(ms).toBeLessThan(1000)
      }
      for (const index of [0, 1]) {
        for (let i = 0; i < 3; i++) expect(await refusal(() => call(index))).toBe('BA103')
      }
      // Neither the requests answered before the revocation arrived nor the refusals after it
      // read the device store: the feed told each service.
      const readsAfter = await Promise.all(apps.map(deviceStoreReads))
      expect(readsAfter).toEqual(readsBefore)
      console.info(
        `revocation: refused ${propagation.map(({ ms }) => `${Math.round(ms)} ms`).join(' and ')}` +
          ` after the auth service answered (${propagation.map(({ sinceSent }) => `${Math.round(sinceSent)} ms`).join(' and ')} after it was asked)` +
          ` (express, hono); device store reads in the window: 0; over the whole run: ${readsAfter.join(', ')}`,
      )
    }, 120_000)
  },
)
