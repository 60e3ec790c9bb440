import {
  GzipTokenEncoder,
  Rfc3339Timestamper,
  SecureNoncer,
  WebCryptoP256Verifier,
} from '@better-auth/crypto'
import {
  buildAccessRequestPayload,
  buildRequestPayload,
  decodeAccessToken,
  parseAccessResponse,
  parseResponse,
  protocols,
  serializeEnvelope,
  signPayloadText,
  verificationKey,
  verifyEnvelope,
  type AccessTokenBody,
  type Envelope,
  type JsonValue,
  type ProtocolName,
  type RequestBody,
  type ResponseBody,
  type ServerAccess,
  type SigningKey,
  type VerificationKey,
} from '@better-auth/protocol'
import { generateKey, hasher } from '../clients.js'
import { judge, type Wire, type WireResponse } from './wire.js'

/**
 * Setting up a case failed: the server refused or mangled a well-formed request, so the hostile
 * message was never sent. For a conformant server this is a failure in itself.
 */
export class SetupError extends Error {
  override readonly name = 'SetupError'
}

export const tokenEncoder = new GzipTokenEncoder()
export const timestamper = new Rfc3339Timestamper()
const verifier = new WebCryptoP256Verifier()
const noncer = new SecureNoncer()

/** The interop contract's token attributes and `/foo/bar` request. */
export const ATTRIBUTES = { permissionsByRole: { admin: ['read', 'write'] } }
export const FOO_BAR = { foo: 'bar', bar: 'foo' }

export interface Rotation {
  readonly device: string
  readonly identity: string
  readonly publicKey: string
  readonly rotationHash: string
}

/**
 * One device's key chain, kept by hand so cases can misuse it: `current` signs sessions, `next`
 * is committed (its hash is on the server) and signs the next rotation.
 */
export class Device {
  constructor(
    readonly identity: string,
    readonly device: string,
    public current: SigningKey,
    public next: SigningKey,
    /** The account's recovery key, when this device created the account. */
    readonly recovery?: SigningKey,
  ) {}

  /** Reveals `next` and commits to a fresh key; `commit()` once the server accepted it. */
  async rotation(): Promise<{
    authentication: Rotation
    signer: SigningKey
    commit: () => void
  }> {
    const after = await generateKey()
    const authentication = {
      device: this.device,
      identity: this.identity,
      publicKey: await this.next.public(),
      rotationHash: await hasher.sum(await after.public()),
    }
    const signer = this.next
    return {
      authentication,
      signer,
      commit: () => {
        this.current = signer
        this.next = after
      },
    }
  }
}

/** An access session: the token and the access key chain it names. */
export interface Session {
  readonly device: Device
  readonly token: string
  readonly accessKey: SigningKey
  readonly accessNext: SigningKey
}

/** A message ready to send: where to, the exact text, and the nonce its answer must echo. */
export interface Outgoing {
  readonly path: string
  readonly nonce: string
  readonly payloadText: string
  readonly message: string
}

/** A protocol request, plus what makes it count locally once the server accepted it. */
export interface Prepared<K extends ProtocolName = ProtocolName> extends Outgoing {
  readonly kind: K
  readonly commit: () => void
}

export interface AccessOptions {
  readonly token?: string
  readonly timestamp?: string
  readonly nonce?: string
  readonly signer?: SigningKey
  readonly request?: JsonValue
}

/**
 * Speaks the protocol directly with @better-auth/protocol builders and hand-held keys: the set-up
 * traffic of every case is well formed and every answer is authenticated (response key, signature
 * over the received bytes, echoed nonce), so a case's verdict is about its hostile message only.
 */
export class Driver {
  readonly #responseKey: VerificationKey

  private constructor(
    readonly wire: Wire,
    readonly responseKey: string,
  ) {
    this.#responseKey = verificationKey(responseKey, verifier)
  }

  static async connect(wire: Wire): Promise<Driver> {
    const answer = await wire.post('/key/response', '')
    const key = answer.kind === 'response' ? answer.text.trim() : ''
    if (answer.kind !== 'response' || answer.status !== 200 || !key.startsWith('1AAI')) {
      throw new SetupError(`no response key at ${wire.baseUrl}/key/response: ${judge(answer).code}`)
    }
    return new Driver(wire, key)
  }

  nonce(): Promise<string> {
    return noncer.generate128()
  }

  hash(text: string): Promise<string> {
    return hasher.sum(text)
  }

  /** A timestamp `offsetMs` from the harness's clock, in the protocol's format. */
  timestamp(offsetMs = 0): string {
    return timestamper.format(new Date(Date.now() + offsetMs))
  }

  /** Builds (through the protocol's validators, so in canonical key order) and signs. */
  async prepare<K extends ProtocolName>(
    kind: K,
    request: RequestBody<K>,
    signer: SigningKey | undefined,
    commit: () => void = () => undefined,
  ): Promise<Prepared<K>> {
    const nonce = await this.nonce()
    const payloadText = JSON.stringify(buildRequestPayload(kind, nonce, request))
    return this.prepareText(kind, nonce, payloadText, signer, commit)
  }

  async prepareText<K extends ProtocolName>(
    kind: K,
    nonce: string,
    payloadText: string,
    signer: SigningKey | undefined,
    commit: () => void = () => undefined,
  ): Promise<Prepared<K>> {
    const message =
      signer === undefined
        ? serializeEnvelope(payloadText)
        : await signPayloadText(signer, payloadText)
    return { path: protocols[kind].path, kind, nonce, payloadText, message, commit }
  }

  send(prepared: Pick<Outgoing, 'path' | 'message'>): Promise<WireResponse> {
    return this.wire.post(prepared.path, prepared.message)
  }

  /** Sends a well-formed request that must succeed; commits it and returns the response body. */
  async submit<K extends ProtocolName>(prepared: Prepared<K>): Promise<ResponseBody<K>> {
    const answer = await this.send(prepared)
    const text = this.#successText(prepared.path, answer)
    let body: ResponseBody<K>
    try {
      const envelope = parseResponse(prepared.kind, text)
      await this.#authenticate(envelope, prepared.nonce)
      body = envelope.payload.response
    } catch (error) {
      throw new SetupError(`${prepared.path} answered an unusable response: ${String(error)}`)
    }
    prepared.commit()
    return body
  }

  async #authenticate(
    envelope: Envelope<{ readonly access: ServerAccess }>,
    nonce: string,
  ): Promise<void> {
    if (envelope.payload.access.serverIdentity !== this.responseKey) {
      throw new SetupError('response names another server key')
    }
    await verifyEnvelope(envelope, this.#responseKey.verifier(), this.responseKey, 'response')
    if (envelope.payload.access.nonce !== nonce) throw new SetupError('response nonce differs')
  }

  #successText(path: string, answer: WireResponse): string {
    const verdict = judge(answer)
    if (verdict.verdict !== 'ACCEPTED' || answer.kind !== 'response') {
      const status = verdict.status === undefined ? '' : ` (HTTP ${verdict.status})`
      throw new SetupError(`set-up request to ${path} was refused: ${verdict.code}${status}`)
    }
    return answer.text
  }

  // -- accounts and devices -----------------------------------------------------------------------

  /** Fresh key material for a device that is not registered yet. */
  async newDeviceKeys(): Promise<{ key: SigningKey; next: SigningKey; rotation: Rotation }> {
    const key = await generateKey()
    const next = await generateKey()
    const publicKey = await key.public()
    const rotationHash = await hasher.sum(await next.public())
    const device = await hasher.sum(publicKey + rotationHash)
    return { key, next, rotation: { device, identity: '', publicKey, rotationHash } }
  }

  /** The create-account request of a brand-new account (not sent). */
  async prepareCreateAccount(): Promise<{ prepared: Prepared<'createAccount'>; device: Device }> {
    const { key, next, rotation } = await this.newDeviceKeys()
    const recovery = await generateKey()
    const recoveryHash = await hasher.sum(await recovery.public())
    const identity = await hasher.sum(rotation.publicKey + rotation.rotationHash + recoveryHash)
    const prepared = await this.prepare(
      'createAccount',
      {
        authentication: {
          device: rotation.device,
          identity,
          publicKey: rotation.publicKey,
          recoveryHash,
          rotationHash: rotation.rotationHash,
        },
      },
      key,
    )
    return { prepared, device: new Device(identity, rotation.device, key, next, recovery) }
  }

  async createAccount(): Promise<Device> {
    const { prepared, device } = await this.prepareCreateAccount()
    await this.submit(prepared)
    return device
  }

  async prepareRotate(device: Device): Promise<Prepared<'rotateDevice'>> {
    const { authentication, signer, commit } = await device.rotation()
    return this.prepare('rotateDevice', { authentication }, signer, commit)
  }

  /** The link container a new device signs to join `identity`. */
  async linkContainer(identity: string) {
    const { key, next, rotation } = await this.newDeviceKeys()
    // Canonical key order: the container's signature covers exactly these bytes.
    const authentication = {
      device: rotation.device,
      identity,
      publicKey: rotation.publicKey,
      rotationHash: rotation.rotationHash,
    }
    const payload = { authentication }
    const signature = await key.sign(JSON.stringify(payload))
    return {
      container: { payload, signature },
      device: new Device(identity, rotation.device, key, next),
    }
  }

  /** `existing` links a new device of its own account and returns it. */
  async linkNewDevice(existing: Device): Promise<Device> {
    const { container, device } = await this.linkContainer(existing.identity)
    const { authentication, signer, commit } = await existing.rotation()
    await this.submit(
      await this.prepare('linkDevice', { authentication, link: container }, signer, commit),
    )
    return device
  }

  async prepareUnlink(actor: Device, target: string): Promise<Prepared<'unlinkDevice'>> {
    const { authentication, signer, commit } = await actor.rotation()
    return this.prepare(
      'unlinkDevice',
      { authentication, link: { device: target } },
      signer,
      commit,
    )
  }

  // -- sessions -----------------------------------------------------------------------------------

  async challenge(identity: string): Promise<string> {
    const prepared = await this.prepare(
      'requestSession',
      { authentication: { identity } },
      undefined,
    )
    const response = await this.submit(prepared)
    return response.authentication.nonce
  }

  async prepareCreateSession(
    device: Device,
    challenge: string,
  ): Promise<{
    prepared: Prepared<'createSession'>
    accessKey: SigningKey
    accessNext: SigningKey
  }> {
    const accessKey = await generateKey()
    const accessNext = await generateKey()
    const prepared = await this.prepare(
      'createSession',
      {
        access: {
          publicKey: await accessKey.public(),
          rotationHash: await hasher.sum(await accessNext.public()),
        },
        authentication: { device: device.device, nonce: challenge },
      },
      device.current,
    )
    return { prepared, accessKey, accessNext }
  }

  async createSession(device: Device): Promise<Session> {
    const challenge = await this.challenge(device.identity)
    const { prepared, accessKey, accessNext } = await this.prepareCreateSession(device, challenge)
    const response = await this.submit(prepared)
    return { device, token: response.access.token, accessKey, accessNext }
  }

  /** A refresh: reveals the committed access key; the returned session holds the new token. */
  async prepareRefresh(
    session: Session,
  ): Promise<{ prepared: Prepared<'refreshSession'>; after: SigningKey }> {
    const after = await generateKey()
    const prepared = await this.prepare(
      'refreshSession',
      {
        access: {
          publicKey: await session.accessNext.public(),
          rotationHash: await hasher.sum(await after.public()),
          token: session.token,
        },
      },
      session.accessNext,
    )
    return { prepared, after }
  }

  /** An access request to `path` (default `/foo/bar`), correct unless an option says otherwise. */
  async accessRequest(
    session: Session,
    options: AccessOptions = {},
    path = '/foo/bar',
  ): Promise<Outgoing> {
    const nonce = options.nonce ?? (await this.nonce())
    const payload = buildAccessRequestPayload(
      {
        nonce,
        timestamp: options.timestamp ?? this.timestamp(),
        token: options.token ?? session.token,
      },
      options.request ?? FOO_BAR,
    )
    const payloadText = JSON.stringify(payload)
    const message = await signPayloadText(options.signer ?? session.accessKey, payloadText)
    return { path, nonce, payloadText, message }
  }

  /** Sends an access request that must succeed and be answered by the pinned key. */
  async access(prepared: Outgoing): Promise<void> {
    const text = this.#successText(prepared.path, await this.send(prepared))
    try {
      await this.#authenticate(parseAccessResponse(text), prepared.nonce)
    } catch (error) {
      throw new SetupError(`${prepared.path} answered an unusable response: ${String(error)}`)
    }
  }

  // -- tokens -------------------------------------------------------------------------------------

  /** The token with its body replaced but its original signature kept (re-gzipped). */
  async retokenize(
    token: string,
    change: (body: AccessTokenBody) => AccessTokenBody,
  ): Promise<string> {
    const decoded = await decodeAccessToken(token, tokenEncoder)
    const body = change(decoded.body)
    return decoded.signature + (await tokenEncoder.encode(JSON.stringify(body)))
  }
}
