/**
 * Behaviour suites for client stores, written once and run against every implementation (the
 * memory stores here; persistent stores elsewhere can import this file the same way).
 */
import { BetterAuthError, InvalidStateError } from '@better-auth/protocol'
import type { ClientRotatingKeyStore, ClientValueStore, Hasher } from '@better-auth/protocol'
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
}
