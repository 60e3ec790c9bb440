import { InvalidMessageError } from '../errors.js'

/**
 * A structural JSON scanner that reports where each member of an object starts and ends in the
 * original text. Signatures cover exact received bytes, so verification needs the payload's raw
 * span, never a re-serialization. Values are only delimited here; JSON.parse validates them.
 */
export type Span = readonly [start: number, end: number]

const QUOTE = 0x22
const BACKSLASH = 0x5c
const OPEN_BRACE = 0x7b
const CLOSE_BRACE = 0x7d
const OPEN_BRACKET = 0x5b
const CLOSE_BRACKET = 0x5d
const COMMA = 0x2c
const COLON = 0x3a

function malformed(field: string, details: string): InvalidMessageError {
  return new InvalidMessageError(field, details)
}

function isWhitespace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09
}

// Numbers, true, false, null: JSON.parse judges them; the scanner only needs their extent.
function isLiteralCharacter(c: number): boolean {
  return (
    (c >= 0x30 && c <= 0x39) ||
    (c >= 0x61 && c <= 0x7a) ||
    c === 0x2d ||
    c === 0x2b ||
    c === 0x2e ||
    c === 0x45
  )
}

function skipWhitespace(text: string, i: number): number {
  while (i < text.length && isWhitespace(text.charCodeAt(i))) i++
  return i
}

/** `i` is at the opening quote; returns the index just past the closing quote. */
function scanString(text: string, i: number, field: string): number {
  for (let j = i + 1; j < text.length; j++) {
    const c = text.charCodeAt(j)
    if (c === QUOTE) return j + 1
    if (c === BACKSLASH) j++
    else if (c < 0x20) throw malformed(field, 'control character in string')
  }
  throw malformed(field, 'unterminated string')
}

/** `i` is at the first character of a value; returns the index just past it. */
function scanValue(text: string, i: number, field: string): number {
  const first = text.charCodeAt(i)
  if (first === QUOTE) return scanString(text, i, field)
  if (first === OPEN_BRACE || first === OPEN_BRACKET) {
    let depth = 0
    for (let j = i; j < text.length; j++) {
      const c = text.charCodeAt(j)
      if (c === QUOTE) {
        j = scanString(text, j, field) - 1
      } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
        depth++
      } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
        depth--
        if (depth === 0) return j + 1
      }
    }
    throw malformed(field, 'unterminated value')
  }
  let j = i
  while (j < text.length && isLiteralCharacter(text.charCodeAt(j))) j++
  if (j === i) throw malformed(field, 'missing value')
  return j
}

function keyAt(text: string, start: number, end: number, field: string): string {
  const raw = text.slice(start + 1, end - 1)
  if (raw.indexOf('\\') === -1) return raw
  try {
    return JSON.parse(text.slice(start, end)) as string
  } catch (cause) {
    throw new InvalidMessageError(field, 'invalid key', cause)
  }
}

/**
 * The members of the object spanning exactly `span` (leading/trailing whitespace allowed).
 * Duplicate keys are rejected: parsers disagree on which duplicate wins, and a signature must
 * mean the same thing to every implementation that checks it.
 */
export function objectMembers(text: string, span: Span, field: string): Map<string, Span> {
  const [start, end] = span
  let i = skipWhitespace(text, start)
  if (text.charCodeAt(i) !== OPEN_BRACE) throw malformed(field, 'expected an object')
  const members = new Map<string, Span>()
  i = skipWhitespace(text, i + 1)
  if (text.charCodeAt(i) === CLOSE_BRACE) {
    i++
  } else {
    for (;;) {
      if (text.charCodeAt(i) !== QUOTE) throw malformed(field, 'expected a key')
      const keyEnd = scanString(text, i, field)
      const key = keyAt(text, i, keyEnd, field)
      i = skipWhitespace(text, keyEnd)
      if (text.charCodeAt(i) !== COLON) throw malformed(field, 'expected a colon')
      const valueStart = skipWhitespace(text, i + 1)
      if (valueStart >= end) throw malformed(field, 'missing value')
      const valueEnd = scanValue(text, valueStart, field)
      if (members.has(key)) throw malformed(`${field}.${key}`, 'duplicate key')
      members.set(key, [valueStart, valueEnd])
      i = skipWhitespace(text, valueEnd)
      const c = text.charCodeAt(i)
      i++
      if (c === CLOSE_BRACE) break
      if (c !== COMMA) throw malformed(field, 'expected a comma or a closing brace')
      i = skipWhitespace(text, i)
    }
  }
  if (skipWhitespace(text, i) !== end) throw malformed(field, 'trailing characters')
  return members
}

/** The raw span of the value at `path` inside the object spanning `span`. */
export function spanAt(text: string, span: Span, path: readonly string[], field: string): Span {
  let current = span
  let name = field
  for (const key of path) {
    const member = objectMembers(text, current, name).get(key)
    name = `${name}.${key}`
    if (member === undefined) throw malformed(name, 'missing')
    current = member
  }
  return current
}
