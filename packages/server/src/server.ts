import {
  ConfigurationError,
  DEFAULT_MAX_MESSAGE_LENGTH,
  ExpiredNonceError,
  ExpiredTokenError,
  InvalidDeviceError,
  InvalidHashError,
  InvalidSignatureError,
  MismatchedIdentitiesError,
  ReplayError,
  buildResponsePayload,
  constantTimeEqual,
  decodeAccessToken,
  encodeAccessToken,
  linkContainerOf,
  parseRequest,
  signPayload,
  verifyEnvelope,
  type AccessTokenBody,
  type AccountEvent,
  type AccountEventType,
  type DeviceKey,
  type Envelope,
  type JsonValue,
  type ProtocolName,
  type RequestEnvelope,
  type Revocation,
  type ResponseBody,
  type RotationChange,
  type ServerAccountEventStore,
  type SigningKey,
  type VerificationKeyStore,
} from '@better-auth/protocol'
import { AccessVerifier, signAccessResponse } from './access-verifier.js'
import { AccountAdmin } from './admin.js'
import {
  positiveInteger,
  requireMethods,
  resolveExpiry,
  spentAccessKeyLockExpiry,
  type ExpiryOptions,
} from './config.js'
import { AccountHistory } from './history.js'
import type {
  AccessVerifierOptions,
  AccountEventListener,
  AttributesProvider,
  BetterAuthServerOptions,
} from './options.js'
import { keyResolver, publicKeyOf } from './keys/signing-key-source.js'
import { StaticVerificationKeyStore } from './stores/static-verification-keys.js'
import { verificationKeyFailure } from './stores/verification-key-failure.js'

type Authentication = Omit<DeviceKey, never>

/** What the server knows of a change when it builds its event. */
type EventFacts = Pick<AccountEvent, 'type' | 'identity' | 'device' | 'target'> & {
  readonly publicKey: string
  readonly rotationHash: string
}

/**
 * The protocol's server side: one method per protocol, raw request text in, signed response text
 * out. Every method parses and validates before any crypto, verifies signatures over the received
 * bytes, and changes state only through atomic store operations.
 */
export class BetterAuthServer {
  readonly expiry: ExpiryOptions
  /** The account event log's queries; undefined when no `stores.accountEvents` is configured. */
  readonly history: AccountHistory | undefined
  /**
   * The operator's operations (devices, history, revoke a device, delete an account); undefined
   * without `stores.accountEvents`, whose log they read and record into.
   */
  readonly admin: AccountAdmin | undefined
  /** The stores the server was given: readiness checks ping them. */
  readonly stores: BetterAuthServerOptions['stores']
  readonly #options: BetterAuthServerOptions
  readonly #events: ServerAccountEventStore | undefined
  readonly #listeners = new Set<AccountEventListener>()
  readonly #attributes: AttributesProvider
  readonly #maxLength: number
  readonly #accessKeys: VerificationKeyStore
  readonly #responseKey: () => SigningKey
  readonly #accessKey: () => SigningKey

  constructor(options: BetterAuthServerOptions) {
    validateOptions(options)
    this.#options = options
    this.expiry = resolveExpiry(options.expiry)
    this.#attributes = options.attributes ?? defaultAttributes
    this.#events = options.stores.accountEvents
    this.stores = options.stores
    this.history = this.#events === undefined ? undefined : new AccountHistory(this.#events)
    this.admin = this.#events === undefined ? undefined : this.#newAdmin(this.#events)
    this.#maxLength = positiveInteger(
      'maxMessageLength',
      options.maxMessageLength,
      DEFAULT_MAX_MESSAGE_LENGTH,
    )
    const { keyPairs } = options.crypto
    this.#responseKey = keyResolver('crypto.keyPairs.response', keyPairs.response)
    this.#accessKey = keyResolver('crypto.keyPairs.access', keyPairs.access)
    if (options.stores.accessVerificationKeys === undefined && keyPairs.access.current) {
      throw new ConfigurationError(
        'stores.accessVerificationKeys',
        'is required with a rotating access key (ServiceKeyRing.verificationKeys)',
      )
    }
    this.#accessKeys =
      options.stores.accessVerificationKeys ?? new StaticVerificationKeyStore([keyPairs.access])
  }

  /** The public key of the response key in use: clients verify every response with it. */
  async responsePublicKey(): Promise<string> {
    return publicKeyOf(this.#responseKey())
  }

  /** The public key of the access key in use: access verifiers trust tokens it signed. */
  async accessPublicKey(): Promise<string> {
    return publicKeyOf(this.#accessKey())
  }

  /**
   * The access verifier that matches this server: the same signature verifier, timestamper, token
   * encoder, lifetimes, message limit and access keys, and this server's response key, so it
   * verifies and answers access requests. Only the nonce store (and the opt-in revocation check)
   * are the caller's.
   */
  accessVerifier(
    stores: Pick<AccessVerifierOptions['stores'], 'accessNonce' | 'devices'>,
    options: Pick<AccessVerifierOptions, 'tokenCacheSize'> = {},
  ): AccessVerifier {
    const { crypto, encoding } = this.#options
    const { accessWindowMs, clockSkewMs, accessNonceLockMs } = this.expiry
    return new AccessVerifier({
      crypto: { verifier: crypto.verifier, responseKey: crypto.keyPairs.response },
      encoding: { timestamper: encoding.timestamper, tokenEncoder: encoding.tokenEncoder },
      stores: { ...stores, accessVerificationKeys: this.#accessKeys },
      expiry: { accessWindowMs, clockSkewMs, accessNonceLockMs },
      maxMessageLength: this.#maxLength,
      tokenCacheSize: options.tokenCacheSize,
    })
  }

  /**
   * Signs an application response for a verified access request, echoing its nonce.
   * @deprecated Use the access verifier's `respond` or `answer` (`server.accessVerifier(…)`).
   */
  async accessResponse(nonce: string, response: JsonValue): Promise<string> {
    const key = this.#responseKey()
    return signAccessResponse(key, nonce, response, await publicKeyOf(key))
  }

  /**
   * Calls `listener` with each account event once it is committed, in this process. Delivery is
   * best effort (a listener that throws is skipped, and a crash loses what was not yet handed
   * over); for delivery that survives restarts read the log (`stores.accountEvents.feed`), as
   * the webhooks do. Returns the unsubscribe function.
   */
  subscribe(listener: AccountEventListener): () => void {
    if (typeof listener !== 'function') {
      throw new ConfigurationError('listener', 'must be a function')
    }
    this.#listeners.add(listener)
    return () => {
      this.#listeners.delete(listener)
    }
  }

  /** Dispatches by protocol name (as in `protocols`) — handy for routers. */
  handle(protocol: ProtocolName, message: string): Promise<string> {
    switch (protocol) {
      case 'createAccount':
        return this.createAccount(message)
      case 'recoverAccount':
        return this.recoverAccount(message)
      case 'deleteAccount':
        return this.deleteAccount(message)
      case 'requestSession':
        return this.requestSession(message)
      case 'createSession':
        return this.createSession(message)
      case 'refreshSession':
        return this.refreshSession(message)
      case 'rotateDevice':
        return this.rotateDevice(message)
      case 'linkDevice':
        return this.linkDevice(message)
      case 'unlinkDevice':
        return this.unlinkDevice(message)
      case 'changeRecoveryKey':
        return this.changeRecoveryKey(message)
    }
  }

  async createAccount(message: string): Promise<string> {
    const request = this.#parse('createAccount', message)
    const auth = request.payload.request.authentication
    await this.#verify(request, auth.publicKey)
    await this.#options.encoding.identityVerifier.verify(
      auth.identity,
      auth.publicKey,
      auth.rotationHash,
      auth.recoveryHash,
    )
    await this.#checkDeviceDerivation(auth)
    const { authenticationKey, recoveryHash } = this.#options.stores
    // The recovery hash first: the key store's write, which records the event, is the commit.
    await recoveryHash.register(auth.identity, auth.recoveryHash)
    const event = await this.#event(request, { type: 'account-created', ...auth })
    try {
      await authenticationKey.registerIdentity(deviceKey(auth), event)
    } catch (error) {
      // Undo the half-created account so the same request can be retried.
      await recoveryHash.delete(auth.identity).catch(() => undefined)
      throw error
    }
    this.#publish(event)
    return this.#respond('createAccount', request, {})
  }

  async recoverAccount(message: string): Promise<string> {
    const request = this.#parse('recoverAccount', message)
    const auth = request.payload.request.authentication
    await this.#verify(request, auth.recoveryKey)
    await this.#checkDeviceDerivation(auth)
    const { hasher } = this.#options.crypto
    const { authenticationKey, recoveryHash } = this.#options.stores
    const presentedHash = await hasher.sum(auth.recoveryKey)
    // The compare-and-set makes the recovery key single use even under concurrent requests.
    await recoveryHash.rotate(auth.identity, presentedHash, auth.recoveryHash)
    const event = await this.#event(request, { type: 'account-recovered', ...auth })
    try {
      await authenticationKey.replaceAllDevices(deviceKey(auth), event)
    } catch (error) {
      await recoveryHash
        .rotate(auth.identity, auth.recoveryHash, presentedHash)
        .catch(() => undefined)
      throw error
    }
    this.#publish(event)
    await this.#announce({ identity: auth.identity })
    return this.#respond('recoverAccount', request, {})
  }

  async deleteAccount(message: string): Promise<string> {
    const request = this.#parse('deleteAccount', message)
    const auth = request.payload.request.authentication
    await this.#verify(request, auth.publicKey)
    await this.#rotate(request, 'account-deleted', auth, { kind: 'delete-identity' })
    await this.#announce({ identity: auth.identity })
    // Only once the devices are gone: a refused request must not touch the recovery hash.
    await this.#options.stores.recoveryHash.delete(auth.identity)
    return this.#respond('deleteAccount', request, {})
  }

  async rotateDevice(message: string): Promise<string> {
    const request = this.#parse('rotateDevice', message)
    const auth = request.payload.request.authentication
    await this.#verify(request, auth.publicKey)
    await this.#rotate(request, 'device-rotated', auth)
    return this.#respond('rotateDevice', request, {})
  }

  async linkDevice(message: string): Promise<string> {
    const request = this.#parse('linkDevice', message)
    const auth = request.payload.request.authentication
    const container = linkContainerOf(request)
    const linked = container.payload.authentication
    // Everything that needs no state is checked before the rotation consumes the commitment.
    await this.#verify(request, auth.publicKey)
    await verifyEnvelope(
      container,
      this.#options.crypto.verifier,
      linked.publicKey,
      'link-container',
    )
    await this.#checkDeviceDerivation(linked)
    if (!constantTimeEqual(linked.identity, auth.identity)) throw new MismatchedIdentitiesError()
    const { device, publicKey, rotationHash } = linked
    await this.#rotate(
      request,
      'device-linked',
      auth,
      { kind: 'register-device', device: { device, publicKey, rotationHash } },
      { device, publicKey, rotationHash },
    )
    return this.#respond('linkDevice', request, {})
  }

  async unlinkDevice(message: string): Promise<string> {
    const request = this.#parse('unlinkDevice', message)
    const { authentication: auth, link } = request.payload.request
    await this.#verify(request, auth.publicKey)
    await this.#rotate(
      request,
      'device-unlinked',
      auth,
      { kind: 'revoke-device', device: link.device },
      { device: link.device },
    )
    await this.#announce({ identity: auth.identity, device: link.device })
    return this.#respond('unlinkDevice', request, {})
  }

  async changeRecoveryKey(message: string): Promise<string> {
    const request = this.#parse('changeRecoveryKey', message)
    const auth = request.payload.request.authentication
    // The recovery hash lives in another store, so this cannot be one atomic step; the only
    // refusal `replace` has (no recovery hash) is impossible for an account the server created.
    await this.#verify(request, auth.publicKey)
    await this.#rotate(request, 'recovery-key-changed', auth)
    await this.#options.stores.recoveryHash.replace(auth.identity, auth.recoveryHash)
    return this.#respond('changeRecoveryKey', request, {})
  }

  async requestSession(message: string): Promise<string> {
    const request = this.#parse('requestSession', message)
    const now = this.#now()
    const nonce = await this.#options.crypto.noncer.generate128()
    await this.#options.stores.authenticationNonce.put(
      nonce,
      request.payload.request.authentication.identity,
      now + this.expiry.challengeMs,
      now,
    )
    return this.#respond('requestSession', request, { authentication: { nonce } })
  }

  async createSession(message: string): Promise<string> {
    const request = this.#parse('createSession', message)
    const { access, authentication } = request.payload.request
    const now = this.#now()
    // Consumed before anything else can fail: a challenge is single use even for a bad request.
    const identity = await this.#options.stores.authenticationNonce.consume(
      authentication.nonce,
      now,
    )
    if (identity === undefined) throw new ExpiredNonceError()
    const publicKey = await this.#options.stores.authenticationKey.publicKey(
      identity,
      authentication.device,
    )
    await this.#verify(request, publicKey)
    const subject = { identity, device: authentication.device }
    const attributes = await this.#attributes(subject, { session: 'create' })
    // Recorded before the token exists: every issued session is in the log (see the README).
    await this.#appendSessionEvent(request, 'session-created', { ...subject, ...access })
    const token = await this.#issueToken(
      {
        device: authentication.device,
        identity,
        publicKey: access.publicKey,
        rotationHash: access.rotationHash,
        attributes,
      },
      now,
      now + this.expiry.refreshMs,
    )
    return this.#respond('createSession', request, { access: { token } })
  }

  async refreshSession(message: string): Promise<string> {
    const request = this.#parse('refreshSession', message)
    const access = request.payload.request.access
    // Everything is parsed before any signature work: a malformed token or timestamp costs none.
    const decoded = await decodeAccessToken(access.token, this.#options.encoding.tokenEncoder)
    const { body } = decoded
    const refreshExpiry = this.#options.encoding.timestamper.parse(body.refreshExpiry).getTime()
    await this.#verify(request, access.publicKey)
    await this.#verifyToken(decoded)
    const { hasher } = this.#options.crypto
    const accessKeyHash = await hasher.sum(access.publicKey)
    if (!constantTimeEqual(accessKeyHash, body.rotationHash)) {
      throw new InvalidHashError(
        'access-rotation',
        'access key does not match the token commitment',
      )
    }
    const now = this.#now()
    if (now > refreshExpiry) throw new ExpiredTokenError('refresh')
    // A revoked or deleted device cannot keep its session alive.
    await this.#options.stores.authenticationKey.publicKey(body.identity, body.device)
    const subject = { identity: body.identity, device: body.device }
    // Before the access key is spent: a provider that fails must leave the refresh retryable.
    const attributes = await this.#attributes(subject, {
      session: 'refresh',
      current: body.attributes,
    })
    const reserved = await this.#options.stores.accessKeyHash.reserve(
      accessKeyHash,
      spentAccessKeyLockExpiry(refreshExpiry, this.expiry),
      now,
    )
    if (!reserved) throw new ReplayError('access-key')
    await this.#appendSessionEvent(request, 'session-refreshed', { ...subject, ...access })
    const token = await this.#issueToken(
      {
        ...subject,
        publicKey: access.publicKey,
        rotationHash: access.rotationHash,
        attributes,
      },
      now,
      refreshExpiry,
      body.refreshExpiry,
    )
    return this.#respond('refreshSession', request, { access: { token } })
  }

  #newAdmin(accountEvents: ServerAccountEventStore): AccountAdmin {
    const { authenticationKey, recoveryHash } = this.#options.stores
    return new AccountAdmin({
      stores: { authenticationKey, recoveryHash, accountEvents },
      eventId: () => this.#options.crypto.noncer.generate128(),
      now: () => this.#now(),
      publish: (event) => this.#publish(event),
      announce: (revocation) => this.#announce(revocation),
    })
  }

  #parse<K extends ProtocolName>(kind: K, message: string): RequestEnvelope<K> {
    return parseRequest(kind, message, { maxLength: this.#maxLength })
  }

  #now(): number {
    return this.#options.encoding.timestamper.now().getTime()
  }

  #verify(envelope: Envelope<unknown>, publicKey: string): Promise<void> {
    return verifyEnvelope(envelope, this.#options.crypto.verifier, publicKey, 'request')
  }

  /** Best effort by design: the change is stored, and verifiers' caches expire on their own. */
  async #announce(revocation: Revocation): Promise<void> {
    await this.#options.revocations?.publish(revocation).catch(() => undefined)
  }

  async #checkDeviceDerivation(auth: { device: string; publicKey: string; rotationHash: string }) {
    const derived = await this.#options.crypto.hasher.sum(auth.publicKey + auth.rotationHash)
    if (!constantTimeEqual(derived, auth.device)) {
      throw new InvalidDeviceError('device is not hash(publicKey + rotationHash)')
    }
  }

  /**
   * The gate in front of every authenticated change, once the request's signature by the revealed
   * key is verified: the store swaps the commitment atomically (exactly one of concurrent
   * rotations revealing the same key wins), together with the change it authorises, so a refused
   * change leaves the commitment unspent. The signature is verified and the key hashed whether or
   * not the device exists, and the store answers an unknown, revoked or out-of-step device alike
   * (BA104): a stranger learns nothing about which devices are live.
   */
  async #rotate(
    request: RequestEnvelope<ProtocolName>,
    type: AccountEventType,
    auth: Authentication,
    change?: RotationChange,
    target?: AccountEvent['target'],
  ): Promise<void> {
    const revealedHash = await this.#options.crypto.hasher.sum(auth.publicKey)
    const store = this.#options.stores.authenticationKey
    const event = await this.#event(request, { type, ...auth, target })
    if (change === undefined) await store.rotate(deviceKey(auth), revealedHash, event)
    else await store.rotateAndApply(deviceKey(auth), revealedHash, change, event)
    this.#publish(event)
  }

  /**
   * The event of a change, for the key store to record with it; undefined without a log, so a
   * deployment without one passes nothing and pays nothing.
   */
  async #event(
    request: RequestEnvelope<ProtocolName>,
    facts: EventFacts,
  ): Promise<AccountEvent | undefined> {
    if (this.#events === undefined) return undefined
    const { type, identity, device, publicKey, rotationHash, target } = facts
    return {
      id: await this.#options.crypto.noncer.generate128(),
      type,
      at: this.#now(),
      identity,
      device,
      publicKey,
      rotationHash,
      nonce: request.payload.access.nonce,
      ...(target === undefined ? {} : { target }),
    }
  }

  /**
   * Session changes live in the challenge and access-key stores, maybe another backend than the
   * log: the event is appended once the single-use check has passed and before the token is
   * issued, so a failed append fails the request and no token exists without its event.
   */
  async #appendSessionEvent(
    request: RequestEnvelope<ProtocolName>,
    type: 'session-created' | 'session-refreshed',
    facts: Omit<EventFacts, 'type'>,
  ): Promise<void> {
    const event = await this.#event(request, { type, ...facts })
    if (event === undefined) return
    await this.#events!.append(event)
    this.#publish(event)
  }

  #publish(event: AccountEvent | undefined): void {
    if (event === undefined) return
    for (const listener of this.#listeners) {
      try {
        listener(event)
      } catch {
        // A listener's failure must not turn a committed change into an error response.
      }
    }
  }

  async #verifyToken(decoded: Awaited<ReturnType<typeof decodeAccessToken>>): Promise<void> {
    const key = await this.#accessKeys.get(decoded.body.serverIdentity).catch((error: unknown) => {
      throw verificationKeyFailure(error)
    })
    if (!(await key.verify(decoded.bodyText, decoded.signature))) {
      throw new InvalidSignatureError('token')
    }
  }

  async #issueToken(
    subject: Pick<AccessTokenBody, 'device' | 'identity' | 'publicKey' | 'rotationHash'> & {
      attributes: JsonValue
    },
    now: number,
    refreshExpiry: number,
    refreshExpiryText?: string,
  ): Promise<string> {
    const { timestamper, tokenEncoder } = this.#options.encoding
    // One key for the identity and the signature, whatever rotates meanwhile.
    const accessKey = this.#accessKey()
    const body: AccessTokenBody = {
      serverIdentity: await publicKeyOf(accessKey),
      device: subject.device,
      identity: subject.identity,
      publicKey: subject.publicKey,
      rotationHash: subject.rotationHash,
      issuedAt: timestamper.format(new Date(now)),
      expiry: timestamper.format(new Date(Math.min(now + this.expiry.accessMs, refreshExpiry))),
      // Kept verbatim on refresh, so every token of a session carries the same text.
      refreshExpiry: refreshExpiryText ?? timestamper.format(new Date(refreshExpiry)),
      attributes: subject.attributes,
    }
    return encodeAccessToken(body, accessKey, tokenEncoder)
  }

  async #respond<K extends ProtocolName>(
    kind: K,
    request: RequestEnvelope<K>,
    response: ResponseBody<K>,
  ): Promise<string> {
    const key = this.#responseKey()
    const payload = buildResponsePayload(
      kind,
      { nonce: request.payload.access.nonce, serverIdentity: await publicKeyOf(key) },
      response,
    )
    return signPayload(key, payload)
  }
}

const defaultAttributes: AttributesProvider = (_subject, context) =>
  context.session === 'refresh' ? context.current : {}

function deviceKey(auth: Authentication): DeviceKey {
  return {
    identity: auth.identity,
    device: auth.device,
    publicKey: auth.publicKey,
    rotationHash: auth.rotationHash,
  }
}

function validateOptions(options: BetterAuthServerOptions): void {
  requireMethods('options', options, [])
  requireMethods('crypto', options.crypto, [])
  requireMethods('crypto.hasher', options.crypto.hasher, ['sum'])
  requireMethods('crypto.noncer', options.crypto.noncer, ['generate128'])
  requireMethods('crypto.verifier', options.crypto.verifier, ['verify'])
  requireMethods('crypto.keyPairs', options.crypto.keyPairs, [])
  requireMethods('encoding', options.encoding, [])
  requireMethods('encoding.timestamper', options.encoding.timestamper, ['now', 'format', 'parse'])
  requireMethods('encoding.tokenEncoder', options.encoding.tokenEncoder, ['encode', 'decode'])
  requireMethods('encoding.identityVerifier', options.encoding.identityVerifier, ['verify'])
  requireMethods('stores', options.stores, [])
  requireMethods('stores.authenticationKey', options.stores.authenticationKey, [
    'registerIdentity',
    'registerDevice',
    'rotate',
    'rotateAndApply',
    'publicKey',
    'revokeDevice',
    'replaceAllDevices',
    'deleteIdentity',
  ])
  requireMethods('stores.authenticationNonce', options.stores.authenticationNonce, [
    'put',
    'consume',
  ])
  requireMethods('stores.recoveryHash', options.stores.recoveryHash, [
    'register',
    'rotate',
    'replace',
    'delete',
  ])
  requireMethods('stores.accessKeyHash', options.stores.accessKeyHash, ['reserve'])
  if (options.stores.accountEvents !== undefined) {
    requireMethods('stores.accountEvents', options.stores.accountEvents, [
      'append',
      'history',
      'feed',
      'erase',
    ])
  }
  if (options.stores.accessVerificationKeys !== undefined) {
    requireMethods('stores.accessVerificationKeys', options.stores.accessVerificationKeys, ['get'])
  }
  if (options.revocations !== undefined) {
    requireMethods('revocations', options.revocations, ['publish', 'subscribe'])
  }
  if (options.attributes !== undefined && typeof options.attributes !== 'function') {
    throw new ConfigurationError('attributes', 'must be a function')
  }
}
