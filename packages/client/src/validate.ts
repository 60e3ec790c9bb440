import { InvalidMessageError, MAX_JSON_DEPTH } from '@better-auth/protocol'
import type { JsonValue, SigningKey } from '@better-auth/protocol'

/**
 * Argument checks for the public methods. They run before any key store or network call, so a
 * wrong argument never initializes a chain or spends a rotation. CESR values are checked by the
 * protocol's own field validators, so the CESR rules (length, alphabet, zero pad bits) live in
 * one place.
 */

/** A CESR BLAKE3-256 digest (`E…`, 44 characters). */
export { digestField as requireDigest } from '@better-auth/protocol/internal'
/** A CESR compressed P-256 public key (`1AAI…`, 48 characters). */
export { publicKeyField as requirePublicKey } from '@better-auth/protocol/internal'

export function requireString(value: unknown, field: string): string {
  if (typeof value !== 'string') throw new InvalidMessageError(field, 'expected a string')
  return value
}

export function requireSigningKey(value: unknown, field: string): SigningKey {
  const key = value as Partial<Record<keyof SigningKey, unknown>> | null
  if (
    typeof key !== 'object' ||
    key === null ||
    typeof key.sign !== 'function' ||
    typeof key.public !== 'function'
  ) {
    throw new InvalidMessageError(field, 'expected a SigningKey')
  }
  return value as SigningKey
}

/** An application route: the network layer appends it to its base URL. */
export function requirePath(value: unknown, field: string): string {
  if (typeof value !== 'string' || !value.startsWith('/') || /\s/.test(value)) {
    throw new InvalidMessageError(field, 'expected a path starting with "/" and without whitespace')
  }
  return value
}

// `depth` arrays and objects enclose `value`. The bound is the servers' (a deeper request would be
// refused there), and it turns a hostile or cyclic structure into a typed error instead of a
// stack overflow.
function isJson(value: unknown, depth: number, seen: Set<object>): boolean {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return true
  if (typeof value === 'number') return Number.isFinite(value)
  if (typeof value !== 'object' || depth >= MAX_JSON_DEPTH || seen.has(value)) return false
  seen.add(value)
  let ok: boolean
  if (Array.isArray(value)) {
    ok = value.every((item) => isJson(item, depth + 1, seen))
  } else {
    // Only plain objects: anything with toJSON or a class would serialize to something other
    // than what the caller sees, and the signature covers the serialized bytes.
    const prototype: unknown = Object.getPrototypeOf(value)
    ok =
      (prototype === Object.prototype || prototype === null) &&
      Object.values(value).every((item) => isJson(item, depth + 1, seen))
  }
  seen.delete(value)
  return ok
}

/** A value that JSON.stringify serializes to exactly what it looks like. */
export function requireJson(value: unknown, field: string): JsonValue {
  if (!isJson(value, 0, new Set())) {
    throw new InvalidMessageError(
      field,
      `expected a JSON value (plain objects, arrays, finite numbers; at most ${MAX_JSON_DEPTH} levels deep)`,
    )
  }
  return value as JsonValue
}
