import type { Revocation } from '../interfaces/server-stores.js'

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
