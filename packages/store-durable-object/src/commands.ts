// What a store sends its Durable Object, one JSON command per request, and how the object reads
// it. Both sides live in this package, so the format is private to it.

export type NonceCommand =
  | { readonly op: 'reserve'; readonly expiresAt: number; readonly now: number }
  | {
      readonly op: 'put'
      readonly identity: string
      readonly expiresAt: number
      readonly now: number
    }
  | { readonly op: 'consume'; readonly now: number }

export interface NonceReply {
  /** reserve: whether the value was free. */
  readonly granted?: boolean
  /** consume: the identity of a live nonce. */
  readonly identity?: string
}

function isTime(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value)
}

/** The command in a request body, or undefined when it is not one. */
export function parseCommand(value: unknown): NonceCommand | undefined {
  if (typeof value !== 'object' || value === null) return undefined
  const command = value as Record<string, unknown>
  const { op, now, expiresAt, identity } = command
  if (!isTime(now)) return undefined
  if (op === 'consume') return { op, now }
  if (!isTime(expiresAt)) return undefined
  if (op === 'reserve') return { op, expiresAt, now }
  if (op === 'put' && typeof identity === 'string') return { op, identity, expiresAt, now }
  return undefined
}
