import { decodeCesr, encodeCesr } from '@better-auth/cesr'
import { describe, expect, it } from 'vitest'

// The examples of README.md, against the package entry ('@better-auth/protocol' is ./index.ts).
import {
  AlreadyExistsError,
  BetterAuthError,
  ConfigurationError,
  DEFAULT_MAX_MESSAGE_LENGTH,
  ExpiredNonceError,
  ExpiredTokenError,
  FutureRequestError,
  FutureTokenError,
  IncorrectNonceError,
  InvalidDeviceError,
  InvalidHashError,
  InvalidIdentityError,
  InvalidMessageError,
  InvalidSignatureError,
  InvalidStateError,
  InvalidTokenError,
  MismatchedIdentitiesError,
  MissingCredentialError,
  InvalidCredentialError,
  NetworkError,
  ProtocolError,
  ReplayError,
  StaleRequestError,
  StorageUnavailableError,
  buildRequestPayload,
  errorBody,
  parseRequest,
  protocols,
  remoteError,
  signPayload,
  signPayloadText,
  verifyEnvelope,
  type Hasher,
  type Noncer,
  type SigningKey,
  type Verifier,
} from './index.js'

/*
 * @better-auth/protocol cannot depend on @better-auth/crypto (crypto depends on it), so the
 * README's NobleP256SigningKey, NobleP256Verifier, Blake3Hasher and SecureNoncer are stood in for
 * by minimal implementations of the same interfaces on Web Crypto: real P-256 signatures, and
 * SHA-256 in place of BLAKE3 (the protocol code only sees 32-byte `E…` digests either way).
 */
const subtle = globalThis.crypto.subtle
const utf8 = (text: string) => new Uint8Array(new TextEncoder().encode(text))

const verifierStandIn: Verifier = {
  async verify(message, signature, publicKey) {
    try {
      const point = decodeCesr(publicKey)
      const sig = decodeCesr(signature)
      if (point.code !== '1AAI' || sig.code !== '0I') return false
      const key = await subtle.importKey(
        'raw',
        new Uint8Array(point.raw),
        { name: 'ECDSA', namedCurve: 'P-256' },
        false,
        ['verify'],
      )
      const signatureBytes = new Uint8Array(sig.raw)
      return await subtle.verify(
        { name: 'ECDSA', hash: 'SHA-256' },
        key,
        signatureBytes,
        utf8(message),
      )
    } catch {
      return false
    }
  },
}

async function generateStandIn(): Promise<SigningKey> {
  const pair = await subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, [
    'sign',
    'verify',
  ])
  const raw = new Uint8Array(await subtle.exportKey('raw', pair.publicKey))
  const compressed = new Uint8Array(33)
  compressed[0] = 2 | (raw[64]! & 1)
  compressed.set(raw.subarray(1, 33), 1)
  const publicKey = encodeCesr('1AAI', compressed)
  return {
    public: () => Promise.resolve(publicKey),
    verifier: () => verifierStandIn,
    verify: (message, signature) => verifierStandIn.verify(message, signature, publicKey),
    async sign(message) {
      const signature = await subtle.sign(
        { name: 'ECDSA', hash: 'SHA-256' },
        pair.privateKey,
        utf8(message),
      )
      return encodeCesr('0I', new Uint8Array(signature))
    },
  }
}

const NobleP256SigningKey = { generate: generateStandIn }
class NobleP256Verifier implements Verifier {
  verify = verifierStandIn.verify
}
class Blake3Hasher implements Hasher {
  async sum(message: string): Promise<string> {
    return encodeCesr('E', new Uint8Array(await subtle.digest('SHA-256', utf8(message))))
  }
}
class SecureNoncer implements Noncer {
  generate128(): Promise<string> {
    return Promise.resolve(encodeCesr('0A', crypto.getRandomValues(new Uint8Array(16))))
  }
}

/** The README's usage example, up to the signed message. */
async function signedCreateAccount() {
  const hasher = new Blake3Hasher()
  const key = await NobleP256SigningKey.generate()
  const next = await NobleP256SigningKey.generate()
  const recovery = await NobleP256SigningKey.generate()
  const publicKey = await key.public()
  const rotationHash = await hasher.sum(await next.public())
  const recoveryHash = await hasher.sum(await recovery.public())
  const device = await hasher.sum(publicKey + rotationHash)
  const identity = await hasher.sum(publicKey + rotationHash + recoveryHash)

  const payload = buildRequestPayload('createAccount', await new SecureNoncer().generate128(), {
    authentication: { device, identity, publicKey, recoveryHash, rotationHash },
  })
  const message = await signPayload(key, payload)
  return { key, publicKey, device, identity, recoveryHash, rotationHash, message }
}

async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise
  } catch (error) {
    return error
  }
  throw new Error('expected a rejection')
}

function thrownBy(run: () => unknown): unknown {
  try {
    run()
  } catch (error) {
    return error
  }
  throw new Error('expected an error')
}

describe('README: usage', () => {
  it('signs a request that parses and verifies', async () => {
    const { message, identity } = await signedCreateAccount()
    expect(message).toMatch(/^\{"payload":\{"access":\{"nonce":"0A[^"]+"\},"request":/)
    expect(message).toMatch(/,"signature":"0I[A-Za-z0-9_-]{86}"\}$/)
    expect(protocols.createAccount.path).toBe('/account/create')

    const request = parseRequest('createAccount', message)
    expect(request.payload.request.authentication.identity).toBe(identity)
    const verifier = new NobleP256Verifier()
    await expect(
      verifyEnvelope(
        request,
        verifier,
        request.payload.request.authentication.publicKey,
        'request',
      ),
    ).resolves.toBeUndefined()
  })

  it('refuses a tampered message with InvalidSignatureError (BA201)', async () => {
    const { message, identity, device, publicKey } = await signedCreateAccount()
    const tampered = parseRequest('createAccount', message.replace(identity, device))
    const error = await rejectionOf(
      verifyEnvelope(tampered, new NobleP256Verifier(), publicKey, 'request'),
    )
    expect(error).toBeInstanceOf(InvalidSignatureError)
    expect(error).toMatchObject({ code: 'BA201', context: { signed: 'request' } })
  })

  it('refuses malformed input with InvalidMessageError (BA101) naming the field', async () => {
    const { message } = await signedCreateAccount()
    const error = thrownBy(() =>
      parseRequest('createAccount', message.replace(/"nonce":"[^"]+"/, '"nonce":42')),
    )
    expect(error).toBeInstanceOf(InvalidMessageError)
    const typed = error as InvalidMessageError
    expect(typed.code).toBe('BA101')
    expect(typed.context.field).toBe('payload.access.nonce')
    expect(errorBody(error)).toEqual({
      error: {
        code: 'BA101',
        message:
          'Invalid message: payload.access.nonce: expected a 128-bit nonce (0A…), got a number',
      },
    })
  })
})

describe('README: messages', () => {
  it('lists every protocol with its path and whether it is signed', () => {
    expect(
      Object.entries(protocols).map(([name, { path, signed }]) => [name, path, signed]),
    ).toEqual([
      ['createAccount', '/account/create', true],
      ['recoverAccount', '/account/recover', true],
      ['deleteAccount', '/account/delete', true],
      ['requestSession', '/session/request', false],
      ['createSession', '/session/create', true],
      ['refreshSession', '/session/refresh', true],
      ['rotateDevice', '/device/rotate', true],
      ['linkDevice', '/device/link', true],
      ['unlinkDevice', '/device/unlink', true],
      ['changeRecoveryKey', '/recovery/change', true],
    ])
  })

  it('verifies over the received bytes, whatever their key order and whitespace', async () => {
    const { key, publicKey, device, identity, recoveryHash, rotationHash } =
      await signedCreateAccount()
    // Keys in another order than the canonical one, and whitespace: still a valid message.
    const text = `{ "request": { "authentication": { "rotationHash": "${rotationHash}", "recoveryHash": "${recoveryHash}", "publicKey": "${publicKey}", "identity": "${identity}", "device": "${device}" } }, "access": { "nonce": "${await new SecureNoncer().generate128()}" } }`
    const request = parseRequest('createAccount', await signPayloadText(key, text))
    expect(request.payloadText).toBe(text)
    await verifyEnvelope(request, new NobleP256Verifier(), publicKey, 'request')
    // A re-serialization is another text, and its signature would not verify.
    const reserialized = JSON.stringify(request.payload)
    expect(Object.keys(JSON.parse(reserialized) as object)).toEqual(['access', 'request'])
    expect(await new NobleP256Verifier().verify(reserialized, request.signature!, publicKey)).toBe(
      false,
    )
  })

  it('refuses unknown keys, missing keys, a signature on an unsigned message and oversize input', async () => {
    const { message } = await signedCreateAccount()
    const fieldOf = (text: string, options?: { maxLength: number }) =>
      (thrownBy(() => parseRequest('createAccount', text, options)) as InvalidMessageError).context
        .field
    expect(fieldOf(message.replace('"device":', '"extra":1,"device":'))).toBe(
      'payload.request.authentication.extra',
    )
    expect(fieldOf(message.replace(/"device":"[^"]+",/, ''))).toBe(
      'payload.request.authentication.device',
    )
    expect(fieldOf(message, { maxLength: message.length - 1 })).toBe('message')
    expect(DEFAULT_MAX_MESSAGE_LENGTH).toBe(64 * 1024)

    const unsigned = JSON.stringify({
      payload: buildRequestPayload('requestSession', await new SecureNoncer().generate128(), {
        authentication: { identity: await new Blake3Hasher().sum('x') },
      }),
    })
    expect(parseRequest('requestSession', unsigned).signature).toBeUndefined()
    const withSignature = unsigned.slice(0, -1) + `,"signature":"${'0I' + 'A'.repeat(86)}"}`
    expect(
      (thrownBy(() => parseRequest('requestSession', withSignature)) as InvalidMessageError).context
        .field,
    ).toBe('message.signature')
  })
})

describe('README: errors', () => {
  it('has the code of the table on each class and its instances', () => {
    const table: [{ readonly code: string; readonly name: string }, string][] = [
      [BetterAuthError, 'BA000'],
      [ConfigurationError, 'BA001'],
      [InvalidMessageError, 'BA101'],
      [InvalidIdentityError, 'BA102'],
      [InvalidDeviceError, 'BA103'],
      [InvalidHashError, 'BA104'],
      [InvalidSignatureError, 'BA201'],
      [IncorrectNonceError, 'BA203'],
      [ExpiredNonceError, 'BA204'],
      [ReplayError, 'BA205'],
      [MismatchedIdentitiesError, 'BA302'],
      [MissingCredentialError, 'BA303'],
      [InvalidCredentialError, 'BA304'],
      [ExpiredTokenError, 'BA401'],
      [InvalidTokenError, 'BA402'],
      [FutureTokenError, 'BA403'],
      [StaleRequestError, 'BA501'],
      [FutureRequestError, 'BA502'],
      [AlreadyExistsError, 'BA602'],
      [StorageUnavailableError, 'BA603'],
      [NetworkError, 'BA801'],
      [ProtocolError, 'BA803'],
      [InvalidStateError, 'BA901'],
    ]
    expect(table.map(([errorClass]) => [errorClass.name, errorClass.code])).toEqual(
      table.map(([errorClass, code]) => [errorClass.name, code]),
    )

    const error = new ExpiredTokenError('refresh')
    expect(ExpiredTokenError.code).toBe('BA401')
    expect(error).toMatchObject({
      name: 'ExpiredTokenError',
      code: 'BA401',
      context: { tokenType: 'refresh' },
    })
    expect(Object.isFrozen(error.context)).toBe(true)
  })

  it('sends no context and no internals in error bodies', () => {
    const cause = new Error('connect ECONNREFUSED postgres://user:secret@db')
    const storage = new StorageUnavailableError('postgres', cause)
    expect(storage.cause).toBe(cause)
    expect(errorBody(storage)).toEqual({
      error: { code: 'BA603', message: 'Storage backend is unavailable: postgres' },
    })
    expect(errorBody(new TypeError('x is undefined at /srv/app.js:12'))).toEqual({
      error: { code: 'BA000', message: 'Internal error' },
    })
    expect(storage.toJSON().error.context).toEqual({ backend: 'postgres' })

    const remote = remoteError('BA401', 'Token has expired (refresh)', { tokenType: 'refresh' })
    expect(remote).toBeInstanceOf(ExpiredTokenError)
    expect(remote).toMatchObject({
      code: 'BA401',
      name: 'ExpiredTokenError',
      context: { remote: true, tokenType: 'refresh' },
    })
  })
})
