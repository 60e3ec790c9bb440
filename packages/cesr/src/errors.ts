export type CesrErrorCode =
  | 'CESR_UNKNOWN_CODE'
  | 'CESR_INVALID_LENGTH'
  | 'CESR_INVALID_CHARACTER'
  | 'CESR_NONZERO_PAD'
  | 'CESR_INVALID_RAW_SIZE'
  | 'CESR_INVALID_INPUT'

/**
 * The only error this package throws. Messages never quote more than a short prefix of the input,
 * because the same codec carries nonces and other values that must not end up in logs.
 */
export class CesrError extends Error {
  readonly code: CesrErrorCode
  override name = 'CesrError'

  constructor(code: CesrErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.code = code
  }
}

const PREVIEW_LENGTH = 8

/** Describes an untrusted value for an error message without echoing more than 8 characters. */
export function describe(value: unknown): string {
  if (typeof value !== 'string') return value === null ? 'null' : typeof value
  if (value.length <= PREVIEW_LENGTH) return JSON.stringify(value)
  return `${JSON.stringify(value.slice(0, PREVIEW_LENGTH))}… (${value.length} chars)`
}
