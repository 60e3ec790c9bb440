// Protocol messages as a client builds them, signed ahead of time for the load benchmarks, and
// the setup flows (accounts, challenges, sessions) that run over HTTP before a measured run.
import { randomBytes } from 'node:crypto'
import { encodeCesr } from '@better-auth/cesr'
import { blake3Digest } from '@better-auth/crypto'
import { NodeP256SigningKey } from '@better-auth/crypto/node'
import {
  buildAccessRequestPayload,
  buildRequestPayload,
  serializeEnvelope,
  signPayload,
  type SigningKey,
} from '@better-auth/protocol'
import { pool, type Client } from './load.js'

export interface KeyPair {
  readonly key: SigningKey
  readonly publicKey: string
}

export function newNonce(): string {
  return encodeCesr('0A', randomBytes(16))
}

/** A digest nobody holds the key for: a commitment the benchmark never reveals. */
export function randomDigest(): string {
  return blake3Digest(randomBytes(16).toString('hex'))
}

export async function newKeyPair(): Promise<KeyPair> {
  const key = NodeP256SigningKey.generate()
  return { key, publicKey: await key.public() }
}

export interface Account {
  readonly identity: string
  readonly device: string
  /** The key that signs now and the one its rotation hash commits to. */
  current: KeyPair
  next: KeyPair
}

/**
 * A new account. Each gets its own committed next key (the server imports it, uncached, when the
 * account rotates); the first key may be shared between accounts to save key generation.
 */
export async function createAccountMessage(
  first?: KeyPair,
): Promise<{ account: Account; message: string }> {
  const current = first ?? (await newKeyPair())
  const next = await newKeyPair()
  const recoveryHash = randomDigest()
  const rotationHash = blake3Digest(next.publicKey)
  const device = blake3Digest(current.publicKey + rotationHash)
  const identity = blake3Digest(current.publicKey + rotationHash + recoveryHash)
  const payload = buildRequestPayload('createAccount', newNonce(), {
    authentication: { device, identity, publicKey: current.publicKey, recoveryHash, rotationHash },
  })
  return {
    account: { identity, device, current, next },
    message: await signPayload(current.key, payload),
  }
}

/** Reveals `account.next` and commits to `nextRotationHash`; signed by the revealed key. */
export function rotateDeviceMessage(account: Account, nextRotationHash: string): Promise<string> {
  const payload = buildRequestPayload('rotateDevice', newNonce(), {
    authentication: {
      device: account.device,
      identity: account.identity,
      publicKey: account.next.publicKey,
      rotationHash: nextRotationHash,
    },
  })
  return signPayload(account.next.key, payload)
}

export function requestSessionMessage(identity: string): string {
  const payload = buildRequestPayload('requestSession', newNonce(), {
    authentication: { identity },
  })
  return serializeEnvelope(JSON.stringify(payload))
}

export function createSessionMessage(
  account: Account,
  challenge: string,
  accessPublicKey: string,
  accessRotationHash: string,
): Promise<string> {
  const payload = buildRequestPayload('createSession', newNonce(), {
    access: { publicKey: accessPublicKey, rotationHash: accessRotationHash },
    authentication: { device: account.device, nonce: challenge },
  })
  return signPayload(account.current.key, payload)
}

/** Signed by the key the token's rotation hash committed to. */
export function refreshSessionMessage(
  token: string,
  nextAccess: KeyPair,
  nextRotationHash: string,
): Promise<string> {
  const payload = buildRequestPayload('refreshSession', newNonce(), {
    access: { publicKey: nextAccess.publicKey, rotationHash: nextRotationHash, token },
  })
  return signPayload(nextAccess.key, payload)
}

export const FOO_BAR = { foo: 'foo-value', bar: 'bar-value' }

export function accessMessage(
  token: string,
  accessKey: SigningKey,
  timestamp = new Date().toISOString(),
): Promise<string> {
  const payload = buildAccessRequestPayload({ nonce: newNonce(), timestamp, token }, FOO_BAR)
  return signPayload(accessKey, payload)
}

function responseOf(text: string): Record<string, unknown> {
  const parsed = JSON.parse(text) as { payload?: { response?: Record<string, unknown> } }
  const response = parsed.payload?.response
  if (response === undefined) throw new Error(`not a protocol response: ${text.slice(0, 200)}`)
  return response
}

export function challengeOf(text: string): string {
  const authentication = responseOf(text).authentication as { nonce?: unknown } | undefined
  if (typeof authentication?.nonce !== 'string') throw new Error('no challenge in the response')
  return authentication.nonce
}

export function tokenOf(text: string): string {
  const access = responseOf(text).access as { token?: unknown } | undefined
  if (typeof access?.token !== 'string') throw new Error('no token in the response')
  return access.token
}

async function expectOk(client: Client, slot: number, path: string, body: string): Promise<string> {
  const response = await client.post(slot, path, body)
  if (response.status !== 200) {
    throw new Error(`setup ${path} answered ${response.status}: ${response.body.slice(0, 300)}`)
  }
  return response.body
}

export async function createAccounts(
  client: Client,
  count: number,
  concurrency: number,
  firstKeys?: readonly KeyPair[],
): Promise<Account[]> {
  return pool(count, concurrency, async (index) => {
    const first = firstKeys === undefined ? undefined : firstKeys[index % firstKeys.length]
    const { account, message } = await createAccountMessage(first)
    await expectOk(client, index, '/account/create', message)
    return account
  })
}

export async function fetchChallenge(
  client: Client,
  slot: number,
  identity: string,
): Promise<string> {
  return challengeOf(
    await expectOk(client, slot, '/session/request', requestSessionMessage(identity)),
  )
}

export interface Session {
  readonly token: string
  /** Signs access requests under `token`. */
  readonly access: KeyPair
  /** The key `token` commits to: it signs the refresh. */
  readonly next: KeyPair | undefined
}

/**
 * Creates a session for `account`. With `withNext` the token commits to a fresh key the session
 * can refresh with; without it, to a digest nobody holds a key for (access-only sessions).
 */
export async function createSession(
  client: Client,
  slot: number,
  account: Account,
  access: KeyPair,
  withNext: boolean,
): Promise<Session> {
  const challenge = await fetchChallenge(client, slot, account.identity)
  const next = withNext ? await newKeyPair() : undefined
  const rotationHash = next === undefined ? randomDigest() : blake3Digest(next.publicKey)
  const message = await createSessionMessage(account, challenge, access.publicKey, rotationHash)
  const token = tokenOf(await expectOk(client, slot, '/session/create', message))
  return { token, access, next }
}
