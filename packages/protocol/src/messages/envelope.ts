import { InvalidMessageError, InvalidSignatureError, type SignedThing } from '../errors.js'
import type { SigningKey, Verifier } from '../interfaces/crypto.js'
import { objectMembers, type Span } from '../json/spans.js'
import { signature as signatureValidator, type Validator } from '../schema.js'

/** The largest message (in UTF-16 code units) parsed by default; larger input is refused unread. */
export const DEFAULT_MAX_MESSAGE_LENGTH = 64 * 1024

/** A parsed message that remembers the exact payload text its signature covers. */
export interface Envelope<P> {
  readonly payload: P
  readonly payloadText: string
  readonly signature: string | undefined
}

export interface ParseOptions {
  readonly maxLength?: number
}

function parseJson(text: string, field: string): unknown {
  try {
    return JSON.parse(text) as unknown
  } catch (cause) {
    throw new InvalidMessageError(field, 'not valid JSON', cause)
  }
}

/** Parses the signed envelope `{"payload":…,"signature":…}` found at `span` of `text`. */
export function parseEnvelopeAt<P>(
  text: string,
  span: Span,
  payload: Validator<P>,
  signed: boolean,
  field: string,
): Envelope<P> {
  const members = objectMembers(text, span, field)
  for (const key of members.keys()) {
    if (key !== 'payload' && !(signed && key === 'signature')) {
      throw new InvalidMessageError(`${field}.${key}`, 'unexpected field')
    }
  }
  const payloadSpan = members.get('payload')
  if (payloadSpan === undefined) throw new InvalidMessageError(`${field}.payload`, 'missing')
  const signatureSpan = members.get('signature')
  if (signed && signatureSpan === undefined) {
    throw new InvalidMessageError(`${field}.signature`, 'missing')
  }
  const payloadText = text.slice(payloadSpan[0], payloadSpan[1])
  const parsed = payload(parseJson(payloadText, `${field}.payload`), 'payload')
  const signature =
    signatureSpan === undefined
      ? undefined
      : signatureValidator(
          parseJson(text.slice(signatureSpan[0], signatureSpan[1]), `${field}.signature`),
          'signature',
        )
  return { payload: parsed, payloadText, signature }
}

export function parseEnvelope<P>(
  text: unknown,
  payload: Validator<P>,
  signed: boolean,
  options: ParseOptions = {},
): Envelope<P> {
  if (typeof text !== 'string') throw new InvalidMessageError('message', 'expected a string')
  const maxLength = options.maxLength ?? DEFAULT_MAX_MESSAGE_LENGTH
  if (text.length > maxLength) {
    throw new InvalidMessageError('message', `longer than ${maxLength} characters`)
  }
  return parseEnvelopeAt(text, [0, text.length], payload, signed, 'message')
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
