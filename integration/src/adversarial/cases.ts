import { encodeAccessToken, protocols, signPayloadText } from '@better-auth/protocol'
import { generateKey } from '../clients.js'
import { ATTRIBUTES, tokenEncoder, type Driver } from './driver.js'
import type { WireResponse } from './wire.js'

/**
 * One hostile message. `run` sets up what it needs through real, well-formed protocol traffic
 * (throwing SetupError when the server refuses that), then sends the hostile message once and
 * returns the server's answer untouched.
 */
export interface AdversarialCase {
  readonly id: string
  readonly title: string
  /** What a refusal demonstrates, and where that stops. */
  readonly proves: string
  run(driver: Driver): Promise<WireResponse>
}

const MINUTE = 60_000
const HOUR = 60 * MINUTE

/** Replaces the character at `index` with another base64url character (so CESR stays valid). */
export function flipCharAt(text: string, index: number): string {
  const replacement = text[index] === 'A' ? 'B' : 'A'
  return text.slice(0, index) + replacement + text.slice(index + 1)
}

/** The index of the middle of the first string value of `field` in JSON text. */
function middleOfValue(text: string, field: string): number {
  const start = text.indexOf(`"${field}":"`)
  if (start < 0) throw new Error(`no ${field} in ${text}`)
  // Digests are 44 characters; position 20 is well inside the value and past the CESR code and
  // its pad bits, so the tampered value still decodes.
  return start + field.length + 4 + 20
}

export const adversarialCases: readonly AdversarialCase[] = [
  {
    id: 'replayed-access-nonce',
    title: 'replayed access request (same nonce, byte for byte)',
    proves: 'access nonces are single use within the access window',
    async run(d) {
      const session = await d.createSession(await d.createAccount())
      const request = await d.accessRequest(session)
      await d.access(request)
      return d.send(request)
    },
  },
  {
    id: 'replayed-rotation',
    title: 'replayed device rotation',
    proves: 'a revealed key cannot rotate twice: the commitment moved on with the first rotation',
    async run(d) {
      const device = await d.createAccount()
      const rotation = await d.prepareRotate(device)
      await d.submit(rotation)
      return d.send(rotation)
    },
  },
  {
    id: 'rotation-uncommitted-key',
    title: 'rotation revealing a key that was never committed to',
    proves: 'rotations require hash(publicKey) to equal the stored commitment',
    async run(d) {
      const device = await d.createAccount()
      const intruder = await generateKey()
      const after = await generateKey()
      return d.send(
        await d.prepare(
          'rotateDevice',
          {
            authentication: {
              device: device.device,
              identity: device.identity,
              publicKey: await intruder.public(),
              rotationHash: await d.hash(await after.public()),
            },
          },
          intruder,
        ),
      )
    },
  },
  {
    id: 'link-uncommitted-key',
    title: 'link a device through a rotation with an uncommitted key',
    proves:
      'linking is gated by the same rotation check: knowing an identity and a device id is not ' +
      'enough to add a device to the account',
    async run(d) {
      const victim = await d.createAccount()
      const intruder = await generateKey()
      const after = await generateKey()
      const { container } = await d.linkContainer(victim.identity)
      return d.send(
        await d.prepare(
          'linkDevice',
          {
            authentication: {
              device: victim.device,
              identity: victim.identity,
              publicKey: await intruder.public(),
              rotationHash: await d.hash(await after.public()),
            },
            link: container,
          },
          intruder,
        ),
      )
    },
  },
  {
    id: 'tampered-payload-byte',
    title: 'one payload value changed after signing (rotationHash), original signature kept',
    proves:
      'the request signature is checked over the payload: the key revealed is the committed ' +
      'one, so only the signature stands between the tampered commitment and the store',
    async run(d) {
      const device = await d.createAccount()
      const rotation = await d.prepareRotate(device)
      const at = middleOfValue(rotation.message, 'rotationHash')
      return d.send({ path: rotation.path, message: flipCharAt(rotation.message, at) })
    },
  },
  {
    id: 'signature-from-another-key',
    title: 'correct rotation payload signed by an unrelated key',
    proves: 'the signature must be by the key the payload reveals, not by any key',
    async run(d) {
      const device = await d.createAccount()
      const rotation = await d.prepareRotate(device)
      const message = await signPayloadText(await generateKey(), rotation.payloadText)
      return d.send({ path: rotation.path, message })
    },
  },
  {
    id: 'access-signed-by-another-key',
    title: 'access request with a valid token, signed by a key other than the token names',
    proves: 'access requests are verified with the access key inside the token',
    async run(d) {
      const session = await d.createSession(await d.createAccount())
      return d.send(await d.accessRequest(session, { signer: await generateKey() }))
    },
  },
  {
    id: 'token-tampered-body',
    title: 'token body changed (attributes escalated), re-gzipped, original signature kept',
    proves: 'the token signature covers its body: attributes cannot be escalated by a client',
    async run(d) {
      const session = await d.createSession(await d.createAccount())
      const token = await d.retokenize(session.token, (body) => ({
        ...body,
        attributes: { permissionsByRole: { admin: ['read', 'write', 'delete'] } },
      }))
      return d.send(await d.accessRequest(session, { token }))
    },
  },
  {
    id: 'token-unknown-server-key',
    title: "token signed by the client's own key, naming that key as serverIdentity",
    proves: 'tokens are verified only with server access keys the server already trusts',
    async run(d) {
      const session = await d.createSession(await d.createAccount())
      const forger = await generateKey()
      const token = await encodeAccessToken(
        {
          serverIdentity: await forger.public(),
          device: session.device.device,
          identity: session.device.identity,
          publicKey: await session.accessKey.public(),
          rotationHash: await d.hash(await session.accessNext.public()),
          issuedAt: d.timestamp(),
          expiry: d.timestamp(15 * MINUTE),
          refreshExpiry: d.timestamp(12 * HOUR),
          attributes: ATTRIBUTES,
        },
        forger,
        tokenEncoder,
      )
      return d.send(await d.accessRequest(session, { token }))
    },
  },
  {
    id: 'token-expired-forged',
    title: 'token whose issuedAt/expiry were moved 2 h/1 h into the past (signature kept)',
    proves:
      'the validity window is covered by the signature; a server cannot be made to issue an ' +
      'expired token, so this does not show that it enforces expiry (either check refuses it)',
    async run(d) {
      const session = await d.createSession(await d.createAccount())
      const token = await d.retokenize(session.token, (body) => ({
        ...body,
        issuedAt: d.timestamp(-2 * HOUR),
        expiry: d.timestamp(-HOUR),
      }))
      return d.send(await d.accessRequest(session, { token }))
    },
  },
  {
    id: 'token-future-forged',
    title: 'token whose issuedAt/expiry were moved 1 h/2 h into the future (signature kept)',
    proves:
      'as for the expired token: the window is signed; refusal by the signature or by the ' +
      'issuedAt check both count, so it does not isolate the FutureToken check',
    async run(d) {
      const session = await d.createSession(await d.createAccount())
      const token = await d.retokenize(session.token, (body) => ({
        ...body,
        issuedAt: d.timestamp(HOUR),
        expiry: d.timestamp(2 * HOUR),
      }))
      return d.send(await d.accessRequest(session, { token }))
    },
  },
  {
    id: 'stale-access-timestamp',
    title: 'access request stamped now − 10 min (otherwise valid, fresh nonce)',
    proves:
      'the access window is enforced (harness and server share a clock here; 10 min is far ' +
      'beyond the 30 s window and any sane skew allowance)',
    async run(d) {
      const session = await d.createSession(await d.createAccount())
      return d.send(await d.accessRequest(session, { timestamp: d.timestamp(-10 * MINUTE) }))
    },
  },
  {
    id: 'future-access-timestamp',
    title: 'access request stamped now + 10 min (otherwise valid, fresh nonce)',
    proves: 'requests from the future are refused rather than held valid for longer',
    async run(d) {
      const session = await d.createSession(await d.createAccount())
      return d.send(await d.accessRequest(session, { timestamp: d.timestamp(10 * MINUTE) }))
    },
  },
  {
    id: 'challenge-reuse',
    title: 'second session created from an already answered challenge',
    proves: 'authentication challenges are single use',
    async run(d) {
      const device = await d.createAccount()
      const challenge = await d.challenge(device.identity)
      await d.submit((await d.prepareCreateSession(device, challenge)).prepared)
      return d.send((await d.prepareCreateSession(device, challenge)).prepared)
    },
  },
  {
    id: 'challenge-other-identity',
    title: 'device of account B answers a challenge issued for account A',
    proves: 'a challenge is bound to the identity it was requested for',
    async run(d) {
      const a = await d.createAccount()
      const b = await d.createAccount()
      const challenge = await d.challenge(a.identity)
      return d.send((await d.prepareCreateSession(b, challenge)).prepared)
    },
  },
  {
    id: 'link-container-other-identity',
    title: "account A links a container that names account B's identity",
    proves: 'the container identity must match the linking identity (MismatchedIdentities)',
    async run(d) {
      const a = await d.createAccount()
      const b = await d.createAccount()
      const { container } = await d.linkContainer(b.identity)
      const { authentication, signer } = await a.rotation()
      return d.send(await d.prepare('linkDevice', { authentication, link: container }, signer))
    },
  },
  {
    id: 'self-unlinked-device-rotates',
    title: 'device unlinks itself (keeping a usable commitment), then rotates',
    proves:
      'revocation is enforced by the server, not only by the hash(hash(next)) commitment an ' +
      'honest client sends when unlinking itself',
    async run(d) {
      const device = await d.createAccount()
      await d.linkNewDevice(device)
      await d.submit(await d.prepareUnlink(device, device.device))
      return d.send(await d.prepareRotate(device))
    },
  },
  {
    id: 'refresh-revoked-device',
    title: 'session of a device that another device unlinked is refreshed',
    proves: 'a revoked device cannot keep its session alive by refreshing',
    async run(d) {
      const original = await d.createAccount()
      const added = await d.linkNewDevice(original)
      const session = await d.createSession(original)
      await d.submit(await d.prepareUnlink(added, original.device))
      return d.send((await d.prepareRefresh(session)).prepared)
    },
  },
  {
    id: 'replayed-refresh',
    title: 'refresh request replayed byte for byte',
    proves: 'each access key can be used to refresh once',
    async run(d) {
      const session = await d.createSession(await d.createAccount())
      const { prepared } = await d.prepareRefresh(session)
      await d.submit(prepared)
      return d.send(prepared)
    },
  },
  {
    id: 'recovery-wrong-key',
    title: 'account recovery signed with a key that is not the committed recovery key',
    proves: 'recovery requires hash(recoveryKey) to equal the stored recovery hash',
    async run(d) {
      const victim = await d.createAccount()
      const wrong = await generateKey()
      const { rotation } = await d.newDeviceKeys()
      return d.send(
        await d.prepare(
          'recoverAccount',
          {
            authentication: {
              device: rotation.device,
              identity: victim.identity,
              publicKey: rotation.publicKey,
              recoveryHash: await d.hash(await (await generateKey()).public()),
              recoveryKey: await wrong.public(),
              rotationHash: rotation.rotationHash,
            },
          },
          wrong,
        ),
      )
    },
  },
  {
    id: 'malformed-json',
    title: 'truncated JSON body to /account/create',
    proves: 'unparseable input is refused with an error body',
    run(d) {
      return d.send({
        path: protocols.createAccount.path,
        message: '{"payload":{"access":{"nonce":',
      })
    },
  },
  {
    id: 'wrong-types',
    title: 'create-account envelope with numbers, booleans, arrays and null where strings belong',
    proves: 'field types are validated (and the request is signed, so only the types are wrong)',
    async run(d) {
      const signer = await generateKey()
      const payloadText = JSON.stringify({
        access: { nonce: 12345 },
        request: {
          authentication: {
            device: true,
            identity: 1,
            publicKey: [await signer.public()],
            recoveryHash: null,
            rotationHash: {},
          },
        },
      })
      return d.send({
        path: protocols.createAccount.path,
        message: await signPayloadText(signer, payloadText),
      })
    },
  },
  {
    id: 'missing-fields',
    title: 'create account without `device`, signed over the exact bytes sent',
    proves: 'required fields are enforced, not defaulted',
    async run(d) {
      const { key, rotation } = await d.newDeviceKeys()
      const recoveryHash = await d.hash(await (await generateKey()).public())
      const identity = await d.hash(rotation.publicKey + rotation.rotationHash + recoveryHash)
      const payloadText = JSON.stringify({
        access: { nonce: await d.nonce() },
        request: {
          authentication: {
            identity,
            publicKey: rotation.publicKey,
            recoveryHash,
            rotationHash: rotation.rotationHash,
          },
        },
      })
      // Signed by the key it names, over these bytes: only the missing field is wrong.
      return d.send({
        path: protocols.createAccount.path,
        message: await signPayloadText(key, payloadText),
      })
    },
  },
  {
    id: 'oversized-body',
    title: 'otherwise valid account creation padded with 2 MB of JSON whitespace',
    proves:
      'bodies are size-capped: the message is valid JSON and correctly signed, so acceptance ' +
      'means the server reads and acts on arbitrarily large input',
    async run(d) {
      const { prepared } = await d.prepareCreateAccount()
      const padded = prepared.message.slice(0, -1) + ' '.repeat(2 * 1024 * 1024) + '}'
      return d.send({ path: prepared.path, message: padded })
    },
  },
]
