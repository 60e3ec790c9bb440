import { signPayloadText } from '../../messages/envelope.js'
import { canonicalKeyEventText, inceptKeyChain, keyEventId, rotateKeyChain } from '../event.js'
import type { KeyEvent, SignedKeyEvent } from '../event.js'
import { hasher, testKey } from './suite.js'

export const START = Date.parse('2026-01-01T00:00:00.000Z')
export const HOUR = 3_600_000

/** Key `i` of the chain labelled `label`; event `i` introduces it and commits to key `i + 1`. */
export const chainKey = (label: string, i: number) => testKey(`${label}/${i}`)

export async function commitment(label: string, i: number): Promise<string> {
  return hasher.sum(await chainKey(label, i).public())
}

/** A valid chain of `length` events, one hour apart; `taintAt` lists rotations that taint. */
export async function buildChain(
  length: number,
  label = 'root',
  taintAt: readonly number[] = [],
): Promise<SignedKeyEvent[]> {
  const events: SignedKeyEvent[] = [
    await inceptKeyChain({
      signer: chainKey(label, 0),
      rotationHash: await commitment(label, 1),
      createdAt: new Date(START),
      hasher,
    }),
  ]
  for (let i = 1; i < length; i++) {
    events.push(
      await rotateKeyChain((events[i - 1] as SignedKeyEvent).event, {
        signer: chainKey(label, i),
        rotationHash: await commitment(label, i + 1),
        createdAt: new Date(START + i * HOUR),
        taint: taintAt.includes(i),
        hasher,
      }),
    )
  }
  return events
}

/**
 * Signs any event draft with a correct identifier (unless `keepId`), so a test reaches exactly the
 * check it targets.
 */
export async function forge(
  draft: KeyEvent,
  signerLabel: string,
  options: { keepId?: boolean } = {},
): Promise<string> {
  let event = draft
  if (options.keepId !== true) {
    const id = await keyEventId(draft, hasher)
    event = draft.sequence === 0 ? { ...draft, id, prefix: id } : { ...draft, id }
  }
  return signPayloadText(testKey(signerLabel), canonicalKeyEventText(event))
}
