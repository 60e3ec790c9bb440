import { parseLinkContainer } from '@better-auth/protocol'
import { describe, expect, it } from 'vitest'
import { codeOf, createHarness, generateKey, hasher, newAccount } from './harness.js'

const fooBar = { foo: 'bar', bar: 'foo' }
const answer = { wasFoo: 'bar', wasBar: 'foo' }

describe('reference scenarios, in process', () => {
  it('1: create → rotate → session → refresh → access → delete', async () => {
    const harness = await createHarness()
    const { client } = await newAccount(harness)
    await client.rotateDevice()
    await client.createSession()
    await client.refreshSession()
    expect(await client.makeAccessRequest('/foo/bar', fooBar)).toEqual(answer)
    await client.deleteAccount()
  })

  it('2: change recovery key → recover on a fresh client → rotate → session → refresh → access', async () => {
    const harness = await createHarness()
    const { client, identity } = await newAccount(harness)
    const nextRecovery = await generateKey()
    await client.changeRecoveryKey(await hasher.sum(await nextRecovery.public()))

    const fresh = harness.newClient()
    const afterThat = await generateKey()
    await fresh.recoverAccount(identity, nextRecovery, await hasher.sum(await afterThat.public()))
    await fresh.rotateDevice()
    await fresh.createSession()
    await fresh.refreshSession()
    expect(await fresh.makeAccessRequest('/foo/bar', fooBar)).toEqual(answer)

    // Recovery revoked every old device: the original can neither rotate nor sign in. A revoked
    // device's rotation is answered as a wrong key (BA104), as it is for a stranger.
    expect(await codeOf(client.rotateDevice())).toBe('BA104')
    expect(await codeOf(client.createSession())).toBe('BA103')
  })

  it('3: link a device, use it, unlink the original: its refresh fails, the new one works', async () => {
    const harness = await createHarness()
    const { client: original, identity } = await newAccount(harness)
    const added = harness.newClient()
    const container = await added.generateLinkContainer(identity)
    await original.linkDevice(container)

    await original.createSession()
    await added.createSession()
    await added.rotateDevice()
    await added.refreshSession()
    expect(await added.makeAccessRequest('/foo/bar', fooBar)).toEqual(answer)

    const originalDevice = JSON.parse(harness.sent.get('/account/create')![0]!).payload.request
      .authentication.device as string
    await added.unlinkDevice(originalDevice)
    expect(await codeOf(original.refreshSession())).toBe('BA103')
    expect(await codeOf(original.rotateDevice())).toBe('BA104')
    await added.refreshSession()
    expect(await added.makeAccessRequest('/foo/bar', fooBar)).toEqual(answer)
    expect(parseLinkContainer(container).payload.authentication.identity).toBe(identity)
  })

  it('4: a response with the wrong nonce raises IncorrectNonce on the client', async () => {
    const harness = await createHarness()
    const { client } = await newAccount(harness)
    await client.createSession()
    expect(await codeOf(client.makeAccessRequest('/bad/nonce', fooBar))).toBe('BA203')
  })

  it('after delete nothing of the identity remains usable', async () => {
    const harness = await createHarness()
    const { client, identity, recoveryKey } = await newAccount(harness)
    await client.createSession()
    const device = JSON.parse(harness.lastSent('/session/create')).payload.request.authentication
      .device as string
    expect(await harness.stores.authenticationKey.publicKey(identity, device)).toMatch(/^1AAI/)
    await client.deleteAccount()
    const lastRotation = harness.lastSent('/account/delete')
    // The client forgets the account; the server forgets the device and the recovery hash.
    expect(await codeOf(client.createSession())).toBe('BA901')
    expect(await codeOf(harness.stores.authenticationKey.publicKey(identity, device))).toBe('BA103')
    expect(await codeOf(harness.stores.recoveryHash.replace(identity, device))).toBe('BA102')
    // The device is gone server side, whatever the client still holds: its rotation matches
    // no commitment.
    const replay = await harness.dispatch('/account/delete', lastRotation)
    expect(JSON.parse(replay).error.code).toBe('BA104')
    const fresh = harness.newClient()
    const next = await generateKey()
    expect(
      await codeOf(
        fresh.recoverAccount(identity, recoveryKey, await hasher.sum(await next.public())),
      ),
    ).toBe('BA104')
  })

  it('a self-unlinked device cannot rotate again', async () => {
    const harness = await createHarness()
    const { client: original, identity } = await newAccount(harness)
    const added = harness.newClient()
    const container = await added.generateLinkContainer(identity)
    await original.linkDevice(container)
    const addedDevice = parseLinkContainer(container).payload.authentication.device
    await added.createSession()
    await added.unlinkDevice(addedDevice)
    // The client forgets itself; the server no longer knows the device either.
    expect(await codeOf(added.rotateDevice())).toBe('BA901')
    expect(await codeOf(harness.stores.authenticationKey.publicKey(identity, addedDevice))).toBe(
      'BA103',
    )
    const rotations = harness.sent.get('/device/unlink')!
    const unlink = JSON.parse(rotations[rotations.length - 1]!).payload.request.authentication
    // The commitment it left is hash(hash(next key)): no key can ever satisfy it.
    expect(unlink.device).toBe(addedDevice)
    await original.rotateDevice()
  })
})
