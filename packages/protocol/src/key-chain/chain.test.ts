import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { BetterAuthError, InvalidKeyChainError, InvalidMessageError } from '../errors.js'
import { signPayloadText } from '../messages/envelope.js'
import { extendKeyChain, verifyKeyChain } from './chain.js'
import type { KeyEvent, SignedKeyEvent } from './event.js'
import { keyEventId, parseKeyEvent } from './event.js'
import { HOUR, START, buildChain, chainKey, commitment, forge } from './testing-internal/chains.js'
import { crypto, hasher } from './testing-internal/suite.js'

const texts = (events: readonly SignedKeyEvent[]) => events.map(({ text }) => text)
const eventAt = (events: readonly SignedKeyEvent[], i: number) =>
  (events[i] as SignedKeyEvent).event

async function fault(promise: Promise<unknown>): Promise<string> {
  try {
    await promise
  } catch (error) {
    if (error instanceof InvalidKeyChainError) return String(error.context.fault)
    if (error instanceof BetterAuthError) return error.code
    throw error
  }
  return 'accepted'
}

describe('verifyKeyChain', () => {
  it('verifies a chain and names it by its inception identifier', async () => {
    const events = await buildChain(4)
    const chain = await verifyKeyChain(texts(events), crypto)
    expect(chain.prefix).toBe(eventAt(events, 0).id)
    expect(chain.head).toEqual(eventAt(events, 3))
    expect(chain.generations.map((g) => [g.sequence, g.publicKey, g.tainted])).toEqual(
      await Promise.all(
        [0, 1, 2, 3].map(async (i) => [i, await chainKey('root', i).public(), false]),
      ),
    )
    expect(new Set(events.map(({ event }) => event.prefix))).toEqual(new Set([chain.prefix]))
  })

  it('marks the generation before a tainting rotation, and only that one', async () => {
    const chain = await verifyKeyChain(texts(await buildChain(4, 'root', [2])), crypto)
    expect(chain.generations.map((g) => g.tainted)).toEqual([false, true, false, false])
  })

  it('refuses an empty log, another pinned chain and a log that does not start at inception', async () => {
    const events = await buildChain(3)
    const other = await buildChain(1, 'other')
    expect(await fault(verifyKeyChain([], crypto))).toBe('empty')
    expect(
      await fault(verifyKeyChain(texts(events), crypto, { prefix: eventAt(other, 0).id })),
    ).toBe('prefix')
    expect(await fault(verifyKeyChain(texts(events.slice(1)), crypto))).toBe('sequence')
  })

  it('refuses a rotation by a key the previous event did not commit to', async () => {
    const events = await buildChain(2)
    const head = eventAt(events, 1)
    const draft: KeyEvent = {
      ...head,
      sequence: 2,
      previous: head.id,
      createdAt: new Date(START + 2 * HOUR).toISOString(),
      publicKey: await chainKey('root', 9).public(),
      rotationHash: await commitment('root', 10),
    }
    const rotation = await forge(draft, 'root/9')
    expect(await fault(verifyKeyChain([...texts(events), rotation], crypto))).toBe(
      'uncommitted-key',
    )
  })

  it('refuses broken links, time regressions, wrong identifiers and wrong signers', async () => {
    const events = await buildChain(2)
    const [inception, rotation] = [eventAt(events, 0), eventAt(events, 1)]
    const withRotation = (text: string) =>
      verifyKeyChain([texts(events)[0] as string, text], crypto)
    const bogusDigest = await commitment('elsewhere', 0)

    expect(
      await fault(withRotation(await forge({ ...rotation, previous: bogusDigest }, 'root/1'))),
    ).toBe('broken-link')
    for (const createdAt of [inception.createdAt, new Date(START - 1).toISOString()]) {
      expect(await fault(withRotation(await forge({ ...rotation, createdAt }, 'root/1')))).toBe(
        'time-regression',
      )
    }
    expect(
      await fault(
        withRotation(await forge({ ...rotation, id: bogusDigest }, 'root/1', { keepId: true })),
      ),
    ).toBe('identifier')
    expect(await fault(withRotation(await forge(rotation, 'root/0')))).toBe('signature')
    expect(
      await fault(withRotation(await forge({ ...rotation, prefix: bogusDigest }, 'root/1'))),
    ).toBe('prefix')
  })

  it('refuses two different events with one sequence number (a fork)', async () => {
    const events = await buildChain(2)
    const rotation = eventAt(events, 1)
    const sibling = await forge(
      { ...rotation, createdAt: new Date(START + 2 * HOUR).toISOString() },
      'root/1',
    )
    expect(await fault(verifyKeyChain([...texts(events), sibling], crypto))).toBe('fork')
  })

  it('reads only the canonical text of an event', async () => {
    const [inception] = texts(await buildChain(1))
    const spaced = (inception as string).replace('"sequence":0', '"sequence": 0')
    expect(await fault(verifyKeyChain([spaced], crypto))).toBe('BA101')
    expect(() => parseKeyEvent(spaced)).toThrow(/canonical/)
  })

  it('refuses inception events that name a previous event or a taint', async () => {
    const inception = eventAt(await buildChain(1), 0)
    const digest = await commitment('root', 5)
    expect(
      await fault(
        verifyKeyChain([await forge({ ...inception, previous: digest }, 'root/0')], crypto),
      ),
    ).toBe('BA101')
    expect(
      await fault(verifyKeyChain([await forge({ ...inception, tainted: true }, 'root/0')], crypto)),
    ).toBe('BA101')
  })

  it('refuses an inception whose prefix is not its own identifier', async () => {
    const inception = eventAt(await buildChain(1), 0)
    const other = await commitment('root', 7)
    const draft = { ...inception, prefix: other }
    const text = await forge({ ...draft, id: await keyEventId(draft, hasher) }, 'root/0', {
      keepId: true,
    })
    expect(await fault(verifyKeyChain([text], crypto))).toBe('prefix')
  })

  it('refuses malformed event fields with BA101 (deterministic rows; the properties below are random)', async () => {
    const [inception, rotation] = (await buildChain(2)).map(({ event }) => event) as [
      KeyEvent,
      KeyEvent,
    ]
    // Each row is refused by the check of its field, not by a later one (a missing `previous`,
    // the canonical-form check).
    const rows: [unknown, string, string][] = [
      [{ ...inception, sequence: -1 }, 'root/0', 'payload.sequence'],
      [{ ...rotation, sequence: -1 }, 'root/1', 'payload.sequence'],
      [{ ...inception, sequence: 0.5 }, 'root/0', 'payload.sequence'],
      [{ ...inception, sequence: '0' }, 'root/0', 'payload.sequence'],
      [{ ...rotation, tainted: false }, 'root/1', 'payload.tainted'],
    ]
    for (const [draft, signer, field] of rows) {
      const text = await forge(draft as KeyEvent, signer, { keepId: true })
      expect(await fault(verifyKeyChain([text], crypto))).toBe('BA101')
      expect(() => parseKeyEvent(text)).toThrow(InvalidMessageError)
      expect(() => parseKeyEvent(text), field).toThrow(
        expect.objectContaining({ context: expect.objectContaining({ field }) }),
      )
    }
    for (const payload of ['[]', '"event"', 'null']) {
      const text = await signPayloadText(chainKey('root', 0), payload)
      expect(() => parseKeyEvent(text)).toThrow(InvalidMessageError)
    }
  })

  it('refuses input longer than maxEvents before verifying any of it', async () => {
    const events = await buildChain(3)
    expect(await fault(verifyKeyChain(texts(events), crypto, { maxEvents: 2 }))).toBe('BA101')
  })
})

describe('extendKeyChain', () => {
  it('learns the new events of a re-fetched log and never goes back', async () => {
    const events = await buildChain(5)
    const known = await verifyKeyChain(texts(events.slice(0, 2)), crypto)
    const extended = await extendKeyChain(known, texts(events), crypto)
    expect(extended.head).toEqual(eventAt(events, 4))
    const truncated = await extendKeyChain(extended, texts(events.slice(0, 3)), crypto)
    expect(truncated.head).toEqual(eventAt(events, 4))
  })

  it('refuses a log that forks from what the client knows', async () => {
    const events = await buildChain(3)
    const known = await verifyKeyChain(texts(events), crypto)
    const sibling = await forge(
      { ...eventAt(events, 2), createdAt: new Date(START + 9 * HOUR).toISOString() },
      'root/2',
    )
    expect(
      await fault(extendKeyChain(known, [...texts(events.slice(0, 2)), sibling], crypto)),
    ).toBe('fork')
  })
})

describe('key chain properties', () => {
  const chains = [2, 3, 4, 5].map((n) => buildChain(n))

  it('refuses every reordering of a valid log', async () => {
    const all = await Promise.all(chains)
    await fc.assert(
      fc.asyncProperty(
        fc
          .constantFrom(...all)
          .chain((events) =>
            fc.tuple(
              fc.constant(events),
              fc.shuffledSubarray(texts(events), { minLength: events.length }),
            ),
          ),
        async ([events, shuffled]) => {
          fc.pre(shuffled.some((text, i) => text !== texts(events)[i]))
          expect(['sequence', 'fork']).toContain(await fault(verifyKeyChain(shuffled, crypto)))
        },
      ),
      { numRuns: 60 },
    )
  })

  it('refuses every log with events missing before its head', async () => {
    const all = await Promise.all(chains)
    await fc.assert(
      fc.asyncProperty(
        fc
          .constantFrom(...all)
          .chain((events) =>
            fc.tuple(fc.constant(events), fc.integer({ min: 0, max: events.length - 2 })),
          ),
        async ([events, missing]) => {
          const gapped = texts(events).filter((_, i) => i !== missing)
          expect(await fault(verifyKeyChain(gapped, crypto))).toBe('sequence')
        },
      ),
      { numRuns: 30 },
    )
  })

  it('refuses any rotation whose time does not move forward', async () => {
    const [events] = await Promise.all(chains)
    const rotation = eventAt(events as SignedKeyEvent[], 1)
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 10 * HOUR }), async (back) => {
        const createdAt = new Date(START - back).toISOString()
        const text = await forge({ ...rotation, createdAt }, 'root/1')
        const log = [texts(events as SignedKeyEvent[])[0] as string, text]
        expect(await fault(verifyKeyChain(log, crypto))).toBe('time-regression')
      }),
      { numRuns: 25 },
    )
  })

  it('refuses any single-character change to any event with a typed error', async () => {
    const events = await buildChain(3)
    const log = texts(events)
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: log.length - 1 }),
        fc.nat(),
        fc.string({ minLength: 1, maxLength: 1, unit: 'binary' }),
        async (which, at, replacement) => {
          const text = log[which] as string
          const position = at % text.length
          fc.pre(text[position] !== replacement)
          const changed = text.slice(0, position) + replacement + text.slice(position + 1)
          const mutated = log.map((original, i) => (i === which ? changed : original))
          const outcome = await fault(verifyKeyChain(mutated, crypto))
          expect(outcome).not.toBe('accepted')
        },
      ),
      { numRuns: 80 },
    )
  })
})
