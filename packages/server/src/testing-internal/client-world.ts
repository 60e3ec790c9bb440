/**
 * The client's tests against this server: a real BetterAuthServer with memory stores behind a
 * Network that can misbehave as only a network or an impostor does. That misbehaviour is the one
 * fake kept: no real server loses its own response, echoes another request's nonce or signs with
 * someone else's key. Everything the protocol checks is checked by the real server.
 *
 * The one harness of both packages: the server's client tests import it, and so do the client
 * package's, by relative path. The client cannot declare a dependency on the server: the server's
 * tests already depend on the client, and turbo refuses the cycle in its build graph.
 */
import {
  BetterAuthClient,
  MemoryRotatingKeyStore,
  MemoryValueStore,
  MemoryVerificationKeyStore,
  type BetterAuthClientOptions,
  type ClientStores,
  type Network,
} from '@better-auth/client'
import {
  Blake3Hasher,
  DefaultIdentityVerifier,
  GzipTokenEncoder,
  NobleP256SigningKey,
  NobleP256Verifier,
  Rfc3339Timestamper,
  SecureNoncer,
} from '@better-auth/crypto'
import {
  InvalidMessageError,
  buildAccessResponsePayload,
  decodeAccessToken,
  parseEnvelope,
  protocols,
  serializeEnvelope,
  signPayloadText,
  type AccessTokenBody,
  type JsonValue,
  type ProtocolName,
  type RecordedAccountEvent,
  type SigningKey,
  type Timestamper,
} from '@better-auth/protocol'
import {
  AccessVerifier,
  BetterAuthServer,
  StaticVerificationKeyStore,
  errorResponse,
  memoryServerStores,
} from '../index.js'

export const hasher = new Blake3Hasher()
export const noncer = new SecureNoncer()
export const verifier = new NobleP256Verifier()
/** One fixed instant for the server and its clients, so a test can name the exact timestamp. */
export const FIXED_NOW = Date.now()
export const timestamper = new Rfc3339Timestamper({ clock: () => FIXED_NOW })
const tokenEncoder = new GzipTokenEncoder()
const protocolByPath = new Map(
  (Object.keys(protocols) as ProtocolName[]).map((name) => [protocols[name].path, name]),
)

export function generateKey(): Promise<NobleP256SigningKey> {
  return Promise.resolve(NobleP256SigningKey.generate())
}

/**
 * One-shot misbehaviour. 'offline' and 'lose-response' model the network; the others model an
 * impostor answering in the server's place, so the server never sees the request and a retry
 * with the same keys must succeed.
 */
export type Fault =
  | 'offline' // the request never reaches the server
  | 'lose-response' // the server processes the request, the response is lost
  | 'wrong-nonce' // well-formed, trusted signature, but the nonce of another request
  | 'bad-signature' // signed by an untrusted key that claims to be the trusted one
  | 'unknown-key' // validly signed by a key the client does not trust, named honestly
  | 'tampered-payload' // trusted signature, payload bytes changed afterwards

export interface RecordedRequest {
  readonly path: string
  readonly message: string
}

/**
 * The server's network: records what the client sent and applies injected faults. Access routes:
 * `/foo/bar` answers `{ wasFoo, wasBar }`, `/bad/nonce` the same with a wrong nonce.
 */
export class FaultyNetwork implements Network {
  readonly requests: RecordedRequest[] = []
  /** Returned verbatim for the next request instead of asking the server. */
  rawResponse: string | undefined
  /**
   * Refuse (BA101) a request that is not compact JSON, which a real server would accept: every
   * client test then also pins the exact bytes the client sends. On by default.
   */
  requireCompact = true
  readonly #server: BetterAuthServer
  readonly #accessVerifier: AccessVerifier
  readonly #responseKey: SigningKey
  readonly #otherKey: SigningKey
  #fault: { fault: Fault; path: string | undefined } | undefined

  constructor(
    server: BetterAuthServer,
    accessVerifier: AccessVerifier,
    responseKey: SigningKey,
    otherKey: SigningKey,
  ) {
    this.#server = server
    this.#accessVerifier = accessVerifier
    this.#responseKey = responseKey
    this.#otherKey = otherKey
  }

  get lastRequest(): RecordedRequest {
    const last = this.requests.at(-1)
    if (last === undefined) throw new Error('no request was sent')
    return last
  }

  /** Applies `fault` to the next request (to `path`, when given), once. */
  inject(fault: Fault, path?: string): void {
    this.#fault = { fault, path }
  }

  /** The requests sent to `path`, oldest first. */
  sentTo(path: string): RecordedRequest[] {
    return this.requests.filter((request) => request.path === path)
  }

  async sendRequest(path: string, message: string): Promise<string> {
    this.requests.push({ path, message })
    let fault: Fault | undefined
    if (this.#fault !== undefined && (this.#fault.path ?? path) === path) {
      fault = this.#fault.fault
      this.#fault = undefined
    }
    if (this.rawResponse !== undefined) {
      const raw = this.rawResponse
      this.rawResponse = undefined
      return raw
    }
    if (fault === 'offline') throw new TypeError('fetch failed')
    if (fault !== undefined && fault !== 'lose-response') {
      const { payload } = JSON.parse(message) as { payload: { access: { nonce: string } } }
      return this.#forge(payload.access.nonce, await impostorBody(path, this.#otherKey), fault)
    }
    const response =
      this.requireCompact && !isCompact(message)
        ? errorResponse(new InvalidMessageError('payload', 'not compact JSON (test network)'))
        : await this.#answer(path, message)
    if (fault === 'lose-response') throw new TypeError('socket hang up')
    return response
  }

  async #answer(path: string, message: string): Promise<string> {
    try {
      const protocol = protocolByPath.get(path)
      if (protocol !== undefined) return await this.#server.handle(protocol, message)
      if (path !== '/foo/bar' && path !== '/bad/nonce') {
        throw new InvalidMessageError('path', 'no such route')
      }
      const { request, nonce } = await this.#accessVerifier.verify<{
        foo?: JsonValue
        bar?: JsonValue
      }>(message)
      const echoed = path === '/bad/nonce' ? await noncer.generate128() : nonce
      return await this.#server.accessResponse(echoed, {
        wasFoo: request.foo ?? null,
        wasBar: request.bar ?? null,
      })
    } catch (error) {
      return errorResponse(error)
    }
  }

  /** An impostor's response: well-formed, but wrong in the way `fault` says. */
  async #forge(nonce: string, response: JsonValue, fault: Fault): Promise<string> {
    const echoed = fault === 'wrong-nonce' ? await noncer.generate128() : nonce
    const named = fault === 'unknown-key' ? this.#otherKey : this.#responseKey
    const payloadText = JSON.stringify(
      buildAccessResponsePayload({ nonce: echoed, serverIdentity: await named.public() }, response),
    )
    const signer =
      fault === 'wrong-nonce' || fault === 'tampered-payload' ? this.#responseKey : this.#otherKey
    const signature = await signer.sign(payloadText)
    if (fault === 'tampered-payload') {
      // Same JSON value, different bytes: only a check over the received bytes notices.
      return serializeEnvelope(payloadText.replace('"response":', '"response": '), signature)
    }
    return serializeEnvelope(payloadText, signature)
  }
}

/** A response body of the right shape for `path`, as an impostor would forge it. */
async function impostorBody(path: string, otherKey: SigningKey): Promise<JsonValue> {
  switch (protocolByPath.get(path)) {
    case 'requestSession':
      return { authentication: { nonce: await noncer.generate128() } }
    case 'createSession':
    case 'refreshSession':
      return { access: { token: `${await otherKey.sign('forged')}e30` } }
    case undefined:
      return { wasFoo: 'forged', wasBar: 'forged' }
    default:
      return {}
  }
}

export interface World {
  /** The real server, reached through a network that can misbehave. */
  readonly server: FaultyNetwork
  /** The server's response key: the key clients pin. */
  readonly responseKey: NobleP256SigningKey
  /** A key nobody trusts, for impostors. */
  readonly otherKey: NobleP256SigningKey
  /** The device's current authentication key as the server holds it; undefined once revoked. */
  deviceKey(identity: string, device: string): Promise<string | undefined>
  /** Whether the server holds `hash` as the identity's recovery hash. */
  holdsRecoveryHash(identity: string, hash: string): Promise<boolean>
  /** What a token the server issued grants, once its signature checks out. */
  token(token: string): Promise<AccessTokenBody>
  /** The identity's account events as the server logged them, oldest first. */
  events(identity: string): Promise<readonly RecordedAccountEvent[]>
}

export function createWorld(): World {
  const stores = memoryServerStores()
  const responseKey = NobleP256SigningKey.generate()
  const accessKey = NobleP256SigningKey.generate()
  const otherKey = NobleP256SigningKey.generate()
  const server = new BetterAuthServer({
    crypto: { hasher, noncer, verifier, keyPairs: { response: responseKey, access: accessKey } },
    encoding: { timestamper, tokenEncoder, identityVerifier: new DefaultIdentityVerifier(hasher) },
    stores,
  })
  const accessVerifier = new AccessVerifier({
    crypto: { verifier },
    encoding: { timestamper, tokenEncoder },
    stores: {
      accessNonce: stores.accessNonce,
      accessVerificationKeys: new StaticVerificationKeyStore([accessKey]),
    },
  })
  return {
    server: new FaultyNetwork(server, accessVerifier, responseKey, otherKey),
    responseKey,
    otherKey,
    deviceKey: (identity, device) =>
      stores.authenticationKey.publicKey(identity, device).catch(() => undefined),
    // Setting the hash to itself succeeds only when it is the stored one, and changes nothing.
    holdsRecoveryHash: (identity, hash) =>
      stores.recoveryHash.rotate(identity, hash, hash).then(
        () => true,
        () => false,
      ),
    async token(token) {
      const { body, bodyText, signature } = await decodeAccessToken(token, tokenEncoder)
      if (!(await accessKey.verify(bodyText, signature))) throw new Error('not a token we issued')
      return body
    },
    events: (identity) => stores.accountEvents.history(identity),
  }
}

/**
 * A device's memory stores, trusting the response keys `responseKeys` holds: pinned keys, or a
 * server key chain's set (a KeySetKeyStore).
 */
export function deviceStores<R extends ClientStores['responseKeys']>(responseKeys: R) {
  return {
    identity: new MemoryValueStore(),
    device: new MemoryValueStore(),
    accessToken: new MemoryValueStore(),
    authenticationKey: new MemoryRotatingKeyStore({ generate: generateKey, hasher }),
    accessKey: new MemoryRotatingKeyStore({ generate: generateKey, hasher }),
    responseKeys,
  }
}

/** A device's memory stores that trust the keys later added to its `responseKeys`. */
export function createStores() {
  return deviceStores(new MemoryVerificationKeyStore())
}

export type Stores = ReturnType<typeof createStores>

/**
 * A client's options over `network`. The clock is the world's fixed one unless a test against
 * a server on the real clock passes its own.
 */
export function clientOptions(
  network: Network,
  stores: ClientStores,
  clock: Timestamper = timestamper,
): BetterAuthClientOptions {
  return { crypto: { hasher, noncer }, encoding: { timestamper: clock }, io: { network }, stores }
}

/** A client that trusts the world's response key. */
export async function createClient(world: World, network: Network = world.server) {
  const stores = createStores()
  await stores.responseKeys.add(world.responseKey)
  const client = new BetterAuthClient(clientOptions(network, stores))
  return { client, stores }
}

export async function recoveryPair() {
  const key = NobleP256SigningKey.generate()
  return { key, hash: await hasher.sum(await key.public()) }
}

/** Signs a payload text for tests that hand-craft responses. */
export function signText(key: SigningKey, payloadText: string): Promise<string> {
  return signPayloadText(key, payloadText)
}

/** Whether re-serializing the message's parsed payload in the order it was sent gives its bytes. */
function isCompact(message: string): boolean {
  let envelope
  try {
    const signed = Object.hasOwn(JSON.parse(message) as object, 'signature')
    envelope = parseEnvelope(message, (value) => value, signed)
  } catch {
    // Not an envelope at all: that is for the server to refuse.
    return true
  }
  return serializeEnvelope(JSON.stringify(envelope.payload), envelope.signature) === message
}

/** A sent message, checked to be compact: re-serializing its payload reproduces its bytes. */
export function decode<P = unknown>(message: string) {
  if (!isCompact(message)) throw new Error(`message is not compact JSON: ${message}`)
  const signed = Object.hasOwn(JSON.parse(message) as object, 'signature')
  return parseEnvelope(message, (value) => value as P, signed)
}

/** Names a string leaf by its CESR kind, so message shapes can be compared including key order. */
function kind(text: string): string {
  if (/^0A[A-Za-z0-9_-]{22}$/.test(text)) return '<nonce>'
  if (/^1AAI[A-Za-z0-9_-]{44}$/.test(text)) return '<publicKey>'
  if (/^E[A-Za-z0-9_-]{43}$/.test(text)) return '<digest>'
  if (/^0I[A-Za-z0-9_-]{86}$/.test(text)) return '<signature>'
  if (/^0I[A-Za-z0-9_-]{86}[A-Za-z0-9_-]+$/.test(text)) return '<token>'
  if (/^\d{4}-\d{2}-\d{2}T[\d:.]+Z$/.test(text)) return '<timestamp>'
  return text
}

function skeleton(value: JsonValue): JsonValue {
  if (typeof value === 'string') return kind(value)
  if (Array.isArray(value)) return value.map(skeleton)
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, skeleton(item)]))
  }
  return value
}

/** The message's shape with keys in the order they were sent, as compact JSON. */
export function shapeOf(message: string): string {
  return JSON.stringify(skeleton(JSON.parse(message) as JsonValue))
}

/** Whether the sent message carries a valid signature by `publicKey` over its exact bytes. */
export async function signedBy(
  decoded: { readonly payloadText: string; readonly signature: string | undefined },
  publicKey: string,
): Promise<boolean> {
  if (decoded.signature === undefined) return false
  return verifier.verify(decoded.payloadText, decoded.signature, publicKey)
}
