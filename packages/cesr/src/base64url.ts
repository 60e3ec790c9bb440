import { CesrError } from './errors.js'

// Stryker disable all: built once at import, before Stryker activates a mutant, so a mutant here
// could never take effect (see mutation/equivalent.md)
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'

/** Marks a character outside the base64url alphabet in {@link DECODE}. */
export const INVALID = 0xff

/** Sextet value -> character code. */
export const ENCODE: Uint8Array = /* @__PURE__ */ Uint8Array.from(ALPHABET, (c) => c.charCodeAt(0))

/** ASCII code -> sextet value, or {@link INVALID}. Non-ASCII never reaches it (see {@link sextet}). */
export const DECODE: Uint8Array = /* @__PURE__ */ (() => {
  const table = new Uint8Array(128).fill(INVALID)
  for (let i = 0; i < ALPHABET.length; i++) table[ALPHABET.charCodeAt(i)] = i
  return table
})()
// Stryker restore all

/** The sextet at `text[i]`, or {@link INVALID}. `i` must be in bounds. */
export function sextet(text: string, i: number): number {
  const c = text.charCodeAt(i)
  return c < 128 ? DECODE[c]! : INVALID
}

// The Uint8Array brand check: unlike `instanceof` it works across realms (iframes, vm contexts,
// jsdom) and never runs user code (a Proxy's getPrototypeOf trap could throw from `instanceof`).
// ES2015 defines this getter on %TypedArray%.prototype, so every supported runtime has it.
const tagDescriptor: { readonly get?: (this: unknown) => string | undefined } =
  Object.getOwnPropertyDescriptor(
    Object.getPrototypeOf(Uint8Array.prototype) as object,
    Symbol.toStringTag,
  )!
const typedArrayTag = tagDescriptor.get!

export function isUint8Array(value: unknown): value is Uint8Array {
  return typedArrayTag.call(value) === 'Uint8Array'
}

// Collecting character codes and converting them with one String.fromCharCode call is about twice
// as fast as string concatenation once the result is flattened (which any use of it does).
const CHUNK = 0x2000

/** Turns character codes into a string; chunked because argument counts are engine-limited. */
export function charCodesToString(codes: number[]): string {
  if (codes.length <= CHUNK) return String.fromCharCode.apply(null, codes)
  let out = ''
  for (let i = 0; i < codes.length; i += CHUNK) {
    out += String.fromCharCode.apply(null, codes.slice(i, i + CHUNK))
  }
  return out
}

/** RFC 4648 §5 base64url without padding. */
export function base64UrlEncode(bytes: Uint8Array): string {
  if (!isUint8Array(bytes)) throw new CesrError('CESR_INVALID_INPUT', 'expected a Uint8Array')
  const length = bytes.length
  const whole = length - (length % 3)
  const out: number[] = []
  // Indices below are in bounds by construction; `!` only silences noUncheckedIndexedAccess.
  for (let i = 0; i < whole; i += 3) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!
    out.push(ENCODE[n >>> 18]!, ENCODE[(n >>> 12) & 63]!, ENCODE[(n >>> 6) & 63]!, ENCODE[n & 63]!)
  }
  const rest = length - whole
  if (rest === 1) {
    const n = bytes[whole]!
    out.push(ENCODE[n >>> 2]!, ENCODE[(n & 3) << 4]!)
  } else if (rest === 2) {
    const n = (bytes[whole]! << 8) | bytes[whole + 1]!
    out.push(ENCODE[n >>> 10]!, ENCODE[(n >>> 4) & 63]!, ENCODE[(n & 15) << 2]!)
  }
  return charCodesToString(out)
}

/**
 * Strict RFC 4648 §5 base64url without padding: rejects '=', the standard alphabet's '+' and
 * '/', whitespace, impossible lengths and non-zero trailing bits, so every byte string has
 * exactly one accepted text form.
 */
export function base64UrlDecode(text: string): Uint8Array {
  if (typeof text !== 'string') {
    throw new CesrError('CESR_INVALID_INPUT', `expected a string, got ${typeof text}`)
  }
  const length = text.length
  const rest = length % 4
  if (rest === 1) {
    throw new CesrError('CESR_INVALID_LENGTH', `base64url length ${length} is impossible`)
  }
  const out = new Uint8Array((length * 3) >>> 2)
  const whole = length - rest
  let o = 0
  for (let i = 0; i < whole; i += 4) {
    const a = sextet(text, i)
    const b = sextet(text, i + 1)
    const c = sextet(text, i + 2)
    const d = sextet(text, i + 3)
    // INVALID (0xff) is the only value with bits above the low six set.
    if ((a | b | c | d) > 63) throw invalidCharacter(text, i)
    const n = (a << 18) | (b << 12) | (c << 6) | d
    out[o++] = n >>> 16
    out[o++] = (n >>> 8) & 0xff
    out[o++] = n & 0xff
  }
  if (rest === 2) {
    const a = sextet(text, whole)
    const b = sextet(text, whole + 1)
    if ((a | b) > 63) throw invalidCharacter(text, whole)
    if ((b & 15) !== 0) throw nonZeroTrailingBits()
    out[o] = (a << 2) | (b >>> 4)
  } else if (rest === 3) {
    const a = sextet(text, whole)
    const b = sextet(text, whole + 1)
    const c = sextet(text, whole + 2)
    if ((a | b | c) > 63) throw invalidCharacter(text, whole)
    if ((c & 3) !== 0) throw nonZeroTrailingBits()
    const n = (a << 10) | (b << 4) | (c >>> 2)
    out[o] = n >>> 8
    out[o + 1] = n & 0xff
  }
  return out
}

/** Reports the first invalid character at or after `from` by index only, never by value. */
export function invalidCharacter(text: string, from: number): CesrError {
  let i = from
  while (i < text.length && sextet(text, i) !== INVALID) i++
  return new CesrError('CESR_INVALID_CHARACTER', `invalid base64url character at index ${i}`)
}

function nonZeroTrailingBits(): CesrError {
  return new CesrError('CESR_NONZERO_PAD', 'base64url text has non-zero trailing bits')
}
