import { InvalidMessageError, NetworkError, isErrorCode, remoteError } from '@better-auth/protocol'
import { instantField, publicKeyField } from '@better-auth/protocol/internal'
import {
  verifyKeyChain,
  type EndorseRequest,
  type KeyChainCrypto,
  type KeyEndorser,
} from '@better-auth/protocol/key-chain'
import { BearerCredentials, mapError } from '@better-auth/server/http'
import { Counter, type Registry } from 'prom-client'

/** Where an auth service endorses the response keys of application services. */
export const ENDORSE_PATH = '/key/endorse'
/** An endorsement request is a few hundred bytes. */
export const ENDORSE_BODY_LIMIT = 4096

export interface EndorsementAnswer {
  readonly status: number
  readonly body: string
}

export interface EndorsementRouteOptions {
  /**
   * Each application service's name and bearer credential (at least 32 characters, one secret
   * per service): a service left out is refused (BA304), so removing it revokes it.
   */
  readonly credentials: Readonly<Record<string, string>>
  /** Given, endorsements are counted per service (`better_auth_endorsements_total{service}`). */
  readonly metrics?: Registry
  /** The auth service's endorser (its root key vault). */
  readonly endorser: KeyEndorser
  /** The longest window endorsed: an application's rotation plus overlap must fit in it. */
  readonly maxWindowMs: number
  /** How far before now a window may start (clocks behind). */
  readonly clockSkewMs: number
  readonly now?: () => number
}

/**
 * `POST /key/endorse`: the auth service endorses an application service's new *response* key,
 * so the application service rotates its own keys without ever holding a root key. Access keys
 * are never endorsed here: an application service that holds this credential still cannot mint
 * tokens. The answer carries the endorsement and the chain it was signed under.
 */
export class EndorsementRoute {
  readonly #options: EndorsementRouteOptions
  readonly #credentials: BearerCredentials
  readonly #endorsements: Counter<'service'> | undefined
  readonly #now: () => number

  constructor(options: EndorsementRouteOptions) {
    this.#options = options
    this.#credentials = new BearerCredentials(options.credentials, 'ENDORSE_CREDENTIALS')
    this.#endorsements =
      options.metrics === undefined
        ? undefined
        : new Counter({
            name: 'better_auth_endorsements_total',
            help: 'Response keys endorsed at /key/endorse, by the application service that asked.',
            labelNames: ['service'],
            registers: [options.metrics],
          })
    this.#now = options.now ?? Date.now
  }

  /** `body` is read only once the credential holds. */
  async handle(
    authorization: string | undefined,
    body: () => Promise<string>,
  ): Promise<EndorsementAnswer> {
    try {
      // The credential first: a stranger learns nothing about what the route accepts.
      const service = await this.#credentials.authorize(authorization)
      const request = this.#request(await body())
      const endorsement = await this.#options.endorser.endorse(request)
      const chain = await this.#options.endorser.events()
      this.#endorsements?.inc({ service })
      return { status: 200, body: JSON.stringify({ endorsement, chain }) }
    } catch (error) {
      // The one mapping of the HTTP adapters: a body too large is 413, a wrong type 415.
      const { status, body } = mapError(error)
      return { status, body: JSON.stringify(body) }
    }
  }

  #request(body: string): EndorseRequest {
    let value: unknown
    try {
      value = JSON.parse(body)
    } catch {
      throw new InvalidMessageError('body', 'expected JSON')
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new InvalidMessageError('body', 'expected a JSON object')
    }
    // Every field is checked here, before the endorser reads its chain and root key.
    const { purpose, publicKey, notBefore, notAfter } = value as Record<string, unknown>
    if (purpose !== 'response') {
      throw new InvalidMessageError('purpose', 'only response keys are endorsed here')
    }
    const key = publicKeyField(publicKey, 'publicKey')
    const start = new Date(instantField(notBefore, 'notBefore'))
    const end = new Date(instantField(notAfter, 'notAfter'))
    const now = this.#now()
    if (start.getTime() < now - 2 * this.#options.clockSkewMs) {
      throw new InvalidMessageError('notBefore', 'too far in the past')
    }
    const ends = end.getTime()
    if (ends <= Math.max(start.getTime(), now) || ends - now > this.#options.maxWindowMs) {
      throw new InvalidMessageError('notAfter', 'outside the window this service endorses')
    }
    return { purpose, publicKey: key, notBefore: start, notAfter: end }
  }
}

export interface RemoteEndorserOptions {
  /** The auth service's base URL. */
  readonly authUrl: string
  readonly credential: string
  /** The pinned chain prefix: a chain with another prefix is refused. */
  readonly prefix: string
  readonly crypto: KeyChainCrypto
  readonly fetch?: typeof fetch
}

/**
 * An application service's `KeyEndorser`: asks the auth service (`ENDORSE_PATH`) to endorse each
 * new response key. The chain comes with each answer and from the auth service's key set, and is
 * verified against the pinned prefix before it is shared.
 */
export class RemoteEndorser implements KeyEndorser {
  readonly #options: RemoteEndorserOptions
  readonly #fetch: typeof fetch

  constructor(options: RemoteEndorserOptions) {
    this.#options = options
    this.#fetch = options.fetch ?? fetch
  }

  async events(): Promise<readonly string[]> {
    const { chain } = (await this.#call('/key/set', { method: 'GET' })) as { chain?: unknown }
    return this.#verified(chain)
  }

  async endorse(request: EndorseRequest): Promise<string> {
    const answer = (await this.#call(ENDORSE_PATH, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${this.#options.credential}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify({
        purpose: request.purpose,
        publicKey: request.publicKey,
        notBefore: request.notBefore.toISOString(),
        notAfter: request.notAfter.toISOString(),
      }),
    })) as { endorsement?: unknown; chain?: unknown }
    await this.#verified(answer.chain)
    if (typeof answer.endorsement !== 'string') {
      throw new InvalidMessageError('endorsement', 'expected the endorsement text')
    }
    return answer.endorsement
  }

  async #verified(chain: unknown): Promise<readonly string[]> {
    if (!Array.isArray(chain) || !chain.every((event) => typeof event === 'string')) {
      throw new InvalidMessageError('chain', 'expected the key event texts')
    }
    await verifyKeyChain(chain, this.#options.crypto, { prefix: this.#options.prefix })
    return chain
  }

  async #call(path: string, init: RequestInit): Promise<unknown> {
    let response: Response
    let text: string
    try {
      response = await this.#fetch(new URL(path, this.#options.authUrl), init)
      text = await response.text()
    } catch (error) {
      throw new NetworkError(`auth service unreachable at ${path}`, error)
    }
    let value: unknown
    try {
      value = JSON.parse(text)
    } catch {
      throw new InvalidMessageError(path, 'the auth service did not answer JSON')
    }
    if (!response.ok) {
      const { code, message } = ((value as { error?: unknown }).error ?? {}) as {
        code?: unknown
        message?: unknown
      }
      if (isErrorCode(code)) throw remoteError(code, String(message))
      throw new NetworkError(`the auth service answered ${response.status} at ${path}`)
    }
    return value
  }
}
