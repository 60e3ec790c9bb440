import {
  ConfigurationError,
  InvalidMessageError,
  InvalidStateError,
  MismatchedIdentitiesError,
  NetworkError,
  buildAccessRequestPayload,
  buildRequestPayload,
  isBetterAuthError,
  parseAccessResponse,
  parseLinkContainer,
  parseResponse,
  serializeEnvelope,
  signPayload,
  signPayloadText,
} from '@better-auth/protocol'
import type {
  ClientValueStore,
  JsonValue,
  PendingRotation,
  PreparedChain,
  ProtocolName,
  ResponseBody,
  SigningKey,
  VerificationKeyStore,
} from '@better-auth/protocol'
import type { Network } from './network.js'
import {
  resolveOptions,
  type BetterAuthClientOptions,
  type ClientStores,
  type ResolvedOptions,
} from './options.js'
import { UnverifiedResponseError } from './errors.js'
import { throwIfErrorBody, verifyResponse } from './response.js'
import {
  requireDigest,
  requireJson,
  requirePath,
  requirePublicKey,
  requireSigningKey,
  requireString,
} from './validate.js'

/** The identifiers of the account and of this device, as the server knows them. */
export interface AccountIds {
  readonly identity: string
  readonly device: string
}

interface Rotation {
  readonly device: string
  readonly identity: string
  readonly publicKey: string
  readonly rotationHash: string
}

type RotationProtocol =
  'rotateDevice' | 'deleteAccount' | 'changeRecoveryKey' | 'linkDevice' | 'unlinkDevice'

type ChainName = 'authenticationKey' | 'accessKey'

/** A rotation whose response is kept because it could not be verified; see resumeUnverified(). */
export interface UnverifiedRotation {
  readonly protocol: ProtocolName
  /** The response key the kept response names (unauthenticated: a hint, not a key to trust). */
  readonly serverIdentity: string
}

interface KeptResponse extends UnverifiedRotation {
  /** Verifies the kept response again and, when it verifies, commits the rotation. */
  resume(): Promise<void>
}

/**
 * A better-auth client. Every state change (a committed rotation, a stored identity or token)
 * happens only after the server's response has been authenticated: its key is one the client
 * trusts, its signature covers the received bytes, and it echoes the request nonce. A request
 * that fails or is lost therefore leaves the client able to retry the same call.
 *
 * Operations are serialized per client, so concurrent calls never interleave a rotation's
 * next() and commit() or sign with a key that is being replaced.
 */
export class BetterAuthClient {
  readonly #options: ResolvedOptions
  #queue: Promise<unknown> = Promise.resolve()
  /** At most one per chain: a chain has one pending rotation at a time. */
  readonly #unverified = new Map<ChainName, KeptResponse>()

  constructor(options: BetterAuthClientOptions) {
    this.#options = resolveOptions(options)
  }

  /** Registers a new account whose first device is this one. */
  async createAccount(recoveryHash: string): Promise<AccountIds> {
    requireDigest(recoveryHash, 'recoveryHash')
    return this.#exclusive(async () => {
      const { hasher } = this.#options
      const ids = await this.#replaceChain(
        'authenticationKey',
        async ({ publicKey, rotationHash, signer }) => {
          const device = await hasher.sum(publicKey + rotationHash)
          const identity = await hasher.sum(publicKey + rotationHash + recoveryHash)
          const nonce = await this.#nonce()
          const payload = buildRequestPayload('createAccount', nonce, {
            authentication: { device, identity, publicKey, recoveryHash, rotationHash },
          })
          await this.#exchange('createAccount', nonce, JSON.stringify(payload), signer)
          return { identity, device }
        },
      )
      await this.#adoptAccount(ids.identity, ids.device)
      return ids
    })
  }

  /**
   * Prepares this (new) device to join `identity`: returns the signed link container that an
   * existing device of the account passes to linkDevice().
   */
  async generateLinkContainer(identity: string): Promise<string> {
    requireDigest(identity, 'identity')
    return this.#exclusive(async () => {
      const { hasher } = this.#options
      // No server answers here: the chain is installed once the container is signed and checked,
      // since the linking device will present it later.
      const { container, device } = await this.#replaceChain(
        'authenticationKey',
        async ({ publicKey, rotationHash, signer }) => {
          const device = await hasher.sum(publicKey + rotationHash)
          // Literal in canonical key order: the container's signature covers exactly these bytes.
          const payload = { authentication: { device, identity, publicKey, rotationHash } }
          const container = await signPayload(signer, payload)
          // Self-check with the parser the server side uses, before anything is stored.
          parseLinkContainer(container)
          return { container, device }
        },
      )
      await this.#adoptAccount(identity, device)
      return container
    })
  }

  /** Links the device that produced `container` to this device's account (a rotation). */
  async linkDevice(container: string): Promise<void> {
    requireString(container, 'container')
    const parsed = parseLinkContainer(container)
    const { signature } = parsed
    if (signature === undefined) throw new InvalidMessageError('container.signature', 'missing')
    // The signature covers the container's payload, which sits between its braces; trimming
    // only removes the JSON whitespace the parser allowed around the envelope.
    const containerText = container.trim()
    await this.#rotate('linkDevice', (authentication, nonce) => {
      if (parsed.payload.authentication.identity !== authentication.identity) {
        throw new MismatchedIdentitiesError()
      }
      // Validates every field; the result is used for all but the container.
      const payload = buildRequestPayload('linkDevice', nonce, {
        authentication,
        link: { payload: parsed.payload, signature },
      })
      // Spliced in, never re-serialized: the container's own signature must keep covering the
      // exact bytes its device signed.
      return (
        `{"access":${JSON.stringify(payload.access)},` +
        `"request":{"authentication":${JSON.stringify(payload.request.authentication)},` +
        `"link":${containerText}}}`
      )
    })
  }

  /**
   * Revokes `device` of this account (a rotation). Unlinking this device itself also ends its
   * key chain: the rotation commits to hash(hash(next key)), which no key can reveal, and the
   * local account state is cleared.
   */
  async unlinkDevice(device: string): Promise<void> {
    requireDigest(device, 'device')
    let unlinkedSelf = false
    await this.#rotate(
      'unlinkDevice',
      async (authentication, nonce) => {
        unlinkedSelf = device === authentication.device
        const rotationHash = unlinkedSelf
          ? await this.#options.hasher.sum(authentication.rotationHash)
          : authentication.rotationHash
        const payload = buildRequestPayload('unlinkDevice', nonce, {
          authentication: { ...authentication, rotationHash },
          link: { device },
        })
        return JSON.stringify(payload)
      },
      async () => {
        if (unlinkedSelf) await this.#forgetAccount()
      },
    )
  }

  /** Rotates this device's authentication key. */
  async rotateDevice(): Promise<void> {
    await this.#rotate('rotateDevice', (authentication, nonce) =>
      JSON.stringify(buildRequestPayload('rotateDevice', nonce, { authentication })),
    )
  }

  /** Deletes the account and all its devices, then clears this client's state. */
  async deleteAccount(): Promise<void> {
    await this.#rotate(
      'deleteAccount',
      (authentication, nonce) =>
        JSON.stringify(buildRequestPayload('deleteAccount', nonce, { authentication })),
      () => this.#forgetAccount(),
    )
  }

  /** Replaces the account's recovery commitment with `recoveryHash` = hash(new recovery key). */
  async changeRecoveryKey(recoveryHash: string): Promise<void> {
    requireDigest(recoveryHash, 'recoveryHash')
    await this.#rotate('changeRecoveryKey', (authentication, nonce) => {
      const { device, identity, publicKey, rotationHash } = authentication
      return JSON.stringify(
        buildRequestPayload('changeRecoveryKey', nonce, {
          authentication: { device, identity, publicKey, recoveryHash, rotationHash },
        }),
      )
    })
  }

  /**
   * Takes over `identity` with its recovery key: every other device is revoked, this device
   * becomes the only one, and `nextRecoveryHash` becomes the new recovery commitment.
   */
  async recoverAccount(
    identity: string,
    recoveryKey: SigningKey,
    nextRecoveryHash: string,
  ): Promise<AccountIds> {
    requireDigest(identity, 'identity')
    requireSigningKey(recoveryKey, 'recoveryKey')
    requireDigest(nextRecoveryHash, 'nextRecoveryHash')
    return this.#exclusive(async () => {
      const { hasher } = this.#options
      // Checked before a key chain is even prepared, so a broken recovery key costs nothing.
      const recoveryPublicKey = requirePublicKey(await recoveryKey.public(), 'recoveryKey.public()')
      // A refused or lost recovery must not cost a device that still holds a working chain.
      const device = await this.#replaceChain(
        'authenticationKey',
        async ({ publicKey, rotationHash }) => {
          const device = await hasher.sum(publicKey + rotationHash)
          const nonce = await this.#nonce()
          const payload = buildRequestPayload('recoverAccount', nonce, {
            authentication: {
              device,
              identity,
              publicKey,
              recoveryHash: nextRecoveryHash,
              recoveryKey: recoveryPublicKey,
              rotationHash,
            },
          })
          await this.#exchange('recoverAccount', nonce, JSON.stringify(payload), recoveryKey)
          return device
        },
      )
      await this.#adoptAccount(identity, device)
      return { identity, device }
    })
  }

  /** Authenticates this device (challenge, then signed answer) and stores an access token. */
  async createSession(): Promise<void> {
    await this.#exclusive(async () => {
      const { stores } = this.#options
      const identity = await this.#required(stores.identity, 'identity')
      const device = await this.#required(stores.device, 'device')

      const requestNonce = await this.#nonce()
      const request = buildRequestPayload('requestSession', requestNonce, {
        authentication: { identity },
      })
      const challenge = await this.#exchange(
        'requestSession',
        requestNonce,
        JSON.stringify(request),
        undefined,
      )

      // The old token and access key stay usable until the new session's response is verified.
      const response = await this.#replaceChain(
        'accessKey',
        async ({ publicKey, rotationHash }) => {
          const nonce = await this.#nonce()
          const payload = buildRequestPayload('createSession', nonce, {
            access: { publicKey, rotationHash },
            authentication: { device, nonce: challenge.authentication.nonce },
          })
          return this.#exchange(
            'createSession',
            nonce,
            JSON.stringify(payload),
            await stores.authenticationKey.signer(),
          )
        },
        // The old token names the key about to be replaced. Dropping it first means an
        // interruption between the two writes (a closed tab, a failing token store) reads as
        // "no session" rather than as a token the server refuses for this client's key.
        () => stores.accessToken.clear(),
      )
      await stores.accessToken.store(response.access.token)
    })
  }

  /** Rotates the access key and exchanges the current token for a fresh one. */
  async refreshSession(): Promise<void> {
    await this.#exclusive(async () => {
      const { stores } = this.#options
      const token = await this.#required(stores.accessToken, 'access token')
      const pending = await stores.accessKey.next()
      const nonce = await this.#nonce()
      const payload = buildRequestPayload('refreshSession', nonce, {
        access: { publicKey: pending.publicKey, rotationHash: pending.rotationHash, token },
      })
      await this.#exchangeRotation(
        'refreshSession',
        'accessKey',
        pending,
        nonce,
        JSON.stringify(payload),
        async (response) => {
          await stores.accessKey.commit()
          await stores.accessToken.store(response.access.token)
        },
      )
    })
  }

  /**
   * The rotations whose response arrived but could not be verified (UnverifiedResponseError),
   * typically because the server's response key changed. Each is kept, with its prepared keys,
   * until resumeUnverified() commits it, a retry of the same call succeeds, or the chain is
   * replaced (new session, recovery, deletion).
   */
  unverifiedRotations(): readonly UnverifiedRotation[] {
    return [...this.#unverified.values()].map(({ protocol, serverIdentity }) => ({
      protocol,
      serverIdentity,
    }))
  }

  /**
   * Verifies every kept response again, against the response keys trusted now, and commits each
   * rotation that verifies exactly as if its response had verified at first (the new token
   * stored, the account forgotten after a deletion, …). Call it after pinning the server's new
   * response key, obtained from a source the application trusts (its configuration, a key
   * endpoint it authenticates), never from the response itself. Resolves the protocols it
   * completed. A response that still does not verify stays kept, and its UnverifiedResponseError
   * is thrown once the others were tried.
   */
  async resumeUnverified(): Promise<ProtocolName[]> {
    return this.#exclusive(async () => {
      const completed: ProtocolName[] = []
      const failures: unknown[] = []
      for (const kept of [...this.#unverified.values()]) {
        try {
          await kept.resume()
          completed.push(kept.protocol)
        } catch (error) {
          failures.push(error)
        }
      }
      if (failures.length > 0) throw failures[0]
      return completed
    })
  }

  /**
   * Sends `request` to an application route with the access token, and returns the verified
   * response data. `T` is the caller's assertion about the application's response shape.
   */
  async makeAccessRequest<T = JsonValue>(
    path: string,
    request: JsonValue,
    service?: AccessService,
  ): Promise<T> {
    requirePath(path, 'path')
    requireJson(request, 'request')
    const { noncer, stores, timestamper } = this.#options
    const { network, responseKeys } = resolveService(service, this.#options)
    // Only reading the token and signing wait for other operations: the token and the access
    // key must belong together, while the round trip itself can overlap with other requests.
    const { nonce, message } = await this.#exclusive(async () => {
      const token = await this.#required(stores.accessToken, 'access token')
      const nonce = await noncer.generate128()
      const timestamp = timestamper.format(timestamper.now())
      const payload = buildAccessRequestPayload({ nonce, timestamp, token }, request)
      return { nonce, message: await signPayload(await stores.accessKey.signer(), payload) }
    })
    const text = await this.#send(network, path, message)
    throwIfErrorBody(text, 'access')
    const envelope = parseAccessResponse(text)
    await verifyResponse(envelope, responseKeys, nonce)
    return envelope.payload.response as T
  }

  // -- internals --------------------------------------------------------------------------------

  #exclusive<T>(task: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(task)
    this.#queue = run.catch(() => undefined)
    return run
  }

  async #nonce(): Promise<string> {
    return this.#options.noncer.generate128()
  }

  async #required(store: ClientValueStore, name: string): Promise<string> {
    const value = await store.get()
    if (value === undefined) throw new InvalidStateError(`no ${name} stored`)
    return value
  }

  /**
   * Runs `use` with a new chain for the key store `name`, and installs the chain only once `use`
   * resolved (the server accepted it); on any failure the chain is discarded and the stored one
   * is left as it was. `beforeReplace` runs right before the stored chain is replaced.
   */
  async #replaceChain<T>(
    name: 'authenticationKey' | 'accessKey',
    use: (chain: PreparedChain) => Promise<T>,
    beforeReplace?: () => Promise<void>,
  ): Promise<T> {
    const chain = await prepareChain(this.#options.stores, name, beforeReplace)
    try {
      const result = await use(chain)
      await chain.commit()
      // A kept response belongs to a rotation of the chain just replaced.
      this.#unverified.delete(name)
      return result
    } catch (error) {
      // The caller needs the reason the operation failed; a store that cannot drop the keys it
      // prepared has nothing to add that the caller could act on.
      await chain.discard().catch(() => undefined)
      throw error
    }
  }

  /**
   * A rotation of this device's authentication key. The pending rotation is committed only after
   * the response is authenticated; until then every retry reuses the same pending keys.
   */
  async #rotate(
    kind: RotationProtocol,
    build: (authentication: Rotation, nonce: string) => Promise<string> | string,
    afterCommit?: () => Promise<void>,
  ): Promise<void> {
    await this.#exclusive(async () => {
      const { stores } = this.#options
      const identity = await this.#required(stores.identity, 'identity')
      const device = await this.#required(stores.device, 'device')
      const pending: PendingRotation = await stores.authenticationKey.next()
      const nonce = await this.#nonce()
      const authentication = {
        device,
        identity,
        publicKey: pending.publicKey,
        rotationHash: pending.rotationHash,
      }
      const payloadText = await build(authentication, nonce)
      await this.#exchangeRotation(
        kind,
        'authenticationKey',
        pending,
        nonce,
        payloadText,
        async () => {
          await stores.authenticationKey.commit()
          await afterCommit?.()
        },
      )
    })
  }

  /**
   * Sends a rotation signed by `pending.signer` and runs `complete` (the commit) once the response
   * is authenticated. A response that parses but cannot be authenticated may be the server's
   * acceptance signed by a key this client does not trust yet, after which the server refuses the
   * same rotation (BA104): it is kept with the pending rotation, for resumeUnverified().
   */
  async #exchangeRotation<K extends RotationProtocol | 'refreshSession'>(
    kind: K,
    chain: ChainName,
    pending: PendingRotation,
    nonce: string,
    payloadText: string,
    complete: (response: ResponseBody<K>) => Promise<void>,
  ): Promise<void> {
    const { stores } = this.#options
    const envelope = await this.#sendAndParse(kind, payloadText, pending.signer)
    const finish = async () => {
      this.#unverified.delete(chain)
      await complete(envelope.payload.response)
    }
    try {
      await verifyResponse(envelope, stores.responseKeys, nonce)
    } catch (error) {
      const serverIdentity = envelope.payload.access.serverIdentity.slice(0, 64)
      const resume = async () => {
        // The kept response covers this pending rotation only; a retry that succeeded, or a
        // replaced chain, has made it meaningless.
        const current = await stores[chain].next()
        if (
          current.publicKey !== pending.publicKey ||
          current.rotationHash !== pending.rotationHash
        ) {
          this.#unverified.delete(chain)
          throw new InvalidStateError(`the ${chain} chain changed since the kept ${kind} response`)
        }
        try {
          await verifyResponse(envelope, stores.responseKeys, nonce)
        } catch (cause) {
          throw new UnverifiedResponseError(kind, serverIdentity, cause)
        }
        await finish()
      }
      this.#unverified.set(chain, { protocol: kind, serverIdentity, resume })
      throw new UnverifiedResponseError(kind, serverIdentity, error)
    }
    await finish()
  }

  /** Signs (unless unsigned), sends, and authenticates the response; returns its body. */
  async #exchange<K extends ProtocolName>(
    kind: K,
    nonce: string,
    payloadText: string,
    signer: SigningKey | undefined,
  ): Promise<ResponseBody<K>> {
    const envelope = await this.#sendAndParse(kind, payloadText, signer)
    await verifyResponse(envelope, this.#options.stores.responseKeys, nonce)
    return envelope.payload.response
  }

  /** Signs (unless unsigned) and sends; the parsed response is not authenticated yet. */
  async #sendAndParse<K extends ProtocolName>(
    kind: K,
    payloadText: string,
    signer: SigningKey | undefined,
  ) {
    const { network, paths } = this.#options
    const message =
      signer === undefined
        ? serializeEnvelope(payloadText)
        : await signPayloadText(signer, payloadText)
    const text = await this.#send(network, paths[kind], message)
    throwIfErrorBody(text, kind === 'refreshSession' ? 'refresh' : undefined)
    return parseResponse(kind, text)
  }

  async #send(
    network: ResolvedOptions['network'],
    path: string,
    message: string,
  ): Promise<unknown> {
    try {
      return await network.sendRequest(path, message)
    } catch (error) {
      if (isBetterAuthError(error)) throw error
      throw new NetworkError(`request to ${path} failed`, error)
    }
  }

  /** This client now acts for `identity` as `device`; a token of a previous device is void. */
  async #adoptAccount(identity: string, device: string): Promise<void> {
    const { stores } = this.#options
    await stores.identity.store(identity)
    await stores.device.store(device)
    await stores.accessToken.clear()
  }

  async #forgetAccount(): Promise<void> {
    const { stores } = this.#options
    this.#unverified.clear()
    await stores.identity.clear()
    await stores.device.clear()
    await stores.accessToken.clear()
    await stores.authenticationKey.clear()
    await stores.accessKey.clear()
  }
}

/**
 * A new chain for `stores[name]` that replaces the stored one only on commit(); `beforeReplace`
 * runs right before that.
 */
async function prepareChain(
  stores: ClientStores,
  name: 'authenticationKey' | 'accessKey',
  beforeReplace: (() => Promise<void>) | undefined,
): Promise<PreparedChain> {
  const prepared = requirePreparedChain(await stores[name].prepareInitialize(), name)
  return {
    publicKey: prepared.publicKey,
    rotationHash: prepared.rotationHash,
    signer: prepared.signer,
    commit: async () => {
      await beforeReplace?.()
      await prepared.commit()
    },
    discard: () => prepared.discard(),
  }
}

/**
 * An application service other than the auth server: where its routes are, and the response
 * keys it signs with. Access requests to it carry the same token.
 */
export interface AccessService {
  readonly network: Network
  readonly responseKeys: VerificationKeyStore
}

function resolveService(service: AccessService | undefined, options: ResolvedOptions) {
  if (service === undefined) {
    return { network: options.network, responseKeys: options.stores.responseKeys }
  }
  if (
    typeof service !== 'object' ||
    service === null ||
    typeof service.network?.sendRequest !== 'function' ||
    typeof service.responseKeys?.get !== 'function'
  ) {
    throw new InvalidMessageError('service', 'expected { network, responseKeys }')
  }
  return service
}

/** A custom store's result is checked before it signs anything or the server is asked. */
function requirePreparedChain(value: unknown, name: string): PreparedChain {
  const chain = value as Partial<Record<keyof PreparedChain, unknown>> | null
  const signer = chain?.signer as Partial<Record<keyof SigningKey, unknown>> | null | undefined
  if (
    typeof chain !== 'object' ||
    chain === null ||
    typeof chain.commit !== 'function' ||
    typeof chain.discard !== 'function' ||
    typeof signer?.sign !== 'function' ||
    typeof signer.public !== 'function'
  ) {
    throw new ConfigurationError(
      `stores.${name}.prepareInitialize`,
      'did not resolve to a PreparedChain',
    )
  }
  return value as PreparedChain
}
