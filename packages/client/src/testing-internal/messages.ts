import { parseEnvelope, serializeEnvelope } from '@better-auth/protocol'
import type { JsonValue } from '@better-auth/protocol'
import { verifier } from './harness.js'

/** Names a string leaf by its CESR kind, so message shapes can be compared including key order. */
function kind(text: string): string {
  if (/^0A[A-Za-z0-9_-]{22}$/.test(text)) return '<nonce>'
  if (/^1AAI[A-Za-z0-9_-]{44}$/.test(text)) return '<publicKey>'
  if (/^E[A-Za-z0-9_-]{43}$/.test(text)) return '<digest>'
  if (/^0I[A-Za-z0-9_-]{86}$/.test(text)) return '<signature>'
  if (/^0I[A-Za-z0-9_-]{86}[A-Za-z0-9_-]+$/.test(text)) return '<token>'
  if (/^\d{4}-\d{2}-\d{2}T[\d:.]+Z$/.test(text)) return '<timestamp>'
  return text
}

export function skeleton(value: JsonValue): JsonValue {
  if (typeof value === 'string') return kind(value)
  if (Array.isArray(value)) return value.map(skeleton)
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, skeleton(item)]))
  }
  return value
}

/** The message's shape with keys in the order they were sent, as compact JSON. */
export function shapeOf(message: string): string {
  return JSON.stringify(skeleton(JSON.parse(message) as JsonValue))
}

export interface Decoded<P = unknown> {
  readonly payload: P
  readonly payloadText: string
  readonly signature: string | undefined
}

/**
 * Parses a sent message and checks it is compact: re-serializing the parsed payload in the order
 * it was sent reproduces the exact bytes.
 */
export function decode<P = unknown>(message: string): Decoded<P> {
  const signed = Object.hasOwn(JSON.parse(message) as object, 'signature')
  const envelope = parseEnvelope(message, (value) => value as P, signed)
  const compact = serializeEnvelope(JSON.stringify(envelope.payload), envelope.signature)
  if (compact !== message) throw new Error(`message is not compact JSON: ${message}`)
  return envelope
}

export async function signedBy(decoded: Decoded<unknown>, publicKey: string): Promise<boolean> {
  if (decoded.signature === undefined) return false
  return verifier.verify(decoded.payloadText, decoded.signature, publicKey)
}
