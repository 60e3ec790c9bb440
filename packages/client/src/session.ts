import {
  ConfigurationError,
  ExpiredTokenError,
  InvalidDeviceError,
  NetworkError,
  decodeAccessToken,
} from '@better-auth/protocol'
import type { JsonValue, SigningKey, TokenEncoder } from '@better-auth/protocol'
import { BetterAuthClient, type AccessService, type AccountIds } from './client.js'
import { resolveOptions, type BetterAuthClientOptions } from './options.js'

/** What an application shows: no stores, no token decoding. */
export interface SessionView {
  /** `refresh-expired`: a device is set up but its session can no longer be refreshed. */
  readonly status: 'signed-out' | 'signed-in' | 'refresh-expired'
  readonly identity: string | undefined
  readonly device: string | undefined
  readonly accessExpiry: Date | undefined
  readonly refreshExpiry: Date | undefined
  /** The token's attributes (roles, permissions…), as the server issued them. */
  readonly attributes: JsonValue | undefined
}

export type SessionChange =
  | 'account-created'
  | 'session-created'
  | 'refreshed'
  | 'rotated'
  | 'linked'
  | 'unlinked'
  | 'recovered'
  | 'signed-out'
  | 'refresh-impossible'

export type SessionListener = (change: SessionChange, view: SessionView) => void

/**
 * Runs `task` while holding `name` across every tab of the origin. The default is the Web Locks
 * API when present (`navigator.locks.request`), otherwise a lock within this page only.
 */
export type CrossTabLock = <T>(name: string, task: () => Promise<T>) => Promise<T>

export interface SessionOptions {
  /** Decodes the access token body; the server's encoder (`GzipTokenEncoder` by default). */
  readonly tokenEncoder: TokenEncoder
  /** Refresh this long before the access token expires. Default 60 000 ms. */
  readonly refreshMarginMs?: number
  /** First retry delay after a network failure while refreshing, doubled up to `maxBackoffMs`. */
  readonly backoffMs?: number
  /** Default 60 000 ms. */
  readonly maxBackoffMs?: number
  /** The cross-tab lock; its name is `lockName` (default `better-auth:refresh`). */
  readonly lock?: CrossTabLock
  readonly lockName?: string
  /**
   * The BroadcastChannel on which the sessions of one origin tell each other of their changes
   * (default `better-auth:session`), so a sign-out or refresh in one tab shows in every tab. Give
   * each set of stores (each browser-store namespace) its own `channelName` and `lockName`.
   */
  readonly channelName?: string
  /** Application services by name, each with its own base URL (network) and response keys. */
  readonly services?: Readonly<Record<string, AccessService>>
}

const SIGNED_OUT: SessionView = Object.freeze({
  status: 'signed-out',
  identity: undefined,
  device: undefined,
  accessExpiry: undefined,
  refreshExpiry: undefined,
  attributes: undefined,
})

/**
 * The session layer over a BetterAuthClient: a view of the session, change notifications (the
 * other tabs' changes too, over a BroadcastChannel), automatic refresh before expiry (single flight
 * within the page and, through a cross-tab lock, across tabs sharing persistent stores), backoff
 * on network failure, and sign-out.
 *
 * Errors are the classes the server throws (the client maps error bodies back to them): an
 * expired refresh is `ExpiredTokenError` with `context.tokenType` `'refresh'`, an access token the
 * server found expired after the one refresh-and-retry is `ExpiredTokenError` `'access'`, a
 * revoked device `InvalidDeviceError` (BA103), a failed connection `NetworkError` (BA801).
 */
export class BetterAuthSession {
  /** The protocol client, for what the session layer does not wrap. */
  readonly client: BetterAuthClient
  readonly #stores: ReturnType<typeof resolveOptions>['stores']
  readonly #timestamper: ReturnType<typeof resolveOptions>['timestamper']
  readonly #encoder: TokenEncoder
  readonly #marginMs: number
  readonly #backoffMs: number
  readonly #maxBackoffMs: number
  readonly #lock: CrossTabLock
  readonly #lockName: string
  readonly #channelName: string
  #channel: BroadcastChannel | undefined
  readonly #services: Readonly<Record<string, AccessService>>
  readonly #listeners = new Set<SessionListener>()
  #view: SessionView = SIGNED_OUT
  #refreshing: Promise<void> | undefined
  #timer: ReturnType<typeof setTimeout> | undefined
  #failures = 0
  #stopped = false

  constructor(options: BetterAuthClientOptions & SessionOptions) {
    const resolved = resolveOptions(options)
    this.client = new BetterAuthClient(options)
    this.#stores = resolved.stores
    this.#timestamper = resolved.timestamper
    if (typeof options.tokenEncoder?.decode !== 'function') {
      throw new ConfigurationError('tokenEncoder', 'expected a TokenEncoder')
    }
    this.#encoder = options.tokenEncoder
    this.#marginMs = duration('refreshMarginMs', options.refreshMarginMs, 60_000)
    this.#backoffMs = duration('backoffMs', options.backoffMs, 1_000)
    this.#maxBackoffMs = duration('maxBackoffMs', options.maxBackoffMs, 60_000)
    this.#lock = options.lock ?? defaultLock()
    this.#lockName = name('lockName', options.lockName, 'better-auth:refresh')
    this.#channelName = name('channelName', options.channelName, 'better-auth:session')
    this.#services = { ...options.services }
  }

  /** The current view; `load()` reads it from the stores (call it once at start-up). */
  get view(): SessionView {
    return this.#view
  }

  /**
   * Reads the stored session, schedules its refresh, joins the other tabs' channel, and resolves
   * the view.
   */
  async load(): Promise<SessionView> {
    this.#stopped = false
    this.#join()
    this.#view = await this.#read()
    this.#schedule()
    return this.#view
  }

  subscribe(listener: SessionListener): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  /**
   * Stops the refresh timer and leaves the other tabs' channel (the page is going away, or the
   * session object is dropped).
   */
  stop(): void {
    this.#stopped = true
    clearTimeout(this.#timer)
    this.#channel?.close()
    this.#channel = undefined
  }

  async createAccount(recoveryHash: string): Promise<AccountIds> {
    const ids = await this.client.createAccount(recoveryHash)
    await this.#changed('account-created')
    return ids
  }

  /** Signs this device in: a new access session. */
  async signIn(): Promise<SessionView> {
    await this.client.createSession()
    this.#failures = 0
    return this.#changed('session-created')
  }

  async recoverAccount(
    identity: string,
    recoveryKey: SigningKey,
    nextRecoveryHash: string,
  ): Promise<AccountIds> {
    const ids = await this.client.recoverAccount(identity, recoveryKey, nextRecoveryHash)
    await this.#changed('recovered')
    return ids
  }

  async rotateDevice(): Promise<void> {
    await this.client.rotateDevice()
    await this.#changed('rotated')
  }

  async linkDevice(container: string): Promise<void> {
    await this.client.linkDevice(container)
    await this.#changed('linked')
  }

  async unlinkDevice(device: string): Promise<void> {
    await this.client.unlinkDevice(device)
    await this.#changed('unlinked')
  }

  /**
   * Refreshes now, once for all concurrent callers of this page and, under the cross-tab lock,
   * for every tab: a tab that finds the token already replaced by another adopts it instead.
   */
  refresh(): Promise<void> {
    return this.#refreshFrom(this.#view.accessExpiry)
  }

  /**
   * An access request. An access token that is expired (by this clock or by the server's answer,
   * BA401) is refreshed once and the request retried once.
   */
  async access<T = JsonValue>(
    path: string,
    request: JsonValue,
    options: { service?: string } = {},
  ): Promise<T> {
    let service: AccessService | undefined
    if (options.service !== undefined) {
      service = this.#services[options.service]
      if (service === undefined || !Object.hasOwn(this.#services, options.service)) {
        throw new ConfigurationError(`services.${options.service}`, 'no such service')
      }
    }
    const view = await this.#read()
    if (view.accessExpiry !== undefined && view.accessExpiry.getTime() <= this.#now()) {
      await this.#refreshFrom(view.accessExpiry)
    }
    try {
      return await this.client.makeAccessRequest<T>(path, request, service)
    } catch (error) {
      if (!(error instanceof ExpiredTokenError)) throw error
    }
    // The token read before the request: callers whose refusal arrives after another caller's
    // refresh then adopt that refresh instead of starting a second one.
    await this.#refreshFrom(view.accessExpiry)
    return this.client.makeAccessRequest<T>(path, request, service)
  }

  /**
   * Signs out locally: drops the access token (and, with `forgetDevice`, the identity, device and
   * both key chains, so this device can no longer sign in). This never contacts the server: the
   * device stays linked to the account there. To revoke it server-side as well, call
   * `unlinkDevice(view.device)` before signing out; it ends the key chain and forgets the account
   * locally on success.
   */
  async signOut(options: { forgetDevice?: boolean } = {}): Promise<void> {
    clearTimeout(this.#timer)
    // Under the refresh lock, so no tab's refresh in flight stores a token after it is dropped.
    await this.#lock(this.#lockName, async () => {
      await this.#stores.accessToken.clear()
      if (options.forgetDevice === true) {
        await this.#stores.identity.clear()
        await this.#stores.device.clear()
        await this.#stores.authenticationKey.clear()
        await this.#stores.accessKey.clear()
      }
    })
    await this.#changed('signed-out')
  }

  // -- internals --------------------------------------------------------------------------------

  /**
   * Single flight: one refresh at a time in this page, under the cross-tab lock. `seen` is the
   * expiry of the token the caller found wanting, taken before waiting for the lock: the view may
   * already show another tab's refresh by the time the lock is held.
   */
  #refreshFrom(seen: Date | undefined): Promise<void> {
    this.#refreshing ??= this.#lock(this.#lockName, () => this.#refreshUnderLock(seen)).finally(
      () => (this.#refreshing = undefined),
    )
    return this.#refreshing
  }

  async #refreshUnderLock(seen: Date | undefined): Promise<void> {
    const stored = await this.#read()
    // Another tab refreshed while this one waited for the lock: its token is ours too.
    const newer =
      stored.accessExpiry !== undefined && (seen === undefined || stored.accessExpiry > seen)
    if (newer && this.#dueAt(stored) > this.#now()) {
      const known = this.#view.accessExpiry?.getTime() === stored.accessExpiry?.getTime()
      this.#view = stored
      this.#failures = 0
      this.#schedule()
      // Already announced when this tab heard of that refresh on the channel.
      if (!known) this.#emit('refreshed')
      return
    }
    try {
      await this.client.refreshSession()
    } catch (error) {
      throw await this.#refreshFailed(error)
    }
    this.#failures = 0
    await this.#changed('refreshed')
  }

  /** The refresh-due instant of `view`'s token (its expiry minus the margin). */
  #dueAt(view: SessionView): number {
    return (view.accessExpiry?.getTime() ?? 0) - this.#marginMs
  }

  async #refreshFailed(error: unknown): Promise<unknown> {
    if (error instanceof NetworkError) {
      this.#failures++
      this.#schedule()
      return error
    }
    if (error instanceof ExpiredTokenError || error instanceof InvalidDeviceError) {
      this.#view = { ...(await this.#read()), status: 'refresh-expired' }
      clearTimeout(this.#timer)
      this.#emit('refresh-impossible')
      this.#broadcast('refresh-impossible')
    }
    return error
  }

  async #changed(change: SessionChange): Promise<SessionView> {
    this.#view = await this.#read()
    this.#schedule()
    this.#emit(change)
    this.#broadcast(change)
    return this.#view
  }

  /**
   * Listens to the other tabs' changes. Where BroadcastChannel is missing, each tab still works
   * on its own and sees the others' changes at its next read of the stores (a refresh, an access
   * request, `load()`).
   */
  #join(): void {
    const Channel = (globalThis as { BroadcastChannel?: typeof BroadcastChannel }).BroadcastChannel
    if (this.#channel !== undefined || typeof Channel !== 'function') return
    const channel = new Channel(this.#channelName)
    channel.addEventListener('message', (event: MessageEvent<unknown>) => {
      const change = changeOf(event.data)
      // A store failing here fails this tab's next operation as well, which reports it.
      if (change !== undefined) this.#heard(change).catch(() => undefined)
    })
    this.#channel = channel
  }

  #broadcast(change: SessionChange): void {
    this.#channel?.postMessage({ change })
  }

  /** Another tab changed the shared stores: read them again and tell this tab's listeners. */
  async #heard(change: SessionChange): Promise<void> {
    const stored = await this.#read()
    // The other tab's verdict: its token can no longer be refreshed, so this tab stops trying.
    this.#view =
      change === 'refresh-impossible' && stored.status === 'signed-in'
        ? { ...stored, status: 'refresh-expired' }
        : stored
    if (change === 'refreshed') this.#failures = 0
    this.#schedule()
    this.#emit(change)
  }

  #emit(change: SessionChange): void {
    for (const listener of [...this.#listeners]) listener(change, this.#view)
  }

  /** Next refresh: at expiry minus the margin, or after the backoff following failures. */
  #schedule(): void {
    clearTimeout(this.#timer)
    if (this.#stopped || this.#view.status !== 'signed-in') return
    const refreshExpiry = this.#view.refreshExpiry?.getTime() ?? 0
    const delay =
      this.#failures > 0
        ? Math.min(this.#backoffMs * 2 ** (this.#failures - 1), this.#maxBackoffMs)
        : Math.max(0, this.#dueAt(this.#view) - this.#now())
    if (this.#now() + delay >= refreshExpiry) return
    this.#timer = setTimeout(() => {
      // Failures are reported to subscribers through the view and rescheduled with backoff.
      this.refresh().catch(() => undefined)
    }, delay)
  }

  #now(): number {
    return this.#timestamper.now().getTime()
  }

  async #read(): Promise<SessionView> {
    const [identity, device, token] = await Promise.all([
      this.#stores.identity.get(),
      this.#stores.device.get(),
      this.#stores.accessToken.get(),
    ])
    if (identity === undefined || device === undefined) return SIGNED_OUT
    if (token === undefined) return { ...SIGNED_OUT, identity, device }
    const { body } = await decodeAccessToken(token, this.#encoder)
    const refreshExpiry = this.#timestamper.parse(body.refreshExpiry)
    return {
      status: refreshExpiry.getTime() > this.#now() ? 'signed-in' : 'refresh-expired',
      identity,
      device,
      accessExpiry: this.#timestamper.parse(body.expiry),
      refreshExpiry,
      attributes: body.attributes,
    }
  }
}

function duration(field: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw new ConfigurationError(field, 'expected a non-negative integer of milliseconds')
  }
  return value
}

function name(field: string, value: unknown, fallback: string): string {
  if (value === undefined) return fallback
  if (typeof value !== 'string' || value === '') {
    throw new ConfigurationError(field, 'expected a non-empty string')
  }
  return value
}

const CHANGES: ReadonlySet<string> = new Set<SessionChange>([
  'account-created',
  'session-created',
  'refreshed',
  'rotated',
  'linked',
  'unlinked',
  'recovered',
  'signed-out',
  'refresh-impossible',
])

/** The change another tab announced; anything else on the channel is not ours and is ignored. */
function changeOf(data: unknown): SessionChange | undefined {
  const change = (data as { change?: unknown } | null)?.change
  return typeof change === 'string' && CHANGES.has(change) ? (change as SessionChange) : undefined
}

interface LockManagerLike {
  request<T>(name: string, task: () => Promise<T>): Promise<T>
}

function defaultLock(): CrossTabLock {
  const locks = (globalThis as { navigator?: { locks?: LockManagerLike } }).navigator?.locks
  if (locks !== undefined) return (name, task) => locks.request(name, task)
  // Within one page only: queue the tasks.
  let queue: Promise<unknown> = Promise.resolve()
  return <T>(_name: string, task: () => Promise<T>): Promise<T> => {
    const run = queue.then(task)
    queue = run.catch(() => undefined)
    return run
  }
}
