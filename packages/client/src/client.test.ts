import { describe, expect, it } from 'vitest'
import {
  createClient,
  createWorld,
  decode,
  hasher,
  recoveryPair,
  shapeOf,
  signedBy,
  timestamper,
  FIXED_NOW,
} from '../../server/src/testing-internal/client-world.js'

// Test-only loose view of a sent message.
const sent = (message: string) => decode<any>(message)

async function setup() {
  const world = createWorld()
  const { client, stores } = await createClient(world)
  const recovery = await recoveryPair()
  const ids = await client.createAccount(recovery.hash)
  return { world, server: world.server, client, stores, recovery, ids }
}

describe('createAccount', () => {
  it('sends the canonical CreateAccount message, signed by the new key', async () => {
    const world = createWorld()
    const { client, stores } = await createClient(world)
    const recovery = await recoveryPair()
    const result = await client.createAccount(recovery.hash)

    const { path, message } = world.server.lastRequest
    expect(path).toBe('/account/create')
    expect(shapeOf(message)).toBe(
      '{"payload":{"access":{"nonce":"<nonce>"},"request":{"authentication":{"device":"<digest>",' +
        '"identity":"<digest>","publicKey":"<publicKey>","recoveryHash":"<digest>",' +
        '"rotationHash":"<digest>"}}},"signature":"<signature>"}',
    )
    const request = sent(message)
    const a = request.payload.request.authentication
    expect(a.recoveryHash).toBe(recovery.hash)
    expect(a.device).toBe(await hasher.sum(a.publicKey + a.rotationHash))
    expect(a.identity).toBe(await hasher.sum(a.publicKey + a.rotationHash + recovery.hash))
    expect(a.publicKey).toBe(await (await stores.authenticationKey.signer()).public())
    expect(await signedBy(request, a.publicKey)).toBe(true)

    expect(result).toEqual({ identity: a.identity, device: a.device })
    expect(await stores.identity.get()).toBe(a.identity)
    expect(await stores.device.get()).toBe(a.device)
    expect(await world.deviceKey(a.identity, a.device)).toBe(a.publicKey)
    expect(await world.holdsRecoveryHash(a.identity, recovery.hash)).toBe(true)
  })
})

describe('rotateDevice', () => {
  it('reveals the committed key, commits to a new one, and signs with the revealed key', async () => {
    const { server, client, stores, ids } = await setup()
    const created = sent(server.lastRequest.message).payload.request.authentication

    await client.rotateDevice()
    const { path, message } = server.lastRequest
    expect(path).toBe('/device/rotate')
    expect(shapeOf(message)).toBe(
      '{"payload":{"access":{"nonce":"<nonce>"},"request":{"authentication":{"device":"<digest>",' +
        '"identity":"<digest>","publicKey":"<publicKey>","rotationHash":"<digest>"}}},' +
        '"signature":"<signature>"}',
    )
    const request = sent(message)
    const a = request.payload.request.authentication
    expect(a.device).toBe(ids.device)
    expect(a.identity).toBe(ids.identity)
    expect(await hasher.sum(a.publicKey)).toBe(created.rotationHash)
    expect(await signedBy(request, a.publicKey)).toBe(true)
    expect(await signedBy(request, created.publicKey)).toBe(false)
    expect(await (await stores.authenticationKey.signer()).public()).toBe(a.publicKey)

    await client.rotateDevice()
    const second = sent(server.lastRequest.message).payload.request.authentication
    expect(await hasher.sum(second.publicKey)).toBe(a.rotationHash)
    expect(second.device).toBe(ids.device)
  })
})

describe('changeRecoveryKey', () => {
  it('sends a rotation with the new recovery hash in alphabetical position', async () => {
    const { world, server, client, ids } = await setup()
    const next = await recoveryPair()
    await client.changeRecoveryKey(next.hash)
    const { path, message } = server.lastRequest
    expect(path).toBe('/recovery/change')
    expect(shapeOf(message)).toBe(
      '{"payload":{"access":{"nonce":"<nonce>"},"request":{"authentication":{"device":"<digest>",' +
        '"identity":"<digest>","publicKey":"<publicKey>","recoveryHash":"<digest>",' +
        '"rotationHash":"<digest>"}}},"signature":"<signature>"}',
    )
    const request = sent(message)
    expect(request.payload.request.authentication.recoveryHash).toBe(next.hash)
    expect(await signedBy(request, request.payload.request.authentication.publicKey)).toBe(true)
    expect(await world.holdsRecoveryHash(ids.identity, next.hash)).toBe(true)
  })
})

describe('deleteAccount', () => {
  it('sends a rotation and then forgets every piece of client state', async () => {
    const { world, server, client, stores, ids, recovery } = await setup()
    await client.createSession()
    await client.deleteAccount()
    const { path, message } = server.lastRequest
    expect(path).toBe('/account/delete')
    expect(shapeOf(message)).toBe(
      '{"payload":{"access":{"nonce":"<nonce>"},"request":{"authentication":{"device":"<digest>",' +
        '"identity":"<digest>","publicKey":"<publicKey>","rotationHash":"<digest>"}}},' +
        '"signature":"<signature>"}',
    )
    const request = sent(message)
    expect(await signedBy(request, request.payload.request.authentication.publicKey)).toBe(true)
    expect(await world.deviceKey(ids.identity, ids.device)).toBeUndefined()
    expect(await world.holdsRecoveryHash(ids.identity, recovery.hash)).toBe(false)
    expect(await stores.identity.get()).toBeUndefined()
    expect(await stores.device.get()).toBeUndefined()
    expect(await stores.accessToken.get()).toBeUndefined()
    await expect(stores.authenticationKey.signer()).rejects.toMatchObject({ code: 'BA901' })
    await expect(stores.accessKey.signer()).rejects.toMatchObject({ code: 'BA901' })
  })
})

describe('recoverAccount', () => {
  it('registers fresh keys, signed by the recovery key, revoking the old device', async () => {
    const { world, server, ids, recovery } = await setup()
    const { client: fresh, stores } = await createClient(world)
    const next = await recoveryPair()
    const result = await fresh.recoverAccount(ids.identity, recovery.key, next.hash)

    const { path, message } = server.lastRequest
    expect(path).toBe('/account/recover')
    expect(shapeOf(message)).toBe(
      '{"payload":{"access":{"nonce":"<nonce>"},"request":{"authentication":{"device":"<digest>",' +
        '"identity":"<digest>","publicKey":"<publicKey>","recoveryHash":"<digest>",' +
        '"recoveryKey":"<publicKey>","rotationHash":"<digest>"}}},"signature":"<signature>"}',
    )
    const request = sent(message)
    const a = request.payload.request.authentication
    expect(a.identity).toBe(ids.identity)
    expect(a.recoveryHash).toBe(next.hash)
    expect(a.recoveryKey).toBe(await recovery.key.public())
    expect(a.device).toBe(await hasher.sum(a.publicKey + a.rotationHash))
    expect(a.publicKey).toBe(await (await stores.authenticationKey.signer()).public())
    expect(await signedBy(request, a.recoveryKey)).toBe(true)
    expect(await signedBy(request, a.publicKey)).toBe(false)

    expect(result).toEqual({ identity: ids.identity, device: a.device })
    expect(await stores.identity.get()).toBe(ids.identity)
    expect(await stores.device.get()).toBe(a.device)
    expect(await world.deviceKey(ids.identity, ids.device)).toBeUndefined()
    expect(await world.deviceKey(ids.identity, a.device)).toBe(a.publicKey)
  })
})

describe('generateLinkContainer and linkDevice', () => {
  it('builds a self-signed container and embeds it byte for byte in the link rotation', async () => {
    const { world, server, client, ids } = await setup()
    const { client: newDevice, stores: newStores } = await createClient(world)
    const container = await newDevice.generateLinkContainer(ids.identity)

    expect(shapeOf(container)).toBe(
      '{"payload":{"authentication":{"device":"<digest>","identity":"<digest>",' +
        '"publicKey":"<publicKey>","rotationHash":"<digest>"}},"signature":"<signature>"}',
    )
    const parsed = sent(container)
    const c = parsed.payload.authentication
    expect(c.identity).toBe(ids.identity)
    expect(c.device).toBe(await hasher.sum(c.publicKey + c.rotationHash))
    expect(await signedBy(parsed, c.publicKey)).toBe(true)
    expect(await newStores.identity.get()).toBe(ids.identity)
    expect(await newStores.device.get()).toBe(c.device)
    expect(server.requests).toHaveLength(1)

    await client.linkDevice(container)
    const { path, message } = server.lastRequest
    expect(path).toBe('/device/link')
    expect(message).toContain(`"link":${container}}}`)
    expect(shapeOf(message)).toBe(
      '{"payload":{"access":{"nonce":"<nonce>"},"request":{"authentication":{"device":"<digest>",' +
        '"identity":"<digest>","publicKey":"<publicKey>","rotationHash":"<digest>"},' +
        `"link":${shapeOf(container)}}},"signature":"<signature>"}`,
    )
    const request = sent(message)
    const a = request.payload.request.authentication
    expect(a.device).toBe(ids.device)
    expect(await signedBy(request, a.publicKey)).toBe(true)
    expect(await world.deviceKey(ids.identity, c.device)).toBe(c.publicKey)
  })

  it('embeds a container verbatim even when it is not compact', async () => {
    const { world, server, client, ids } = await setup()
    const { client: newDevice, stores: newStores } = await createClient(world)
    const compact = await newDevice.generateLinkContainer(ids.identity)
    // Re-sign a spaced-out payload: still a valid container, but only its exact bytes verify.
    const spacedPayload = JSON.stringify(sent(compact).payload, null, 1)
    const signer = await newStores.authenticationKey.signer()
    const container = `\n { "payload" : ${spacedPayload} , "signature" : "${await signer.sign(spacedPayload)}" } \n`
    server.requireCompact = false

    await client.linkDevice(container)
    expect(server.lastRequest.message).toContain(`"link":${container.trim()}}}`)
    const c = sent(compact).payload.authentication
    expect(await world.deviceKey(ids.identity, c.device)).toBe(c.publicKey)
  })
})

describe('unlinkDevice', () => {
  it('revokes another device with an ordinary rotation', async () => {
    const { world, server, client, stores, ids } = await setup()
    const { client: other } = await createClient(world)
    const container = await other.generateLinkContainer(ids.identity)
    await client.linkDevice(container)
    const otherDevice = sent(container).payload.authentication.device as string

    const pending = await stores.authenticationKey.next()
    await client.unlinkDevice(otherDevice)
    const { path, message } = server.lastRequest
    expect(path).toBe('/device/unlink')
    expect(shapeOf(message)).toBe(
      '{"payload":{"access":{"nonce":"<nonce>"},"request":{"authentication":{"device":"<digest>",' +
        '"identity":"<digest>","publicKey":"<publicKey>","rotationHash":"<digest>"},' +
        '"link":{"device":"<digest>"}}},"signature":"<signature>"}',
    )
    const request = sent(message)
    expect(request.payload.request.link.device).toBe(otherDevice)
    expect(request.payload.request.authentication.publicKey).toBe(pending.publicKey)
    expect(request.payload.request.authentication.rotationHash).toBe(pending.rotationHash)
    expect(await signedBy(request, pending.publicKey)).toBe(true)
    expect(await world.deviceKey(ids.identity, otherDevice)).toBeUndefined()
    expect(await stores.device.get()).toBe(ids.device)
    await client.rotateDevice()
  })

  it('double-hashes the commitment when a device unlinks itself, ending its chain', async () => {
    const { world, server, client, ids } = await setup()
    const { client: other, stores: otherStores } = await createClient(world)
    const container = await other.generateLinkContainer(ids.identity)
    await client.linkDevice(container)
    const otherDevice = sent(container).payload.authentication.device as string

    const pending = await otherStores.authenticationKey.next()
    await other.unlinkDevice(otherDevice)
    const request = sent(server.lastRequest.message)
    const a = request.payload.request.authentication
    expect(request.payload.request.link.device).toBe(otherDevice)
    expect(a.device).toBe(otherDevice)
    expect(a.publicKey).toBe(pending.publicKey)
    expect(a.rotationHash).toBe(await hasher.sum(pending.rotationHash))
    expect(await signedBy(request, pending.publicKey)).toBe(true)

    expect(await world.deviceKey(ids.identity, otherDevice)).toBeUndefined()
    // The commitment is a hash of a digest, which no public key can ever reveal.
    const unlinked = (await world.events(ids.identity)).at(-1)
    expect(unlinked).toMatchObject({ type: 'device-unlinked', device: otherDevice })
    expect(unlinked?.rotationHash).toBe(await hasher.sum(pending.rotationHash))
    expect(await otherStores.identity.get()).toBeUndefined()
    expect(await otherStores.device.get()).toBeUndefined()
    await expect(otherStores.authenticationKey.signer()).rejects.toMatchObject({ code: 'BA901' })
    await expect(other.rotateDevice()).rejects.toMatchObject({ code: 'BA901' })
    // The linking device is unaffected.
    await client.rotateDevice()
  })
})

describe('createSession', () => {
  it('requests a challenge unsigned, then answers it signed by the current device key', async () => {
    const { world, server, client, stores, ids } = await setup()
    await client.rotateDevice()
    await client.createSession()

    const [challengeRequest] = server.sentTo('/session/request')
    expect(challengeRequest!.message).toMatch(
      /^\{"payload":\{"access":\{"nonce":"0A[\w-]{22}"\},"request":\{"authentication":\{"identity":"E[\w-]{43}"\}\}\}\}$/,
    )
    expect(sent(challengeRequest!.message).payload.request.authentication.identity).toBe(
      ids.identity,
    )

    const [create] = server.sentTo('/session/create')
    expect(shapeOf(create!.message)).toBe(
      '{"payload":{"access":{"nonce":"<nonce>"},"request":{"access":{"publicKey":"<publicKey>",' +
        '"rotationHash":"<digest>"},"authentication":{"device":"<digest>","nonce":"<nonce>"}}},' +
        '"signature":"<signature>"}',
    )
    const request = sent(create!.message)
    const authKey = await (await stores.authenticationKey.signer()).public()
    expect(await signedBy(request, authKey)).toBe(true)
    expect(request.payload.request.authentication.device).toBe(ids.device)
    expect(request.payload.request.authentication.nonce).not.toBe(request.payload.access.nonce)
    expect(request.payload.request.access.publicKey).toBe(
      await (await stores.accessKey.signer()).public(),
    )

    const token = await stores.accessToken.get()
    expect(await world.token(token!)).toMatchObject({
      identity: ids.identity,
      device: ids.device,
      publicKey: request.payload.request.access.publicKey,
      rotationHash: request.payload.request.access.rotationHash,
    })
  })
})

describe('refreshSession', () => {
  it('rotates the access key, signs with the revealed key and stores the new token', async () => {
    const { world, server, client, stores } = await setup()
    await client.createSession()
    const created = sent(server.lastRequest.message).payload.request.access
    const oldToken = await stores.accessToken.get()

    await client.refreshSession()
    const { path, message } = server.lastRequest
    expect(path).toBe('/session/refresh')
    expect(shapeOf(message)).toBe(
      '{"payload":{"access":{"nonce":"<nonce>"},"request":{"access":{"publicKey":"<publicKey>",' +
        '"rotationHash":"<digest>","token":"<token>"}}},"signature":"<signature>"}',
    )
    const request = sent(message)
    const access = request.payload.request.access
    expect(access.token).toBe(oldToken)
    expect(await hasher.sum(access.publicKey)).toBe(created.rotationHash)
    expect(await signedBy(request, access.publicKey)).toBe(true)
    expect(await (await stores.accessKey.signer()).public()).toBe(access.publicKey)
    const newToken = await stores.accessToken.get()
    expect(newToken).not.toBe(oldToken)
    expect((await world.token(newToken!)).publicKey).toBe(access.publicKey)
  })
})

describe('makeAccessRequest', () => {
  it('signs the request with the access key and returns the verified response data', async () => {
    const { server, client, stores } = await setup()
    await client.createSession()
    const response = await client.makeAccessRequest<{ wasFoo: string; wasBar: string }>(
      '/foo/bar',
      {
        foo: 'this is foo',
        bar: 'this is bar',
      },
    )
    expect(response).toEqual({ wasFoo: 'this is foo', wasBar: 'this is bar' })

    const { path, message } = server.lastRequest
    expect(path).toBe('/foo/bar')
    expect(shapeOf(message)).toBe(
      '{"payload":{"access":{"nonce":"<nonce>","timestamp":"<timestamp>","token":"<token>"},' +
        '"request":{"foo":"this is foo","bar":"this is bar"}},"signature":"<signature>"}',
    )
    const request = sent(message)
    expect(request.payload.access.timestamp).toBe(timestamper.format(new Date(FIXED_NOW)))
    expect(request.payload.access.token).toBe(await stores.accessToken.get())
    expect(await signedBy(request, await (await stores.accessKey.signer()).public())).toBe(true)
  })

  it('passes any JSON value through as the request', async () => {
    const { server, client } = await setup()
    await client.createSession()
    await client.makeAccessRequest('/foo/bar', { foo: [1, { x: null }], bar: true })
    expect(sent(server.lastRequest.message).payload.request).toEqual({
      foo: [1, { x: null }],
      bar: true,
    })
    await expect(client.makeAccessRequest('/foo/bar', 'text')).resolves.toEqual({
      wasFoo: null,
      wasBar: null,
    })
  })
})

describe('nonces', () => {
  it('uses a fresh 128-bit nonce for every request', async () => {
    const { server, client } = await setup()
    await client.rotateDevice()
    await client.createSession()
    await client.refreshSession()
    await client.makeAccessRequest('/foo/bar', { foo: 'a', bar: 'b' })
    await client.makeAccessRequest('/foo/bar', { foo: 'a', bar: 'b' })
    const nonces = server.requests.map((r) => sent(r.message).payload.access.nonce as string)
    expect(nonces).toHaveLength(7)
    for (const nonce of nonces) expect(nonce).toMatch(/^0A[A-Za-z0-9_-]{22}$/)
    expect(new Set(nonces).size).toBe(nonces.length)
  })
})
