import type {
  AccountEvent,
  Hasher,
  IdentityVerifier,
  JsonValue,
  Noncer,
  ServerAccountEventStore,
  ServerAuthenticationKeyStore,
  ServerAuthenticationNonceStore,
  ServerRecoveryHashStore,
  ServerTimeLockStore,
  RevocationFeed,
  SigningKey,
  Timestamper,
  TokenEncoder,
  VerificationKeyStore,
  Verifier,
} from '@better-auth/protocol'
import type { ExpiryOptions } from './config.js'

export interface SessionSubject {
  readonly identity: string
  readonly device: string
}

/** Which token the attributes are for: a new session's, or a refreshed one's. */
export type AttributesContext =
  | { readonly session: 'create' }
  /** `current`: the attributes of the token being refreshed. */
  | { readonly session: 'refresh'; readonly current: JsonValue }

/**
 * Supplies the attributes of a session's tokens (roles, permissions…). Called when a session is
 * created and again at every refresh, so a role change reaches the device within one access
 * token lifetime; return `context.current` to keep a session's attributes as they were.
 */
export type AttributesProvider = (
  subject: SessionSubject,
  context: AttributesContext,
) => JsonValue | Promise<JsonValue>

/** Hears each committed account event, in process. */
export type AccountEventListener = (event: AccountEvent) => void

export interface BetterAuthServerOptions {
  readonly crypto: {
    readonly hasher: Hasher
    readonly noncer: Noncer
    readonly verifier: Verifier
    readonly keyPairs: {
      /** Signs every protocol response; its public key is the responses' serverIdentity. */
      readonly response: SigningKey
      /** Signs access tokens. */
      readonly access: SigningKey
    }
  }
  readonly encoding: {
    readonly timestamper: Timestamper
    readonly tokenEncoder: TokenEncoder
    readonly identityVerifier: IdentityVerifier
  }
  readonly stores: {
    readonly authenticationKey: ServerAuthenticationKeyStore
    readonly authenticationNonce: ServerAuthenticationNonceStore
    readonly recoveryHash: ServerRecoveryHashStore
    /** Single use of each access key hash on refresh. */
    readonly accessKeyHash: ServerTimeLockStore
    /**
     * Access keys whose tokens this server refreshes, by CESR public key. Defaults to the
     * server's own access key only; add retired keys here during a key rotation.
     */
    readonly accessVerificationKeys?: VerificationKeyStore
    /**
     * The account event log, kept by the same backend as `authenticationKey` (the pair a stores
     * class gives): given, every change and session is recorded, and `server.history` answers.
     */
    readonly accountEvents?: ServerAccountEventStore
  }
  readonly expiry?: Partial<ExpiryOptions>
  /** Token attributes at session creation and refresh; default `{}`, kept at refresh. */
  readonly attributes?: AttributesProvider
  /** Largest accepted message, in UTF-16 code units (default 64 KiB). */
  readonly maxMessageLength?: number
  /**
   * Announces unlinked devices and recovered or deleted accounts once the change is stored, for
   * verifiers that keep device state in memory (`DeviceLivenessCache`). A failed announcement does
   * not fail the request: those verifiers re-read the store within their cache lifetime.
   */
  readonly revocations?: RevocationFeed
}

export interface AccessVerifierOptions {
  readonly crypto: {
    readonly verifier: Verifier
    /**
     * The server's response key: given, the verifier also answers access requests
     * (`respond`, `answer`). A verifier-only deployment that answers its own clients needs it.
     */
    readonly responseKey?: SigningKey
  }
  readonly encoding: { readonly timestamper: Timestamper; readonly tokenEncoder: TokenEncoder }
  readonly stores: {
    /** Single use of each access request nonce. */
    readonly accessNonce: ServerTimeLockStore
    /** The server access keys whose tokens are accepted, by CESR public key. */
    readonly accessVerificationKeys: VerificationKeyStore
    /**
     * Opt-in revocation check. Tokens are verified statelessly, so by default a token keeps working
     * until it expires after its device is unlinked, recovered away or deleted. Given the server's
     * authentication key store, every access request also checks that the token's device is still
     * active: one store read per request, and a revoked device is refused at once (BA103).
     */
    readonly devices?: Pick<ServerAuthenticationKeyStore, 'publicKey'>
  }
  readonly expiry?: Partial<
    Pick<ExpiryOptions, 'accessWindowMs' | 'clockSkewMs' | 'accessNonceLockMs'>
  >
  readonly maxMessageLength?: number
  /** Verified tokens remembered so each token's signature is checked once (default 10 000; 0 = off). */
  readonly tokenCacheSize?: number
}
