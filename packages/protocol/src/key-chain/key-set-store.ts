import { ConfigurationError, InvalidEndorsementError } from '../errors.js'
import type { VerificationKey } from '../interfaces/crypto.js'
import type { VerificationKeyChange, VerificationKeyStore } from '../interfaces/client-stores.js'
import type { RevocationFeed } from '../interfaces/server-stores.js'
import { verificationKey } from '../verification-key.js'
import type { KeyChain, KeyChainCrypto } from './chain.js'
import type { KeyPurpose } from './endorsement.js'
import { trustedKey, verifyKeySet, type KeySet } from './key-set.js'
import { NoticeThrottle } from './notice-throttle.js'

export interface KeySetKeyStoreOptions {
  /** The chain prefix this party trusts: the only configuration a client or service needs. */
  readonly prefix: string
  /** `response` for a client checking responses, `access` for a service checking tokens. */
  readonly purpose: KeyPurpose
  /** Fetches the current key set document (the auth service's `/key/set`). */
  readonly fetchKeySet: () => Promise<string>
  readonly crypto: KeyChainCrypto
  readonly now?: () => Date
  /**
   * After a fetch prompted by an unknown key that did not find it, the fewest milliseconds before
   * the next such fetch (default 30 s). A lookup that finds its key does not count, so rotations
   * are followed at once, while responses naming random keys cannot make this party fetch more
   * often than this.
   */
  readonly minRefetchIntervalMs?: number
  /** A set older than this is fetched again before use, so a taint reaches this party in time. */
  readonly maxAgeMs?: number
  /**
   * With `follow`, the fewest milliseconds between two fetches prompted by the feed (default
   * 100): a notice inside this window is not dropped but fetched for at its end, once for every
   * notice meanwhile.
   */
  readonly minNoticeIntervalMs?: number
}

/** What a newly fetched key set changed, told to `onChange` listeners. */
export interface KeySetChange extends VerificationKeyChange {
  /** The new set's chain. */
  readonly chain: KeyChain
  /** Whether the chain gained events (a root rotation, with or without taint). */
  readonly chainExtended: boolean
}

const DEFAULT_MIN_REFETCH_MS = 30_000
const DEFAULT_MAX_AGE_MS = 300_000
const DEFAULT_MIN_NOTICE_MS = 100

/** Faults a newer key set can cure: a key endorsed after our fetch, or endorsed again. */
const CURABLE = new Set(['unknown-key', 'not-yet-valid', 'expired'])

/**
 * Trusted keys from a key set, pinned by chain prefix, in the shape clients (`responseKeys`) and
 * servers (`accessVerificationKeys`) already take. A key the set does not vouch for prompts one
 * fetch (at most one per `minRefetchIntervalMs`, shared by concurrent callers), so rotated service
 * keys are followed without configuration; the chain only ever moves forward, and keys of a
 * tainted root key stop being trusted once a set that says so is fetched (within `maxAgeMs`).
 * A set that is too old and cannot be fetched again is not used: lookups fail with the fetch's
 * error until the auth service answers, as a pinned key that may be tainted must not be trusted.
 */
export class KeySetKeyStore implements VerificationKeyStore {
  readonly #options: KeySetKeyStoreOptions
  readonly #now: () => Date
  readonly #minRefetchMs: number
  readonly #maxAgeMs: number
  readonly #minNoticeMs: number
  #set: KeySet | undefined
  #fetchedAt = Number.NEGATIVE_INFINITY
  #attemptedAt = Number.NEGATIVE_INFINITY
  /** When a fetch prompted by an unknown key last failed to find it. */
  #probedAt = Number.NEGATIVE_INFINITY
  /** Why the last fetch failed, answered again until `minRefetchIntervalMs` has passed. */
  #failure: { readonly error: unknown } | undefined
  #fetching: Promise<KeySet> | undefined
  #queued: Promise<KeySet> | undefined
  readonly #listeners = new Set<(change: KeySetChange) => void>()
  /**
   * Every key a fetched set showed endorsed by a tainted root key. A taint is for good, but the
   * auth service stops publishing such endorsements: remembering them keeps requests that carry
   * them from reading as unknown keys, whose fruitless lookups would hold back the next fetch,
   * and so the keys replacing them.
   */
  readonly #tainted = new Set<string>()

  constructor(options: KeySetKeyStoreOptions) {
    if (typeof options.fetchKeySet !== 'function') {
      throw new ConfigurationError('fetchKeySet', 'must be a function')
    }
    if (options.purpose !== 'response' && options.purpose !== 'access') {
      throw new ConfigurationError('purpose', 'must be "response" or "access"')
    }
    this.#options = options
    this.#now = options.now ?? (() => new Date())
    this.#minRefetchMs = options.minRefetchIntervalMs ?? DEFAULT_MIN_REFETCH_MS
    this.#maxAgeMs = options.maxAgeMs ?? DEFAULT_MAX_AGE_MS
    this.#minNoticeMs = options.minNoticeIntervalMs ?? DEFAULT_MIN_NOTICE_MS
  }

  /**
   * Keeps the set fresh from the deployment's feed (the RevocationFeed its auth service announces
   * key set changes on): a notice, a reconnection or an unreadable message fetches the set again
   * (at most once per `minNoticeIntervalMs`, a notice inside the window being fetched for at its
   * end), so a taint is in force here at once, without waiting for a lookup or for `maxAgeMs`;
   * an AccessVerifier given this store then forgets the tokens of the keys it withdrew. It also
   * fetches once on subscribing, as a change made just before was announced to nobody here. A
   * failed fetch is answered to lookups as any other (see `current`). Resolves once subscribed,
   * with the function that stops following.
   */
  async follow(feed: RevocationFeed): Promise<() => Promise<void>> {
    const throttle = new NoticeThrottle(() => {
      // Kept as `#failure` for lookups; the next notice or lookup tries again.
      this.refresh().catch(ignore)
    }, this.#minNoticeMs)
    const notice = () => throttle.notice()
    const unsubscribe = await feed.subscribe({
      revoked: ignore,
      reset: notice,
      keySetChanged: notice,
    })
    notice()
    return async () => {
      throttle.cancel()
      await unsubscribe()
    }
  }

  /** The verified set in use, fetching it first when there is none or it is too old. */
  async current(): Promise<KeySet> {
    const set = this.#set
    const now = this.#now().getTime()
    if (set !== undefined && now - this.#fetchedAt < this.#maxAgeMs) return set
    if (this.#failure !== undefined && now - this.#attemptedAt < this.#minRefetchMs) {
      throw this.#failure.error
    }
    return this.#refresh()
  }

  async get(identity: string): Promise<VerificationKey> {
    const set = await this.current()
    try {
      return this.#key(set, identity)
    } catch (error) {
      const curable =
        error instanceof InvalidEndorsementError && CURABLE.has(String(error.context.fault))
      if (!curable) throw error
      // A fetch under way (another caller's) may answer this caller too; it may also have begun
      // before the key was published, so a miss there falls through to a fetch of our own. The
      // interval bounds how often keys nobody endorsed can make this party fetch.
      const joined = this.#fetching
      if (joined !== undefined) {
        try {
          return this.#key(await joined, identity)
        } catch (missed) {
          if (!(missed instanceof InvalidEndorsementError)) throw missed
          if (!CURABLE.has(String(missed.context.fault))) throw missed
        }
      }
      const now = this.#now().getTime()
      if (now - this.#probedAt < this.#minRefetchMs) throw error
      try {
        return this.#key(await this.#refresh(), identity)
      } catch (stillUntrusted) {
        // Only a fruitless lookup counts: each genuine rotation is followed at once.
        this.#probedAt = now
        throw stillUntrusted
      }
    }
  }

  /**
   * Calls `listener` after each fetch whose set changes what this party trusts: the chain grew,
   * or keys trusted for this purpose are gone (their root key tainted, or their endorsement
   * lapsed). An AccessVerifier given this store forgets the tokens such keys verified. What a
   * listener throws is ignored.
   */
  onChange(listener: (change: KeySetChange) => void): () => void {
    this.#listeners.add(listener)
    return () => {
      this.#listeners.delete(listener)
    }
  }

  #key(set: KeySet, identity: string): VerificationKey {
    if (!set.keys.has(identity) && this.#tainted.has(identity)) {
      throw new InvalidEndorsementError(
        'tainted',
        'endorsed only by a root key declared compromised',
      )
    }
    const { endorsement } = trustedKey(set, identity, this.#options.purpose, this.#now())
    return verificationKey(endorsement.publicKey, this.#options.crypto.verifier)
  }

  /**
   * Fetches the set now, whatever its age: for a party that keeps it fresh in the background, so
   * that lookups on its request path never wait for a fetch.
   */
  refresh(): Promise<KeySet> {
    const running = this.#fetching
    if (running === undefined) return this.#refresh()
    // The fetch under way may have begun before a change the caller knows of: one more follows
    // it, shared by every call made meanwhile.
    this.#queued ??= running.then(ignore, ignore).then(() => {
      this.#queued = undefined
      return this.#refresh()
    })
    return this.#queued
  }

  #refresh(): Promise<KeySet> {
    this.#fetching ??= (async () => {
      this.#attemptedAt = this.#now().getTime()
      try {
        const text = await this.#options.fetchKeySet()
        const known = this.#set?.chain
        const set = await verifyKeySet(text, this.#options.crypto, {
          prefix: this.#options.prefix,
          ...(known === undefined ? {} : { known }),
        })
        const previous = this.#set
        for (const key of set.tainted) this.#tainted.add(key)
        this.#set = set
        this.#fetchedAt = this.#now().getTime()
        this.#failure = undefined
        if (previous !== undefined) this.#tell(previous, set)
        return set
      } catch (error) {
        this.#failure = { error }
        throw error
      } finally {
        this.#fetching = undefined
      }
    })()
    return this.#fetching
  }

  #tell(previous: KeySet, set: KeySet): void {
    const still = trustedFor(set, this.#options.purpose)
    const withdrawn = [...trustedFor(previous, this.#options.purpose)].filter(
      (key) => !still.has(key),
    )
    const chainExtended = set.chain.head.id !== previous.chain.head.id
    if (!chainExtended && withdrawn.length === 0) return
    const change: KeySetChange = { chain: set.chain, chainExtended, withdrawn }
    for (const listener of this.#listeners) {
      try {
        listener(change)
      } catch {
        // A listener's failure is its own: the set stays fetched and the others are told.
      }
    }
  }
}

function ignore(): void {}

/** The keys a set endorses for `purpose`, in or out of their window. */
function trustedFor(set: KeySet, purpose: KeyPurpose): Set<string> {
  const keys = new Set<string>()
  for (const [key, endorsements] of set.keys) {
    if (endorsements.some(({ endorsement }) => endorsement.purpose === purpose)) keys.add(key)
  }
  return keys
}
