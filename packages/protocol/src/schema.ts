import { isCesr, type CesrCode } from '@better-auth/cesr'
import { InvalidMessageError } from './errors.js'

/**
 * Validators that check structure and types before any crypto or storage work, and rebuild
 * objects in their schema's key order: that order is the canonical serialization every other
 * implementation re-creates when it verifies.
 */
export type Validator<T> = (value: unknown, field: string) => T

export type Infer<V> = V extends Validator<infer T> ? T : never

export type JsonValue =
  null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue }
export type JsonObject = { [key: string]: JsonValue }

function describe(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  return `a ${typeof value}`
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

// Stryker disable all: built at import, before Stryker activates a mutant (mutation/equivalent.md)
const CESR_NAMES: Record<CesrCode, string> = {
  E: 'a digest (E…)',
  '1AAI': 'a P-256 public key (1AAI…)',
  '0I': 'a P-256 signature (0I…)',
  '0A': 'a 128-bit nonce (0A…)',
}
// Stryker restore all

// Stryker disable next-line BlockStatement: cesr() itself only runs at import
export function cesr(code: CesrCode): Validator<string> {
  return (value, field) => {
    if (!isCesr(code, value)) {
      throw new InvalidMessageError(field, `expected ${CESR_NAMES[code]}, got ${describe(value)}`)
    }
    return value as string
  }
}

// Stryker disable all: built at import, before Stryker activates a mutant
export const digest = cesr('E')
export const publicKey = cesr('1AAI')
export const signature = cesr('0I')
export const nonce = cesr('0A')
// Stryker restore all

// The regular expressions below are literals inside their validators, not module constants, so
// that mutation testing can change them while the tests run (a module constant is built at import,
// before a mutant is active). The engine compiles each literal once.

export const timestamp: Validator<string> = (value, field) => {
  // RFC 3339 in UTC ('Z') or with an offset; 0 to 9 fractional digits. Calendar validity is the
  // timestamper's job; this only rejects what cannot be a timestamp at all.
  const rfc3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/
  if (typeof value !== 'string' || !rfc3339.test(value)) {
    throw new InvalidMessageError(field, 'expected an RFC 3339 timestamp')
  }
  return value
}

export const SIGNATURE_LENGTH = 88

/** An access token: an 88-character CESR signature followed by base64url(gzip(body)). */
export const token: Validator<string> = (value, field) => {
  if (
    typeof value !== 'string' ||
    value.length <= SIGNATURE_LENGTH ||
    !isCesr('0I', value.slice(0, SIGNATURE_LENGTH)) ||
    !/^[A-Za-z0-9_-]+$/.test(value.slice(SIGNATURE_LENGTH))
  ) {
    throw new InvalidMessageError(field, 'expected an access token')
  }
  return value
}

/** Any JSON value: application data passes through untouched. */
// Stryker disable next-line ArrowFunction: built at import, before Stryker activates a mutant
export const json: Validator<JsonValue> = (value) => value as JsonValue

type Shape = Record<string, Validator<unknown>>
export type ObjectOf<S extends Shape> = { [K in keyof S]: Infer<S[K]> }

/** An object with exactly the keys of `shape`: unknown and missing keys are both rejected. */
// Stryker disable next-line BlockStatement: object() itself only runs at import
export function object<S extends Shape>(shape: S): Validator<ObjectOf<S>> {
  const keys = Object.keys(shape)
  return (value, field) => {
    if (!isPlainObject(value))
      throw new InvalidMessageError(field, `expected an object, got ${describe(value)}`)
    for (const key in value) {
      if (!Object.prototype.hasOwnProperty.call(shape, key)) {
        throw new InvalidMessageError(`${field}.${key}`, 'unexpected field')
      }
    }
    const result: Record<string, unknown> = {}
    for (const key of keys) {
      if (!Object.prototype.hasOwnProperty.call(value, key)) {
        throw new InvalidMessageError(`${field}.${key}`, 'missing')
      }
      result[key] = (shape[key] as Validator<unknown>)(value[key], `${field}.${key}`)
    }
    return result as ObjectOf<S>
  }
}
