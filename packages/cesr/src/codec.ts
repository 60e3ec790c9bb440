import {
  ENCODE,
  INVALID,
  charCodesToString,
  invalidCharacter,
  isUint8Array,
  sextet,
} from './base64url.js'
import { CESR_CODES, HARD_SIZES } from './codes.js'
import type { CesrCode, CesrCodeInfo } from './codes.js'
import { CesrError, describe } from './errors.js'

/** Everything the hot paths need about a code, precomputed once. */
interface Spec {
  readonly code: CesrCode
  readonly codeChars: readonly number[]
  readonly codeLength: number
  readonly rawSize: number
  readonly textSize: number
  readonly padSize: number
  /**
   * Exclusive upper bounds for the sextets right after the code. The code replaces only
   * `6 * codeLength` of the `8 * padSize` pad bits; the rest sit in these characters and must be
   * zero, or two texts would decode to the same raw value (e.g. 'E' must be followed by A–P).
   */
  readonly padLimits: readonly number[]
  /** Leading 4-character groups that overlap the code or the pad bytes and take the slow path. */
  readonly headQuads: number
}

// Stryker disable all: built once at import, before Stryker activates a mutant, so a mutant here
// could never take effect (see mutation/equivalent.md)
function toSpec(info: CesrCodeInfo): Spec {
  const codeLength = info.code.length
  const padBits = info.padSize * 8
  const padLimits: number[] = []
  for (let bit = codeLength * 6; bit < padBits; bit += 6) {
    const left = padBits - bit
    // A character wholly inside the pad (6 or more pad bits left) must be zero: limit 1 << 0.
    padLimits.push(1 << Math.max(0, 6 - left))
  }
  return {
    code: info.code,
    codeChars: Array.from(info.code, (c) => c.charCodeAt(0)),
    codeLength,
    rawSize: info.rawSize,
    textSize: info.textSize,
    padSize: info.padSize,
    padLimits,
    headQuads: Math.max(Math.ceil(codeLength / 4), Math.ceil(info.padSize / 3)),
  }
}

const SPECS: ReadonlyMap<string, Spec> = /* @__PURE__ */ new Map(
  Object.values(CESR_CODES).map((info) => [info.code, toSpec(info)]),
)
// Stryker restore all

// check() reports failures as a small integer so that isCesr can reject without allocating.
const OK = 0
const BAD_LENGTH = 1
const BAD_CHARACTER = 2
const BAD_PAD = 3

/** Validates everything after the (already matched) code. */
function check(spec: Spec, text: string): number {
  const textSize = spec.textSize
  if (text.length !== textSize) return BAD_LENGTH
  // Branch-free: INVALID (0xff) is the only sextet with bits above the low six set.
  let seen = 0
  for (let i = spec.codeLength; i < textSize; i++) seen |= sextet(text, i)
  if (seen > 63) return BAD_CHARACTER
  const limits = spec.padLimits
  for (let k = 0; k < limits.length; k++) {
    if (sextet(text, spec.codeLength + k) >= limits[k]!) return BAD_PAD
  }
  return OK
}

function failure(spec: Spec, text: string, result: number): CesrError {
  switch (result) {
    case BAD_LENGTH:
      return new CesrError(
        'CESR_INVALID_LENGTH',
        `${spec.code} primitive must be ${spec.textSize} characters, got ${text.length}`,
      )
    case BAD_CHARACTER:
      return invalidCharacter(text, spec.codeLength)
    default:
      return new CesrError(
        'CESR_NONZERO_PAD',
        `${spec.code} primitive has non-zero pad bits after the code`,
      )
  }
}

function unknownCode(prefix: unknown): CesrError {
  return new CesrError('CESR_UNKNOWN_CODE', `unknown CESR code ${describe(prefix)}`)
}

function specFor(code: unknown): Spec {
  const spec = SPECS.get(code as string)
  if (spec === undefined) throw unknownCode(code)
  return spec
}

/** Finds the code of `text` by CESR's hard-size rule. */
function resolve(text: string): Spec {
  if (text.length === 0) throw new CesrError('CESR_INVALID_LENGTH', 'empty CESR text')
  const first = text.charCodeAt(0)
  const hardSize = first < 128 ? HARD_SIZES[first]! : 0
  if (hardSize === 0) {
    if (sextet(text, 0) === INVALID) throw invalidCharacter(text, 0)
    throw unknownCode(text.slice(0, 1))
  }
  if (text.length < hardSize) {
    throw new CesrError(
      'CESR_INVALID_LENGTH',
      `CESR text of ${text.length} characters is shorter than its ${hardSize}-character code`,
    )
  }
  const prefix = text.slice(0, hardSize)
  const spec = SPECS.get(prefix)
  if (spec === undefined) throw unknownCode(prefix)
  return spec
}

function decodeWith(spec: Spec, text: string): Uint8Array {
  const { codeLength, padSize, textSize, padLimits } = spec
  // The decode loop only notices that something is wrong; check() then works out what.
  let ok = text.length === textSize
  for (let k = 0; ok && k < padLimits.length; k++) {
    ok = sextet(text, codeLength + k) < padLimits[k]!
  }
  if (!ok) throw failure(spec, text, check(spec, text))

  const out = new Uint8Array(spec.rawSize)
  let seen = 0
  const headChars = spec.headQuads * 4
  for (let i = 0; i < headChars; i += 4) {
    let n = 0
    for (let j = i; j < i + 4; j++) {
      const v = j < codeLength ? 0 : sextet(text, j)
      seen |= v
      n = (n << 6) | v
    }
    // Pad bytes are known to be zero by now and are simply not stored.
    const firstByte = (i >>> 2) * 3 - padSize
    for (let j = 0; j < 3; j++) {
      if (firstByte + j >= 0) out[firstByte + j] = (n >>> (16 - 8 * j)) & 0xff
    }
  }
  let o = spec.headQuads * 3 - padSize
  for (let i = headChars; i < textSize; i += 4) {
    const a = sextet(text, i)
    const b = sextet(text, i + 1)
    const c = sextet(text, i + 2)
    const d = sextet(text, i + 3)
    seen |= a | b | c | d
    const n = (a << 18) | (b << 12) | (c << 6) | d
    out[o++] = n >>> 16
    out[o++] = (n >>> 8) & 0xff
    out[o++] = n & 0xff
  }
  // INVALID (0xff) is the only sextet with bits above the low six set.
  if (seen > 63) throw failure(spec, text, check(spec, text))
  return out
}

/** Encodes `raw` as a CESR primitive of type `code`. */
export function encodeCesr(code: CesrCode, raw: Uint8Array): string {
  const spec = specFor(code)
  if (!isUint8Array(raw)) throw new CesrError('CESR_INVALID_INPUT', 'raw must be a Uint8Array')
  const { codeLength, padSize, rawSize } = spec
  if (raw.length !== rawSize) {
    throw new CesrError(
      'CESR_INVALID_RAW_SIZE',
      `${code} primitive needs ${rawSize} raw bytes, got ${raw.length}`,
    )
  }

  // The code takes the place of the leading characters, which encode only zero pad bits.
  const out = spec.codeChars.slice()
  const headQuads = spec.headQuads
  for (let q = 0; q < headQuads; q++) {
    let n = 0
    for (let b = q * 3; b < q * 3 + 3; b++) n = (n << 8) | (b < padSize ? 0 : raw[b - padSize]!)
    for (let j = 0; j < 4; j++) {
      if (q * 4 + j >= codeLength) out.push(ENCODE[(n >>> (18 - 6 * j)) & 63]!)
    }
  }
  // Indices below are in bounds by construction; `!` only silences noUncheckedIndexedAccess.
  for (let i = headQuads * 3 - padSize; i < rawSize; i += 3) {
    const n = (raw[i]! << 16) | (raw[i + 1]! << 8) | raw[i + 2]!
    out.push(ENCODE[n >>> 18]!, ENCODE[(n >>> 12) & 63]!, ENCODE[(n >>> 6) & 63]!, ENCODE[n & 63]!)
  }
  return charCodesToString(out)
}

/** Decodes any supported CESR primitive. Throws only {@link CesrError}. */
export function decodeCesr(text: string): { code: CesrCode; raw: Uint8Array } {
  if (typeof text !== 'string') {
    throw new CesrError('CESR_INVALID_INPUT', `expected a string, got ${describe(text)}`)
  }
  const spec = resolve(text)
  return { code: spec.code, raw: decodeWith(spec, text) }
}

/** Decodes a CESR primitive that must have type `code`. Throws only {@link CesrError}. */
export function decodeCesrAs(code: CesrCode, text: string): Uint8Array {
  const spec = specFor(code)
  if (typeof text !== 'string') {
    throw new CesrError('CESR_INVALID_INPUT', `expected a string, got ${describe(text)}`)
  }
  const actual = resolve(text)
  if (actual !== spec) {
    throw new CesrError(
      'CESR_UNKNOWN_CODE',
      `expected a ${spec.code} primitive, got ${actual.code}`,
    )
  }
  return decodeWith(spec, text)
}

/** True iff {@link decodeCesrAs} would accept `text`; never throws and allocates nothing. */
export function isCesr(code: CesrCode, text: unknown): boolean {
  const spec = SPECS.get(code)
  return (
    spec !== undefined &&
    typeof text === 'string' &&
    text.length === spec.textSize &&
    text.startsWith(spec.code) &&
    check(spec, text) === OK
  )
}
