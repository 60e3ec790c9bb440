import { InvalidMessageError, InvalidSignatureError, type SignedThing } from '../errors.js'
import type { SigningKey, Verifier } from '../interfaces/crypto.js'
import { objectMembers, readJson, type ReadOptions, type Span } from '../json/spans.js'
import { isCesr } from '@better-auth/cesr'
import { SIGNATURE_LENGTH, signature as signatureValidator, type Validator } from '../schema.js'

// Stryker disable all: built at import, before Stryker activates a mutant
/** The largest message (in UTF-16 code units) parsed by default; larger input is refused unread. */
export const DEFAULT_MAX_MESSAGE_LENGTH = 64 * 1024
// Stryker restore all

/** A parsed message that remembers the exact payload text its signature covers. */
export interface Envelope<P> {
  readonly payload: P
  readonly payloadText: string
  readonly signature: string | undefined
}

export interface ParseOptions {
  readonly maxLength?: number
}

/** Parses the signed envelope `{"payload":…,"signature":…}` found at `span` of `text`. */
export function parseEnvelopeAt<P>(
  text: string,
  span: Span,
  payload: Validator<P>,
  signed: boolean,
  field: string,
  read: ReadOptions = {},
): Envelope<P> {
  const members = objectMembers(text, span, field, read)
  for (const key of members.keys()) {
    if (key !== 'payload' && !(signed && key === 'signature')) {
      throw new InvalidMessageError(`${field}.${key}`, 'unexpected field')
    }
  }
  const payloadMember = members.get('payload')
  if (payloadMember === undefined) throw new InvalidMessageError(`${field}.payload`, 'missing')
  const signatureMember = members.get('signature')
  if (signed && signatureMember === undefined) {
    throw new InvalidMessageError(`${field}.signature`, 'missing')
  }
  const [start, end] = payloadMember.span
  return {
    payload: payload(payloadMember.value, 'payload'),
    payloadText: text.slice(start, end),
    signature:
      signatureMember === undefined
        ? undefined
        : signatureValidator(signatureMember.value, 'signature'),
  }
}

export function parseEnvelope<P>(
  text: unknown,
  payload: Validator<P>,
  signed: boolean,
  options: ParseOptions = {},
): Envelope<P> {
  return readEnvelope(text, payload, signed, options, true)
}

/**
 * parseEnvelope, optionally without the exact-number rule: for access requests whose route reads
 * the raw text of its application data itself.
 */
export function readEnvelope<P>(
  text: unknown,
  payload: Validator<P>,
  signed: boolean,
  options: ParseOptions,
  exactNumbers: boolean,
): Envelope<P> {
  if (typeof text !== 'string') throw new InvalidMessageError('message', 'expected a string')
  const maxLength = options.maxLength ?? DEFAULT_MAX_MESSAGE_LENGTH
  if (text.length > maxLength) {
    throw new InvalidMessageError('message', `longer than ${maxLength} characters`)
  }
  return (
    parseCompactEnvelope(text, payload, signed, exactNumbers) ??
    parseEnvelopeAt(text, [0, text.length], payload, signed, 'message', { exactNumbers })
  )
}

// Stryker disable all: built at import, before Stryker activates a
// mutant (mutation/equivalent.md)
const PAYLOAD_PREFIX = '{"payload":'
const SIGNATURE_INFIX = ',"signature":"'
/** `,"signature":"` + an 88-character signature + `"}`. */
const SIGNATURE_SUFFIX_LENGTH = SIGNATURE_INFIX.length + SIGNATURE_LENGTH + 2
// Stryker restore all
const OPEN_BRACE = 0x7b
const CLOSE_BRACE = 0x7d
const QUOTE = 0x22

/**
 * The envelope exactly as every implementation sends it, `{"payload":{…},"signature":"0I…"}`
 * with no whitespace, located by its fixed prefix and suffix instead of reading the whole message
 * as one object. When the text between them is one JSON object (the reader accepts nothing else
 * there), it is exactly the span the general path finds, so the result is the same. Anything else
 * (whitespace, other key order, invalid JSON or signature) returns undefined and takes the general
 * path, which also produces the precise error.
 */
function parseCompactEnvelope<P>(
  text: string,
  payload: Validator<P>,
  signed: boolean,
  exactNumbers: boolean,
): Envelope<P> | undefined {
  const end = signed ? text.length - SIGNATURE_SUFFIX_LENGTH : text.length - 1
  if (
    end <= PAYLOAD_PREFIX.length ||
    !text.startsWith(PAYLOAD_PREFIX) ||
    text.charCodeAt(PAYLOAD_PREFIX.length) !== OPEN_BRACE ||
    text.charCodeAt(end - 1) !== CLOSE_BRACE ||
    text.charCodeAt(text.length - 1) !== CLOSE_BRACE
  ) {
    return undefined
  }
  let signature: string | undefined
  if (signed) {
    if (!text.startsWith(SIGNATURE_INFIX, end) || text.charCodeAt(text.length - 2) !== QUOTE) {
      return undefined
    }
    // A valid CESR signature has no quote or backslash, so it is its own JSON string value.
    signature = text.slice(end + SIGNATURE_INFIX.length, text.length - 2)
    if (!isCesr('0I', signature)) return undefined
  }
  const payloadText = text.slice(PAYLOAD_PREFIX.length, end)
  let value: unknown
  try {
    // The payload sits inside the envelope: one level of nesting.
    value = readJson(payloadText, [0, payloadText.length], 'message.payload', {
      exactNumbers,
      depth: 1,
    })
  } catch {
    return undefined
  }
  return { payload: payload(value, 'payload'), payloadText, signature }
}

export function serializeEnvelope(payloadText: string, signature?: string): string {
  return signature === undefined
    ? `{"payload":${payloadText}}`
    : `{"payload":${payloadText},"signature":"${signature}"}`
}

/** Signs the exact bytes of `payloadText` and wraps both in an envelope. */
export async function signPayloadText(signer: SigningKey, payloadText: string): Promise<string> {
  const signature = signatureValidator(await signer.sign(payloadText), 'signer output')
  return serializeEnvelope(payloadText, signature)
}

export function signPayload(signer: SigningKey, payload: unknown): Promise<string> {
  return signPayloadText(signer, JSON.stringify(payload))
}

/** Verifies over the received payload bytes; throws InvalidSignatureError on any failure. */
export async function verifyEnvelope(
  envelope: Envelope<unknown>,
  verifier: Verifier,
  publicKey: string,
  signed: SignedThing,
): Promise<void> {
  const { signature } = envelope
  if (
    signature === undefined ||
    !(await verifier.verify(envelope.payloadText, signature, publicKey))
  ) {
    throw new InvalidSignatureError(signed)
  }
}
