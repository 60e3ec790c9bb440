import {
  BetterAuthError,
  InvalidMessageError,
  StorageUnavailableError,
  errorBody,
  type ErrorBody,
} from '@better-auth/protocol'
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import { STATUS_BY_CODE } from './status.js'

/** Fastify's own request failures (body too large, bad media type…) are malformed messages. */
function fromFastify(error: FastifyError): BetterAuthError | undefined {
  if (typeof error.statusCode !== 'number' || error.statusCode >= 500) return undefined
  return new InvalidMessageError('message', fastifyDetails(error))
}

function fastifyDetails(error: FastifyError): string {
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return 'body too large'
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return 'unsupported content type'
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return 'empty body'
    default:
      return 'malformed request'
  }
}

function statusOf(error: BetterAuthError): number | undefined {
  const status = (error as { statusCode?: unknown }).statusCode
  return typeof status === 'number' && status >= 400 && status < 500 ? status : undefined
}

export interface MappedError {
  readonly status: number
  readonly body: ErrorBody
  readonly known: boolean
}

export function mapError(error: unknown): MappedError {
  const typed =
    error instanceof BetterAuthError
      ? error
      : isFastifyError(error)
        ? fromFastify(error)
        : undefined
  if (typed === undefined) return { status: 500, body: errorBody(error), known: false }
  const body = errorBody(typed)
  // Fastify's 4xx statuses (413, 415) say more than a generic 400 for the same BA101; our own
  // oversized-body error carries 413 the same way.
  const status =
    error instanceof BetterAuthError
      ? (statusOf(error) ?? STATUS_BY_CODE[body.error.code])
      : ((error as FastifyError).statusCode ?? 400)
  return { status, body, known: true }
}

function isFastifyError(error: unknown): error is FastifyError {
  if (!(error instanceof Error) || error instanceof BetterAuthError) return false
  const code = (error as Partial<FastifyError>).code
  return typeof code === 'string' && code.startsWith('FST_')
}

/** Answers any failure with the protocol error body; logs without request bodies or keys. */
export function sendError(
  error: unknown,
  request: FastifyRequest,
  reply: FastifyReply,
): FastifyReply {
  const mapped = mapError(error)
  if (clientGone(error, request)) {
    // Routine on any public server; an error line with a stack for each would bury real failures.
    request.log.info('better-auth: client disconnected before the request was read')
  } else if (!mapped.known) {
    request.log.error({ err: error }, 'better-auth: unexpected failure')
  } else if (error instanceof StorageUnavailableError) {
    request.log.error(
      { code: mapped.body.error.code, cause: error.cause },
      'better-auth: storage unavailable',
    )
  } else {
    request.log.info({ code: mapped.body.error.code }, 'better-auth: request refused')
  }
  return reply.code(mapped.status).type('application/json').send(JSON.stringify(mapped.body))
}

/** The client closed the connection mid-request: nothing is wrong on our side. */
function clientGone(error: unknown, request: FastifyRequest): boolean {
  return (
    request.raw.readableAborted ||
    request.raw.socket?.destroyed === true ||
    (error as { code?: unknown } | null)?.code === 'ECONNRESET'
  )
}
