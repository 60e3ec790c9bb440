export {
  BetterAuthHttp,
  toResponse,
  webBody,
  type AccessHandler,
  type BetterAuthHttpOptions,
  type Failure,
  type HttpAnswer,
  type HttpRoute,
} from './handler.js'
export {
  checkContentType,
  decode as decodeBody,
  readBody,
  tooLarge,
  type BodySource,
  type RequestBody,
} from './body.js'
export {
  HttpRefusal,
  STATUS_BY_CODE,
  mapError,
  type FailureKind,
  type MappedError,
} from './errors.js'
