import {
  AlreadyExistsError,
  InvalidHashError,
  InvalidIdentityError,
  type ServerRecoveryHashStore,
} from '@better-auth/protocol'
import { describe, expect, it } from 'vitest'
import { expectBetterAuthError, expectRejection, partition } from './assertions.js'
import type { StoreFactory } from './contract.js'
import { randomId } from './random.js'

const RECOVERY = { hashKind: 'recovery' }

const newHash = (): string => randomId('recovery-hash-')

export function describeRecoveryHashStore(
  factory: StoreFactory<ServerRecoveryHashStore>,
  concurrency: number,
): void {
  describe('recovery hash store', () => {
    it('registers a hash that a rotation revealing it can then replace', async () => {
      const store = await factory()
      const identity = randomId('identity-')
      const first = newHash()
      const second = newHash()
      await store.register(identity, first)
      await store.rotate(identity, first, second)
      await expectRejection(store.rotate(identity, first, newHash()), InvalidHashError, RECOVERY)
      await store.rotate(identity, second, newHash())
    })

    it('rejects a second registration with AlreadyExistsError(identity), keeping the hash', async () => {
      const store = await factory()
      const identity = randomId('identity-')
      const hash = newHash()
      await store.register(identity, hash)
      await expectRejection(store.register(identity, newHash()), AlreadyExistsError, {
        resource: 'identity',
      })
      await store.rotate(identity, hash, newHash())
    })

    it('rejects a rotation with the wrong expected hash, changing nothing', async () => {
      const store = await factory()
      const identity = randomId('identity-')
      const hash = newHash()
      await store.register(identity, hash)
      await expectRejection(
        store.rotate(identity, newHash(), newHash()),
        InvalidHashError,
        RECOVERY,
      )
      await store.rotate(identity, hash, newHash())
    })

    it('rejects a rotation of an unknown identity with InvalidHashError(recovery)', async () => {
      const store = await factory()
      await expectRejection(
        store.rotate(randomId('identity-'), newHash(), newHash()),
        InvalidHashError,
        RECOVERY,
      )
    })

    it('replaces the hash of an existing identity unconditionally', async () => {
      const store = await factory()
      const identity = randomId('identity-')
      const old = newHash()
      const replacement = newHash()
      await store.register(identity, old)
      await store.replace(identity, replacement)
      await expectRejection(store.rotate(identity, old, newHash()), InvalidHashError, RECOVERY)
      await store.rotate(identity, replacement, newHash())
    })

    it('rejects replacing the hash of an unknown identity with InvalidIdentityError', async () => {
      const store = await factory()
      const identity = randomId('identity-')
      await expectRejection(store.replace(identity, newHash()), InvalidIdentityError)
      // The failed replace must not have created the identity.
      await store.register(identity, newHash())
    })

    it('deletes the hash, after which the identity can be registered again', async () => {
      const store = await factory()
      const identity = randomId('identity-')
      const hash = newHash()
      await store.register(identity, hash)
      await store.delete(identity)
      await expectRejection(store.rotate(identity, hash, newHash()), InvalidHashError, RECOVERY)
      await expectRejection(store.replace(identity, newHash()), InvalidIdentityError)
      await store.register(identity, newHash())
    })

    it('treats deleting an unknown identity as a no-op', async () => {
      const store = await factory()
      await expect(store.delete(randomId('identity-'))).resolves.toBeUndefined()
    })

    it('keeps identities apart', async () => {
      const store = await factory()
      const a = randomId('identity-')
      const b = randomId('identity-')
      const hash = newHash()
      await store.register(a, hash)
      await store.register(b, hash)
      await store.rotate(a, hash, newHash())
      await store.delete(a)
      await store.rotate(b, hash, newHash())
    })

    it(`lets exactly one of ${concurrency} concurrent rotations from the same hash succeed`, async () => {
      const store = await factory()
      const identity = randomId('identity-')
      const hash = newHash()
      await store.register(identity, hash)
      const candidates = Array.from({ length: concurrency }, newHash)
      const { fulfilled, rejected } = partition(
        await Promise.allSettled(candidates.map((next) => store.rotate(identity, hash, next))),
      )
      expect(fulfilled).toHaveLength(1)
      for (const error of rejected) expectBetterAuthError(error, InvalidHashError, RECOVERY)
      await store.rotate(identity, candidates[fulfilled[0]!.index]!, newHash())
    })
  })
}
