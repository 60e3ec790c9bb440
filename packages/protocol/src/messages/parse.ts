import { objectMembers, spanAt } from '../json/spans.js'
import type { JsonValue, Validator } from '../schema.js'
import {
  parseEnvelope,
  parseEnvelopeAt,
  readEnvelope,
  type Envelope,
  type ParseOptions,
} from './envelope.js'
import {
  accessRequestPayload,
  accessResponsePayload,
  linkContainerPayload,
  protocols,
  requestPayloadValidator,
  responsePayloadValidator,
  type AccessRequestAccess,
  type AccessRequestPayload,
  type LinkContainerPayload,
  type ProtocolName,
  type RequestBody,
  type RequestPayload,
  type ResponseBody,
  type ResponsePayload,
  type ServerAccess,
} from './protocols.js'

type RequestValidators = { [K in ProtocolName]: Validator<RequestPayload<RequestBody<K>>> }
type ResponseValidators = { [K in ProtocolName]: Validator<ResponsePayload<ResponseBody<K>>> }

// Stryker disable all: mapProtocols() only runs at import, before Stryker activates a mutant
function mapProtocols(
  make: (name: ProtocolName) => Validator<unknown>,
): Record<ProtocolName, Validator<unknown>> {
  const result = {} as Record<ProtocolName, Validator<unknown>>
  for (const name of Object.keys(protocols) as ProtocolName[]) result[name] = make(name)
  return result
}
// Stryker restore all

// Built once: validators are closures and the hot path should not rebuild them per message.
const requestValidators = mapProtocols((name) =>
  requestPayloadValidator<unknown>(protocols[name].request),
) as unknown as RequestValidators
const responseValidators = mapProtocols((name) =>
  responsePayloadValidator<unknown>(protocols[name].response),
) as unknown as ResponseValidators

export type RequestEnvelope<K extends ProtocolName> = Envelope<RequestPayload<RequestBody<K>>>
export type ResponseEnvelope<K extends ProtocolName> = Envelope<ResponsePayload<ResponseBody<K>>>

export function parseRequest<K extends ProtocolName>(
  kind: K,
  text: unknown,
  options?: ParseOptions,
): RequestEnvelope<K> {
  return parseEnvelope(text, requestValidators[kind], protocols[kind].signed, options)
}

/** Responses are always signed by the server's response key. */
export function parseResponse<K extends ProtocolName>(
  kind: K,
  text: unknown,
  options?: ParseOptions,
): ResponseEnvelope<K> {
  return parseEnvelope(text, responseValidators[kind], true, options)
}

/** Validates `request` and returns the payload in canonical key order. */
export function buildRequestPayload<K extends ProtocolName>(
  kind: K,
  nonce: string,
  request: RequestBody<K>,
): RequestPayload<RequestBody<K>> {
  return requestValidators[kind]({ access: { nonce }, request }, 'payload')
}

export function buildResponsePayload<K extends ProtocolName>(
  kind: K,
  access: ServerAccess,
  response: ResponseBody<K>,
): ResponsePayload<ResponseBody<K>> {
  return responseValidators[kind]({ access, response }, 'payload')
}

export function parseLinkContainer(
  text: unknown,
  options?: ParseOptions,
): Envelope<LinkContainerPayload> {
  return parseEnvelope(text, linkContainerPayload, true, options)
}

/** The link container inside a link request, with the exact bytes its own signature covers. */
export function linkContainerOf(
  request: RequestEnvelope<'linkDevice'>,
): Envelope<LinkContainerPayload> {
  const text = request.payloadText
  const span = spanAt(text, [0, text.length], ['request', 'link'], 'payload')
  return parseEnvelopeAt(text, span, linkContainerPayload, true, 'payload.request.link')
}

/** How an access request hands over its application data (the `request` member). */
export interface AccessParseOptions extends ParseOptions {
  /**
   * `'value'` (default): parsed, and every number must be exact. `'text'`: the member's exact
   * JSON text, for routes that read numbers beyond what a double holds themselves; duplicate keys,
   * nesting and Unicode are checked all the same.
   */
  readonly request?: 'value' | 'text'
}

export function parseAccessRequest(
  text: unknown,
  options?: AccessParseOptions & { readonly request?: 'value' },
): Envelope<AccessRequestPayload>
export function parseAccessRequest(
  text: unknown,
  options: AccessParseOptions & { readonly request: 'text' },
): Envelope<AccessRequestPayload<string>>
export function parseAccessRequest(
  text: unknown,
  options: AccessParseOptions = {},
): Envelope<AccessRequestPayload<JsonValue>> {
  if (options.request !== 'text') {
    return parseEnvelope(text, accessRequestPayload, true, options)
  }
  const envelope = readEnvelope(text, accessRequestPayload, true, options, false)
  const { payloadText } = envelope
  // Read once more for the member's span: only routes that opted into the raw text pay for it.
  const members = objectMembers(payloadText, [0, payloadText.length], 'message.payload', {
    exactNumbers: false,
    depth: 1,
  })
  const [start, end] = members.get('request')!.span
  return {
    ...envelope,
    payload: { access: envelope.payload.access, request: payloadText.slice(start, end) },
  }
}

export function parseAccessResponse(
  text: unknown,
  options?: ParseOptions,
): Envelope<ResponsePayload<JsonValue>> {
  return parseEnvelope(text, accessResponsePayload, true, options)
}

export function buildAccessRequestPayload(
  access: AccessRequestAccess,
  request: JsonValue,
): AccessRequestPayload {
  return accessRequestPayload({ access, request }, 'payload')
}

export function buildAccessResponsePayload(
  access: ServerAccess,
  response: JsonValue,
): ResponsePayload<JsonValue> {
  return accessResponsePayload({ access, response }, 'payload')
}
