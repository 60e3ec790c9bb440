import {
  ConfigurationError,
  type KeySetStore,
  type RevocationFeed,
  type SigningKey,
  type VerificationKeyStore,
} from '@better-auth/protocol'
import { NoticeThrottle } from '@better-auth/protocol/internal'
import {
  KeySetKeyStore,
  serializeKeySet,
  trustedKey,
  type KeyChain,
  type KeyChainCrypto,
  type KeyEndorser,
  type KeyPurpose,
  type KeySet,
} from '@better-auth/protocol/key-chain'
import { DEFAULT_EXPIRY } from '../config.js'

export interface ServiceKeyRingOptions {
  /** The prefix of the server key chain this deployment pins. */
  readonly prefix: string
  /** Where the processes of the deployment share the log and their endorsements. */
  readonly store: KeySetStore
  /** Endorses this process's new keys with the current root key (see `KeyEndorser`). */
  readonly endorser: KeyEndorser
  /** The keys this process signs with: both for an auth service, `response` for an application. */
  readonly purposes: readonly KeyPurpose[]
  /** A new key pair; it never leaves the process. */
  readonly generateKey: () => SigningKey | Promise<SigningKey>
  readonly crypto: KeyChainCrypto
  /** How long each key signs before a new one replaces it (default one day). */
  readonly rotateEveryMs?: number
  /**
   * How long a key stays endorsed after it stops signing, so that what it signed stays
   * verifiable: at least the longest token lifetime (default 12 h, the default refresh lifetime).
   */
  readonly overlapMs?: number
  /**
   * How often the log and the shared set are read again (default a tenth of `rotateEveryMs`, at
   * most one minute): the bound on how late this process learns of a taint.
   */
  readonly refreshEveryMs?: number
  /**
   * How long an endorsement stays in the shared store after it expired (default one day): each
   * refresh then prunes it. Expired endorsements verify nothing; keeping them a while leaves a
   * record of which keys signed lately, and covers readers whose clocks run behind.
   */
  readonly retainExpiredMs?: number
  /** Endorsements start this long before their key's first use, for clocks behind (default 60 s). */
  readonly clockSkewMs?: number
  /**
   * The deployment's RevocationFeed, carrying key set notices too. The ring announces there every
   * change it stores (a longer log, a new endorsement), and refreshes as soon as any process
   * announces one, or when the feed reconnected or carried a message it could not read (one may
   * have been lost): a taint is then in force on every process within a round trip of the store,
   * not at each one's next `refreshEveryMs`. The message carries nothing: the set is read from
   * the store and verified.
   */
  readonly feed?: RevocationFeed
  /**
   * The fewest milliseconds between two refreshes prompted by the feed (default 100): a notice
   * inside this window is not dropped but refreshed for at its end, once for every notice
   * meanwhile, so a flood of notices costs one refresh per window.
   */
  readonly minNoticeIntervalMs?: number
  /** Hears failures of the background refresh (the keys in use stay in use meanwhile). */
  readonly onError?: (error: unknown) => void
  readonly now?: () => number
}

interface CurrentKey {
  readonly key: SigningKey
  readonly publicKey: string
  /** When the next key takes over. */
  readonly signUntil: number
}

const DAY_MS = 86_400_000
const MAX_REFRESH_MS = 60_000

/**
 * The service keys of one process, endorsed by the server key chain and rotated on a schedule:
 * each key signs for `rotateEveryMs` and stays endorsed `overlapMs` longer, so everything it
 * signed verifies until it expires. Keys are made in the process and never leave it; only their
 * endorsements go to the shared store, where every replica and application service finds them.
 * A root rotation with taint replaces at once every key the tainted root key endorsed.
 *
 * Give `keyPairs()` to a BetterAuthServer (or `signingKey('response')` to an AccessVerifier),
 * `verificationKeys('access')` as their access verification keys, and `keySet` to BetterAuthHttp.
 */
export class ServiceKeyRing {
  readonly #options: ServiceKeyRingOptions
  readonly #now: () => number
  readonly #rotateEveryMs: number
  readonly #overlapMs: number
  readonly #refreshEveryMs: number
  readonly #clockSkewMs: number
  readonly #retainExpiredMs: number
  readonly #current = new Map<KeyPurpose, CurrentKey>()
  /** The ring's own view of the set; verifiers get their own stores over the same source. */
  readonly #tracker: KeySetKeyStore
  readonly #verification = new Map<KeyPurpose, KeySetKeyStore>()
  #refreshing: Promise<void> | undefined
  #queued: Promise<void> | undefined
  #timer: ReturnType<typeof setInterval> | undefined
  readonly #notices: NoticeThrottle
  #unsubscribe: (() => Promise<void>) | undefined

  constructor(options: ServiceKeyRingOptions) {
    if (typeof options !== 'object' || options === null) {
      throw new ConfigurationError('options', 'must be an object')
    }
    if (typeof options.store?.read !== 'function') {
      throw new ConfigurationError('store', 'must be a KeySetStore')
    }
    if (typeof options.endorser?.endorse !== 'function') {
      throw new ConfigurationError('endorser', 'must be a KeyEndorser')
    }
    if (options.feed !== undefined && typeof options.feed?.announceKeySetChange !== 'function') {
      throw new ConfigurationError('feed', 'must be a RevocationFeed')
    }
    if (typeof options.generateKey !== 'function') {
      throw new ConfigurationError('generateKey', 'must be a function')
    }
    const purposes = options.purposes
    if (
      !Array.isArray(purposes) ||
      purposes.length === 0 ||
      !purposes.every((p) => p === 'response' || p === 'access')
    ) {
      throw new ConfigurationError('purposes', 'must list "response" and/or "access"')
    }
    this.#options = options
    this.#now = options.now ?? Date.now
    this.#rotateEveryMs = duration('rotateEveryMs', options.rotateEveryMs, DAY_MS)
    this.#overlapMs = duration('overlapMs', options.overlapMs, DEFAULT_EXPIRY.refreshMs)
    this.#refreshEveryMs = duration(
      'refreshEveryMs',
      options.refreshEveryMs,
      Math.max(1, Math.min(MAX_REFRESH_MS, Math.floor(this.#rotateEveryMs / 10))),
    )
    this.#clockSkewMs = duration('clockSkewMs', options.clockSkewMs, 60_000, true)
    this.#retainExpiredMs = duration('retainExpiredMs', options.retainExpiredMs, DAY_MS, true)
    this.#tracker = this.#keyStore('access')
    this.#notices = new NoticeThrottle(
      () => {
        this.refresh().catch((error: unknown) => this.#options.onError?.(error))
      },
      duration('minNoticeIntervalMs', options.minNoticeIntervalMs, 100, true),
    )
  }

  /**
   * Subscribes to the feed (when given), reads the set, makes and endorses the first keys, then
   * refreshes in the background: every `refreshEveryMs`, and on each notice of the feed.
   */
  async start(): Promise<void> {
    const { feed } = this.#options
    if (feed !== undefined && this.#unsubscribe === undefined) {
      // Before the first refresh: a change announced while it runs is refreshed for after it.
      const notice = () => this.#notices.notice()
      this.#unsubscribe = await feed.subscribe({
        revoked: ignore,
        reset: notice,
        keySetChanged: notice,
      })
    }
    await this.refresh()
    this.#timer ??= setInterval(() => {
      this.refresh().catch((error: unknown) => this.#options.onError?.(error))
    }, this.#refreshEveryMs)
    this.#timer.unref?.()
  }

  /**
   * Stops the background refresh and leaves the feed (a failure to leave it goes to `onError`);
   * the keys in use stay usable until their endorsements lapse.
   */
  stop(): void {
    clearInterval(this.#timer)
    this.#timer = undefined
    this.#notices.cancel()
    const unsubscribe = this.#unsubscribe
    this.#unsubscribe = undefined
    unsubscribe?.().catch((error: unknown) => this.#options.onError?.(error))
  }

  /**
   * Publishes the endorser's log, reads the shared set, replaces each key whose turn is over or
   * whose endorsement is no longer trusted (its root key tainted), and prunes the endorsements
   * that expired more than `retainExpiredMs` ago. It resolves after a refresh that began after
   * the call: one under way may have read the store before a taint the caller knows of, so one
   * more follows it, shared by every call made meanwhile.
   */
  refresh(): Promise<void> {
    const running = this.#refreshing
    if (running !== undefined) {
      this.#queued ??= running.then(ignore, ignore).then(() => {
        this.#queued = undefined
        return this.refresh()
      })
      return this.#queued
    }
    const started = this.#refresh().finally(() => {
      this.#refreshing = undefined
    })
    this.#refreshing = started
    return started
  }

  /**
   * The key signing for `purpose`, following the rotations: its `current()` is the key in use
   * now, which BetterAuthServer and AccessVerifier take once per message they sign.
   */
  signingKey(purpose: KeyPurpose): SigningKey {
    if (!this.#options.purposes.includes(purpose)) {
      throw new ConfigurationError('purpose', `this ring does not hold ${purpose} keys`)
    }
    const current = (): SigningKey => {
      const key = this.#current.get(purpose)
      if (key === undefined) throw new ConfigurationError('ring', 'is not started')
      return key.key
    }
    return {
      current,
      public: () => current().public(),
      sign: (message) => current().sign(message),
      verifier: () => current().verifier(),
      verify: (message, signature) => current().verify(message, signature),
    }
  }

  /** The `crypto.keyPairs` of a BetterAuthServer (a ring holding both purposes). */
  keyPairs(): { readonly response: SigningKey; readonly access: SigningKey } {
    return { response: this.signingKey('response'), access: this.signingKey('access') }
  }

  /**
   * Keys trusted for `purpose`, from the shared set kept fresh by the refresh: lookups read no
   * store, except once for a key not yet seen (another replica's new key), at a bounded rate.
   */
  verificationKeys(purpose: KeyPurpose): VerificationKeyStore {
    let store = this.#verification.get(purpose)
    if (store === undefined) {
      store = this.#keyStore(purpose)
      this.#verification.set(purpose, store)
    }
    return store
  }

  /** The key set document (`BetterAuthHttp`'s `keySet`), read from the shared store. */
  keySet = async (): Promise<string> => serializeKeySet(await this.#options.store.read(this.#now()))

  /**
   * Calls `listener` whenever a refresh finds that the chain gained an event (a root rotation,
   * with or without taint). An AccessVerifier needs no such call: given
   * `verificationKeys('access')`, it forgets by itself the tokens of keys a taint withdrew.
   */
  onChainChange(listener: (chain: KeyChain) => void): () => void {
    return this.#tracker.onChange((change) => {
      if (change.chainExtended) listener(change.chain)
    })
  }

  #keyStore(purpose: KeyPurpose): KeySetKeyStore {
    return new KeySetKeyStore({
      prefix: this.#options.prefix,
      purpose,
      crypto: this.#options.crypto,
      fetchKeySet: this.keySet,
      now: () => new Date(this.#now()),
      // A stalled refresh must not let a taint go unnoticed for long.
      maxAgeMs: 3 * this.#refreshEveryMs,
      minRefetchIntervalMs: Math.min(this.#refreshEveryMs, 30_000),
    })
  }

  async #refresh(): Promise<void> {
    await this.#publishChain()
    const set = await this.#readAll()
    const now = this.#now()
    let rotated = false
    for (const purpose of this.#options.purposes) {
      const current = this.#current.get(purpose)
      if (current !== undefined && now < current.signUntil && trusts(set, current, purpose, now)) {
        continue
      }
      await this.#rotate(purpose, now)
      rotated = true
    }
    if (rotated) await this.#readAll()
    // Every process prunes: one atomic statement, idempotent, so they need no coordination.
    await this.#options.store.pruneEndorsements(now, this.#retainExpiredMs)
  }

  async #readAll(): Promise<KeySet> {
    const [set] = await Promise.all([
      this.#tracker.refresh(),
      ...[...this.#verification.values()].map((store) => store.refresh()),
    ])
    return set
  }

  async #rotate(purpose: KeyPurpose, now: number): Promise<void> {
    const key = await this.#options.generateKey()
    const publicKey = await key.public()
    const signUntil = now + this.#rotateEveryMs
    const notAfter = signUntil + this.#overlapMs
    const endorsement = await this.#options.endorser.endorse({
      purpose,
      publicKey,
      notBefore: new Date(now - this.#clockSkewMs),
      notAfter: new Date(notAfter),
    })
    // The root key may have rotated since this refresh read the log: the log published with the
    // endorsement must hold the root key that signed it.
    await this.#publishChain()
    // Shared before first use: whoever meets the key can find its endorsement.
    await this.#options.store.addEndorsement(endorsement, notAfter)
    await this.#announce()
    this.#current.set(purpose, { key, publicKey, signUntil })
  }

  /**
   * Stores the endorser's log, and announces it when it was longer than the stored one: a ring
   * that only catches up with a log another process stored announces nothing, so notices do not
   * echo. Two replicas racing to store one new event may both announce it, which costs a read.
   */
  async #publishChain(): Promise<void> {
    const events = await this.#options.endorser.events()
    const stored = (await this.#options.store.read(this.#now())).chain.length
    if (events.length <= stored) return
    await this.#options.store.publishChain(events)
    await this.#announce()
  }

  /**
   * Right after the write: the feed and the key set may live on different backends (the example
   * deployment keeps the set in PostgreSQL and the feed on Redis), so the store cannot send it in
   * its own transaction. A notice lost to a crash in between costs its receivers one
   * `refreshEveryMs`, as before there were notices. A failed announcement fails the refresh
   * (`onError`), the write having been made.
   */
  async #announce(): Promise<void> {
    await this.#options.feed?.announceKeySetChange()
  }
}

function ignore(): void {}

function trusts(set: KeySet, current: CurrentKey, purpose: KeyPurpose, now: number): boolean {
  try {
    trustedKey(set, current.publicKey, purpose, new Date(now))
    return true
  } catch {
    return false
  }
}

function duration(field: string, value: unknown, fallback: number, zero = false): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isInteger(value) || value < (zero ? 0 : 1)) {
    throw new ConfigurationError(field, `must be a ${zero ? 'non-negative' : 'positive'} integer`)
  }
  return value
}
