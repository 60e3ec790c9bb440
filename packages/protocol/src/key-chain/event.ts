import { InvalidMessageError } from '../errors.js'
import type { Hasher, SigningKey } from '../interfaces/crypto.js'
import { readEnvelope, signPayloadText, type Envelope } from '../messages/envelope.js'
import { digest, isPlainObject, publicKey, type Validator } from '../schema.js'
import { instant } from './instant.js'

/**
 * One event of a server key event log. The first event (sequence 0, the inception) names the
 * chain: its identifier is the chain's prefix. Every later event is a rotation: it reveals the key
 * the previous event committed to by `rotationHash`, and with `tainted` declares the previous key
 * compromised.
 */
export interface KeyEvent {
  /** Digest of the event's canonical text with this field (and, at inception, `prefix`) blanked. */
  readonly id: string
  /** The inception event's identifier: the chain's name, which clients pin. */
  readonly prefix: string
  readonly sequence: number
  /** The identifier of the event before; absent at inception. */
  readonly previous?: string
  /** Canonical UTC instant, `YYYY-MM-DDTHH:MM:SS.sssZ`; strictly increasing along the chain. */
  readonly createdAt: string
  /** The key this event introduces, which also signs it. */
  readonly publicKey: string
  /** Digest of the next key: only that key can make the next event. */
  readonly rotationHash: string
  /** Present (and only ever `true`) when the previous key is declared compromised. */
  readonly tainted?: true
}

/** A key event together with the exact text it was received or created as. */
export interface SignedKeyEvent {
  readonly event: KeyEvent
  readonly text: string
}

/** Stands in for the identifier (and the inception's prefix) while the digest is computed. */
const PLACEHOLDER = '#'.repeat(44)

const FIELDS = [
  'id',
  'prefix',
  'sequence',
  'previous',
  'createdAt',
  'publicKey',
  'rotationHash',
  'tainted',
] as const

/** The one serialization of an event: its fields in `FIELDS` order, optional ones omitted. */
export function canonicalKeyEventText(event: KeyEvent): string {
  const ordered: Record<string, unknown> = {}
  for (const field of FIELDS) {
    if (event[field] !== undefined) ordered[field] = event[field]
  }
  return JSON.stringify(ordered)
}

/** The identifier `event` must carry: the digest of its canonical text with the id blanked. */
export function keyEventId(event: KeyEvent, hasher: Hasher): Promise<string> {
  const blank: KeyEvent =
    event.sequence === 0
      ? { ...event, id: PLACEHOLDER, prefix: PLACEHOLDER }
      : { ...event, id: PLACEHOLDER }
  return hasher.sum(canonicalKeyEventText(blank))
}

const sequenceNumber: Validator<number> = (value, field) => {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new InvalidMessageError(field, 'expected a non-negative integer')
  }
  return value
}

const keyEvent: Validator<KeyEvent> = (value, field) => {
  if (!isPlainObject(value)) throw new InvalidMessageError(field, 'expected an object')
  for (const key of Object.keys(value)) {
    if (!(FIELDS as readonly string[]).includes(key)) {
      throw new InvalidMessageError(`${field}.${key}`, 'unexpected field')
    }
  }
  const sequence = sequenceNumber(value.sequence, `${field}.sequence`)
  const inception = sequence === 0
  if (inception && value.previous !== undefined) {
    throw new InvalidMessageError(`${field}.previous`, 'an inception event has no previous event')
  }
  if (value.tainted !== undefined && (inception || value.tainted !== true)) {
    throw new InvalidMessageError(
      `${field}.tainted`,
      inception ? 'an inception event has no previous key to taint' : 'present only as true',
    )
  }
  return {
    id: digest(value.id, `${field}.id`),
    prefix: digest(value.prefix, `${field}.prefix`),
    sequence,
    ...(inception ? {} : { previous: digest(value.previous, `${field}.previous`) }),
    createdAt: instant(value.createdAt, `${field}.createdAt`),
    publicKey: publicKey(value.publicKey, `${field}.publicKey`),
    rotationHash: digest(value.rotationHash, `${field}.rotationHash`),
    ...(value.tainted === true ? { tainted: true as const } : {}),
  }
}

/**
 * Parses a signed key event. Only its canonical text is accepted: the identifier covers that text,
 * so any other spelling of the same fields would be a second message under one signature.
 * Signature, identifier and chain checks are `verifyKeyChain`'s.
 */
export function parseKeyEvent(text: unknown): Envelope<KeyEvent> {
  const envelope = readEnvelope(text, keyEvent, true, {}, true)
  if (envelope.payloadText !== canonicalKeyEventText(envelope.payload)) {
    throw new InvalidMessageError('payload', 'not in canonical form')
  }
  return envelope
}

export interface InceptionOptions {
  /** The chain's first key; it signs the inception event. */
  readonly signer: SigningKey
  /** Digest of the next key (see `Hasher.sum` over its CESR public key). */
  readonly rotationHash: string
  readonly createdAt: Date
  readonly hasher: Hasher
}

/** Starts a key chain. The returned event's `id` is the chain prefix clients pin. */
export async function inceptKeyChain(options: InceptionOptions): Promise<SignedKeyEvent> {
  return signKeyEvent(
    {
      id: PLACEHOLDER,
      prefix: PLACEHOLDER,
      sequence: 0,
      createdAt: options.createdAt.toISOString(),
      publicKey: await options.signer.public(),
      rotationHash: options.rotationHash,
    },
    options,
  )
}

export interface RotationOptions {
  /** The key the previous event committed to; it signs the rotation. */
  readonly signer: SigningKey
  /** Digest of the key after this one. */
  readonly rotationHash: string
  readonly createdAt: Date
  /** Declares the previous key compromised: everything it endorsed stops being trusted. */
  readonly taint?: boolean
  readonly hasher: Hasher
}

/**
 * Appends a rotation to the chain whose last event is `previous`. Nothing is checked here that
 * `verifyKeyChain` checks; callers verify the extended chain before publishing it.
 */
export async function rotateKeyChain(
  previous: KeyEvent,
  options: RotationOptions,
): Promise<SignedKeyEvent> {
  return signKeyEvent(
    {
      id: PLACEHOLDER,
      prefix: previous.prefix,
      sequence: previous.sequence + 1,
      previous: previous.id,
      createdAt: options.createdAt.toISOString(),
      publicKey: await options.signer.public(),
      rotationHash: options.rotationHash,
      ...(options.taint === true ? { tainted: true as const } : {}),
    },
    options,
  )
}

async function signKeyEvent(
  draft: KeyEvent,
  options: { readonly signer: SigningKey; readonly hasher: Hasher },
): Promise<SignedKeyEvent> {
  const id = await keyEventId(draft, options.hasher)
  const event: KeyEvent = draft.sequence === 0 ? { ...draft, id, prefix: id } : { ...draft, id }
  const text = await signPayloadText(options.signer, canonicalKeyEventText(event))
  return { event, text }
}
