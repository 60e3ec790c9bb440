/**
 * A small in-process better-auth server for the client's tests. It checks what a real server
 * checks (signatures over received bytes, forward commitments, link containers, challenges,
 * single-use access keys and nonces) and additionally rejects any request that is not in the
 * canonical serialization, so every client test also pins the exact bytes sent. Not part of the
 * published package.
 */
import { base64UrlEncode } from '@better-auth/cesr'
import {
  BetterAuthError,
  ExpiredNonceError,
  InvalidDeviceError,
  InvalidHashError,
  InvalidIdentityError,
  InvalidMessageError,
  InvalidSignatureError,
  InvalidTokenError,
  MismatchedIdentitiesError,
  ReplayError,
  buildAccessResponsePayload,
  errorBody,
  linkContainerOf,
  parseAccessRequest,
  parseRequest,
  serializeEnvelope,
} from '@better-auth/protocol'
import type {
  Envelope,
  Hasher,
  JsonValue,
  Noncer,
  ProtocolName,
  SigningKey,
  Verifier,
} from '@better-auth/protocol'
import type { Network } from '../network.js'

/**
 * One-shot misbehaviour. 'offline' and 'lose-response' model the network; the others model an
 * impostor answering in the server's place, so the real server never sees the request and a
 * retry with the same keys must succeed.
 */
export type Fault =
  | 'offline' // the request never reaches the server
  | 'lose-response' // the server processes the request, the response is lost
  | 'wrong-nonce' // well-formed, trusted signature, but the nonce of another request
  | 'bad-signature' // signed by an untrusted key that claims to be the trusted one
  | 'unknown-key' // validly signed by a key the client does not trust, named honestly
  | 'tampered-payload' // trusted signature, payload bytes changed afterwards

const IMPOSTOR_FAULTS: ReadonlySet<Fault> = new Set([
  'wrong-nonce',
  'bad-signature',
  'unknown-key',
  'tampered-payload',
])

export interface FakeServerOptions {
  readonly hasher: Hasher
  readonly noncer: Noncer
  readonly verifier: Verifier
  readonly responseKey: SigningKey
  /** Signs responses for the 'bad-signature' and 'unknown-key' faults. */
  readonly otherKey: SigningKey
}

interface DeviceRecord {
  publicKey: string
  rotationHash: string
  active: boolean
}

interface Account {
  recoveryHash: string
  readonly devices: Map<string, DeviceRecord>
}

interface TokenRecord {
  readonly identity: string
  readonly device: string
  readonly publicKey: string
  readonly rotationHash: string
}

interface Rotation {
  readonly device: string
  readonly identity: string
  readonly publicKey: string
  readonly rotationHash: string
}

const PATHS: Record<string, ProtocolName> = {
  '/account/create': 'createAccount',
  '/account/recover': 'recoverAccount',
  '/account/delete': 'deleteAccount',
  '/session/request': 'requestSession',
  '/session/create': 'createSession',
  '/session/refresh': 'refreshSession',
  '/device/rotate': 'rotateDevice',
  '/device/link': 'linkDevice',
  '/device/unlink': 'unlinkDevice',
  '/recovery/change': 'changeRecoveryKey',
}

export interface RecordedRequest {
  readonly path: string
  readonly message: string
}

export class FakeServer implements Network {
  readonly requests: RecordedRequest[] = []
  readonly accounts = new Map<string, Account>()
  readonly tokens = new Map<string, TokenRecord>()
  readonly #challenges = new Map<string, string>()
  readonly #usedAccessKeys = new Set<string>()
  readonly #usedNonces = new Set<string>()
  readonly #options: FakeServerOptions
  #fault: { fault: Fault; path: string | undefined } | undefined
  /** Returned verbatim for the next request instead of processing it. */
  rawResponse: string | undefined
  /** Reject requests whose payload is not the canonical serialization (on by default). */
  strictCanonical = true

  constructor(options: FakeServerOptions) {
    this.#options = options
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
    if (
      this.#fault !== undefined &&
      (this.#fault.path === undefined || this.#fault.path === path)
    ) {
      fault = this.#fault.fault
      this.#fault = undefined
    }
    if (this.rawResponse !== undefined) {
      const raw = this.rawResponse
      this.rawResponse = undefined
      return raw
    }
    if (fault === 'offline') throw new TypeError('fetch failed')
    if (fault !== undefined && IMPOSTOR_FAULTS.has(fault)) {
      const { payload } = JSON.parse(message) as { payload: { access: { nonce: string } } }
      return this.#respond(payload.access.nonce, await this.#impostorBody(path), fault)
    }
    let result: { nonce: string; response: JsonValue }
    try {
      result = await this.#handle(path, message)
    } catch (error) {
      if (error instanceof BetterAuthError) return JSON.stringify(errorBody(error))
      throw error
    }
    if (fault === 'lose-response') throw new TypeError('socket hang up')
    if (path === '/bad/nonce')
      return this.#respond(await this.#options.noncer.generate128(), result.response)
    return this.#respond(result.nonce, result.response, fault)
  }

  async #respond(nonce: string, response: JsonValue, fault?: Fault): Promise<string> {
    const { noncer, otherKey, responseKey } = this.#options
    const echoed = fault === 'wrong-nonce' ? await noncer.generate128() : nonce
    const named = fault === 'unknown-key' ? otherKey : responseKey
    const payload = buildAccessResponsePayload(
      { nonce: echoed, serverIdentity: await named.public() },
      response,
    )
    const payloadText = JSON.stringify(payload)
    const signer = fault === 'bad-signature' || fault === 'unknown-key' ? otherKey : responseKey
    const signature = await signer.sign(payloadText)
    if (fault === 'tampered-payload') {
      // Same JSON value, different bytes: only a check over the received bytes notices.
      return serializeEnvelope(payloadText.replace('"response":', '"response": '), signature)
    }
    return serializeEnvelope(payloadText, signature)
  }

  /** A response body of the right shape for `path`, as an impostor would forge it. */
  async #impostorBody(path: string): Promise<JsonValue> {
    switch (PATHS[path]) {
      case 'requestSession':
        return { authentication: { nonce: await this.#options.noncer.generate128() } }
      case 'createSession':
      case 'refreshSession': {
        const signature = await this.#options.otherKey.sign('forged')
        return { access: { token: `${signature}e30` } }
      }
      case undefined:
        return { wasFoo: 'forged', wasBar: 'forged' }
      default:
        return {}
    }
  }

  async #hash(text: string): Promise<string> {
    return this.#options.hasher.sum(text)
  }

  async #verify(
    envelope: Envelope<unknown>,
    publicKey: string,
    what: 'request' | 'link-container',
  ) {
    const { signature } = envelope
    if (
      signature === undefined ||
      !(await this.#options.verifier.verify(envelope.payloadText, signature, publicKey))
    ) {
      throw new InvalidSignatureError(what)
    }
  }

  #canonical(envelope: Envelope<unknown>): void {
    if (this.strictCanonical && JSON.stringify(envelope.payload) !== envelope.payloadText) {
      throw new InvalidMessageError('payload', 'not in canonical serialization')
    }
  }

  #account(identity: string): Account {
    const account = this.accounts.get(identity)
    if (account === undefined) throw new InvalidIdentityError('unknown identity')
    return account
  }

  #device(identity: string, device: string): DeviceRecord {
    const record = this.#account(identity).devices.get(device)
    if (record === undefined || !record.active) throw new InvalidDeviceError('unknown or revoked')
    return record
  }

  /** Checks a signed rotation and applies it. */
  async #rotate(envelope: Envelope<unknown>, rotation: Rotation): Promise<void> {
    await this.#verify(envelope, rotation.publicKey, 'request')
    const record = this.#device(rotation.identity, rotation.device)
    if ((await this.#hash(rotation.publicKey)) !== record.rotationHash) {
      throw new InvalidHashError('rotation', 'revealed key does not match the commitment')
    }
    record.publicKey = rotation.publicKey
    record.rotationHash = rotation.rotationHash
  }

  async #issueToken(record: TokenRecord): Promise<string> {
    const body = JSON.stringify(record)
    const signature = await this.#options.responseKey.sign(body)
    const token = signature + base64UrlEncode(new TextEncoder().encode(body))
    this.tokens.set(token, record)
    return token
  }

  async #handle(path: string, message: string): Promise<{ nonce: string; response: JsonValue }> {
    const kind = PATHS[path]
    if (kind === undefined) return this.#access(path, message)
    switch (kind) {
      case 'createAccount': {
        const envelope = parseRequest(kind, message)
        this.#canonical(envelope)
        const a = envelope.payload.request.authentication
        await this.#verify(envelope, a.publicKey, 'request')
        if (a.device !== (await this.#hash(a.publicKey + a.rotationHash))) {
          throw new InvalidDeviceError('device is not hash(publicKey + rotationHash)')
        }
        if (a.identity !== (await this.#hash(a.publicKey + a.rotationHash + a.recoveryHash))) {
          throw new InvalidIdentityError('identity derivation')
        }
        if (this.accounts.has(a.identity)) throw new InvalidIdentityError('exists')
        this.accounts.set(a.identity, {
          recoveryHash: a.recoveryHash,
          devices: new Map([
            [a.device, { publicKey: a.publicKey, rotationHash: a.rotationHash, active: true }],
          ]),
        })
        return { nonce: envelope.payload.access.nonce, response: {} }
      }
      case 'recoverAccount': {
        const envelope = parseRequest(kind, message)
        this.#canonical(envelope)
        const a = envelope.payload.request.authentication
        await this.#verify(envelope, a.recoveryKey, 'request')
        const account = this.#account(a.identity)
        if ((await this.#hash(a.recoveryKey)) !== account.recoveryHash) {
          throw new InvalidHashError('recovery', 'recovery key does not match')
        }
        if (a.device !== (await this.#hash(a.publicKey + a.rotationHash))) {
          throw new InvalidDeviceError('device derivation')
        }
        account.recoveryHash = a.recoveryHash
        for (const record of account.devices.values()) record.active = false
        account.devices.set(a.device, {
          publicKey: a.publicKey,
          rotationHash: a.rotationHash,
          active: true,
        })
        return { nonce: envelope.payload.access.nonce, response: {} }
      }
      case 'deleteAccount':
      case 'rotateDevice': {
        const envelope = parseRequest(kind, message)
        this.#canonical(envelope)
        await this.#rotate(envelope, envelope.payload.request.authentication)
        if (kind === 'deleteAccount')
          this.accounts.delete(envelope.payload.request.authentication.identity)
        return { nonce: envelope.payload.access.nonce, response: {} }
      }
      case 'changeRecoveryKey': {
        const envelope = parseRequest(kind, message)
        this.#canonical(envelope)
        const a = envelope.payload.request.authentication
        await this.#rotate(envelope, a)
        this.#account(a.identity).recoveryHash = a.recoveryHash
        return { nonce: envelope.payload.access.nonce, response: {} }
      }
      case 'linkDevice': {
        const envelope = parseRequest(kind, message)
        this.#canonical(envelope)
        const container = linkContainerOf(envelope)
        const c = container.payload.authentication
        await this.#verify(container, c.publicKey, 'link-container')
        if (c.device !== (await this.#hash(c.publicKey + c.rotationHash))) {
          throw new InvalidDeviceError('linked device derivation')
        }
        const a = envelope.payload.request.authentication
        if (c.identity !== a.identity) throw new MismatchedIdentitiesError()
        await this.#rotate(envelope, a)
        this.#account(a.identity).devices.set(c.device, {
          publicKey: c.publicKey,
          rotationHash: c.rotationHash,
          active: true,
        })
        return { nonce: envelope.payload.access.nonce, response: {} }
      }
      case 'unlinkDevice': {
        const envelope = parseRequest(kind, message)
        this.#canonical(envelope)
        const a = envelope.payload.request.authentication
        await this.#rotate(envelope, a)
        this.#device(a.identity, envelope.payload.request.link.device).active = false
        return { nonce: envelope.payload.access.nonce, response: {} }
      }
      case 'requestSession': {
        const envelope = parseRequest(kind, message)
        this.#canonical(envelope)
        const { identity } = envelope.payload.request.authentication
        this.#account(identity)
        const challenge = await this.#options.noncer.generate128()
        this.#challenges.set(challenge, identity)
        return {
          nonce: envelope.payload.access.nonce,
          response: { authentication: { nonce: challenge } },
        }
      }
      case 'createSession': {
        const envelope = parseRequest(kind, message)
        this.#canonical(envelope)
        const { access, authentication } = envelope.payload.request
        const identity = this.#challenges.get(authentication.nonce)
        if (identity === undefined) throw new ExpiredNonceError()
        this.#challenges.delete(authentication.nonce)
        const record = this.#device(identity, authentication.device)
        await this.#verify(envelope, record.publicKey, 'request')
        const token = await this.#issueToken({
          identity,
          device: authentication.device,
          publicKey: access.publicKey,
          rotationHash: access.rotationHash,
        })
        return { nonce: envelope.payload.access.nonce, response: { access: { token } } }
      }
      case 'refreshSession': {
        const envelope = parseRequest(kind, message)
        this.#canonical(envelope)
        const { publicKey, rotationHash, token } = envelope.payload.request.access
        const record = this.tokens.get(token)
        if (record === undefined) throw new InvalidTokenError('unknown token')
        const revealed = await this.#hash(publicKey)
        if (revealed !== record.rotationHash) {
          throw new InvalidHashError('access-rotation', 'revealed key does not match the token')
        }
        await this.#verify(envelope, publicKey, 'request')
        this.#device(record.identity, record.device)
        if (this.#usedAccessKeys.has(revealed)) throw new ReplayError('access-key')
        this.#usedAccessKeys.add(revealed)
        const next = await this.#issueToken({ ...record, publicKey, rotationHash })
        return { nonce: envelope.payload.access.nonce, response: { access: { token: next } } }
      }
    }
  }

  async #access(path: string, message: string): Promise<{ nonce: string; response: JsonValue }> {
    const envelope = parseAccessRequest(message)
    this.#canonical(envelope)
    const { nonce, token } = envelope.payload.access
    const record = this.tokens.get(token)
    if (record === undefined) throw new InvalidTokenError('unknown token')
    await this.#verify(envelope, record.publicKey, 'request')
    if (this.#usedNonces.has(nonce)) throw new ReplayError('access-nonce')
    this.#usedNonces.add(nonce)
    if (path !== '/foo/bar' && path !== '/bad/nonce')
      throw new InvalidMessageError('path', 'unknown route')
    const request = envelope.payload.request as { foo?: JsonValue; bar?: JsonValue }
    return { nonce, response: { wasFoo: request.foo ?? null, wasBar: request.bar ?? null } }
  }
}
