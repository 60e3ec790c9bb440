// Fuzz targets of the CESR codec: every primitive of the published messages, mutated. Short in the
// test run; `make fuzz` runs each for FUZZ_SECONDS.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { base64UrlDecode, base64UrlEncode } from './base64url.js'
import { decodeCesr, decodeCesrAs, encodeCesr, isCesr } from './codec.js'
import { CESR_CODES, type CesrCode } from './codes.js'
import { CesrError } from './errors.js'
import {
  expectOnly,
  fuzzParameters,
  fuzzTimeout,
  mutatedText,
  seedStrings,
} from './testing-internal/fuzz.js'

const isCesrError = (error: unknown): boolean => error instanceof CesrError
const seeds = seedStrings().filter((text) => /^[A-Za-z0-9_-]+$/.test(text))
const codes = Object.keys(CESR_CODES) as CesrCode[]

describe('fuzz: CESR', () => {
  it(
    'decodeCesr throws only CesrError, and what it accepts re-encodes to the same text',
    () => {
      fc.assert(
        fc.property(mutatedText(seeds), (text) => {
          expectOnly(isCesrError, () => {
            const { code, raw } = decodeCesr(text)
            expect(encodeCesr(code, raw)).toBe(text)
          })
        }),
        fuzzParameters(seeds),
      )
    },
    fuzzTimeout(),
  )

  it(
    'decodeCesrAs and isCesr agree, and decodeCesrAs throws only CesrError',
    () => {
      fc.assert(
        fc.property(fc.tuple(fc.constantFrom(...codes), mutatedText(seeds)), ([code, text]) => {
          let decoded = false
          expectOnly(isCesrError, () => {
            decodeCesrAs(code, text)
            decoded = true
          })
          expect(isCesr(code, text)).toBe(decoded)
        }),
        fuzzParameters(seeds.map((seed): [CesrCode, string] => [codes[0]!, seed])),
      )
    },
    fuzzTimeout(),
  )

  it(
    'base64UrlDecode throws only CesrError, and what it accepts re-encodes to the same text',
    () => {
      fc.assert(
        fc.property(mutatedText(seeds), (text) => {
          expectOnly(isCesrError, () => {
            expect(base64UrlEncode(base64UrlDecode(text))).toBe(text)
          })
        }),
        fuzzParameters(seeds),
      )
    },
    fuzzTimeout(),
  )
})
