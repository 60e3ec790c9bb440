import type { ErrorCode } from '@better-auth/protocol'

/** One table from protocol error codes to HTTP statuses (as @fastify/error gives each a status). */
export const STATUS_BY_CODE: Readonly<Record<ErrorCode, number>> = {
  BA000: 500,
  BA001: 500,
  BA101: 400,
  BA102: 401,
  BA103: 401,
  BA104: 401,
  BA201: 401,
  BA203: 502,
  BA204: 401,
  BA205: 409,
  BA302: 403,
  BA401: 401,
  BA402: 401,
  BA403: 401,
  BA501: 401,
  BA502: 401,
  BA602: 409,
  BA603: 503,
  BA801: 502,
  BA803: 502,
  BA901: 500,
}
