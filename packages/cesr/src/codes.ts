/**
 * The supported primitives. Adding a code is one line here: every other table (the code union,
 * lookups, pad-bit checks) is derived from it. `padSize` zero bytes are prepended to the raw
 * value before encoding so that `padSize + rawSize` is a multiple of 3 and the code characters
 * land on bits that are zero anyway.
 */
const TABLE = {
  E: { name: 'Blake3_256', rawSize: 32, textSize: 44, padSize: 1 },
  '1AAI': { name: 'ECDSA_256r1', rawSize: 33, textSize: 48, padSize: 3 },
  '0I': { name: 'ECDSA_256r1_Sig', rawSize: 64, textSize: 88, padSize: 2 },
  '0A': { name: 'Salt_128', rawSize: 16, textSize: 24, padSize: 2 },
} as const

export type CesrCode = keyof typeof TABLE

export interface CesrCodeInfo {
  readonly code: CesrCode
  readonly name: string
  readonly rawSize: number
  readonly textSize: number
  readonly padSize: number
}

export const CESR_CODES: Readonly<Record<CesrCode, CesrCodeInfo>> = /* @__PURE__ */ Object.freeze(
  Object.fromEntries(
    Object.entries(TABLE).map(([code, info]) => [code, Object.freeze({ code, ...info })]),
  ) as Record<CesrCode, CesrCodeInfo>,
)

/**
 * CESR's hard-size rule for primitive codes: the first character alone decides how many
 * characters the code has, so a parser never needs to try several prefix lengths. 0 means the
 * selector starts no primitive code at all.
 */
// Stryker disable all: built once at import, before Stryker activates a mutant, so a mutant here
// could never take effect (see mutation/equivalent.md)
export const HARD_SIZES: Uint8Array = /* @__PURE__ */ (() => {
  const table = new Uint8Array(128)
  const set = (from: string, to: string, size: number): void => {
    for (let c = from.charCodeAt(0); c <= to.charCodeAt(0); c++) table[c] = size
  }
  set('A', 'Z', 1)
  set('a', 'z', 1)
  set('0', '0', 2)
  set('1', '3', 4)
  set('4', '6', 2)
  set('7', '9', 4)
  return table
})()
// Stryker restore all
