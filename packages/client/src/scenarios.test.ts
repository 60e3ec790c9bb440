/**
 * The reference scenarios every client/server pair must pass (spec/PROTOCOL.md), against our
 * server in process (memory stores).
 */
import { IncorrectNonceError } from '@better-auth/protocol'
import { expect, it } from 'vitest'
import {
  createClient,
  createWorld,
  recoveryPair,
} from '../../server/src/testing-internal/client-world.js'

const fooBar = { foo: 'this is foo', bar: 'this is bar' }
const wasFooBar = { wasFoo: 'this is foo', wasBar: 'this is bar' }

it('1: create → rotate → session → refresh → access → delete', async () => {
  const world = createWorld()
  const { client } = await createClient(world)
  const recovery = await recoveryPair()
  const { identity, device } = await client.createAccount(recovery.hash)
  await client.rotateDevice()
  await client.createSession()
  await client.refreshSession()
  await expect(client.makeAccessRequest('/foo/bar', fooBar)).resolves.toEqual(wasFooBar)
  await client.deleteAccount()
  // The world's only account is gone: its device and its recovery hash.
  expect(await world.deviceKey(identity, device)).toBeUndefined()
  expect(await world.holdsRecoveryHash(identity, recovery.hash)).toBe(false)
})

it('2: create → change recovery key → recover on a fresh client → rotate → session → refresh → access', async () => {
  const world = createWorld()
  const { client } = await createClient(world)
  const first = await recoveryPair()
  const second = await recoveryPair()
  const { identity, device } = await client.createAccount(first.hash)
  await client.changeRecoveryKey(second.hash)

  const { client: fresh } = await createClient(world)
  // The replaced recovery key no longer works.
  await expect(
    fresh.recoverAccount(identity, first.key, (await recoveryPair()).hash),
  ).rejects.toMatchObject({
    code: 'BA104',
  })
  await fresh.recoverAccount(identity, second.key, (await recoveryPair()).hash)
  await fresh.rotateDevice()
  await fresh.createSession()
  await fresh.refreshSession()
  await expect(fresh.makeAccessRequest('/foo/bar', fooBar)).resolves.toEqual(wasFooBar)
  // The recovered account revoked the original device; the server answers its rotation as it
  // answers a wrong key.
  expect(await world.deviceKey(identity, device)).toBeUndefined()
  await expect(client.rotateDevice()).rejects.toMatchObject({ code: 'BA104' })
})

it('3: link a device, both use sessions, the new device unlinks the original', async () => {
  const world = createWorld()
  const { client: original } = await createClient(world)
  const { identity, device } = await original.createAccount((await recoveryPair()).hash)
  const { client: added } = await createClient(world)
  const container = await added.generateLinkContainer(identity)
  await original.linkDevice(container)

  await original.createSession()
  await added.createSession()
  await added.rotateDevice()
  await added.refreshSession()
  await expect(added.makeAccessRequest('/foo/bar', fooBar)).resolves.toEqual(wasFooBar)

  await added.unlinkDevice(device)
  await expect(original.refreshSession()).rejects.toMatchObject({ code: 'BA103' })
  await added.refreshSession()
})

it('4: a wrong echoed nonce raises IncorrectNonce', async () => {
  const world = createWorld()
  const { client } = await createClient(world)
  await client.createAccount((await recoveryPair()).hash)
  await client.createSession()
  await expect(client.makeAccessRequest('/bad/nonce', fooBar)).rejects.toBeInstanceOf(
    IncorrectNonceError,
  )
})
