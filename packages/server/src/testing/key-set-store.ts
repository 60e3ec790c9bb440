import { ConfigurationError, type KeySetStore } from '@better-auth/protocol'
import { describe, expect, it } from 'vitest'
import { expectRejection } from './assertions.js'
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

    it('prunes endorsements only once they expired a retention period ago', async () => {
      const [a, b] = await makePair()
      const now = Date.now()
      const ended = `endorsement ${randomId()}`
      const recent = `endorsement ${randomId()}`
      const live = `endorsement ${randomId()}`
      await a.addEndorsement(ended, now - 10_000)
      await a.addEndorsement(recent, now - 1_000)
      await b.addEndorsement(live, now + 1)
      // What a reader at an earlier time is answered shows what is still stored.
      const stored = async () => [...(await b.read(now - 20_000)).keys].sort()
      expect(await b.pruneEndorsements(now, 10_001)).toBe(0)
      expect(await stored()).toEqual([ended, recent, live].sort())
      // Expired exactly the retention ago: pruned, by either handle, once.
      expect(await b.pruneEndorsements(now, 10_000)).toBe(1)
      expect(await a.pruneEndorsements(now, 10_000)).toBe(0)
      expect(await stored()).toEqual([recent, live].sort())
      // Retention 0 prunes what expired by now and never what `read(now)` answers.
      expect(await a.pruneEndorsements(now, 0)).toBe(1)
      expect(await stored()).toEqual([live])
      expect((await a.read(now)).keys).toEqual([live])
      expect(await a.pruneEndorsements(now + 1, 0)).toBe(1)
      expect(await stored()).toEqual([])
    })

    it('refuses a negative or fractional retention, pruning nothing', async () => {
      const [store] = await makePair()
      const now = Date.now()
      const ended = `endorsement ${randomId()}`
      await store.addEndorsement(ended, now - 60_000)
      for (const retention of [-1, 0.5, Number.NaN, Number.POSITIVE_INFINITY]) {
        await expectRejection(store.pruneEndorsements(now, retention), ConfigurationError)
      }
      await expectRejection(store.pruneEndorsements(Number.NaN, 0), ConfigurationError)
      expect((await store.read(now - 120_000)).keys).toEqual([ended])
    })

    it('never loses an endorsement renewed while a prune runs', async () => {
      const [a, b] = await makePair()
      const now = Date.now()
      // Each expired past the retention, then renewed by another handle racing the prune: an
      // operation that read the expiry and deleted afterwards would delete a renewed one.
      const texts = Array.from({ length: 20 }, () => `endorsement ${randomId()}`)
      for (const text of texts) await a.addEndorsement(text, now - 60_000)
      const after = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
      // Prunes and renewals spread over the same few milliseconds, so that they interleave.
      const pruned = await Promise.all([
        ...[0, 2, 4, 6].map((ms, i) =>
          after(ms).then(() => (i % 2 === 0 ? a : b).pruneEndorsements(now, 1_000)),
        ),
        ...texts.map((text, i) =>
          after(i / 2).then(() => b.addEndorsement(text, now + 60_000).then(() => 0)),
        ),
      ])
      expect([...(await a.read(now)).keys].sort()).toEqual([...texts].sort())
      // Whatever was pruned before its renewal was added anew; nothing was counted twice.
      expect(pruned.reduce((sum, count) => sum + count, 0)).toBeLessThanOrEqual(texts.length)
    })
  })
}
