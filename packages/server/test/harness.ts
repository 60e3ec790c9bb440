import {
  BetterAuthClient,
  MemoryRotatingKeyStore,
  MemoryValueStore,
  type Network,
} from '@better-auth/client'
import {
  Blake3Hasher,
  DefaultIdentityVerifier,
  GzipTokenEncoder,
  Rfc3339Timestamper,
  SecureNoncer,
  WebCryptoP256SigningKey,
  WebCryptoP256Verifier,
} from '@better-auth/crypto'
import {
  buildRequestPayload,
  protocols,
  signPayload,
  type JsonObject,
  type ProtocolName,
  type SigningKey,
} from '@better-auth/protocol'
import { pinnedKeys } from '@better-auth/integration'
import {
  AccessVerifier,
  BetterAuthServer,
  StaticVerificationKeyStore,
  errorResponse,
  memoryServerStores,
  signAccessResponse,
  type BetterAuthServerOptions,
} from '../src/index.js'

export const START = Date.parse('2025-10-10T07:00:00.000Z')

/** A clock tests move by hand: expiry paths run without sleeping. */
export class ManualClock {
  now = START
  advance(ms: number): void {
    this.now += ms
  }
}

export const hasher = new Blake3Hasher()
export const verifier = new WebCryptoP256Verifier()
export const tokenEncoder = new GzipTokenEncoder()
export const generateKey = (): Promise<SigningKey> => WebCryptoP256SigningKey.generate()

export interface Harness {
  readonly clock: ManualClock
  /** What the server was constructed with, for tests that vary one option. */
  readonly serverOptions: BetterAuthServerOptions
  readonly timestamper: Rfc3339Timestamper
  readonly server: BetterAuthServer
  readonly accessVerifier: AccessVerifier
  readonly stores: ReturnType<typeof memoryServerStores>
  readonly responseKey: SigningKey
  readonly accessKey: SigningKey
  /** Every request the network carried, by path, most recent last. */
  readonly sent: Map<string, string[]>
  /** Raw HTTP-like dispatch: what a server would answer to `message` on `path`. */
  dispatch(path: string, message: string): Promise<string>
  newClient(options?: { clockOffsetMs?: number; network?: Network }): BetterAuthClient
  lastSent(path: string): string
}

const ATTRIBUTES: JsonObject = { permissionsByRole: { admin: ['read', 'write'] } }

export async function createHarness(
  overrides: Partial<Pick<BetterAuthServerOptions, 'expiry' | 'attributes' | 'revocations'>> & {
    accessKey?: SigningKey
    responseKey?: SigningKey
  } = {},
): Promise<Harness> {
  const clock = new ManualClock()
  const timestamper = new Rfc3339Timestamper({ clock: () => clock.now })
  const responseKey = overrides.responseKey ?? (await generateKey())
  const accessKey = overrides.accessKey ?? (await generateKey())
  const stores = memoryServerStores()
  const serverOptions: BetterAuthServerOptions = {
    crypto: {
      hasher,
      noncer: new SecureNoncer(),
      verifier,
      keyPairs: { response: responseKey, access: accessKey },
    },
    encoding: { timestamper, tokenEncoder, identityVerifier: new DefaultIdentityVerifier(hasher) },
    stores,
    expiry: overrides.expiry,
    revocations: overrides.revocations,
    attributes: overrides.attributes ?? (() => ATTRIBUTES),
  }
  const server = new BetterAuthServer(serverOptions)
  const accessVerifier = new AccessVerifier({
    crypto: { verifier },
    encoding: { timestamper, tokenEncoder },
    stores: {
      accessNonce: stores.accessNonce,
      accessVerificationKeys: new StaticVerificationKeyStore([accessKey]),
    },
    expiry: overrides.expiry,
  })
  const responseIdentity = await responseKey.public()

  const routes = new Map<string, (message: string) => Promise<string>>()
  for (const name of Object.keys(protocols) as ProtocolName[]) {
    routes.set(protocols[name].path, (message) => server.handle(name, message))
  }
  const fooBar = async (message: string, wrongNonce: boolean) => {
    const verified = await accessVerifier.verify<{ foo: string; bar: string }>(message)
    const nonce = wrongNonce ? '0AAAAAAAAAAAAAAAAAAAAAAA' : verified.nonce
    return signAccessResponse(
      responseKey,
      nonce,
      { wasFoo: verified.request.foo, wasBar: verified.request.bar },
      responseIdentity,
    )
  }
  routes.set('/foo/bar', (message) => fooBar(message, false))
  routes.set('/bad/nonce', (message) => fooBar(message, true))

  const sent = new Map<string, string[]>()
  const dispatch = async (path: string, message: string): Promise<string> => {
    const route = routes.get(path)
    if (route === undefined) return errorResponse(new Error('not found'))
    try {
      return await route(message)
    } catch (error) {
      return errorResponse(error)
    }
  }
  const network: Network = {
    sendRequest(path, message) {
      sent.set(path, [...(sent.get(path) ?? []), message])
      return dispatch(path, message)
    },
  }

  return {
    clock,
    serverOptions,
    timestamper,
    server,
    accessVerifier,
    stores,
    responseKey,
    accessKey,
    sent,
    dispatch,
    lastSent(path) {
      const messages = sent.get(path)
      if (messages === undefined || messages.length === 0)
        throw new Error(`nothing sent to ${path}`)
      return messages[messages.length - 1]!
    },
    newClient(options = {}) {
      const offset = options.clockOffsetMs ?? 0
      return new BetterAuthClient({
        crypto: { hasher, noncer: new SecureNoncer() },
        encoding: { timestamper: new Rfc3339Timestamper({ clock: () => clock.now + offset }) },
        io: { network: options.network ?? network },
        stores: {
          identity: new MemoryValueStore(),
          device: new MemoryValueStore(),
          accessToken: new MemoryValueStore(),
          authenticationKey: new MemoryRotatingKeyStore({ generate: generateKey, hasher }),
          accessKey: new MemoryRotatingKeyStore({ generate: generateKey, hasher }),
          responseKeys: pinnedKeys(responseIdentity),
        },
      })
    },
  }
}

/** Resolves to the error code a promise rejects with; fails the test if it fulfils. */
export async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise
  } catch (error) {
    return (error as { code?: string }).code ?? `untyped: ${String(error)}`
  }
  throw new Error('expected a rejection')
}

/** The code of a server error body, or 'ok' for a signed response. */
export function responseCode(text: string): string {
  const parsed = JSON.parse(text) as { error?: { code: string }; payload?: unknown }
  return parsed.error?.code ?? 'ok'
}

export async function newAccount(harness: Harness) {
  const client = harness.newClient()
  const recoveryKey = await generateKey()
  const { identity } = await client.createAccount(await hasher.sum(await recoveryKey.public()))
  return { client, recoveryKey, identity }
}

/** A fixed request nonce for hand-built requests (servers only echo it). */
export const NONCE = '0ABic13dCJIYixhIS8fd6kfC'

/** The keys and the signed createAccount request of an account that the test builds by hand. */
export async function handAccountRequest() {
  const current = await generateKey()
  const next = await generateKey()
  const recovery = await generateKey()
  const publicKey = await current.public()
  const rotationHash = await hasher.sum(await next.public())
  const recoveryHash = await hasher.sum(await recovery.public())
  const device = await hasher.sum(publicKey + rotationHash)
  const identity = await hasher.sum(publicKey + rotationHash + recoveryHash)
  const createMessage = await signPayload(
    current,
    buildRequestPayload('createAccount', NONCE, {
      authentication: { device, identity, publicKey, recoveryHash, rotationHash },
    }),
  )
  return { current, next, recovery, publicKey, rotationHash, device, identity, createMessage }
}

/** A hand-built account whose keys the test holds, so it can forge every variation. */
export async function handAccount(harness: Harness) {
  const account = await handAccountRequest()
  const answer = await harness.dispatch('/account/create', account.createMessage)
  if (responseCode(answer) !== 'ok') throw new Error(`createAccount refused: ${answer}`)
  return account
}
