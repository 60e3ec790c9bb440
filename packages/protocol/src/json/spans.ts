import { InvalidMessageError } from '../errors.js'
import type { JsonValue } from '../schema.js'

/**
 * The one JSON reader of the protocol, for every level of a message: envelopes, payloads,
 * application data and token bodies. It reports where each member of an object starts and ends
 * in the original text, because signatures cover exact received bytes and verification needs the
 * payload's raw span, never a re-serialization. It is stricter than JSON.parse wherever JSON.parse
 * would let two readers of one signed text see different values:
 *
 * - a duplicate key (parsers disagree on which one wins) is refused at any depth;
 * - a lone surrogate in a string (it has no UTF-8 form, so it cannot be what was signed) is refused;
 * - a number whose text is not exactly the value it parses to is refused, unless the caller reads
 *   raw text itself (`exactNumbers: false`);
 * - nesting deeper than MAX_JSON_DEPTH is refused, which also bounds the reader's own recursion.
 *
 * Every refusal is an InvalidMessageError (BA101) naming the path of the offending value.
 */
export type Span = readonly [start: number, end: number]

/**
 * How deep application data (the `request` of an access request, the `response` of an access
 * response) may nest: arrays and objects, each counting one level. The envelope and the payload
 * around it take two more, so the reader allows MAX_JSON_DEPTH + 2 levels in a whole message.
 */
export const MAX_JSON_DEPTH = 64
const MAX_MESSAGE_DEPTH = MAX_JSON_DEPTH + 2

export interface ReadOptions {
  /**
   * Refuse numbers that lose precision when parsed (default true). Off only where the caller keeps
   * the raw text and reads the numbers itself.
   */
  readonly exactNumbers?: boolean
  /** Levels of nesting that enclose the text read, counted against the depth limit. */
  readonly depth?: number
}

export interface Member {
  readonly span: Span
  readonly value: JsonValue
}

const QUOTE = 0x22
const BACKSLASH = 0x5c
const SLASH = 0x2f
const OPEN_BRACE = 0x7b
const CLOSE_BRACE = 0x7d
const OPEN_BRACKET = 0x5b
const CLOSE_BRACKET = 0x5d
const COMMA = 0x2c
const COLON = 0x3a
const MINUS = 0x2d
const PLUS = 0x2b
const DOT = 0x2e
const ZERO = 0x30
const NINE = 0x39
const LOWER_E = 0x65
const UPPER_E = 0x45

const SIMPLE_ESCAPES: Readonly<Record<number, string>> = {
  [QUOTE]: '"',
  [BACKSLASH]: '\\',
  [SLASH]: '/',
  0x62: '\b',
  0x66: '\f',
  0x6e: '\n',
  0x72: '\r',
  0x74: '\t',
}

function isDigit(c: number): boolean {
  return c >= ZERO && c <= NINE
}

function isWhitespace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09
}

// A run of string content with nothing to decode or check: no quote, escape, control character
// or surrogate (those take the character loop).
// eslint-disable-next-line no-control-regex -- JSON forbids raw control characters in strings
const PLAIN_RUN = /[^"\\\u0000-\u001f\ud800-\udfff]*/y

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/
const MAX_KEY_IN_PATH = 64

/** `a.b[2]["odd key"]`: keys that are not identifiers are quoted, long ones shortened. */
function pathText(path: readonly (string | number)[]): string {
  let text = ''
  for (const step of path) {
    if (typeof step === 'number') text += `[${step}]`
    else if (IDENTIFIER.test(step) && step.length <= MAX_KEY_IN_PATH) text += `.${step}`
    else {
      const key = step.length > MAX_KEY_IN_PATH ? `${step.slice(0, MAX_KEY_IN_PATH)}…` : step
      text += `[${JSON.stringify(key)}]`
    }
  }
  return text
}

/**
 * The decimal value a number text denotes, normalized so that equal values give equal strings:
 * sign, significant digits without leading or trailing zeros, and a power of ten.
 */
function decimalValue(text: string): string {
  let i = 0
  const negative = text.charCodeAt(0) === MINUS
  if (negative) i++
  let digits = ''
  let fractionDigits = 0
  let inFraction = false
  for (; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (isDigit(c)) {
      digits += text[i]
      if (inFraction) fractionDigits++
    } else if (c === DOT) {
      inFraction = true
    } else {
      break
    }
  }
  // What follows the mantissa is `e`/`E` and a signed integer, which Number reads as written.
  let exponent = (i < text.length ? Number(text.slice(i + 1)) : 0) - fractionDigits
  let first = 0
  while (first < digits.length && digits.charCodeAt(first) === ZERO) first++
  if (first === digits.length) return '0'
  let last = digits.length
  while (digits.charCodeAt(last - 1) === ZERO) last--
  exponent += digits.length - last
  return `${negative ? '-' : ''}${digits.slice(first, last)}e${exponent}`
}

/**
 * A number is exact when it reads back as itself: the double it parses to prints (shortest
 * round-trip form, as JSON.stringify writes it) as the same decimal. `1.0`, `1e2`, `0.1` and
 * everything JSON.stringify writes pass; `9007199254740993`, `0.30000000000000001`, `1e400`,
 * `1e-400` and even `1152921504606846976` (2^60, printed as 1152921504606847000) do not.
 */
function isExact(text: string, value: number): boolean {
  return Number.isFinite(value) && decimalValue(text) === decimalValue(String(value))
}

class Reader {
  i: number
  readonly #text: string
  readonly #end: number
  readonly #field: string
  readonly #exactNumbers: boolean
  readonly #path: (string | number)[] = []

  constructor(text: string, span: Span, field: string, exactNumbers: boolean) {
    this.#text = text
    this.i = span[0]
    this.#end = span[1]
    this.#field = field
    this.#exactNumbers = exactNumbers
  }

  fail(details: string): InvalidMessageError {
    return new InvalidMessageError(this.#field + pathText(this.#path), details)
  }

  #peek(): number {
    return this.i < this.#end ? this.#text.charCodeAt(this.i) : -1
  }

  skipWhitespace(): void {
    while (this.i < this.#end && isWhitespace(this.#text.charCodeAt(this.i))) this.i++
  }

  /** The value starting at the next non-whitespace character; `depth` levels enclose it. */
  value(depth: number): JsonValue {
    this.skipWhitespace()
    const c = this.#peek()
    if (c === QUOTE) return this.#string()
    if (c === OPEN_BRACE) return this.object(depth + 1, undefined)
    if (c === OPEN_BRACKET) return this.#array(depth + 1)
    if (c === MINUS || isDigit(c)) return this.#number()
    if (this.#literal('true')) return true
    if (this.#literal('false')) return false
    if (this.#literal('null')) return null
    throw this.fail(c === -1 ? 'missing value' : `unexpected character at offset ${this.i}`)
  }

  /** Reads the object at `i`, which sits at nesting level `depth`; `members` gets the spans. */
  object(depth: number, members: Map<string, Member> | undefined): Record<string, JsonValue> {
    if (this.#peek() !== OPEN_BRACE) throw this.fail('expected an object')
    this.#checkDepth(depth)
    this.i++
    const result: Record<string, JsonValue> = {}
    this.skipWhitespace()
    if (this.#peek() === CLOSE_BRACE) {
      this.i++
      return result
    }
    for (;;) {
      this.skipWhitespace()
      if (this.#peek() !== QUOTE) throw this.fail('expected a key')
      const key = this.#string()
      this.skipWhitespace()
      if (this.#peek() !== COLON) throw this.fail('expected a colon')
      this.i++
      this.#path.push(key)
      if (Object.hasOwn(result, key)) throw this.fail('duplicate key')
      this.skipWhitespace()
      const start = this.i
      const value = this.value(depth)
      this.#path.pop()
      if (key === '__proto__') {
        // Assignment would set the prototype instead of adding a member, as JSON.parse does.
        Object.defineProperty(result, key, {
          value,
          enumerable: true,
          writable: true,
          configurable: true,
        })
      } else {
        result[key] = value
      }
      members?.set(key, { span: [start, this.i], value })
      this.skipWhitespace()
      const c = this.#peek()
      this.i++
      if (c === CLOSE_BRACE) return result
      if (c !== COMMA) {
        this.i--
        throw this.fail(`expected a comma or a closing brace at offset ${this.i}`)
      }
    }
  }

  #array(depth: number): JsonValue[] {
    this.#checkDepth(depth)
    this.i++
    const result: JsonValue[] = []
    this.skipWhitespace()
    if (this.#peek() === CLOSE_BRACKET) {
      this.i++
      return result
    }
    for (;;) {
      this.#path.push(result.length)
      result.push(this.value(depth))
      this.#path.pop()
      this.skipWhitespace()
      const c = this.#peek()
      this.i++
      if (c === CLOSE_BRACKET) return result
      if (c !== COMMA) {
        this.i--
        throw this.fail(`expected a comma or a closing bracket at offset ${this.i}`)
      }
    }
  }

  #checkDepth(depth: number): void {
    if (depth > MAX_MESSAGE_DEPTH) {
      throw this.fail(`nested deeper than ${MAX_JSON_DEPTH} levels of application data`)
    }
  }

  #literal(word: string): boolean {
    if (this.i + word.length > this.#end || !this.#text.startsWith(word, this.i)) return false
    this.i += word.length
    return true
  }

  #string(): string {
    const text = this.#text
    const start = this.i + 1
    // Most strings (CESR values, tokens) hold nothing to decode: one native scan finds their end.
    PLAIN_RUN.lastIndex = start
    PLAIN_RUN.test(text)
    let j = PLAIN_RUN.lastIndex
    for (; j < this.#end; j++) {
      const c = text.charCodeAt(j)
      if (c === QUOTE) {
        this.i = j + 1
        return text.slice(start, j)
      }
      if (c === BACKSLASH) return this.#escapedString(start, j)
      if (c < 0x20) throw this.fail('control character in string')
      if (c >= 0xd800 && c <= 0xdfff) j = this.#surrogatePair(j)
    }
    throw this.fail('unterminated string')
  }

  /** The rest of a string from its first escape at `j`. */
  #escapedString(start: number, j: number): string {
    const text = this.#text
    let result = text.slice(start, j)
    for (; j < this.#end; j++) {
      const c = text.charCodeAt(j)
      if (c === QUOTE) {
        this.i = j + 1
        return result
      }
      if (c === BACKSLASH) {
        const next = j + 1 < this.#end ? text.charCodeAt(j + 1) : -1
        const simple = SIMPLE_ESCAPES[next]
        if (simple !== undefined) {
          result += simple
          j++
        } else if (next === 0x75 && /^[0-9A-Fa-f]{4}$/.test(text.slice(j + 2, j + 6))) {
          // Escaped lone surrogates are accepted as JSON.parse does: the signed bytes are ASCII.
          result += String.fromCharCode(parseInt(text.slice(j + 2, j + 6), 16))
          j += 5
        } else {
          throw this.fail(`invalid escape at offset ${j}`)
        }
        continue
      }
      if (c < 0x20) throw this.fail('control character in string')
      if (c >= 0xd800 && c <= 0xdfff) {
        const end = this.#surrogatePair(j)
        result += text.slice(j, end + 1)
        j = end
      } else {
        result += text[j]
      }
    }
    throw this.fail('unterminated string')
  }

  /** `j` is at a surrogate; returns the index of the pair's low half, or refuses a lone one. */
  #surrogatePair(j: number): number {
    const c = this.#text.charCodeAt(j)
    const next = j + 1 < this.#end ? this.#text.charCodeAt(j + 1) : -1
    if (c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) return j + 1
    throw this.fail('lone surrogate in string (not valid Unicode)')
  }

  #number(): number {
    const text = this.#text
    const start = this.i
    let j = start
    if (text.charCodeAt(j) === MINUS) j++
    const integerStart = j
    while (j < this.#end && isDigit(text.charCodeAt(j))) j++
    const integerDigits = j - integerStart
    if (integerDigits === 0 || (integerDigits > 1 && text.charCodeAt(integerStart) === ZERO)) {
      throw this.fail(`invalid number at offset ${start}`)
    }
    let plainInteger = true
    if (j < this.#end && text.charCodeAt(j) === DOT) {
      plainInteger = false
      j = this.#digits(j + 1, start)
    }
    const c = j < this.#end ? text.charCodeAt(j) : -1
    if (c === LOWER_E || c === UPPER_E) {
      plainInteger = false
      j++
      const sign = j < this.#end ? text.charCodeAt(j) : -1
      if (sign === PLUS || sign === MINUS) j++
      j = this.#digits(j, start)
    }
    this.i = j
    const numberText = text.slice(start, j)
    const value = Number(numberText)
    // Integers of up to 15 digits are always exact; only longer or decimal texts need the check.
    if (
      this.#exactNumbers &&
      !(plainInteger && integerDigits <= 15) &&
      !isExact(numberText, value)
    ) {
      throw this.fail('number cannot be represented exactly (send it as a string)')
    }
    return value
  }

  /** One or more digits from `j`; returns the index after them. */
  #digits(j: number, start: number): number {
    const first = j
    while (j < this.#end && isDigit(this.#text.charCodeAt(j))) j++
    if (j === first) throw this.fail(`invalid number at offset ${start}`)
    return j
  }

  /** Refuses anything but whitespace between `i` and the end of the span. */
  finish(): void {
    this.skipWhitespace()
    if (this.i !== this.#end) throw this.fail(`trailing characters at offset ${this.i}`)
  }
}

/** The one JSON value spanning exactly `span` of `text` (whitespace around it allowed). */
export function readJson(
  text: string,
  span: Span,
  field: string,
  options: ReadOptions = {},
): JsonValue {
  const reader = new Reader(text, span, field, options.exactNumbers ?? true)
  const value = reader.value(options.depth ?? 0)
  reader.finish()
  return value
}

/**
 * The members of the object spanning exactly `span` (whitespace around it allowed), each with its
 * raw span and its value, read and checked at every depth.
 */
export function objectMembers(
  text: string,
  span: Span,
  field: string,
  options: ReadOptions = {},
): Map<string, Member> {
  const reader = new Reader(text, span, field, options.exactNumbers ?? true)
  const members = new Map<string, Member>()
  reader.skipWhitespace()
  reader.object((options.depth ?? 0) + 1, members)
  reader.finish()
  return members
}

/** The raw span of the value at `path` inside the object spanning `span`. */
export function spanAt(text: string, span: Span, path: readonly string[], field: string): Span {
  let current = span
  let name = field
  for (const key of path) {
    const member = objectMembers(text, current, name).get(key)
    name = `${name}.${key}`
    if (member === undefined) throw new InvalidMessageError(name, 'missing')
    current = member.span
  }
  return current
}
