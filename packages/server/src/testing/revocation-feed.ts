import {
  InvalidDeviceError,
  type Revocation,
  type RevocationFeed,
  type RevocationListener,
} from '@better-auth/protocol'
import { describe, expect, it } from 'vitest'
import { DeviceLivenessCache } from '../revocation/device-liveness-cache.js'
import { randomId } from './random.js'

/** What one subscriber saw. */
class Recorder implements RevocationListener {
  readonly seen: (Revocation | 'key set')[] = []
  resets = 0
  revoked(revocation: Revocation): void {
    this.seen.push(revocation)
  }
  reset(): void {
    this.resets++
  }
  keySetChanged(): void {
    this.seen.push('key set')
  }
}

async function until(
  condition: () => boolean | Promise<boolean>,
  withinMs: number,
): Promise<number> {
  const started = performance.now()
  while (!(await condition())) {
    if (performance.now() - started > withinMs) throw new Error(`not within ${withinMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
  return performance.now() - started
}

/**
 * The behaviour every RevocationFeed must show: what one party publishes (revocations and key set
 * notices) reaches every other subscriber, promptly (within `deliveryMs`, default 1000), exactly
 * as published, and stops
 * reaching a subscriber once it unsubscribes. `makeFeed` is called once per party, as separate
 * processes would each open their own connection.
 */
export function describeRevocationFeed(
  name: string,
  makeFeed: () => Promise<RevocationFeed>,
  options: { readonly deliveryMs?: number } = {},
): void {
  const deliveryMs = options.deliveryMs ?? 1000
  describe(`${name}: RevocationFeed contract`, () => {
    it(`delivers device and identity revocations to every subscriber within ${deliveryMs} ms`, async () => {
      const [publisher, first, second] = await Promise.all([makeFeed(), makeFeed(), makeFeed()])
      const a = new Recorder()
      const b = new Recorder()
      const stopA = await first.subscribe(a)
      const stopB = await second.subscribe(b)
      const device: Revocation = { identity: `E${randomId()}`, device: `E${randomId()}` }
      const identity: Revocation = { identity: `E${randomId()}` }
      await publisher.publish(device)
      await publisher.publish(identity)
      await until(() => a.seen.length >= 2 && b.seen.length >= 2, deliveryMs)
      for (const recorder of [a, b]) expect(recorder.seen).toEqual([device, identity])
      await stopA()
      await stopB()
    })

    it(`delivers key set notices to every subscriber within ${deliveryMs} ms, in order with revocations`, async () => {
      const [publisher, first, second] = await Promise.all([makeFeed(), makeFeed(), makeFeed()])
      const a = new Recorder()
      const b = new Recorder()
      // A revocation cache has no key set: the notice passes it by, and does not reset it.
      const revocationsOnly: Revocation[] = []
      let resets = 0
      const stopA = await first.subscribe(a)
      const stopB = await second.subscribe(b)
      const stopC = await second.subscribe({
        revoked: (revocation) => revocationsOnly.push(revocation),
        reset: () => resets++,
      })
      const revocation: Revocation = { identity: `E${randomId()}` }
      await publisher.announceKeySetChange()
      await publisher.publish(revocation)
      await publisher.announceKeySetChange()
      await until(
        () => a.seen.length >= 3 && b.seen.length >= 3 && revocationsOnly.length >= 1,
        deliveryMs,
      )
      for (const recorder of [a, b]) {
        expect(recorder.seen).toEqual(['key set', revocation, 'key set'])
        expect(recorder.resets).toBe(0)
      }
      expect(revocationsOnly).toEqual([revocation])
      expect(resets).toBe(0)
      await Promise.all([stopA(), stopB(), stopC()])
    })

    it('lets two verifiers refuse a revoked device in time, with no store read after the first', async () => {
      const reads: string[] = []
      const devices = {
        publicKey: (_identity: string, device: string) => {
          reads.push(device)
          return Promise.resolve('1AAI-key')
        },
      }
      const feeds = await Promise.all([makeFeed(), makeFeed(), makeFeed()])
      const caches = feeds.slice(1).map((feed) => new DeviceLivenessCache({ devices, feed }))
      await Promise.all(caches.map((cache) => cache.start()))
      const identity = `E${randomId()}`
      const device = `E${randomId()}`
      for (const cache of caches) await cache.publicKey(identity, device)
      expect(reads).toHaveLength(2)
      await feeds[0].publish({ identity, device })
      const refused = (cache: DeviceLivenessCache) =>
        cache.publicKey(identity, device).then(
          () => false,
          (error: unknown) => error instanceof InvalidDeviceError,
        )
      for (const cache of caches) await until(() => refused(cache), deliveryMs)
      expect(reads).toHaveLength(2)
      await Promise.all(caches.map((cache) => cache.close()))
    })

    it('stops delivering to a subscriber that unsubscribed', async () => {
      const [publisher, feed] = await Promise.all([makeFeed(), makeFeed()])
      const gone = new Recorder()
      const staying = new Recorder()
      const stopGone = await feed.subscribe(gone)
      const stopStaying = await feed.subscribe(staying)
      await stopGone()
      await publisher.publish({ identity: `E${randomId()}` })
      await until(() => staying.seen.length === 1, deliveryMs)
      expect(gone.seen).toEqual([])
      await stopStaying()
    })
  })
}
