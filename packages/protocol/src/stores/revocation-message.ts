import type { Revocation, RevocationListener } from '../interfaces/server-stores.js'

/**
 * The text of a key set notice on the bus: fixed and tiny, as it carries nothing to trust. A
 * subscriber of an older version reads it as a malformed revocation and resets, which is safe.
 */
export const KEY_SET_NOTICE = '{"keySet":"changed"}'

/** The text a revocation travels as on a message bus (Redis pub/sub, PostgreSQL NOTIFY). */
export function encodeRevocation(revocation: Revocation): string {
  return JSON.stringify(
    revocation.device === undefined
      ? { identity: revocation.identity }
      : { identity: revocation.identity, device: revocation.device },
  )
}

/** The revocation a bus message carries; undefined for anything else (the caller resets). */
export function decodeRevocation(text: string): Revocation | undefined {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return undefined
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined
  const { identity, device, ...rest } = value as Record<string, unknown>
  if (typeof identity !== 'string' || Object.keys(rest).length > 0) return undefined
  if (device === undefined) return { identity }
  return typeof device === 'string' ? { identity, device } : undefined
}

/**
 * Hands one bus message to `listener`: a revocation to `revoked`, a key set notice to
 * `keySetChanged` (when it has one), and anything unreadable to `reset`, since it may have been a
 * revocation or a notice that is now lost.
 */
export function deliverFeedMessage(text: string | undefined, listener: RevocationListener): void {
  if (text === KEY_SET_NOTICE) {
    listener.keySetChanged?.()
    return
  }
  const revocation = text === undefined ? undefined : decodeRevocation(text)
  if (revocation === undefined) listener.reset()
  else listener.revoked(revocation)
}
