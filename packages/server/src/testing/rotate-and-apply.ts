import {
  AlreadyExistsError,
  InvalidDeviceError,
  InvalidHashError,
  type DeviceKey,
  type RotationChange,
  type ServerAuthenticationKeyStore,
} from '@better-auth/protocol'
import { describe, expect, it } from 'vitest'
import {
  expectBetterAuthError,
  expectRejection,
  newDeviceKey,
  nextDeviceKey,
  partition,
} from './assertions.js'
import type { StoreFactory } from './contract.js'
import { randomId } from './random.js'

const DEVICE_EXISTS = { resource: 'device' }
const ROTATION = { hashKind: 'rotation' }

/** An identity with a signing device, a second active device and a revoked one. */
interface Account {
  readonly signer: DeviceKey
  readonly other: DeviceKey
  readonly revoked: DeviceKey
}

async function account(store: ServerAuthenticationKeyStore): Promise<Account> {
  const signer = newDeviceKey()
  const other = newDeviceKey(signer.identity)
  const revoked = newDeviceKey(signer.identity)
  await store.registerIdentity(signer)
  await store.registerDevice(other)
  await store.registerDevice(revoked)
  await store.revokeDevice(revoked.identity, revoked.device)
  return { signer, other, revoked }
}

const registering = (device: DeviceKey): RotationChange => ({
  kind: 'register-device',
  device: { device: device.device, publicKey: device.publicKey, rotationHash: device.rotationHash },
})

/**
 * Everything a refused call could have touched is as it was: both live devices keep their keys,
 * the revoked one stays revoked, a device id never registered is still free, and the signer's
 * commitment is unspent, so the rightful rotation still succeeds.
 */
async function expectUnchanged(
  store: ServerAuthenticationKeyStore,
  { signer, other, revoked }: Account,
  unregistered?: string,
): Promise<void> {
  expect(await store.publicKey(signer.identity, signer.device)).toBe(signer.publicKey)
  expect(await store.publicKey(other.identity, other.device)).toBe(other.publicKey)
  await expectRejection(store.publicKey(revoked.identity, revoked.device), InvalidDeviceError)
  if (unregistered !== undefined) {
    await expectRejection(store.publicKey(signer.identity, unregistered), InvalidDeviceError)
  }
  const next = nextDeviceKey(signer)
  await store.rotate(next, signer.rotationHash)
  expect(await store.publicKey(signer.identity, signer.device)).toBe(next.publicKey)
  if (unregistered !== undefined) {
    await store.registerDevice(newDeviceKey(signer.identity, unregistered))
  }
}

export function describeRotateAndApply(
  factory: StoreFactory<ServerAuthenticationKeyStore>,
  concurrency: number,
): void {
  describe('rotateAndApply', () => {
    describe('applies the change together with the rotation', () => {
      it('register-device: rotates and registers the new device', async () => {
        const store = await factory()
        const { signer } = await account(store)
        const next = nextDeviceKey(signer)
        const linked = newDeviceKey(signer.identity)
        await store.rotateAndApply(next, signer.rotationHash, registering(linked))
        expect(await store.publicKey(signer.identity, signer.device)).toBe(next.publicKey)
        expect(await store.publicKey(linked.identity, linked.device)).toBe(linked.publicKey)
        await store.rotate(nextDeviceKey(linked), linked.rotationHash)
        // The commitment was spent by the link.
        await expectRejection(
          store.rotate(nextDeviceKey(signer), signer.rotationHash),
          InvalidHashError,
          ROTATION,
        )
      })

      it('revoke-device: rotates and revokes the other device, or the signer itself', async () => {
        const store = await factory()
        const { signer, other } = await account(store)
        const next = nextDeviceKey(signer)
        await store.rotateAndApply(next, signer.rotationHash, {
          kind: 'revoke-device',
          device: other.device,
        })
        await expectRejection(store.publicKey(other.identity, other.device), InvalidDeviceError)
        expect(await store.publicKey(signer.identity, signer.device)).toBe(next.publicKey)

        await store.rotateAndApply(nextDeviceKey(next), next.rotationHash, {
          kind: 'revoke-device',
          device: signer.device,
        })
        await expectRejection(store.publicKey(signer.identity, signer.device), InvalidDeviceError)
      })

      it('delete-identity: rotates and removes the identity with all of its devices', async () => {
        const store = await factory()
        const { signer, other } = await account(store)
        await store.rotateAndApply(nextDeviceKey(signer), signer.rotationHash, {
          kind: 'delete-identity',
        })
        await expectRejection(store.publicKey(signer.identity, signer.device), InvalidDeviceError)
        await expectRejection(store.publicKey(other.identity, other.device), InvalidDeviceError)
        const again = newDeviceKey(signer.identity, signer.device)
        await store.registerIdentity(again)
        expect(await store.publicKey(again.identity, again.device)).toBe(again.publicKey)
      })
    })

    describe('a refused request changes nothing', () => {
      it('register-device of an id ever used in the identity: AlreadyExistsError(device)', async () => {
        const store = await factory()
        const fixture = await account(store)
        const { signer, other, revoked } = fixture
        for (const used of [signer, other, revoked]) {
          await expectRejection(
            store.rotateAndApply(
              nextDeviceKey(signer),
              signer.rotationHash,
              registering(newDeviceKey(signer.identity, used.device)),
            ),
            AlreadyExistsError,
            DEVICE_EXISTS,
          )
        }
        await expectUnchanged(store, fixture)
      })

      it('revoke-device of a device that is not active: InvalidDeviceError', async () => {
        const store = await factory()
        const fixture = await account(store)
        const { signer, revoked } = fixture
        for (const device of [revoked.device, randomId('device-')]) {
          await expectRejection(
            store.rotateAndApply(nextDeviceKey(signer), signer.rotationHash, {
              kind: 'revoke-device',
              device,
            }),
            InvalidDeviceError,
          )
        }
        // A device of another identity is not the identity's to revoke.
        const stranger = newDeviceKey()
        await store.registerIdentity(stranger)
        await expectRejection(
          store.rotateAndApply(nextDeviceKey(signer), signer.rotationHash, {
            kind: 'revoke-device',
            device: stranger.device,
          }),
          InvalidDeviceError,
        )
        expect(await store.publicKey(stranger.identity, stranger.device)).toBe(stranger.publicKey)
        await expectUnchanged(store, fixture)
      })

      it('any change with a wrong key: InvalidHashError(rotation), the change not made', async () => {
        const store = await factory()
        const fixture = await account(store)
        const { signer, other } = fixture
        const unregistered = randomId('device-')
        const changes: RotationChange[] = [
          registering(newDeviceKey(signer.identity, unregistered)),
          { kind: 'revoke-device', device: other.device },
          { kind: 'delete-identity' },
        ]
        for (const change of changes) {
          await expectRejection(
            store.rotateAndApply(nextDeviceKey(signer), randomId('wrong-hash-'), change),
            InvalidHashError,
            ROTATION,
          )
        }
        await expectUnchanged(store, fixture, unregistered)
      })

      it('any change by an unknown or revoked device: InvalidHashError(rotation), as a wrong key', async () => {
        const store = await factory()
        const fixture = await account(store)
        const { signer, other, revoked } = fixture
        const unregistered = randomId('device-')
        const signers = [
          revoked,
          newDeviceKey(signer.identity),
          newDeviceKey(undefined, signer.device),
        ]
        for (const stranger of signers) {
          for (const change of [
            registering(newDeviceKey(signer.identity, unregistered)),
            { kind: 'revoke-device', device: other.device } as const,
            { kind: 'delete-identity' } as const,
          ]) {
            await expectRejection(
              store.rotateAndApply(nextDeviceKey(stranger), stranger.rotationHash, change),
              InvalidHashError,
              ROTATION,
            )
          }
        }
        await expectUnchanged(store, fixture, unregistered)
      })
    })

    describe(`concurrency (${concurrency} calls)`, () => {
      it('links one new device id once: the refused devices keep their commitments', async () => {
        const store = await factory()
        const first = newDeviceKey()
        await store.registerIdentity(first)
        const devices = [first]
        for (let index = 1; index < concurrency; index++) {
          const device = newDeviceKey(first.identity)
          await store.registerDevice(device)
          devices.push(device)
        }
        const linked = newDeviceKey(first.identity)
        const { fulfilled, rejected } = partition(
          await Promise.allSettled(
            devices.map((device) =>
              store.rotateAndApply(nextDeviceKey(device), device.rotationHash, registering(linked)),
            ),
          ),
        )
        expect(fulfilled).toHaveLength(1)
        for (const error of rejected)
          expectBetterAuthError(error, AlreadyExistsError, DEVICE_EXISTS)
        expect(await store.publicKey(linked.identity, linked.device)).toBe(linked.publicKey)
        const winner = fulfilled[0]!.index
        for (const [index, device] of devices.entries()) {
          if (index === winner) continue
          await store.rotate(nextDeviceKey(device), device.rotationHash)
        }
      })

      it('revokes one device once: the refused devices keep their commitments', async () => {
        const store = await factory()
        const target = newDeviceKey()
        await store.registerIdentity(target)
        const devices: DeviceKey[] = []
        for (let index = 0; index < concurrency; index++) {
          const device = newDeviceKey(target.identity)
          await store.registerDevice(device)
          devices.push(device)
        }
        const { fulfilled, rejected } = partition(
          await Promise.allSettled(
            devices.map((device) =>
              store.rotateAndApply(nextDeviceKey(device), device.rotationHash, {
                kind: 'revoke-device',
                device: target.device,
              }),
            ),
          ),
        )
        expect(fulfilled).toHaveLength(1)
        for (const error of rejected) expectBetterAuthError(error, InvalidDeviceError)
        await expectRejection(store.publicKey(target.identity, target.device), InvalidDeviceError)
        const winner = fulfilled[0]!.index
        for (const [index, device] of devices.entries()) {
          if (index === winner) continue
          await store.rotate(nextDeviceKey(device), device.rotationHash)
        }
      })
    })
  })
}
