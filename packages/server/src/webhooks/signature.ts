import { constantTimeEqual } from '@better-auth/protocol'

/**
 * The webhook signature scheme, small enough to verify in any language:
 *
 *   BetterAuth-Webhook-Id:        the event id (deduplicate by it: a delivery may repeat)
 *   BetterAuth-Webhook-Timestamp: seconds since the epoch when this attempt was signed
 *   BetterAuth-Webhook-Signature: v1=<hex HMAC-SHA256(secret, "<timestamp>.<id>.<body>")>
 *
 * The timestamp and id are inside the signed bytes, so neither can be swapped; a receiver that
 * refuses timestamps more than its tolerance (default 5 minutes) away from its clock, and ids it
 * has already handled, cannot be replayed to.
 */
export const WEBHOOK_HEADERS = {
  id: 'betterauth-webhook-id',
  timestamp: 'betterauth-webhook-timestamp',
  signature: 'betterauth-webhook-signature',
} as const

export const DEFAULT_WEBHOOK_TOLERANCE_S = 300

const encoder = new TextEncoder()

async function hmacHex(secret: string, text: string): Promise<string> {
  const key = await crypto.subtle.importKey(
    'raw',
    encoder.encode(secret),
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['sign'],
  )
  const mac = new Uint8Array(await crypto.subtle.sign('HMAC', key, encoder.encode(text)))
  let hex = ''
  for (const byte of mac) hex += byte.toString(16).padStart(2, '0')
  return hex
}

/** The headers of one delivery attempt of `body` (the event JSON) signed at `nowMs`. */
export async function signWebhook(
  secret: string,
  id: string,
  body: string,
  nowMs: number,
): Promise<Record<string, string>> {
  const timestamp = String(Math.floor(nowMs / 1000))
  const signature = await hmacHex(secret, `${timestamp}.${id}.${body}`)
  return {
    [WEBHOOK_HEADERS.id]: id,
    [WEBHOOK_HEADERS.timestamp]: timestamp,
    [WEBHOOK_HEADERS.signature]: `v1=${signature}`,
  }
}

/**
 * What a receiver does: true when the signature is the sender's over this id, timestamp and
 * body, and the timestamp is within `toleranceS` of `nowMs`. Deduplicating by id is the
 * receiver's own (it knows what it has handled).
 */
export async function verifyWebhook(
  secret: string,
  headers: { readonly get: (name: string) => string | null },
  body: string,
  nowMs: number = Date.now(),
  toleranceS: number = DEFAULT_WEBHOOK_TOLERANCE_S,
): Promise<boolean> {
  const id = headers.get(WEBHOOK_HEADERS.id)
  const timestamp = headers.get(WEBHOOK_HEADERS.timestamp)
  const signature = headers.get(WEBHOOK_HEADERS.signature)
  if (id === null || timestamp === null || signature === null) return false
  if (!/^\d{1,12}$/.test(timestamp)) return false
  if (Math.abs(nowMs / 1000 - Number(timestamp)) > toleranceS) return false
  const expected = `v1=${await hmacHex(secret, `${timestamp}.${id}.${body}`)}`
  return constantTimeEqual(signature, expected)
}
