import {
  Blake3Hasher,
  GzipTokenEncoder,
  NobleP256Verifier,
  WebCryptoP256Verifier,
} from '@better-auth/crypto'
import {
  BetterAuthError,
  InvalidSignatureError,
  decodeAccessToken,
  linkContainerOf,
  parseAccessRequest,
  parseAccessResponse,
  parseLinkContainer,
  parseRequest,
  parseResponse,
  serializeEnvelope,
  verifyEnvelope,
  type Envelope,
  type ProtocolName,
  type Verifier,
} from '@better-auth/protocol'
import { describe, expect, it } from 'vitest'
import { jsonById, messageById, type VectorFile } from '../vectors.js'

const PROTOCOL_BY_PREFIX: Record<string, ProtocolName> = {
  'account.create': 'createAccount',
  'account.delete': 'deleteAccount',
  'account.recover': 'recoverAccount',
  'device.link': 'linkDevice',
  'device.unlink': 'unlinkDevice',
  'device.rotate': 'rotateDevice',
  'session.request': 'requestSession',
  'session.create': 'createSession',
  'session.refresh': 'refreshSession',
  'recovery.change': 'changeRecoveryKey',
}

type AnyEnvelope = Envelope<any>

/** Parses a vector with the public parser its id names. */
export function parseVector(id: string, message: string): AnyEnvelope {
  if (id === 'device.link.container') return parseLinkContainer(message)
  if (id === 'access.request') return parseAccessRequest(message)
  if (id === 'access.response') return parseAccessResponse(message)
  const prefix = id.slice(0, id.lastIndexOf('.'))
  const protocol = PROTOCOL_BY_PREFIX[prefix]
  if (protocol === undefined) throw new Error(`unknown vector id ${id}`)
  return id.endsWith('.request')
    ? parseRequest(protocol, message)
    : parseResponse(protocol, message)
}

const encoder = new GzipTokenEncoder()
const hasher = new Blake3Hasher()

/** The key each signed vector verifies with, per the vectors' facts; undefined when not static. */
async function signerOf(id: string, envelope: AnyEnvelope): Promise<string | undefined> {
  const payload = envelope.payload
  if (id.endsWith('.response')) return payload.access.serverIdentity as string
  switch (id) {
    case 'account.recover.request':
      return payload.request.authentication.recoveryKey as string
    case 'device.link.container':
      return payload.authentication.publicKey as string
    case 'session.refresh.request':
      return payload.request.access.publicKey as string
    case 'access.request':
      return (await decodeAccessToken(payload.access.token, encoder)).body.publicKey
    case 'session.request.request':
    case 'session.create.request':
      return undefined
    default:
      return payload.request.authentication.publicKey as string
  }
}

function* tokensOf(id: string, envelope: AnyEnvelope): Generator<string> {
  const payload = envelope.payload
  if (id === 'session.create.response' || id === 'session.refresh.response') {
    yield payload.response.access.token as string
  }
  if (id === 'session.refresh.request') yield payload.request.access.token as string
  if (id === 'access.request') yield payload.access.token as string
}

/** Replaces one base64url character of `text` at `index` with a different one. */
function corruptAt(text: string, index: number): string {
  const c = text[index]!
  const replacement = c === 'A' ? 'B' : 'A'
  return text.slice(0, index) + replacement + text.slice(index + 1)
}

/** Indexes of CESR characters inside the payload, spread over its length. */
function corruptionPoints(message: string, payloadText: string, count: number): number[] {
  const offset = message.indexOf(payloadText)
  const candidates: number[] = []
  for (let i = 0; i < payloadText.length; i++) {
    // Only characters of CESR values (after a `"0I`, `"E`, … opening): structure stays parseable.
    if (/[A-Za-z0-9_-]/.test(payloadText[i]!) && /[A-Za-z0-9_-]/.test(payloadText[i - 1] ?? '')) {
      candidates.push(offset + i)
    }
  }
  const step = Math.max(1, Math.floor(candidates.length / count))
  return candidates.filter((_, i) => i % step === 0).slice(0, count)
}

/**
 * Registers the conformance suite for a vectors file: every implementation detail is reached
 * through the public APIs of @better-auth/protocol and @better-auth/crypto only.
 */
export function describeVectorSuite(name: string, load: () => VectorFile): void {
  const file = load()
  const messages = file.vectors.filter((v) => 'message' in v) as { id: string; message: string }[]
  const backends: [string, Verifier][] = [
    ['noble', new NobleP256Verifier()],
    ['webcrypto', new WebCryptoP256Verifier()],
  ]

  describe(`${name}: spec vectors`, () => {
    it.each(messages.map((v) => [v.id, v.message] as const))(
      '%s parses and re-serializes to the same bytes',
      (id, message) => {
        const envelope = parseVector(id, message)
        expect(serializeEnvelope(JSON.stringify(envelope.payload), envelope.signature)).toBe(
          message,
        )
      },
    )

    for (const [backend, verifier] of backends) {
      it(`${backend}: every statically verifiable signature verifies`, async () => {
        const verified: string[] = []
        for (const { id, message } of messages) {
          const envelope = parseVector(id, message)
          const key = await signerOf(id, envelope)
          if (key === undefined) continue
          await verifyEnvelope(envelope, verifier, key, 'request')
          verified.push(id)
          if (id === 'device.link.request') {
            const container = linkContainerOf(envelope as never)
            await verifyEnvelope(
              container,
              verifier,
              container.payload.authentication.publicKey,
              'link-container',
            )
          }
        }
        expect(verified).toHaveLength(messages.length - 2)
      })

      it(`${backend}: every token decodes and its signature verifies with serverIdentity`, async () => {
        let count = 0
        for (const { id, message } of messages) {
          for (const token of tokensOf(id, parseVector(id, message))) {
            const decoded = await decodeAccessToken(token, encoder)
            expect(decoded.bodyText).toBe(JSON.stringify(decoded.body))
            expect(
              await verifier.verify(
                decoded.bodyText,
                decoded.signature,
                decoded.body.serverIdentity,
              ),
            ).toBe(true)
            count++
          }
        }
        expect(count).toBeGreaterThanOrEqual(4)
      })

      it(`${backend}: a corrupted character in any signed vector fails with a typed error`, async () => {
        for (const { id, message } of messages) {
          const envelope = parseVector(id, message)
          const key = await signerOf(id, envelope)
          if (key === undefined) continue
          for (const index of corruptionPoints(message, envelope.payloadText, 6)) {
            const corrupted = corruptAt(message, index)
            const failure = await (async () => {
              const tampered = parseVector(id, corrupted)
              // A tampered key field must not be trusted either: verify with the original key.
              await verifyEnvelope(tampered, verifier, key, 'request')
            })().then(
              () => undefined,
              (error: unknown) => error,
            )
            expect(failure, `${id} @${index}`).toBeInstanceOf(BetterAuthError)
          }
          const badSignature = corruptAt(message, message.length - 10)
          await expect(
            verifyEnvelope(parseVector(id, badSignature), verifier, key, 'request'),
          ).rejects.toBeInstanceOf(InvalidSignatureError)
        }
      })
    }

    it('responses echo their request nonce', () => {
      for (const { id, message } of messages) {
        if (!id.endsWith('.response')) continue
        const requestId = id.replace(/response$/, 'request')
        const request = parseVector(requestId, messageById(file, requestId))
        expect(parseVector(id, message).payload.access.nonce, id).toBe(request.payload.access.nonce)
      }
    })

    it('device and identity derivations hold where the facts say they do', async () => {
      for (const id of ['account.create.request', 'account.recover.request']) {
        const auth = parseVector(id, messageById(file, id)).payload.request.authentication
        expect(await hasher.sum(auth.publicKey + auth.rotationHash), id).toBe(auth.device)
      }
      const container = parseVector(
        'device.link.container',
        messageById(file, 'device.link.container'),
      )
      const auth = container.payload.authentication
      expect(await hasher.sum(auth.publicKey + auth.rotationHash)).toBe(auth.device)
      const create = parseVector(
        'account.create.request',
        messageById(file, 'account.create.request'),
      )
      const a = create.payload.request.authentication
      expect(await hasher.sum(a.publicKey + a.rotationHash + a.recoveryHash)).toBe(a.identity)
    })

    it('the container inside the link request is the link container vector, verbatim', () => {
      const request = messageById(file, 'device.link.request')
      expect(request).toContain(`"link":${messageById(file, 'device.link.container')}`)
    })

    it('the token chain facts hold', async () => {
      const created = parseVector(
        'session.create.response',
        messageById(file, 'session.create.response'),
      )
      const createRequest = parseVector(
        'session.create.request',
        messageById(file, 'session.create.request'),
      )
      const refresh = parseVector(
        'session.refresh.request',
        messageById(file, 'session.refresh.request'),
      )
      const refreshed = parseVector(
        'session.refresh.response',
        messageById(file, 'session.refresh.response'),
      )
      const token = created.payload.response.access.token as string
      expect(refresh.payload.request.access.token).toBe(token)
      const body = (await decodeAccessToken(token, encoder)).body
      expect(await hasher.sum(refresh.payload.request.access.publicKey)).toBe(body.rotationHash)
      expect(createRequest.payload.request.access.publicKey).toBe(body.publicKey)
      const refreshedBody = (
        await decodeAccessToken(refreshed.payload.response.access.token, encoder)
      ).body
      expect(refreshedBody).toEqual(jsonById(file, 'token.decoded'))
      expect(refreshedBody.refreshExpiry).toBe(body.refreshExpiry)
      expect(refreshedBody.identity).toBe(body.identity)
      expect(refreshedBody.device).toBe(body.device)
    })
  })
}
