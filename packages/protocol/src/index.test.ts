import { expect, it } from 'vitest'

it('pins the public runtime exports', async () => {
  const exports = Object.keys(await import('./index.js')).sort()
  expect(exports).toMatchInlineSnapshot(`
    [
      "AlreadyExistsError",
      "BetterAuthError",
      "ConfigurationError",
      "DEFAULT_MAX_MESSAGE_LENGTH",
      "ERRORS",
      "ExpiredNonceError",
      "ExpiredTokenError",
      "FutureRequestError",
      "FutureTokenError",
      "IncorrectNonceError",
      "InvalidDeviceError",
      "InvalidEndorsementError",
      "InvalidHashError",
      "InvalidIdentityError",
      "InvalidKeyChainError",
      "InvalidMessageError",
      "InvalidSignatureError",
      "InvalidStateError",
      "InvalidTokenError",
      "MAX_JSON_DEPTH",
      "MismatchedIdentitiesError",
      "NetworkError",
      "ProtocolError",
      "ReplayError",
      "StaleRequestError",
      "StorageUnavailableError",
      "Sweeper",
      "accessTokenBody",
      "buildAccessRequestPayload",
      "buildAccessResponsePayload",
      "buildRequestPayload",
      "buildResponsePayload",
      "constantTimeEqual",
      "decodeAccessToken",
      "decodeUtf8",
      "encodeAccessToken",
      "errorBody",
      "isBetterAuthError",
      "isErrorCode",
      "linkContainerOf",
      "parseAccessRequest",
      "parseAccessResponse",
      "parseEnvelope",
      "parseLinkContainer",
      "parseRequest",
      "parseResponse",
      "protocols",
      "remoteError",
      "serializeEnvelope",
      "signPayload",
      "signPayloadText",
      "storageBackend",
      "storeErrors",
      "verificationKey",
      "verifyEnvelope",
    ]
  `)
})

it('keeps the helpers the packages share behind @better-auth/protocol/internal', async () => {
  const exports = Object.keys(await import('./internal/index.js')).sort()
  expect(exports).toEqual([
    'LruCache',
    'cesrField',
    'digestField',
    'nonceField',
    'publicKeyField',
    'signatureField',
    'timestampField',
    'tokenField',
  ])
})
