/**
 * The better-auth rotation-chain protocol: messages, signing over exact bytes, access tokens,
 * errors, and the interfaces that crypto suites and stores implement.
 *
 * @module @better-auth/protocol
 */
export * from './errors.js'
export type * from './interfaces/index.js'
export {
  DEFAULT_MAX_MESSAGE_LENGTH,
  parseEnvelope,
  serializeEnvelope,
  signPayload,
  signPayloadText,
  verifyEnvelope,
  type Envelope,
  type ParseOptions,
} from './messages/envelope.js'
export {
  protocols,
  accessTokenBody,
  type AccessRequestAccess,
  type AccessRequestPayload,
  type AccessTokenBody,
  type ClientAccess,
  type LinkContainerPayload,
  type ProtocolName,
  type RequestBody,
  type RequestPayload,
  type ResponseBody,
  type ResponsePayload,
  type ServerAccess,
} from './messages/protocols.js'
export { MAX_JSON_DEPTH } from './json/spans.js'
export { decodeUtf8 } from './json/utf8.js'
export {
  buildAccessRequestPayload,
  buildAccessResponsePayload,
  buildRequestPayload,
  buildResponsePayload,
  linkContainerOf,
  parseAccessRequest,
  parseAccessResponse,
  parseLinkContainer,
  parseRequest,
  parseResponse,
  type AccessParseOptions,
  type RequestEnvelope,
  type ResponseEnvelope,
} from './messages/parse.js'
export { decodeAccessToken, encodeAccessToken, type DecodedAccessToken } from './token.js'
export { constantTimeEqual } from './constant-time.js'
export type { JsonObject, JsonValue, Validator } from './schema.js'
export { verificationKey } from './verification-key.js'
export { storageBackend, storeErrors, type StorageBackend } from './stores/store-errors.js'
export { Sweeper } from './stores/sweeper.js'
