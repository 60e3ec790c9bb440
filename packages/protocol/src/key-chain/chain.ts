import { InvalidKeyChainError, InvalidMessageError } from '../errors.js'
import type { Hasher, Verifier } from '../interfaces/crypto.js'
import { keyEventId, parseKeyEvent, type KeyEvent, type SignedKeyEvent } from './event.js'
import { instantMs } from './instant.js'

export interface KeyChainCrypto {
  readonly hasher: Hasher
  readonly verifier: Verifier
}

/** One key of the chain and whether a later event declared it compromised. */
export interface KeyGeneration {
  readonly sequence: number
  /** The identifier of the event that introduced the key. */
  readonly id: string
  readonly publicKey: string
  readonly createdAt: string
  readonly tainted: boolean
}

/** A verified key event log: every event checked against the one before it. */
export interface KeyChain {
  readonly prefix: string
  readonly events: readonly SignedKeyEvent[]
  readonly generations: readonly KeyGeneration[]
  /** The newest event: its key is the chain's current key. */
  readonly head: KeyEvent
}

export interface VerifyKeyChainOptions {
  /** The chain the caller trusts; any other inception is refused. */
  readonly prefix?: string
  /** Refuses longer input before any cryptographic work. Default 1024. */
  readonly maxEvents?: number
}

const DEFAULT_MAX_EVENTS = 1024

/** Verifies a whole key event log, oldest event first. */
export function verifyKeyChain(
  texts: readonly string[],
  crypto: KeyChainCrypto,
  options: VerifyKeyChainOptions = {},
): Promise<KeyChain> {
  return extend(undefined, texts, crypto, options)
}

/**
 * Verifies `texts` as a continuation of `known`: events already in `known` must be exactly the
 * same events (a different one at a known sequence is a fork), new ones must follow the head.
 * A client that re-fetches the whole log passes it here and learns only what is new.
 */
export function extendKeyChain(
  known: KeyChain,
  texts: readonly string[],
  crypto: KeyChainCrypto,
  options: Omit<VerifyKeyChainOptions, 'prefix'> = {},
): Promise<KeyChain> {
  return extend(known, texts, crypto, { ...options, prefix: known.prefix })
}

async function extend(
  known: KeyChain | undefined,
  texts: readonly string[],
  crypto: KeyChainCrypto,
  options: VerifyKeyChainOptions,
): Promise<KeyChain> {
  const maxEvents = options.maxEvents ?? DEFAULT_MAX_EVENTS
  if ((known?.events.length ?? 0) + texts.length > maxEvents) {
    throw new InvalidMessageError('chain', `more than ${maxEvents} events`)
  }
  let chain = known
  for (const text of texts) {
    const { payload: event, payloadText, signature } = parseKeyEvent(text)
    if (chain !== undefined && event.sequence <= chain.head.sequence) {
      const existing = chain.events[event.sequence]
      if (existing?.event.id !== event.id) {
        throw new InvalidKeyChainError(
          'fork',
          `two different events with sequence ${event.sequence}`,
          event.sequence,
        )
      }
      continue
    }
    if (chain === undefined) checkInception(event, options.prefix)
    else await checkSuccessor(chain.head, event, crypto.hasher)
    if ((await keyEventId(event, crypto.hasher)) !== event.id) {
      throw new InvalidKeyChainError(
        'identifier',
        'identifier is not the digest of the event',
        event.sequence,
      )
    }
    if (
      signature === undefined ||
      !(await crypto.verifier.verify(payloadText, signature, event.publicKey))
    ) {
      throw new InvalidKeyChainError(
        'signature',
        'event is not signed by the key it introduces',
        event.sequence,
      )
    }
    chain = append(chain, { event, text })
  }
  if (chain === undefined) throw new InvalidKeyChainError('empty', 'no events')
  return chain
}

function checkInception(event: KeyEvent, pinned: string | undefined): void {
  if (event.sequence !== 0) {
    throw new InvalidKeyChainError(
      'sequence',
      'the first event is not an inception',
      event.sequence,
    )
  }
  if (event.prefix !== event.id) {
    throw new InvalidKeyChainError('prefix', 'inception prefix is not its identifier', 0)
  }
  if (pinned !== undefined && event.prefix !== pinned) {
    throw new InvalidKeyChainError('prefix', 'not the pinned key chain', 0)
  }
}

async function checkSuccessor(head: KeyEvent, event: KeyEvent, hasher: Hasher): Promise<void> {
  const { sequence } = event
  if (sequence !== head.sequence + 1) {
    throw new InvalidKeyChainError(
      'sequence',
      `event ${sequence} does not follow event ${head.sequence}`,
      sequence,
    )
  }
  if (event.prefix !== head.prefix) {
    throw new InvalidKeyChainError('prefix', 'event belongs to another chain', sequence)
  }
  if (event.previous !== head.id) {
    throw new InvalidKeyChainError('broken-link', 'previous is not the event before', sequence)
  }
  if (instantMs(event.createdAt) <= instantMs(head.createdAt)) {
    throw new InvalidKeyChainError(
      'time-regression',
      'createdAt does not follow the event before',
      sequence,
    )
  }
  if ((await hasher.sum(event.publicKey)) !== head.rotationHash) {
    throw new InvalidKeyChainError(
      'uncommitted-key',
      'key is not the one the event before committed to',
      sequence,
    )
  }
}

function append(chain: KeyChain | undefined, signed: SignedKeyEvent): KeyChain {
  const { event } = signed
  const generation: KeyGeneration = {
    sequence: event.sequence,
    id: event.id,
    publicKey: event.publicKey,
    createdAt: event.createdAt,
    tainted: false,
  }
  if (chain === undefined) {
    return { prefix: event.prefix, events: [signed], generations: [generation], head: event }
  }
  const generations = chain.generations.slice()
  if (event.tainted === true) {
    const last = generations.length - 1
    generations[last] = { ...(generations[last] as KeyGeneration), tainted: true }
  }
  generations.push(generation)
  return { prefix: chain.prefix, events: [...chain.events, signed], generations, head: event }
}
