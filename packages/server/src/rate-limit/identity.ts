/**
 * The identity a protocol request names, for its per-identity limit: `authentication.identity`, or
 * `authentication.device` where the request names only a device (`/session/create`). Read from the
 * unverified body, which is fine for counting: a forged name only spends that name's quota.
 * Undefined for requests that name neither (`/session/refresh`, whose token is single use) and for
 * text that is not a request; the server refuses those on its own.
 */
export function identityOf(message: string): string | undefined {
  let parsed: unknown
  try {
    parsed = JSON.parse(message)
  } catch {
    return undefined
  }
  const authentication = field(field(field(parsed, 'payload'), 'request'), 'authentication')
  const name = field(authentication, 'identity') ?? field(authentication, 'device')
  return typeof name === 'string' && name.length <= 128 ? name : undefined
}

function field(value: unknown, name: string): unknown {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined
  return Object.hasOwn(value, name) ? (value as Record<string, unknown>)[name] : undefined
}
