import type { KeySetStore } from '@better-auth/protocol'
import { describe, expect, it } from 'vitest'
import { randomId } from './random.js'

/**
 * The behaviour every KeySetStore must show. `makePair` opens two handles (separate connections,
 * as two processes would) onto one fresh, empty key set.
 */
export function describeKeySetStore(
  name: string,
  makePair: () => Promise<readonly [KeySetStore, KeySetStore]>,
): void {
  const log = (length: number, fork = '') =>
    Array.from({ length }, (_, sequence) => `event ${sequence}${fork}`)

  describe(`${name}: KeySetStore contract`, () => {
    it('reads an empty set before anything is published', async () => {
      const [store] = await makePair()
      expect(await store.read(Date.now())).toEqual({ chain: [], keys: [] })
    })

    it('keeps the longest log published, whoever publishes it', async () => {
      const [a, b] = await makePair()
      await a.publishChain(log(2))
      expect((await b.read(Date.now())).chain).toEqual(log(2))
      await b.publishChain(log(3))
      // A process that has not seen the newest event cannot take the chain back.
      await a.publishChain(log(2, ' stale'))
      await a.publishChain(log(3, ' same length'))
      expect((await a.read(Date.now())).chain).toEqual(log(3))
    })

    it('settles racing publishes of one growing log on the longest', async () => {
      const [a, b] = await makePair()
      const lengths = [5, 1, 8, 3, 7, 2, 6, 4]
      await Promise.all(lengths.map((length, i) => (i % 2 === 0 ? a : b).publishChain(log(length))))
      expect((await b.read(Date.now())).chain).toEqual(log(8))
    })

    it('serves each endorsement to every reader until it expires, once', async () => {
      const [a, b] = await makePair()
      const now = Date.now()
      const short = `endorsement ${randomId()}`
      const long = `endorsement ${randomId()}`
      await a.addEndorsement(short, now + 1_000)
      await b.addEndorsement(long, now + 60_000)
      await b.addEndorsement(short, now + 500)
      const keys = async (at: number) => [...(await a.read(at)).keys].sort()
      expect(await keys(now)).toEqual([long, short].sort())
      // Added again with an earlier expiry: the later one stands.
      expect(await keys(now + 999)).toEqual([long, short].sort())
      expect(await keys(now + 1_000)).toEqual([long])
      await a.addEndorsement(long, now + 120_000)
      expect(await keys(now + 60_000)).toEqual([long])
      expect(await keys(now + 120_000)).toEqual([])
    })
  })
}
