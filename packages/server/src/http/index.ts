/**
 * The framework-neutral HTTP layer the framework adapters are built on: a fetch-style handler,
 * body limits, content-type checks and the status table.
 *
 * @module @better-auth/server/http
 */
export {
  BetterAuthHttp,
  toResponse,
  webBody,
  webClient,
  type AccessHandler,
  type BetterAuthHttpOptions,
  type Failure,
  type HttpAnswer,
  type HttpMetrics,
  type HttpRoute,
  type MountedRoute,
  type ReadinessOptions,
  type WebConnection,
} from './handler.js'
export { ADMIN_EVENTS_PAGE, type AdminOperation, type AdminRoutesOptions } from './admin-routes.js'
export { BearerCredentials } from './bearer-credentials.js'
export type { HttpSpan, HttpTracer, RequestOutcome, SpanEnd } from '../operations/tracing.js'
export type { ClientAddressOptions, RequestClient } from './client-address.js'
export {
  checkContentType,
  decode as decodeBody,
  readBody,
  readBodyThen,
  tooLarge,
  type BodyCallback,
  type BodySource,
  type RequestBody,
} from './body.js'
export {
  HttpRefusal,
  STATUS_BY_CODE,
  failureKind,
  mapError,
  type FailureKind,
  type MappedError,
} from './errors.js'
