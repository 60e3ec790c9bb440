/**
 * Behaviour suites for client stores, written once and run against every implementation (the
 * memory stores here; persistent stores elsewhere can import this file the same way).
 */
import { BetterAuthError, InvalidStateError } from '@better-auth/protocol'
import type {
  ClientRotatingKeyStore,
  ClientValueStore,
  Hasher,
  PreparedChain,
} from '@better-auth/protocol'
import { describe, expect, it } from 'vitest'

export function describeClientValueStore(name: string, create: () => ClientValueStore): void {
  describe(`${name} (ClientValueStore behaviour)`, () => {
    it('starts empty', async () => {
      expect(await create().get()).toBeUndefined()
    })

    it('returns what was stored, and the latest value', async () => {
      const store = create()
      await store.store('first')
      expect(await store.get()).toBe('first')
      await store.store('second')
      expect(await store.get()).toBe('second')
    })

    it('clears', async () => {
      const store = create()
      await store.store('value')
      await store.clear()
      expect(await store.get()).toBeUndefined()
      await store.clear()
      expect(await store.get()).toBeUndefined()
    })

    it('keeps instances independent', async () => {
      const a = create()
      const b = create()
      await a.store('a')
      expect(await b.get()).toBeUndefined()
    })
  })
}

export function describeClientRotatingKeyStore(
  name: string,
  create: () => ClientRotatingKeyStore,
  hasher: Hasher,
): void {
  describe(`${name} (ClientRotatingKeyStore behaviour)`, () => {
    it('refuses signer, next and commit before initialize with InvalidStateError', async () => {
      const store = create()
      await expect(store.signer()).rejects.toBeInstanceOf(InvalidStateError)
      await expect(store.next()).rejects.toBeInstanceOf(InvalidStateError)
      await expect(store.commit()).rejects.toBeInstanceOf(InvalidStateError)
    })

    it('initialize returns the current key and the commitment to the next', async () => {
      const store = create()
      const commitment = await store.initialize()
      expect(commitment.publicKey).toMatch(/^1AAI[A-Za-z0-9_-]{44}$/)
      expect(commitment.rotationHash).toMatch(/^E[A-Za-z0-9_-]{43}$/)
      expect(await (await store.signer()).public()).toBe(commitment.publicKey)
      const pending = await store.next()
      expect(await hasher.sum(pending.publicKey)).toBe(commitment.rotationHash)
    })

    it('next() is idempotent until commit()', async () => {
      const store = create()
      await store.initialize()
      const first = await store.next()
      const second = await store.next()
      expect(second.publicKey).toBe(first.publicKey)
      expect(second.rotationHash).toBe(first.rotationHash)
      expect(second.signer).toBe(first.signer)
      const [a, b] = await Promise.all([store.next(), store.next()])
      expect(a.publicKey).toBe(first.publicKey)
      expect(b.publicKey).toBe(first.publicKey)
    })

    it('does not change the signer until commit()', async () => {
      const store = create()
      const { publicKey } = await store.initialize()
      await store.next()
      expect(await (await store.signer()).public()).toBe(publicKey)
    })

    it('commit() advances the chain and each key reveals the previous commitment', async () => {
      const store = create()
      let { rotationHash } = await store.initialize()
      const seen = new Set<string>()
      for (let i = 0; i < 4; i++) {
        const pending = await store.next()
        expect(await hasher.sum(pending.publicKey)).toBe(rotationHash)
        expect(await pending.signer.public()).toBe(pending.publicKey)
        expect(seen.has(pending.publicKey)).toBe(false)
        seen.add(pending.publicKey)
        await store.commit()
        expect(await (await store.signer()).public()).toBe(pending.publicKey)
        rotationHash = pending.rotationHash
      }
    })

    it('refuses commit() without a pending rotation', async () => {
      const store = create()
      await store.initialize()
      await expect(store.commit()).rejects.toBeInstanceOf(InvalidStateError)
      await store.next()
      await store.commit()
      await expect(store.commit()).rejects.toBeInstanceOf(InvalidStateError)
    })

    it('initialize() replaces the chain and drops a pending rotation', async () => {
      const store = create()
      const first = await store.initialize()
      const pending = await store.next()
      const second = await store.initialize()
      expect(second.publicKey).not.toBe(first.publicKey)
      await expect(store.commit()).rejects.toBeInstanceOf(BetterAuthError)
      const fresh = await store.next()
      expect(fresh.publicKey).not.toBe(pending.publicKey)
      expect(await hasher.sum(fresh.publicKey)).toBe(second.rotationHash)
    })

    it('clear() forgets the chain', async () => {
      const store = create()
      await store.initialize()
      await store.next()
      await store.clear()
      await expect(store.signer()).rejects.toBeInstanceOf(InvalidStateError)
      await expect(store.next()).rejects.toBeInstanceOf(InvalidStateError)
      await expect(store.commit()).rejects.toBeInstanceOf(InvalidStateError)
    })

    it('signs with the current key', async () => {
      const store = create()
      const { publicKey } = await store.initialize()
      const signer = await store.signer()
      const signature = await signer.sign('message')
      expect(await signer.verifier().verify('message', signature, publicKey)).toBe(true)
    })
  })

  describe(`${name} (two-phase chain replacement)`, () => {
    function prepare(store: ClientRotatingKeyStore): Promise<PreparedChain> {
      return store.prepareInitialize()
    }

    async function expectChain(store: ClientRotatingKeyStore, publicKey: string) {
      expect(await (await store.signer()).public()).toBe(publicKey)
    }

    it('prepares a new chain without touching the stored one', async () => {
      const store = create()
      const old = await store.initialize()
      const pending = await store.next()
      const prepared = await prepare(store)
      expect(prepared.publicKey).toMatch(/^1AAI[A-Za-z0-9_-]{44}$/)
      expect(prepared.rotationHash).toMatch(/^E[A-Za-z0-9_-]{43}$/)
      expect(prepared.publicKey).not.toBe(old.publicKey)
      expect(await prepared.signer.public()).toBe(prepared.publicKey)
      const signature = await prepared.signer.sign('new chain')
      expect(
        await prepared.signer.verifier().verify('new chain', signature, prepared.publicKey),
      ).toBe(true)
      // The stored chain and its pending rotation are exactly as before.
      await expectChain(store, old.publicKey)
      expect((await store.next()).publicKey).toBe(pending.publicKey)
    })

    it('leaves an empty store empty until commit()', async () => {
      const store = create()
      const prepared = await prepare(store)
      await expect(store.signer()).rejects.toBeInstanceOf(InvalidStateError)
      await prepared.commit()
      await expectChain(store, prepared.publicKey)
    })

    it('commit() installs the chain and drops the replaced chain and its pending rotation', async () => {
      const store = create()
      await store.initialize()
      await store.next()
      const prepared = await prepare(store)
      await prepared.commit()
      await expectChain(store, prepared.publicKey)
      await expect(store.commit()).rejects.toBeInstanceOf(InvalidStateError)
      const rotation = await store.next()
      expect(await hasher.sum(rotation.publicKey)).toBe(prepared.rotationHash)
      await store.commit()
      await expectChain(store, rotation.publicKey)
    })

    it('discard() keeps the stored chain; the discarded chain can no longer be committed', async () => {
      const store = create()
      const old = await store.initialize()
      const prepared = await prepare(store)
      await prepared.discard()
      await prepared.discard()
      await expect(prepared.commit()).rejects.toBeInstanceOf(InvalidStateError)
      await expectChain(store, old.publicKey)
      const rotation = await store.next()
      expect(await hasher.sum(rotation.publicKey)).toBe(old.rotationHash)
    })

    it('commits once; discard() after commit() is a no-op', async () => {
      const store = create()
      await store.initialize()
      const prepared = await prepare(store)
      await prepared.commit()
      await expect(prepared.commit()).rejects.toBeInstanceOf(InvalidStateError)
      await prepared.discard()
      await expectChain(store, prepared.publicKey)
    })

    it.each([
      ['initialize()', (store: ClientRotatingKeyStore) => store.initialize()],
      [
        'a committed rotation',
        async (store: ClientRotatingKeyStore) => {
          await store.next()
          await store.commit()
        },
      ],
      [
        'another prepared chain committed first',
        async (store: ClientRotatingKeyStore) => (await prepare(store)).commit(),
      ],
    ])(
      'commit() after %s since prepareInitialize() throws InvalidStateError and keeps that change',
      async (_, change) => {
        const store = create()
        await store.initialize()
        const prepared = await prepare(store)
        await change(store)
        const winner = await (await store.signer()).public()
        const error = await prepared.commit().catch((e: unknown) => e)
        expect(error).toBeInstanceOf(InvalidStateError)
        expect((error as InvalidStateError).message).toMatch(/changed/)
        await expectChain(store, winner)
      },
    )

    it('commit() after clear() since prepareInitialize() throws InvalidStateError', async () => {
      const store = create()
      await store.initialize()
      const prepared = await prepare(store)
      await store.clear()
      await expect(prepared.commit()).rejects.toBeInstanceOf(InvalidStateError)
      await expect(store.signer()).rejects.toBeInstanceOf(InvalidStateError)
    })

    it('commit() on a store that was empty fails once another chain was initialized', async () => {
      const store = create()
      const prepared = await prepare(store)
      const other = await store.initialize()
      await expect(prepared.commit()).rejects.toBeInstanceOf(InvalidStateError)
      await expectChain(store, other.publicKey)
    })

    it('a rotation only prepared by next() meanwhile does not block commit(), and is void after it', async () => {
      const store = create()
      await store.initialize()
      const prepared = await prepare(store)
      await store.next()
      await prepared.commit()
      await expectChain(store, prepared.publicKey)
      await expect(store.commit()).rejects.toBeInstanceOf(InvalidStateError)
    })
  })
}
