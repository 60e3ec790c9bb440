import {
  ConfigurationError,
  DEFAULT_MAX_MESSAGE_LENGTH,
  type AccessTokenBody,
  ExpiredTokenError,
  FutureRequestError,
  FutureTokenError,
  InvalidMessageError,
  InvalidSignatureError,
  ReplayError,
  StaleRequestError,
  buildAccessResponsePayload,
  decodeAccessToken,
  parseAccessRequest,
  signPayload,
  type JsonValue,
  type SigningKey,
} from '@better-auth/protocol'
import { LruCache } from '@better-auth/protocol/internal'
import {
  accessNonceLockExpiry,
  positiveInteger,
  requireMethods,
  resolveExpiry,
  type ExpiryOptions,
} from './config.js'
import { keyResolver, publicKeyOf } from './keys/signing-key-source.js'
import type { AccessVerifierOptions } from './options.js'
import { verificationKeyFailure } from './stores/verification-key-failure.js'

/** Verified tokens kept per verifier; each entry is a few hundred bytes. */
export const DEFAULT_TOKEN_CACHE_SIZE = 10_000

/** What an application route learns from a verified access request. */
export interface VerifiedAccess<R = JsonValue> {
  /** The application data, or its exact JSON text when verified with `{ request: 'text' }`. */
  readonly request: R
  readonly token: {
    readonly identity: string
    readonly device: string
    readonly attributes: JsonValue
    readonly expiry: string
  }
  /** Echo it in the response (`AccessVerifier.respond` does). */
  readonly nonce: string
}

/** What an access route's application code returns: any JSON value; nothing answers null. */
export type AccessResult = JsonValue | undefined | void

export interface AccessVerifyOptions {
  /**
   * `'value'` (default): `request` is the parsed application data, and a number that a double
   * cannot hold exactly is refused (BA101). `'text'`: `request` is the exact JSON text of the
   * application data, numbers unchecked, for routes that parse it themselves (big integers,
   * decimals); duplicate keys, nesting and Unicode are checked either way.
   */
  readonly request?: 'value' | 'text'
}

/**
 * The one access entry point: verifies access requests for application routes and, given the
 * response key, answers them signed. Cheap checks (structure, clocks) run before
 * signatures; the nonce is reserved last, so a forged request cannot burn a legitimate nonce.
 */
export class AccessVerifier {
  readonly #options: AccessVerifierOptions
  readonly #expiry: Pick<ExpiryOptions, 'accessWindowMs' | 'clockSkewMs' | 'accessNonceLockMs'>
  readonly #maxLength: number
  readonly #tokens: LruCache<string, VerifiedToken>
  readonly #responseKey: (() => SigningKey) | undefined
  /** Bumped whenever keys are withdrawn, so a verification that raced one is not cached. */
  #withdrawals = 0

  constructor(options: AccessVerifierOptions) {
    requireMethods('options', options, [])
    requireMethods('crypto', options.crypto, [])
    requireMethods('crypto.verifier', options.crypto.verifier, ['verify'])
    requireMethods('encoding', options.encoding, [])
    requireMethods('encoding.timestamper', options.encoding.timestamper, ['now', 'parse'])
    requireMethods('encoding.tokenEncoder', options.encoding.tokenEncoder, ['decode'])
    requireMethods('stores', options.stores, [])
    requireMethods('stores.accessNonce', options.stores.accessNonce, ['reserve'])
    requireMethods('stores.accessVerificationKeys', options.stores.accessVerificationKeys, ['get'])
    if (options.stores.devices !== undefined) {
      requireMethods('stores.devices', options.stores.devices, ['publicKey'])
    }
    this.#options = options
    this.#responseKey =
      options.crypto.responseKey === undefined
        ? undefined
        : keyResolver('crypto.responseKey', options.crypto.responseKey)
    this.#expiry = resolveExpiry(options.expiry)
    this.#maxLength = positiveInteger(
      'maxMessageLength',
      options.maxMessageLength,
      DEFAULT_MAX_MESSAGE_LENGTH,
    )
    this.#tokens = new LruCache(
      options.tokenCacheSize ?? DEFAULT_TOKEN_CACHE_SIZE,
      'tokenCacheSize',
    )
    const keys = options.stores.accessVerificationKeys
    if (keys.onChange !== undefined) {
      if (typeof keys.onChange !== 'function') {
        throw new ConfigurationError(
          'stores.accessVerificationKeys.onChange',
          'must be a function when given',
        )
      }
      // Lives as long as the key store: a verifier is made once per process, not per request.
      keys.onChange(({ withdrawn }) => this.#forget(withdrawn))
    }
  }

  verify<R = JsonValue>(
    message: string,
    options?: AccessVerifyOptions & { readonly request?: 'value' },
  ): Promise<VerifiedAccess<R>>
  verify(
    message: string,
    options: AccessVerifyOptions & { readonly request: 'text' },
  ): Promise<VerifiedAccess<string>>
  verify(message: string, options?: AccessVerifyOptions): Promise<VerifiedAccess>
  async verify(message: string, options: AccessVerifyOptions = {}): Promise<VerifiedAccess> {
    const { timestamper } = this.#options.encoding
    const { accessWindowMs, clockSkewMs } = this.#expiry
    // Everything a message can be refused for by its text alone (structure, duplicate keys, depth,
    // inexact numbers) is refused here: before any signature work and before the nonce is spent.
    const mode = options.request ?? 'value'
    if (mode !== 'value' && mode !== 'text') {
      throw new ConfigurationError('request', "must be 'value' or 'text'")
    }
    const envelope =
      mode === 'text'
        ? parseAccessRequest(message, { maxLength: this.#maxLength, request: 'text' })
        : parseAccessRequest(message, { maxLength: this.#maxLength })
    const access = envelope.payload.access
    const now = timestamper.now().getTime()
    // Parsed before any token work: a malformed timestamp costs no signature verification.
    const requestTime = timestamper.parse(access.timestamp).getTime()
    // A cached token is checked synchronously: no promise on the common path.
    const key = cacheKey(access.token)
    const cached = this.#tokens.get(key)
    let token: VerifiedToken
    if (cached?.text === access.token) {
      if (now > cached.expiry) this.#tokens.delete(key)
      token = this.#live(cached, now)
    } else {
      token = await this.#verifiedToken(access.token, now)
    }
    const { body } = token
    if (now - requestTime > accessWindowMs) throw new StaleRequestError()
    if (requestTime - now > clockSkewMs) throw new FutureRequestError()
    // verifyEnvelope inlined: one promise less per request.
    const { signature } = envelope
    if (
      signature === undefined ||
      !(await this.#options.crypto.verifier.verify(envelope.payloadText, signature, body.publicKey))
    ) {
      throw new InvalidSignatureError('request')
    }
    // After the signatures (a forgery costs no store read), before the nonce (a revoked device's
    // request burns nothing).
    const { devices } = this.#options.stores
    if (devices !== undefined) await devices.publicKey(body.identity, body.device)

    const reserved = await this.#options.stores.accessNonce.reserve(
      access.nonce,
      accessNonceLockExpiry(requestTime, this.#expiry),
      now,
    )
    if (!reserved) throw new ReplayError('access-nonce')
    return {
      request: envelope.payload.request,
      token: {
        identity: body.identity,
        device: body.device,
        attributes: body.attributes,
        expiry: body.expiry,
      },
      nonce: access.nonce,
    }
  }

  /**
   * Signs application data as the answer to a verified access request, echoing its nonce. Needs
   * `crypto.responseKey`.
   */
  async respond(nonce: string, response: JsonValue): Promise<string> {
    if (this.#responseKey === undefined) {
      throw new ConfigurationError('crypto.responseKey', 'is required to answer access requests')
    }
    // One key for the identity and the signature; its public key is known after the first use.
    const responseKey = this.#responseKey()
    const identity = publicKeyOf(responseKey)
    return signAccessResponse(
      responseKey,
      nonce,
      response,
      typeof identity === 'string' ? identity : await identity,
    )
  }

  /**
   * Verifies `message`, hands the verified request to `handler` and signs what it returns (null
   * for nothing), echoing the nonce: a whole access route in one call.
   */
  async answer<R = JsonValue>(
    message: string,
    handler: (access: VerifiedAccess<R>) => AccessResult | Promise<AccessResult>,
    options: AccessVerifyOptions = {},
  ): Promise<string> {
    if (this.#options.crypto.responseKey === undefined) {
      // Before verifying: a misconfigured route must not spend the client's nonce.
      throw new ConfigurationError('crypto.responseKey', 'is required to answer access requests')
    }
    // With `{ request: 'text' }`, R is the caller's word that it expects the text (a string).
    const access = (await this.verify(message, options)) as VerifiedAccess<R>
    const result = handler(access)
    const data = isPromiseLike(result) ? await result : result
    return this.respond(access.nonce, data ?? null)
  }

  /** Whether `respond` and `answer` can sign (a response key was given). */
  get answers(): boolean {
    return this.#options.crypto.responseKey !== undefined
  }

  /**
   * Drops every cached token verification, e.g. after removing a key from a fixed key store. A
   * store that tells of its changes (`onChange`, as a ServiceKeyRing's or a KeySetKeyStore does)
   * needs no such call: the tokens of withdrawn keys are forgotten when it learns of them.
   */
  clearTokenCache(): void {
    this.#withdrawals++
    this.#tokens.clear()
  }

  #forget(withdrawn: readonly string[]): void {
    if (withdrawn.length === 0) return
    this.#withdrawals++
    const gone = new Set(withdrawn)
    this.#tokens.deleteWhere((token) => gone.has(token.body.serverIdentity))
  }

  async #verifiedToken(text: string, now: number): Promise<VerifiedToken> {
    const { timestamper, tokenEncoder } = this.#options.encoding
    const decoded = await decodeAccessToken(text, tokenEncoder)
    const token: VerifiedToken = {
      text,
      body: decoded.body,
      issuedAt: timestamper.parse(decoded.body.issuedAt).getTime(),
      expiry: timestamper.parse(decoded.body.expiry).getTime(),
    }
    // Lifetime first: an expired or future token costs no signature verification.
    this.#live(token, now)
    const withdrawals = this.#withdrawals
    const serverKey = await this.#options.stores.accessVerificationKeys
      .get(decoded.body.serverIdentity)
      .catch((error: unknown) => {
        throw verificationKeyFailure(error)
      })
    if (!(await serverKey.verify(decoded.bodyText, decoded.signature))) {
      throw new InvalidSignatureError('token')
    }
    // A key withdrawn while this was verified may be this token's: verified, but not kept.
    if (withdrawals === this.#withdrawals) this.#tokens.set(cacheKey(text), token)
    return token
  }

  #live(token: VerifiedToken, now: number): VerifiedToken {
    if (token.issuedAt > now + this.#expiry.clockSkewMs) throw new FutureTokenError()
    if (now > token.expiry) throw new ExpiredTokenError('access')
    return token
  }
}

/**
 * A token's signature is verified once and the result kept, keyed by the exact token text, until
 * the token expires or drops out of the bounded cache; its lifetime is still checked on every
 * request. Forged or altered tokens are different text, so they never hit.
 */
interface VerifiedToken {
  /** The whole token: a hit counts only when the request carries exactly this text. */
  readonly text: string
  readonly body: AccessTokenBody
  readonly issuedAt: number
  readonly expiry: number
}

/** A token starts with its signature, a CESR `0I` primitive of 88 characters. */
const TOKEN_SIGNATURE_LENGTH = 88

/**
 * Tokens are cached under their leading signature rather than their whole text (~700 characters
 * that a Map would hash on every request). Entries keep the whole text and a hit must match it, so
 * another token that shares the prefix (only a forger could make one) is a miss and gets verified;
 * it can never replace the entry unless its own signature verifies.
 */
function cacheKey(token: string): string {
  return token.slice(0, TOKEN_SIGNATURE_LENGTH)
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  )
}

/**
 * Signs an application response that echoes the request nonce.
 * @deprecated Give the `AccessVerifier` the response key (`crypto.responseKey`, or build it with
 * `server.accessVerifier(…)`) and call `respond` or `answer`.
 */
export async function signAccessResponse(
  responseKey: SigningKey,
  nonce: string,
  response: JsonValue,
  serverIdentity?: string,
): Promise<string> {
  // JSON.stringify would drop the member, and clients refuse a response without one.
  if (response === undefined) {
    throw new InvalidMessageError('response', 'undefined has no JSON form; answer null instead')
  }
  const payload = buildAccessResponsePayload(
    { nonce, serverIdentity: serverIdentity ?? (await responseKey.public()) },
    response,
  )
  return signPayload(responseKey, payload)
}
