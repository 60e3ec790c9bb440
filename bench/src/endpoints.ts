// The endpoints the server benchmarks drive and the fixture (accounts, sessions) they share.
import { type Client, pool } from './load.js'
import {
  accessMessage,
  createAccounts,
  createSession,
  createSessionMessage,
  fetchChallenge,
  newKeyPair,
  randomDigest,
  refreshSessionMessage,
  requestSessionMessage,
  rotateDeviceMessage,
  type Account,
  type KeyPair,
  type Session,
} from './messages.js'

export type EndpointName = 'access' | 'request' | 'create' | 'refresh' | 'rotate'

export interface Fixture {
  readonly client: Client
  /** Accounts with a session each, for access requests and challenges. */
  readonly accounts: readonly Account[]
  readonly sessions: readonly Session[]
  /** Shared keys: access keys of sessions and first keys of rotation accounts. */
  readonly sharedKeys: readonly KeyPair[]
}

export interface Endpoint {
  readonly name: EndpointName
  readonly path: string
  /** Builds `count` requests, each valid exactly once. */
  prepare(fixture: Fixture, count: number): Promise<string[]>
}

export const SETUP_CONCURRENCY = 32

export const ENDPOINTS: readonly Endpoint[] = [
  {
    name: 'access',
    path: '/foo/bar',
    async prepare({ sessions }, count) {
      const bodies: string[] = []
      for (let i = 0; i < count; i++) {
        const session = sessions[i % sessions.length]!
        bodies.push(await accessMessage(session.token, session.access.key))
      }
      return bodies
    },
  },
  {
    name: 'request',
    path: '/session/request',
    prepare({ accounts }, count) {
      return Promise.resolve(
        Array.from({ length: count }, (_, i) =>
          requestSessionMessage(accounts[i % accounts.length]!.identity),
        ),
      )
    },
  },
  {
    name: 'create',
    path: '/session/create',
    async prepare({ client, accounts, sharedKeys }, count) {
      // Challenges fetched first (they live 60 s), signed right after.
      const challenges = await pool(count, SETUP_CONCURRENCY, (i) =>
        fetchChallenge(client, i, accounts[i % accounts.length]!.identity),
      )
      return Promise.all(
        challenges.map((challenge, i) =>
          createSessionMessage(
            accounts[i % accounts.length]!,
            challenge,
            sharedKeys[i % sharedKeys.length]!.publicKey,
            randomDigest(),
          ),
        ),
      )
    },
  },
  {
    name: 'refresh',
    path: '/session/refresh',
    async prepare({ client, accounts, sharedKeys }, count) {
      // One session per refresh, each committed to its own next key (imported uncached).
      const sessions = await pool(count, SETUP_CONCURRENCY, (i) =>
        createSession(
          client,
          i,
          accounts[i % accounts.length]!,
          sharedKeys[i % sharedKeys.length]!,
          true,
        ),
      )
      return Promise.all(
        sessions.map((session) =>
          refreshSessionMessage(session.token, session.next!, randomDigest()),
        ),
      )
    },
  },
  {
    name: 'rotate',
    path: '/device/rotate',
    async prepare({ client, sharedKeys }, count) {
      const accounts = await createAccounts(client, count, SETUP_CONCURRENCY, sharedKeys)
      return Promise.all(accounts.map((account) => rotateDeviceMessage(account, randomDigest())))
    },
  },
]

/** 32 accounts with a session each and 16 shared keys. */
export async function setUp(client: Client): Promise<Fixture> {
  const sharedKeys = await Promise.all(Array.from({ length: 16 }, () => newKeyPair()))
  const accounts = await createAccounts(client, 32, SETUP_CONCURRENCY)
  const sessions = await pool(accounts.length, SETUP_CONCURRENCY, (i) =>
    createSession(client, i, accounts[i]!, sharedKeys[i % sharedKeys.length]!, false),
  )
  return { client, accounts, sessions, sharedKeys }
}
