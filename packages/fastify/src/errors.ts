import { BetterAuthError, InvalidMessageError } from '@better-auth/protocol'
import type { FastifyBaseLogger, FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import {
  failureKind,
  mapError as mapCore,
  type Failure,
  type MappedError,
} from '@better-auth/server/http'

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
  logFailure(request.log, {
    error,
    kind: clientGone(error, request) ? 'disconnected' : failureKind(error),
    status: mapped.status,
    code: mapped.body.error.code,
  })
  // Unread bytes past the limit are not drained: the connection closes instead.
  if (mapped.status === 413) void reply.header('connection', 'close')
  return reply.code(mapped.status).type('application/json').send(JSON.stringify(mapped.body))
}

/** Logs a failure the plugin answered, at a level by kind; never the request body. */
export function logFailure(log: FastifyBaseLogger, failure: Failure): void {
  switch (failure.kind) {
    case 'disconnected':
      // Routine on any public server; an error line with a stack for each would bury real failures.
      log.info('better-auth: client disconnected before the request was read')
      return
    case 'unexpected':
      log.error({ err: failure.error }, 'better-auth: unexpected failure')
      return
    case 'storage':
      log.error(
        { code: failure.code, cause: (failure.error as { cause?: unknown }).cause },
        'better-auth: storage unavailable',
      )
      return
    case 'refused':
      log.info({ code: failure.code }, 'better-auth: request refused')
  }
}

/** The client closed the connection mid-request: nothing is wrong on our side. */
function clientGone(error: unknown, request: FastifyRequest): boolean {
  return (
    request.raw.readableAborted ||
    request.raw.socket?.destroyed === true ||
    failureKind(error) === 'disconnected'
  )
}
