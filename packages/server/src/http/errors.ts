import {
  BetterAuthError,
  ERRORS,
  InvalidMessageError,
  StorageUnavailableError,
  errorBody,
  type ErrorBody,
  type ErrorCode,
} from '@better-auth/protocol'

/** The HTTP status of each protocol error code, from the protocol's one error table. */
export const STATUS_BY_CODE: Readonly<Record<ErrorCode, number>> = Object.freeze(
  Object.fromEntries(Object.entries(ERRORS).map(([code, { status }]) => [code, status])) as Record<
    ErrorCode,
    number
  >,
)

/** A malformed message with a more precise HTTP status than 400 (413, 415, 404). */
export class HttpRefusal extends InvalidMessageError {
  readonly statusCode: number
  constructor(statusCode: number, field: string, details: string) {
    super(field, details)
    this.statusCode = statusCode
  }
}

export interface MappedError {
  readonly status: number
  readonly body: ErrorBody
  /** False for failures that are not BetterAuthErrors: answered as BA000 without internals. */
  readonly known: boolean
}

/** The HTTP answer to any failure: the protocol error body and the status of its code. */
export function mapError(error: unknown): MappedError {
  if (!(error instanceof BetterAuthError)) {
    return { status: 500, body: errorBody(error), known: false }
  }
  return { status: statusOf(error), body: errorBody(error), known: true }
}

function statusOf(error: BetterAuthError): number {
  // A 4xx carried by the error (413 body too large, 415 content type) says more than 400.
  const carried = (error as { statusCode?: unknown }).statusCode
  if (typeof carried === 'number' && carried >= 400 && carried < 500) return carried
  return STATUS_BY_CODE[error.code]
}

/** How a failure should be logged: adapters hand it to their framework's logger. */
export type FailureKind = 'unexpected' | 'storage' | 'refused' | 'disconnected'

export function failureKind(error: unknown): FailureKind {
  if (!(error instanceof BetterAuthError)) {
    // The client went away mid-request: routine, nothing failed on our side.
    const code = (error as { code?: unknown } | null)?.code
    const name = (error as { name?: unknown } | null)?.name
    return code === 'ECONNRESET' || name === 'AbortError' ? 'disconnected' : 'unexpected'
  }
  return error instanceof StorageUnavailableError ? 'storage' : 'refused'
}
