/**
 * The error taxonomy. Codes are stable and shared with every implementation of the protocol
 * (BA1xx validation, BA2xx cryptographic, BA3xx authentication, BA4xx token, BA5xx temporal,
 * BA6xx storage, BA7xx server key chain, BA8xx transport and rate limits, BA9xx client state).
 * Context never carries private keys.
 */
export type ErrorCode = keyof typeof ERRORS

export type ErrorContextValue = string | number | boolean | null
export type ErrorContext = Readonly<Record<string, ErrorContextValue>>

export interface ErrorBody {
  readonly error: {
    readonly code: ErrorCode
    readonly message: string
    readonly context?: ErrorContext
  }
}

interface ErrorOptions {
  readonly context?: ErrorContext
  readonly cause?: unknown
}

export class BetterAuthError extends Error {
  static readonly code: ErrorCode = 'BA000'
  override readonly name: string = 'BetterAuthError'
  readonly code: ErrorCode
  readonly context: ErrorContext

  constructor(message: string, options: ErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.code = new.target.code
    this.context = Object.freeze({ ...(options.context ?? {}) })
  }

  toJSON(): ErrorBody {
    return { error: { code: this.code, message: this.message, context: this.context } }
  }
}

/** Server or client configuration is invalid; `context.field` names the offending option. */
export class ConfigurationError extends BetterAuthError {
  static override readonly code = 'BA001'
  override readonly name = 'ConfigurationError'
  constructor(field: string, details: string) {
    super(`Invalid configuration: ${field}: ${details}`, { context: { field, details } })
  }
}

export class InvalidMessageError extends BetterAuthError {
  static override readonly code = 'BA101'
  override readonly name = 'InvalidMessageError'
  constructor(field: string, details: string, cause?: unknown) {
    super(`Invalid message: ${field}: ${details}`, { context: { field, details }, cause })
  }
}

export class InvalidIdentityError extends BetterAuthError {
  static override readonly code = 'BA102'
  override readonly name = 'InvalidIdentityError'
  constructor(details: string, context: ErrorContext = {}) {
    super(`Invalid identity: ${details}`, { context })
  }
}

export class InvalidDeviceError extends BetterAuthError {
  static override readonly code = 'BA103'
  override readonly name = 'InvalidDeviceError'
  constructor(details: string, context: ErrorContext = {}) {
    super(`Invalid device: ${details}`, { context })
  }
}

export type HashKind = 'rotation' | 'recovery' | 'access-rotation'

export class InvalidHashError extends BetterAuthError {
  static override readonly code = 'BA104'
  override readonly name = 'InvalidHashError'
  constructor(hashKind: HashKind, details: string) {
    super(`Hash validation failed (${hashKind}): ${details}`, { context: { hashKind } })
  }
}

export type SignedThing = 'request' | 'response' | 'token' | 'link-container'

export class InvalidSignatureError extends BetterAuthError {
  static override readonly code = 'BA201'
  override readonly name = 'InvalidSignatureError'
  constructor(signed: SignedThing) {
    super(`Signature verification failed for ${signed}`, { context: { signed } })
  }
}

export class IncorrectNonceError extends BetterAuthError {
  static override readonly code = 'BA203'
  override readonly name = 'IncorrectNonceError'
  constructor() {
    super('Response nonce does not match request nonce')
  }
}

/** A challenge nonce that is unknown, already used or past its lifetime. */
export class ExpiredNonceError extends BetterAuthError {
  static override readonly code = 'BA204'
  override readonly name = 'ExpiredNonceError'
  constructor() {
    super('Authentication challenge is unknown, used or expired')
  }
}

export type ReplayKind = 'access-nonce' | 'access-key'

/** A single-use value (access nonce, access key) presented a second time. */
export class ReplayError extends BetterAuthError {
  static override readonly code = 'BA205'
  override readonly name = 'ReplayError'
  constructor(kind: ReplayKind) {
    super(`Replay detected: ${kind} was already used`, { context: { kind } })
  }
}

export class MismatchedIdentitiesError extends BetterAuthError {
  static override readonly code = 'BA302'
  override readonly name = 'MismatchedIdentitiesError'
  constructor() {
    super('Link container identity does not match request identity')
  }
}

/**
 * A request to an operator route (the admin routes) without the operator's credential. Answered
 * 401 with `WWW-Authenticate: Bearer`.
 */
export class MissingCredentialError extends BetterAuthError {
  static override readonly code = 'BA303'
  override readonly name = 'MissingCredentialError'
  constructor() {
    super('Credential required')
  }
}

/** A request to an operator route with a credential that is not the operator's. */
export class InvalidCredentialError extends BetterAuthError {
  static override readonly code = 'BA304'
  override readonly name = 'InvalidCredentialError'
  constructor() {
    super('Credential refused')
  }
}

export class ExpiredTokenError extends BetterAuthError {
  static override readonly code = 'BA401'
  override readonly name = 'ExpiredTokenError'
  constructor(tokenType: 'access' | 'refresh') {
    super(`Token has expired (${tokenType})`, { context: { tokenType } })
  }
}

export class InvalidTokenError extends BetterAuthError {
  static override readonly code = 'BA402'
  override readonly name = 'InvalidTokenError'
  constructor(details: string) {
    super(`Invalid token: ${details}`, { context: { details } })
  }
}

export class FutureTokenError extends BetterAuthError {
  static override readonly code = 'BA403'
  override readonly name = 'FutureTokenError'
  constructor() {
    super('Token issuedAt is in the future')
  }
}

export class StaleRequestError extends BetterAuthError {
  static override readonly code = 'BA501'
  override readonly name = 'StaleRequestError'
  constructor() {
    super('Request timestamp is too old')
  }
}

export class FutureRequestError extends BetterAuthError {
  static override readonly code = 'BA502'
  override readonly name = 'FutureRequestError'
  constructor() {
    super('Request timestamp is in the future')
  }
}

export type ResourceKind = 'identity' | 'device'

export class AlreadyExistsError extends BetterAuthError {
  static override readonly code = 'BA602'
  override readonly name = 'AlreadyExistsError'
  constructor(resource: ResourceKind) {
    super(`${resource} already exists`, { context: { resource } })
  }
}

/** A store could not complete an operation; nothing is assumed to have succeeded. */
export class StorageUnavailableError extends BetterAuthError {
  static override readonly code = 'BA603'
  override readonly name = 'StorageUnavailableError'
  constructor(backend: string, cause?: unknown) {
    super(`Storage backend is unavailable: ${backend}`, { context: { backend }, cause })
  }
}

/** Why a key event log was refused; one value per check `verifyKeyChain` makes. */
export type KeyChainFault =
  | 'empty'
  | 'prefix'
  | 'identifier'
  | 'sequence'
  | 'fork'
  | 'broken-link'
  | 'time-regression'
  | 'uncommitted-key'
  | 'signature'

/**
 * A server key event log that does not verify: forked, broken, reordered, signed or committed
 * wrongly, or not the pinned chain. `context.fault` says which check failed and
 * `context.sequence` (when known) at which event.
 */
export class InvalidKeyChainError extends BetterAuthError {
  static override readonly code = 'BA701'
  override readonly name = 'InvalidKeyChainError'
  constructor(fault: KeyChainFault, details: string, sequence?: number) {
    super(`Invalid key chain: ${details}`, {
      context: sequence === undefined ? { fault } : { fault, sequence },
    })
  }
}

/** Why an endorsed service key was refused: by `verifyEndorsement`, or at use by `trustedKey`. */
export type EndorsementFault =
  | 'chain'
  | 'unknown-event'
  | 'tainted'
  | 'purpose'
  | 'not-yet-valid'
  | 'expired'
  | 'signature'
  | 'unknown-key'

/** A service key whose endorsement by the server key chain does not hold now. */
export class InvalidEndorsementError extends BetterAuthError {
  static override readonly code = 'BA702'
  override readonly name = 'InvalidEndorsementError'
  constructor(fault: EndorsementFault, details: string) {
    super(`Invalid key endorsement: ${details}`, { context: { fault } })
  }
}

/** Too many requests from one address or for one identity; retry after `retryAfterSeconds`. */
export class RateLimitedError extends BetterAuthError {
  static override readonly code = 'BA804'
  override readonly name = 'RateLimitedError'
  constructor(retryAfterSeconds: number) {
    super(`Too many requests: retry after ${retryAfterSeconds} s`, {
      context: { retryAfterSeconds },
    })
  }
}

export class NetworkError extends BetterAuthError {
  static override readonly code = 'BA801'
  override readonly name = 'NetworkError'
  constructor(details: string, cause?: unknown) {
    super(`Network failure: ${details}`, { context: { details }, cause })
  }
}

/** The server answered with an error body whose code this library does not know. */
export class ProtocolError extends BetterAuthError {
  static override readonly code = 'BA803'
  override readonly name = 'ProtocolError'
  constructor(details: string, context: ErrorContext = {}) {
    super(`Protocol violation: ${details}`, { context })
  }
}

export class InvalidStateError extends BetterAuthError {
  static override readonly code = 'BA901'
  override readonly name = 'InvalidStateError'
  constructor(details: string) {
    super(`Invalid client state: ${details}`, { context: { details } })
  }
}

export function isBetterAuthError(value: unknown): value is BetterAuthError {
  return value instanceof BetterAuthError
}

/**
 * The body a server sends for a failed request. Anything that is not a BetterAuthError is an
 * internal failure and is reported without its message, so internals never leak.
 */
export function errorBody(error: unknown): ErrorBody {
  if (error instanceof BetterAuthError) {
    return { error: { code: error.code, message: error.message } }
  }
  return { error: { code: 'BA000', message: 'Internal error' } }
}

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERRORS, value)
}

/**
 * Every error code, the class that carries it and the HTTP status a server answers it with: the one
 * table the code union, `isErrorCode`, every server's status mapping and the client's mapping of
 * error bodies back to classes (`remoteError`) are computed from. `name` is the class name as a
 * string, which survives minification. Client-side codes (BA203, BA7xx, BA801, BA803) answer 502
 * should a server ever raise them.
 */
export const ERRORS = {
  BA000: { name: 'BetterAuthError', status: 500, class: BetterAuthError },
  BA001: { name: 'ConfigurationError', status: 500, class: ConfigurationError },
  BA101: { name: 'InvalidMessageError', status: 400, class: InvalidMessageError },
  BA102: { name: 'InvalidIdentityError', status: 401, class: InvalidIdentityError },
  BA103: { name: 'InvalidDeviceError', status: 401, class: InvalidDeviceError },
  BA104: { name: 'InvalidHashError', status: 401, class: InvalidHashError },
  BA201: { name: 'InvalidSignatureError', status: 401, class: InvalidSignatureError },
  BA203: { name: 'IncorrectNonceError', status: 502, class: IncorrectNonceError },
  BA204: { name: 'ExpiredNonceError', status: 401, class: ExpiredNonceError },
  BA205: { name: 'ReplayError', status: 409, class: ReplayError },
  BA302: { name: 'MismatchedIdentitiesError', status: 403, class: MismatchedIdentitiesError },
  BA303: { name: 'MissingCredentialError', status: 401, class: MissingCredentialError },
  BA304: { name: 'InvalidCredentialError', status: 403, class: InvalidCredentialError },
  BA401: { name: 'ExpiredTokenError', status: 401, class: ExpiredTokenError },
  BA402: { name: 'InvalidTokenError', status: 401, class: InvalidTokenError },
  BA403: { name: 'FutureTokenError', status: 401, class: FutureTokenError },
  BA501: { name: 'StaleRequestError', status: 401, class: StaleRequestError },
  BA502: { name: 'FutureRequestError', status: 401, class: FutureRequestError },
  BA602: { name: 'AlreadyExistsError', status: 409, class: AlreadyExistsError },
  BA603: { name: 'StorageUnavailableError', status: 503, class: StorageUnavailableError },
  BA701: { name: 'InvalidKeyChainError', status: 502, class: InvalidKeyChainError },
  BA702: { name: 'InvalidEndorsementError', status: 502, class: InvalidEndorsementError },
  BA801: { name: 'NetworkError', status: 502, class: NetworkError },
  BA803: { name: 'ProtocolError', status: 502, class: ProtocolError },
  BA804: { name: 'RateLimitedError', status: 429, class: RateLimitedError },
  BA901: { name: 'InvalidStateError', status: 500, class: InvalidStateError },
} as const satisfies Readonly<
  Record<
    `BA${number}`,
    { name: string; status: number; class: abstract new (...args: never[]) => BetterAuthError }
  >
>

/**
 * The error a server reported in an error body, as the class the server threw: `code`'s class in
 * ERRORS, with the server's message and `context` `{ remote: true, ...context }` (a server sends no
 * context; the caller adds what it knows, such as which token expired). Subclass constructors
 * compose their own messages, so the base constructor builds the instance, with the subclass as its
 * class.
 */
export function remoteError(
  code: ErrorCode,
  message: string,
  context: ErrorContext = {},
): BetterAuthError {
  const entry = ERRORS[code]
  const error = Reflect.construct<[string, ErrorOptions], BetterAuthError>(
    BetterAuthError,
    [message, { context: { ...context, remote: true } }],
    entry.class,
  )
  Object.defineProperty(error, 'name', {
    value: entry.name,
    writable: true,
    enumerable: true,
    configurable: true,
  })
  return error
}
