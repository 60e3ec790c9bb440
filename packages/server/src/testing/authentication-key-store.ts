import {
  AlreadyExistsError,
  InvalidDeviceError,
  InvalidHashError,
  InvalidIdentityError,
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

const IDENTITY_EXISTS = { resource: 'identity' }
const DEVICE_EXISTS = { resource: 'device' }
const ROTATION = { hashKind: 'rotation' }

export function describeAuthenticationKeyStore(
  factory: StoreFactory<ServerAuthenticationKeyStore>,
  concurrency: number,
): void {
  describe('authentication key store', () => {
    describe('registerIdentity', () => {
      it('registers the first device, whose public key is then readable', async () => {
        const store = await factory()
        const key = newDeviceKey()
        await store.registerIdentity(key)
        expect(await store.publicKey(key.identity, key.device)).toBe(key.publicKey)
      })

      it('rejects an existing identity with AlreadyExistsError(identity)', async () => {
        const store = await factory()
        const key = newDeviceKey()
        await store.registerIdentity(key)
        await expectRejection(store.registerIdentity(key), AlreadyExistsError, IDENTITY_EXISTS)
        await expectRejection(
          store.registerIdentity(newDeviceKey(key.identity)),
          AlreadyExistsError,
          IDENTITY_EXISTS,
        )
        expect(await store.publicKey(key.identity, key.device)).toBe(key.publicKey)
      })

      it('still rejects the identity once all of its devices are revoked', async () => {
        const store = await factory()
        const key = newDeviceKey()
        await store.registerIdentity(key)
        await store.revokeDevice(key.identity, key.device)
        await expectRejection(
          store.registerIdentity(newDeviceKey(key.identity)),
          AlreadyExistsError,
          IDENTITY_EXISTS,
        )
      })
    })

    describe('registerDevice', () => {
      it('adds a further device to an existing identity', async () => {
        const store = await factory()
        const first = newDeviceKey()
        const second = newDeviceKey(first.identity)
        await store.registerIdentity(first)
        await store.registerDevice(second)
        expect(await store.publicKey(first.identity, first.device)).toBe(first.publicKey)
        expect(await store.publicKey(second.identity, second.device)).toBe(second.publicKey)
      })

      it('rejects an unknown identity with InvalidIdentityError', async () => {
        const store = await factory()
        const key = newDeviceKey()
        await expectRejection(store.registerDevice(key), InvalidIdentityError)
        await expectRejection(store.publicKey(key.identity, key.device), InvalidDeviceError)
      })

      it('rejects a device id already used in the identity with AlreadyExistsError(device)', async () => {
        const store = await factory()
        const key = newDeviceKey()
        await store.registerIdentity(key)
        await expectRejection(
          store.registerDevice(newDeviceKey(key.identity, key.device)),
          AlreadyExistsError,
          DEVICE_EXISTS,
        )
        expect(await store.publicKey(key.identity, key.device)).toBe(key.publicKey)
      })

      it('never reuses the id of a revoked device', async () => {
        const store = await factory()
        const first = newDeviceKey()
        const second = newDeviceKey(first.identity)
        await store.registerIdentity(first)
        await store.registerDevice(second)
        await store.revokeDevice(second.identity, second.device)
        await expectRejection(
          store.registerDevice(newDeviceKey(second.identity, second.device)),
          AlreadyExistsError,
          DEVICE_EXISTS,
        )
        await expectRejection(store.publicKey(second.identity, second.device), InvalidDeviceError)
      })
    })

    describe('rotate', () => {
      it('replaces the key when the revealed hash matches the commitment', async () => {
        const store = await factory()
        const key = newDeviceKey()
        await store.registerIdentity(key)
        const next = nextDeviceKey(key)
        await store.rotate(next, key.rotationHash)
        expect(await store.publicKey(key.identity, key.device)).toBe(next.publicKey)
      })

      it('rejects a second rotation revealing the same hash with InvalidHashError(rotation)', async () => {
        const store = await factory()
        const key = newDeviceKey()
        await store.registerIdentity(key)
        const next = nextDeviceKey(key)
        await store.rotate(next, key.rotationHash)
        await expectRejection(
          store.rotate(nextDeviceKey(key), key.rotationHash),
          InvalidHashError,
          ROTATION,
        )
        expect(await store.publicKey(key.identity, key.device)).toBe(next.publicKey)
      })

      it('follows the chain: each rotation reveals the previous commitment', async () => {
        const store = await factory()
        let current = newDeviceKey()
        await store.registerIdentity(current)
        for (let step = 0; step < 3; step++) {
          const next = nextDeviceKey(current)
          await store.rotate(next, current.rotationHash)
          current = next
        }
        expect(await store.publicKey(current.identity, current.device)).toBe(current.publicKey)
      })

      it('rejects a wrong revealed hash and leaves the key unchanged', async () => {
        const store = await factory()
        const key = newDeviceKey()
        await store.registerIdentity(key)
        await expectRejection(
          store.rotate(nextDeviceKey(key), randomId('wrong-hash-')),
          InvalidHashError,
          ROTATION,
        )
        expect(await store.publicKey(key.identity, key.device)).toBe(key.publicKey)
        // The commitment itself is unchanged, so the rightful rotation still works.
        await store.rotate(nextDeviceKey(key), key.rotationHash)
      })

      it('rejects an unknown device or identity with InvalidHashError(rotation), as a wrong key', async () => {
        const store = await factory()
        const key = newDeviceKey()
        await store.registerIdentity(key)
        const unknownDevice = await expectRejection(
          store.rotate(newDeviceKey(key.identity), key.rotationHash),
          InvalidHashError,
          ROTATION,
        )
        await expectRejection(
          store.rotate(newDeviceKey(undefined, key.device), key.rotationHash),
          InvalidHashError,
          ROTATION,
        )
        // The same answer as a live device given a wrong key: it tells a stranger nothing.
        const wrongKey = await expectRejection(
          store.rotate(nextDeviceKey(key), randomId('wrong-hash-')),
          InvalidHashError,
        )
        expect(unknownDevice.message).toBe(wrongKey.message)
        expect(unknownDevice.context).toEqual(wrongKey.context)
      })

      it('rejects a revoked device with InvalidHashError(rotation), even with the right hash', async () => {
        const store = await factory()
        const key = newDeviceKey()
        await store.registerIdentity(key)
        await store.revokeDevice(key.identity, key.device)
        await expectRejection(
          store.rotate(nextDeviceKey(key), key.rotationHash),
          InvalidHashError,
          ROTATION,
        )
      })
    })

    describe('publicKey', () => {
      it('rejects an unknown identity or device with InvalidDeviceError', async () => {
        const store = await factory()
        const key = newDeviceKey()
        await expectRejection(store.publicKey(key.identity, key.device), InvalidDeviceError)
        await store.registerIdentity(key)
        await expectRejection(
          store.publicKey(key.identity, randomId('device-')),
          InvalidDeviceError,
        )
      })
    })

    describe('revokeDevice', () => {
      it('makes the device unusable and leaves the other devices alone', async () => {
        const store = await factory()
        const first = newDeviceKey()
        const second = newDeviceKey(first.identity)
        await store.registerIdentity(first)
        await store.registerDevice(second)
        await store.revokeDevice(first.identity, first.device)

        await expectRejection(store.publicKey(first.identity, first.device), InvalidDeviceError)
        await expectRejection(
          store.rotate(nextDeviceKey(first), first.rotationHash),
          InvalidHashError,
          ROTATION,
        )
        await expectRejection(store.revokeDevice(first.identity, first.device), InvalidDeviceError)

        expect(await store.publicKey(second.identity, second.device)).toBe(second.publicKey)
        const next = nextDeviceKey(second)
        await store.rotate(next, second.rotationHash)
        expect(await store.publicKey(second.identity, second.device)).toBe(next.publicKey)
      })

      it('rejects an unknown device or identity with InvalidDeviceError', async () => {
        const store = await factory()
        const key = newDeviceKey()
        await expectRejection(store.revokeDevice(key.identity, key.device), InvalidDeviceError)
        await store.registerIdentity(key)
        await expectRejection(
          store.revokeDevice(key.identity, randomId('device-')),
          InvalidDeviceError,
        )
        expect(await store.publicKey(key.identity, key.device)).toBe(key.publicKey)
      })
    })

    describe('replaceAllDevices', () => {
      it('revokes every device and registers the new one as the only active device', async () => {
        const store = await factory()
        const first = newDeviceKey()
        const second = newDeviceKey(first.identity)
        const replacement = newDeviceKey(first.identity)
        await store.registerIdentity(first)
        await store.registerDevice(second)
        await store.replaceAllDevices(replacement)

        await expectRejection(store.publicKey(first.identity, first.device), InvalidDeviceError)
        await expectRejection(store.publicKey(second.identity, second.device), InvalidDeviceError)
        await expectRejection(
          store.rotate(nextDeviceKey(second), second.rotationHash),
          InvalidHashError,
          ROTATION,
        )
        expect(await store.publicKey(replacement.identity, replacement.device)).toBe(
          replacement.publicKey,
        )
        await store.rotate(nextDeviceKey(replacement), replacement.rotationHash)
        // Revoked ids stay taken and the identity still exists.
        await expectRejection(
          store.registerDevice(newDeviceKey(first.identity, first.device)),
          AlreadyExistsError,
          DEVICE_EXISTS,
        )
        await expectRejection(
          store.registerIdentity(newDeviceKey(first.identity)),
          AlreadyExistsError,
          IDENTITY_EXISTS,
        )
      })

      it('works on an identity whose devices are all revoked', async () => {
        const store = await factory()
        const first = newDeviceKey()
        const replacement = newDeviceKey(first.identity)
        await store.registerIdentity(first)
        await store.revokeDevice(first.identity, first.device)
        await store.replaceAllDevices(replacement)
        expect(await store.publicKey(replacement.identity, replacement.device)).toBe(
          replacement.publicKey,
        )
      })

      it('rejects an unknown identity with InvalidIdentityError', async () => {
        const store = await factory()
        const key = newDeviceKey()
        await expectRejection(store.replaceAllDevices(key), InvalidIdentityError)
        await expectRejection(store.publicKey(key.identity, key.device), InvalidDeviceError)
      })

      it('rejects an id already used in the identity with AlreadyExistsError(device), changing nothing', async () => {
        const store = await factory()
        const first = newDeviceKey()
        const revoked = newDeviceKey(first.identity)
        await store.registerIdentity(first)
        await store.registerDevice(revoked)
        await store.revokeDevice(revoked.identity, revoked.device)

        await expectRejection(
          store.replaceAllDevices(newDeviceKey(first.identity, first.device)),
          AlreadyExistsError,
          DEVICE_EXISTS,
        )
        await expectRejection(
          store.replaceAllDevices(newDeviceKey(revoked.identity, revoked.device)),
          AlreadyExistsError,
          DEVICE_EXISTS,
        )
        expect(await store.publicKey(first.identity, first.device)).toBe(first.publicKey)
        await expectRejection(store.publicKey(revoked.identity, revoked.device), InvalidDeviceError)
      })
    })

    describe('deleteIdentity', () => {
      it('removes the identity and all of its devices', async () => {
        const store = await factory()
        const first = newDeviceKey()
        const second = newDeviceKey(first.identity)
        await store.registerIdentity(first)
        await store.registerDevice(second)
        await store.deleteIdentity(first.identity)

        await expectRejection(store.publicKey(first.identity, first.device), InvalidDeviceError)
        await expectRejection(store.publicKey(second.identity, second.device), InvalidDeviceError)
        await expectRejection(
          store.rotate(nextDeviceKey(first), first.rotationHash),
          InvalidHashError,
          ROTATION,
        )
        await expectRejection(
          store.registerDevice(newDeviceKey(first.identity)),
          InvalidIdentityError,
        )
        await expectRejection(
          store.replaceAllDevices(newDeviceKey(first.identity)),
          InvalidIdentityError,
        )
      })

      it('lets the identity be registered again, device ids included', async () => {
        const store = await factory()
        const key = newDeviceKey()
        await store.registerIdentity(key)
        await store.deleteIdentity(key.identity)
        const again = newDeviceKey(key.identity, key.device)
        await store.registerIdentity(again)
        expect(await store.publicKey(key.identity, key.device)).toBe(again.publicKey)
      })

      it('refuses an unknown or already deleted identity', async () => {
        const store = await factory()
        await expectRejection(store.deleteIdentity(randomId('identity-')), InvalidIdentityError)
        const key = newDeviceKey()
        await store.registerIdentity(key)
        await store.deleteIdentity(key.identity)
        await expectRejection(store.deleteIdentity(key.identity), InvalidIdentityError)
      })

      it('lets exactly one of concurrent deletions succeed', async () => {
        const store = await factory()
        const key = newDeviceKey()
        await store.registerIdentity(key)
        const outcomes = await Promise.allSettled(
          Array.from({ length: 8 }, () => store.deleteIdentity(key.identity)),
        )
        expect(outcomes.filter(({ status }) => status === 'fulfilled')).toHaveLength(1)
        for (const outcome of outcomes) {
          if (outcome.status === 'rejected')
            expect(outcome.reason).toBeInstanceOf(InvalidIdentityError)
        }
      })
    })

    describe('isolation', () => {
      it('keeps identities apart, even when they use the same device id', async () => {
        const store = await factory()
        const a = newDeviceKey()
        const b = newDeviceKey(undefined, a.device)
        await store.registerIdentity(a)
        await store.registerIdentity(b)
        expect(await store.publicKey(a.identity, a.device)).toBe(a.publicKey)
        expect(await store.publicKey(b.identity, b.device)).toBe(b.publicKey)

        // A's commitment does not rotate B's device.
        await expectRejection(
          store.rotate(nextDeviceKey(b), a.rotationHash),
          InvalidHashError,
          ROTATION,
        )
        await store.revokeDevice(a.identity, a.device)
        expect(await store.publicKey(b.identity, b.device)).toBe(b.publicKey)

        const c = newDeviceKey()
        await store.registerIdentity(c)
        await store.replaceAllDevices(newDeviceKey(c.identity))
        expect(await store.publicKey(b.identity, b.device)).toBe(b.publicKey)

        await store.deleteIdentity(b.identity)
        await expectRejection(store.publicKey(b.identity, b.device), InvalidDeviceError)
        await expectRejection(
          store.registerDevice(newDeviceKey(a.identity, a.device)),
          AlreadyExistsError,
          DEVICE_EXISTS,
        )
      })
    })

    describe(`concurrency (${concurrency} calls)`, () => {
      it('lets exactly one of concurrent rotations revealing the same key succeed', async () => {
        const store = await factory()
        const key = newDeviceKey()
        await store.registerIdentity(key)
        const candidates = Array.from({ length: concurrency }, () => nextDeviceKey(key))
        const { fulfilled, rejected } = partition(
          await Promise.allSettled(candidates.map((next) => store.rotate(next, key.rotationHash))),
        )
        expect(fulfilled).toHaveLength(1)
        expect(rejected).toHaveLength(concurrency - 1)
        for (const error of rejected) expectBetterAuthError(error, InvalidHashError, ROTATION)

        const winner = candidates[fulfilled[0]!.index]!
        expect(await store.publicKey(key.identity, key.device)).toBe(winner.publicKey)
        // The winner's commitment is the one stored: only it can rotate further.
        await store.rotate(nextDeviceKey(key), winner.rotationHash)
      })

      it('registers exactly one of concurrent registrations of the same identity', async () => {
        const store = await factory()
        const identity = randomId('identity-')
        const candidates = Array.from({ length: concurrency }, () => newDeviceKey(identity))
        const { fulfilled, rejected } = partition(
          await Promise.allSettled(candidates.map((key) => store.registerIdentity(key))),
        )
        expect(fulfilled).toHaveLength(1)
        expect(rejected).toHaveLength(concurrency - 1)
        for (const error of rejected)
          expectBetterAuthError(error, AlreadyExistsError, IDENTITY_EXISTS)

        const winnerIndex = fulfilled[0]!.index
        for (const [index, key] of candidates.entries()) {
          if (index === winnerIndex) {
            expect(await store.publicKey(identity, key.device)).toBe(key.publicKey)
          } else {
            await expectRejection(store.publicKey(identity, key.device), InvalidDeviceError)
          }
        }
      })

      it('registers exactly one of concurrent registrations of the same device', async () => {
        const store = await factory()
        const first = newDeviceKey()
        await store.registerIdentity(first)
        const device = randomId('device-')
        const candidates = Array.from({ length: concurrency }, () =>
          newDeviceKey(first.identity, device),
        )
        const { fulfilled, rejected } = partition(
          await Promise.allSettled(candidates.map((key) => store.registerDevice(key))),
        )
        expect(fulfilled).toHaveLength(1)
        for (const error of rejected)
          expectBetterAuthError(error, AlreadyExistsError, DEVICE_EXISTS)
        const winner = candidates[fulfilled[0]!.index]!
        expect(await store.publicKey(first.identity, device)).toBe(winner.publicKey)
      })
    })
  })
}
