import { buildRequestPayload, signPayload, type SigningKey } from '@better-auth/protocol'
import { afterEach, describe, expect, it, vi } from 'vitest'
import {
  codeOf,
  createHarness,
  generateKey,
  hasher,
  newAccount,
  verifier,
  type Harness,
} from './harness.js'

const NONCE = '0ABic13dCJIYixhIS8fd6kfC'
const fooBar = { foo: 'bar', bar: 'foo' }

afterEach(() => {
  vi.restoreAllMocks()
})

/** The device id the client created its account with. */
function createdDevice(harness: Harness): string {
  return JSON.parse(harness.lastSent('/account/create')).payload.request.authentication
    .device as string
}

/** An account with a second, linked device. */
async function twoDevices(harness: Harness) {
  const account = await newAccount(harness)
  const added = harness.newClient()
  const container = await added.generateLinkContainer(account.identity)
  await account.client.linkDevice(container)
  return { ...account, added, container, original: createdDevice(harness) }
}

describe('a refused rotation-gated request leaves the rotation unspent', () => {
  it('linkDevice of a container already linked (BA602): the device rotates afterwards', async () => {
    const harness = await createHarness()
    const { client, container } = await twoDevices(harness)
    expect(await codeOf(client.linkDevice(container))).toBe('BA602')
    await client.rotateDevice()
    await client.createSession()
    expect(await client.makeAccessRequest('/foo/bar', fooBar)).toEqual({
      wasFoo: 'bar',
      wasBar: 'foo',
    })
  })

  it('unlinkDevice of an unknown or revoked device (BA103): the device rotates afterwards', async () => {
    const harness = await createHarness()
    const { client, added } = await twoDevices(harness)
    expect(await codeOf(client.unlinkDevice(await hasher.sum('no such device')))).toBe('BA103')
    await client.rotateDevice()

    // Unlinked once by the other device, unlinking it again is refused the same way.
    const original = createdDevice(harness)
    await added.unlinkDevice(original)
    const third = harness.newClient()
    await added.linkDevice(await third.generateLinkContainer(identityOf(harness)))
    expect(await codeOf(added.unlinkDevice(original))).toBe('BA103')
    await added.rotateDevice()
    await third.rotateDevice()
  })

  it('deleteAccount signed by a stranger (BA104): nothing is deleted, the device rotates', async () => {
    const harness = await createHarness()
    const { client, identity } = await newAccount(harness)
    const device = createdDevice(harness)
    const forged = await strangerRequest('deleteAccount', identity, device)
    expect(errorOf(await harness.dispatch('/account/delete', forged)).code).toBe('BA104')
    await client.rotateDevice()
    await client.createSession()
    await client.deleteAccount()
  })

  it('changeRecoveryKey signed by a stranger (BA104): the recovery key is kept, the device rotates', async () => {
    const harness = await createHarness()
    const { client, identity, recoveryKey } = await newAccount(harness)
    const device = createdDevice(harness)
    const forged = await strangerRequest('changeRecoveryKey', identity, device)
    expect(errorOf(await harness.dispatch('/recovery/change', forged)).code).toBe('BA104')
    await client.rotateDevice()
    // The recovery key the stranger tried to replace still recovers the account.
    const fresh = harness.newClient()
    const next = await generateKey()
    await fresh.recoverAccount(identity, recoveryKey, await hasher.sum(await next.public()))
    await fresh.rotateDevice()
  })

  it('linkDevice and unlinkDevice signed by a stranger (BA104): nothing changes', async () => {
    const harness = await createHarness()
    const { client, identity, added, original } = await twoDevices(harness)
    const addedDevice = JSON.parse(harness.lastSent('/device/link')).payload.request.link.payload
      .authentication.device as string
    const unlink = await strangerRequest('unlinkDevice', identity, original, addedDevice)
    expect(errorOf(await harness.dispatch('/device/unlink', unlink)).code).toBe('BA104')
    await added.rotateDevice()
    await client.rotateDevice()
  })
})

describe('a stranger cannot tell a live device from an unknown or revoked one', () => {
  it('answers a rotation naming any of them with the same error, after the same work', async () => {
    const harness = await createHarness()
    const { identity, added, original } = await twoDevices(harness)
    const revoked = original
    await added.unlinkDevice(revoked)
    const live = JSON.parse(harness.lastSent('/device/unlink')).payload.request.authentication
      .device as string
    const unknown = await hasher.sum('never registered')

    const sum = vi.spyOn(hasher, 'sum')
    const verify = vi.spyOn(verifier, 'verify')
    const answers = []
    for (const device of [live, unknown, revoked]) {
      const message = await strangerRequest('rotateDevice', identity, device)
      sum.mockClear()
      verify.mockClear()
      const answer = await harness.dispatch('/device/rotate', message)
      answers.push({
        error: errorOf(answer),
        hashes: sum.mock.calls.length,
        verifies: verify.mock.calls.length,
      })
    }
    expect(answers[0]!.error).toEqual({
      code: 'BA104',
      message: 'Hash validation failed (rotation): key does not match the commitment',
    })
    expect(answers[0]!.hashes).toBe(1)
    expect(answers[0]!.verifies).toBe(1)
    expect(answers[1]).toEqual(answers[0])
    expect(answers[2]).toEqual(answers[0])
  })
})

function identityOf(harness: Harness): string {
  return JSON.parse(harness.lastSent('/account/create')).payload.request.authentication
    .identity as string
}

function errorOf(answer: string): { code: string; message: string; context?: unknown } {
  const parsed = JSON.parse(answer) as {
    error?: { code: string; message: string; context?: unknown }
  }
  if (parsed.error === undefined) throw new Error('expected an error answer')
  return parsed.error
}

/**
 * A request naming someone else's (identity, device), well formed and validly signed by a key the
 * stranger holds, revealing that key as if it were the device's committed one.
 */
async function strangerRequest(
  kind: 'rotateDevice' | 'deleteAccount' | 'changeRecoveryKey' | 'unlinkDevice',
  identity: string,
  device: string,
  target?: string,
): Promise<string> {
  const key: SigningKey = await generateKey()
  const authentication = {
    device,
    identity,
    publicKey: await key.public(),
    rotationHash: await hasher.sum(await (await generateKey()).public()),
  }
  switch (kind) {
    case 'rotateDevice':
    case 'deleteAccount':
      return signPayload(key, buildRequestPayload(kind, NONCE, { authentication }))
    case 'changeRecoveryKey':
      return signPayload(
        key,
        buildRequestPayload(kind, NONCE, {
          authentication: { ...authentication, recoveryHash: await hasher.sum('stranger') },
        }),
      )
    case 'unlinkDevice':
      return signPayload(
        key,
        buildRequestPayload(kind, NONCE, { authentication, link: { device: target ?? device } }),
      )
  }
}
