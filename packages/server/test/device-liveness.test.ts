import {
  StorageUnavailableError,
  decodeAccessToken,
  parseAccessRequest,
  type ServerAuthenticationKeyStore,
} from '@better-auth/protocol'
import { describe, expect, it } from 'vitest'
import { AccessVerifier, MemoryTimeLockStore, StaticVerificationKeyStore } from '../src/index.js'
import { codeOf, createHarness, newAccount, tokenEncoder, verifier } from './harness.js'

type Devices = Pick<ServerAuthenticationKeyStore, 'publicKey'>

/** A session's access requests, and verifiers with and without the liveness check. */
async function setup() {
  const harness = await createHarness()
  const { client, identity } = await newAccount(harness)
  await client.createSession()
  const messages: string[] = []
  for (let i = 0; i < 3; i++) {
    await client.makeAccessRequest('/foo/bar', { foo: String(i), bar: 'x' })
    messages.push(harness.lastSent('/foo/bar'))
  }
  const { token } = parseAccessRequest(messages[0]!).payload.access
  const { device } = (await decodeAccessToken(token, tokenEncoder)).body
  const verifierWith = (devices?: Devices) =>
    new AccessVerifier({
      crypto: { verifier },
      encoding: { timestamper: harness.timestamper, tokenEncoder },
      stores: {
        accessNonce: new MemoryTimeLockStore(),
        accessVerificationKeys: new StaticVerificationKeyStore([harness.accessKey]),
        devices,
      },
    })
  return { harness, client, identity, device, messages, verifierWith }
}

describe('AccessVerifier device liveness (stores.devices)', () => {
  it('off by default: a revoked device keeps access until its token expires', async () => {
    const { harness, identity, device, messages, verifierWith } = await setup()
    await harness.stores.authenticationKey.revokeDevice(identity, device)
    expect((await verifierWith().verify(messages[0]!)).token.device).toBe(device)
  })

  it('on: a revoked device is refused at once with BA103, an active one passes', async () => {
    const { harness, identity, device, messages, verifierWith } = await setup()
    const accessVerifier = verifierWith(harness.stores.authenticationKey)
    expect((await accessVerifier.verify(messages[0]!)).token.identity).toBe(identity)
    await harness.stores.authenticationKey.revokeDevice(identity, device)
    expect(await codeOf(accessVerifier.verify(messages[1]!))).toBe('BA103')
  })

  it('on: a deleted account is refused, and the refusal burns no nonce', async () => {
    const { harness, client, messages, verifierWith } = await setup()
    const reads: string[] = []
    const devices: Devices = {
      publicKey: (identity, device) => {
        reads.push(device)
        return harness.stores.authenticationKey.publicKey(identity, device)
      },
    }
    const accessVerifier = verifierWith(devices)
    await client.deleteAccount()
    expect(await codeOf(accessVerifier.verify(messages[0]!))).toBe('BA103')
    expect(reads).toHaveLength(1)
    // A forged request never reaches the store.
    const tampered = messages[1]!.replace('"foo":"1"', '"foo":"9"')
    expect(await codeOf(accessVerifier.verify(tampered))).toBe('BA201')
    expect(reads).toHaveLength(1)
  })

  it('on: a store outage is BA603, not a revocation', async () => {
    const { messages, verifierWith } = await setup()
    const down: Devices = { publicKey: () => Promise.reject(new StorageUnavailableError('pg')) }
    expect(await codeOf(verifierWith(down).verify(messages[0]!))).toBe('BA603')
  })

  it('rejects a devices store without publicKey at construction', async () => {
    const { verifierWith } = await setup()
    expect(() => verifierWith({} as Devices)).toThrow(
      expect.objectContaining({
        code: 'BA001',
        context: expect.objectContaining({ field: 'stores.devices.publicKey' }) as unknown,
      }),
    )
  })
})
