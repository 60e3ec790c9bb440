import {
  DEFAULT_MAX_MESSAGE_LENGTH,
  ExpiredTokenError,
  FutureRequestError,
  FutureTokenError,
  InvalidSignatureError,
  InvalidTokenError,
  ReplayError,
  StaleRequestError,
  buildAccessResponsePayload,
  decodeAccessToken,
  parseAccessRequest,
  signPayload,
  verifyEnvelope,
  type JsonValue,
  type SigningKey,
} from '@better-auth/protocol'
import { positiveInteger, requireMethods, resolveExpiry, type ExpiryOptions } from './config.js'
import type { AccessVerifierOptions } from './options.js'

/** What an application route learns from a verified access request. */
export interface VerifiedAccess<R = JsonValue> {
  readonly request: R
  readonly token: {
    readonly identity: string
    readonly device: string
    readonly attributes: JsonValue
    readonly expiry: string
  }
  /** Echo it in the response (`signAccessResponse` does). */
  readonly nonce: string
}

/**
 * Verifies access requests for application routes. Cheap checks (structure, clocks) run before
 * signatures; the nonce is reserved last, so a forged request cannot burn a legitimate nonce.
 */
export class AccessVerifier {
  readonly #options: AccessVerifierOptions
  readonly #expiry: Pick<ExpiryOptions, 'accessWindowMs' | 'clockSkewMs' | 'accessNonceLockMs'>
  readonly #maxLength: number

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
    this.#options = options
    this.#expiry = resolveExpiry(options.expiry)
    this.#maxLength = positiveInteger(
      'maxMessageLength',
      options.maxMessageLength,
      DEFAULT_MAX_MESSAGE_LENGTH,
    )
  }

  async verify<R = JsonValue>(message: string): Promise<VerifiedAccess<R>> {
    const { timestamper, tokenEncoder } = this.#options.encoding
    const { accessWindowMs, clockSkewMs, accessNonceLockMs } = this.#expiry
    const envelope = parseAccessRequest(message, { maxLength: this.#maxLength })
    const access = envelope.payload.access
    const token = await decodeAccessToken(access.token, tokenEncoder)
    const body = token.body
    const now = timestamper.now().getTime()

    if (timestamper.parse(body.issuedAt).getTime() > now + clockSkewMs) throw new FutureTokenError()
    if (now > timestamper.parse(body.expiry).getTime()) throw new ExpiredTokenError('access')
    const requestTime = timestamper.parse(access.timestamp).getTime()
    if (now - requestTime > accessWindowMs) throw new StaleRequestError()
    if (requestTime - now > clockSkewMs) throw new FutureRequestError()

    const serverKey = await this.#options.stores.accessVerificationKeys
      .get(body.serverIdentity)
      .catch(() => {
        throw new InvalidTokenError('signed by an unknown server key')
      })
    if (!(await serverKey.verify(token.bodyText, token.signature))) {
      throw new InvalidSignatureError('token')
    }
    await verifyEnvelope(envelope, this.#options.crypto.verifier, body.publicKey, 'request')

    const reserved = await this.#options.stores.accessNonce.reserve(
      access.nonce,
      now + accessNonceLockMs,
      now,
    )
    if (!reserved) throw new ReplayError('access-nonce')
    return {
      request: envelope.payload.request as R,
      token: {
        identity: body.identity,
        device: body.device,
        attributes: body.attributes,
        expiry: body.expiry,
      },
      nonce: access.nonce,
    }
  }
}

/** Signs an application response that echoes the request nonce. */
export async function signAccessResponse(
  responseKey: SigningKey,
  nonce: string,
  response: JsonValue,
  serverIdentity?: string,
): Promise<string> {
  const payload = buildAccessResponsePayload(
    { nonce, serverIdentity: serverIdentity ?? (await responseKey.public()) },
    response,
  )
  return signPayload(responseKey, payload)
}
