import {
  BetterAuthError,
  InvalidMessageError,
  StorageUnavailableError,
} from '@better-auth/protocol'
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import { mapError as mapCore, type MappedError } from '@better-auth/server/http'

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

export type { MappedError } from '@better-auth/server/http'

/** The protocol error answer for any failure, fastify's own request errors included. */
export function mapError(error: unknown): MappedError {
  if (!isFastifyError(error)) return mapCore(error)
  const typed = fromFastify(error)
  if (typed === undefined) return mapCore(error)
  // Fastify's 4xx statuses (413, 415) say more than a generic 400 for the same BA101.
  return { ...mapCore(typed), status: error.statusCode ?? 400 }
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
