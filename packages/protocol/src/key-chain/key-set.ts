import { InvalidEndorsementError, InvalidMessageError } from '../errors.js'
import { readJson } from '../json/spans.js'
import { isPlainObject } from '../schema.js'
import {
  extendKeyChain,
  verifyKeyChain,
  type KeyChain,
  type KeyChainCrypto,
  type VerifyKeyChainOptions,
} from './chain.js'
import {
  assertEndorsementHolds,
  parseEndorsement,
  verifyEndorsement,
  type KeyPurpose,
  type VerifiedEndorsement,
} from './endorsement.js'

/**
 * What a server publishes for clients and application services: its key event log and the
 * endorsements of its service keys. Each signed item travels as a JSON string holding its exact
 * text, so any JSON parser hands a verifier the bytes the signature covers.
 */
export interface KeySetDocument {
  readonly chain: readonly string[]
  readonly keys: readonly string[]
}

/** A verified key set: the chain, and the service keys it endorses by public key. */
export interface KeySet {
  readonly chain: KeyChain
  readonly keys: ReadonlyMap<string, readonly VerifiedEndorsement[]>
  /**
   * Service keys of endorsements left out because a tainted root key signed them. A key found
   * only here is refused as `tainted`: no newer set can cure that, so it prompts no fetch.
   */
  readonly tainted: ReadonlySet<string>
}

/** The largest key set document read; larger input is refused unread. */
const MAX_KEY_SET_LENGTH = 1024 * 1024

export function serializeKeySet(document: KeySetDocument): string {
  return JSON.stringify({ chain: document.chain, keys: document.keys })
}

export function parseKeySet(text: unknown): KeySetDocument {
  if (typeof text !== 'string') throw new InvalidMessageError('keySet', 'expected a string')
  if (text.length > MAX_KEY_SET_LENGTH) {
    throw new InvalidMessageError('keySet', `longer than ${MAX_KEY_SET_LENGTH} characters`)
  }
  const value = readJson(text, [0, text.length], 'keySet')
  if (!isPlainObject(value)) throw new InvalidMessageError('keySet', 'expected an object')
  for (const key of Object.keys(value)) {
    if (key !== 'chain' && key !== 'keys') {
      throw new InvalidMessageError(`keySet.${key}`, 'unexpected field')
    }
  }
  return { chain: strings(value.chain, 'keySet.chain'), keys: strings(value.keys, 'keySet.keys') }
}

function strings(value: unknown, field: string): string[] {
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) {
    throw new InvalidMessageError(field, 'expected an array of strings')
  }
  return value
}

export interface VerifyKeySetOptions extends VerifyKeyChainOptions {
  /** A chain verified earlier: the set's chain must extend it (a fork is refused). */
  readonly known?: KeyChain
}

/**
 * Verifies a key set document: the chain (pinned by `options.prefix` or extending
 * `options.known`), then every endorsement against it. An endorsement by a tainted root key is
 * left out rather than refused, so a set published just before a taint still yields the keys that
 * remain trusted; any other faulty endorsement refuses the whole set.
 */
export async function verifyKeySet(
  text: unknown,
  crypto: KeyChainCrypto,
  options: VerifyKeySetOptions = {},
): Promise<KeySet> {
  const document = parseKeySet(text)
  const chain =
    options.known === undefined
      ? await verifyKeyChain(document.chain, crypto, options)
      : await extendKeyChain(options.known, document.chain, crypto, options)
  const keys = new Map<string, VerifiedEndorsement[]>()
  const tainted = new Set<string>()
  for (const endorsementText of document.keys) {
    let verified: VerifiedEndorsement
    try {
      verified = await verifyEndorsement(endorsementText, chain, crypto.verifier)
    } catch (error) {
      if (error instanceof InvalidEndorsementError && error.context.fault === 'tainted') {
        tainted.add(parseEndorsement(endorsementText).publicKey)
        continue
      }
      throw error
    }
    const { publicKey } = verified.endorsement
    keys.set(publicKey, [...(keys.get(publicKey) ?? []), verified])
  }
  return { chain, keys, tainted }
}

/**
 * The endorsement that lets `publicKey` sign for `purpose` at `at`. Throws InvalidEndorsementError:
 * `tainted` when only a tainted root key endorsed the key, `unknown-key` when the set holds no
 * endorsement of it, otherwise the reason the nearest one does not hold.
 */
export function trustedKey(
  set: KeySet,
  publicKey: string,
  purpose: KeyPurpose,
  at: Date,
): VerifiedEndorsement {
  const candidates = set.keys.get(publicKey)
  if (candidates === undefined) {
    if (set.tainted.has(publicKey)) {
      throw new InvalidEndorsementError(
        'tainted',
        'endorsed only by a root key declared compromised',
      )
    }
    throw new InvalidEndorsementError('unknown-key', 'the key set does not endorse this key')
  }
  let refusal: unknown
  for (const candidate of candidates) {
    try {
      assertEndorsementHolds(candidate.endorsement, purpose, at)
      return candidate
    } catch (error) {
      refusal = error
    }
  }
  throw refusal
}
