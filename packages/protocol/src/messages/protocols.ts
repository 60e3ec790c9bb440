// Stryker disable all: every schema of this file is built at import, before Stryker activates a
// mutant (mutation/equivalent.md)
import {
  cesr,
  digest,
  json,
  nonce,
  object,
  publicKey,
  signature,
  timestamp,
  token,
  type Infer,
  type JsonValue,
  type Validator,
} from '../schema.js'

const clientAccess = object({ nonce })
const serverAccess = object({ nonce, serverIdentity: publicKey })

const rotation = object({ device: digest, identity: digest, publicKey, rotationHash: digest })
const empty = object({})

/** Payload of the container a new device signs so an existing device can link it. */
export const linkContainerPayload = object({ authentication: rotation })
export const linkContainer = object({ payload: linkContainerPayload, signature })

const tokenResponse = object({ access: object({ token }) })

interface ProtocolDefinition {
  readonly path: string
  readonly signed: boolean
  readonly request: Validator<unknown>
  readonly response: Validator<unknown>
}

function protocol<Req, Res>(
  path: string,
  signed: boolean,
  request: Validator<Req>,
  response: Validator<Res>,
) {
  return { path, signed, request, response } satisfies ProtocolDefinition
}

/** Every protocol: its interop path, whether requests are signed, and the request/response bodies. */
export const protocols = {
  createAccount: protocol(
    '/account/create',
    true,
    object({
      authentication: object({
        device: digest,
        identity: digest,
        publicKey,
        recoveryHash: digest,
        rotationHash: digest,
      }),
    }),
    empty,
  ),
  recoverAccount: protocol(
    '/account/recover',
    true,
    object({
      authentication: object({
        device: digest,
        identity: digest,
        publicKey,
        recoveryHash: digest,
        recoveryKey: cesr('1AAI'),
        rotationHash: digest,
      }),
    }),
    empty,
  ),
  deleteAccount: protocol('/account/delete', true, object({ authentication: rotation }), empty),
  requestSession: protocol(
    '/session/request',
    false,
    object({ authentication: object({ identity: digest }) }),
    object({ authentication: object({ nonce }) }),
  ),
  createSession: protocol(
    '/session/create',
    true,
    object({
      access: object({ publicKey, rotationHash: digest }),
      authentication: object({ device: digest, nonce }),
    }),
    tokenResponse,
  ),
  refreshSession: protocol(
    '/session/refresh',
    true,
    object({ access: object({ publicKey, rotationHash: digest, token }) }),
    tokenResponse,
  ),
  rotateDevice: protocol('/device/rotate', true, object({ authentication: rotation }), empty),
  linkDevice: protocol(
    '/device/link',
    true,
    object({ authentication: rotation, link: linkContainer }),
    empty,
  ),
  unlinkDevice: protocol(
    '/device/unlink',
    true,
    object({ authentication: rotation, link: object({ device: digest }) }),
    empty,
  ),
  changeRecoveryKey: protocol(
    '/recovery/change',
    true,
    object({
      authentication: object({
        device: digest,
        identity: digest,
        publicKey,
        recoveryHash: digest,
        rotationHash: digest,
      }),
    }),
    empty,
  ),
} as const

export type ProtocolName = keyof typeof protocols
export type RequestBody<K extends ProtocolName> = Infer<(typeof protocols)[K]['request']>
export type ResponseBody<K extends ProtocolName> = Infer<(typeof protocols)[K]['response']>

export interface ClientAccess {
  readonly nonce: string
}
export interface ServerAccess {
  readonly nonce: string
  readonly serverIdentity: string
}
export interface RequestPayload<R> {
  readonly access: ClientAccess
  readonly request: R
}
export interface ResponsePayload<R> {
  readonly access: ServerAccess
  readonly response: R
}

export interface AccessRequestAccess {
  readonly nonce: string
  readonly timestamp: string
  readonly token: string
}
export interface AccessRequestPayload<R = JsonValue> {
  readonly access: AccessRequestAccess
  readonly request: R
}

export function requestPayloadValidator<R>(request: Validator<R>): Validator<RequestPayload<R>> {
  return object({ access: clientAccess, request })
}

export function responsePayloadValidator<R>(response: Validator<R>): Validator<ResponsePayload<R>> {
  return object({ access: serverAccess, response })
}

export const accessRequestPayload: Validator<AccessRequestPayload> = object({
  access: object({ nonce, timestamp, token }),
  request: json,
})

export const accessResponsePayload: Validator<ResponsePayload<JsonValue>> =
  responsePayloadValidator(json)

/** Access token body, in the fixed order every implementation signs. */
export const accessTokenBody = object({
  serverIdentity: publicKey,
  device: digest,
  identity: digest,
  publicKey,
  rotationHash: digest,
  issuedAt: timestamp,
  expiry: timestamp,
  refreshExpiry: timestamp,
  attributes: json,
})

export type AccessTokenBody = Infer<typeof accessTokenBody>
export type LinkContainerPayload = Infer<typeof linkContainerPayload>
