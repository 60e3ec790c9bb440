import { Blake3Hasher, NobleP256Verifier } from '@better-auth/crypto'
import {
  canonicalKeyEventText,
  endorseKey,
  inceptKeyChain,
  keyEventId,
  rotateKeyChain,
  serializeKeySet,
  verifyKeyChain,
  type KeyChain,
  type KeyEvent,
  type KeyGeneration,
  type KeyPurpose,
  type SignedKeyEvent,
} from '@better-auth/protocol/key-chain'
import { signPayloadText, type KeyChainFault, type EndorsementFault } from '@better-auth/protocol'
import { deterministicKey } from './deterministic.js'

export const KEY_CHAIN_FILE = 'key-chain.json'

/** The example chain's events are a day apart, starting at this instant. */
const START = Date.parse('2025-10-10T00:00:00.000Z')
const DAY = 86_400_000

const hasher = new Blake3Hasher()
const crypto = { hasher, verifier: new NobleP256Verifier() }
const rootKey = (i: number) => deterministicKey(`example/root/key-${i}`)
const serviceKey = (name: string) => deterministicKey(`example/service/${name}`)
const at = (days: number) => new Date(START + days * DAY)

/** A chain that is valid as a whole, with what a verifier must conclude from it. */
export interface ValidChainExample {
  readonly id: string
  readonly description: string
  readonly chain: readonly string[]
  readonly prefix: string
  readonly generations: readonly { sequence: number; publicKey: string; tainted: boolean }[]
}

/** A log every verifier must refuse, and the check that refuses it. */
export interface InvalidChainExample {
  readonly id: string
  readonly description: string
  readonly chain: readonly string[]
  readonly fault: KeyChainFault | 'BA101'
  readonly sequence?: number
}

/** An endorsement checked against the full example chain at `at` for `purpose`. */
export interface EndorsementExample {
  readonly id: string
  readonly description: string
  readonly endorsement: string
  readonly purpose: KeyPurpose
  readonly at: string
  readonly verdict: 'trusted' | EndorsementFault
}

export interface KeyChainExamples {
  readonly description: string
  readonly keys: Readonly<Record<string, string>>
  readonly valid: readonly ValidChainExample[]
  readonly invalid: readonly InvalidChainExample[]
  readonly endorsements: readonly EndorsementExample[]
  readonly keySet: string
}

async function commitment(i: number): Promise<string> {
  return hasher.sum(await rootKey(i + 1).public())
}

async function rotation(previous: KeyEvent, i: number, taint = false): Promise<SignedKeyEvent> {
  return rotateKeyChain(previous, {
    signer: rootKey(i),
    rotationHash: await commitment(i),
    createdAt: at(i),
    taint,
    hasher,
  })
}

/** Signs a draft with a correct identifier, so an invalid example fails exactly one check. */
async function forged(draft: KeyEvent, signer: number): Promise<string> {
  const id = await keyEventId(draft, hasher)
  return signPayloadText(rootKey(signer), canonicalKeyEventText({ ...draft, id }))
}

function describeChain(chain: KeyChain): ValidChainExample['generations'] {
  return chain.generations.map(({ sequence, publicKey, tainted }) => ({
    sequence,
    publicKey,
    tainted,
  }))
}

/**
 * The server key chain examples: one chain of four events whose last rotation taints the key
 * before it, endorsements by its keys, a key set, and logs that must be refused. Deterministic
 * like the message examples: keys from public labels, RFC 6979 signatures, fixed times.
 */
export async function generateKeyChainExamples(): Promise<KeyChainExamples> {
  const e0 = await inceptKeyChain({
    signer: rootKey(0),
    rotationHash: await commitment(0),
    createdAt: at(0),
    hasher,
  })
  const e1 = await rotation(e0.event, 1)
  const e2 = await rotation(e1.event, 2)
  const e3 = await rotation(e2.event, 3, true)
  const texts = [e0, e1, e2, e3].map(({ text }) => text)
  const chain = await verifyKeyChain(texts, crypto)
  const generation = (i: number) => chain.generations[i] as KeyGeneration

  const endorse = async (
    signer: number,
    service: string,
    purpose: KeyPurpose,
    from: number,
    to: number,
  ): Promise<string> =>
    endorseKey({
      chain,
      generation: generation(signer),
      signer: rootKey(signer),
      purpose,
      publicKey: await serviceKey(service).public(),
      notBefore: at(from),
      notAfter: at(to),
    })

  const response1 = await endorse(1, 'response-1', 'response', 1, 4)
  const access1 = await endorse(1, 'access-1', 'access', 1, 4)
  const response0 = await endorse(0, 'response-0', 'response', 0, 30)
  const response3 = await endorse(3, 'response-3', 'response', 3, 30)
  const access3 = await endorse(3, 'access-3', 'access', 3, 30)
  const stolen = await endorse(2, 'stolen', 'response', 2, 30)
  const instant = (days: number) => at(days).toISOString()

  const keys: Record<string, string> = {}
  for (let i = 0; i <= 4; i++) keys[`root/key-${i}`] = await rootKey(i).public()
  for (const name of ['response-0', 'response-1', 'access-1', 'response-3', 'access-3', 'stolen']) {
    keys[`service/${name}`] = await serviceKey(name).public()
  }

  return {
    description:
      'Server key chain examples generated by @better-auth/spec. Private keys are derived from ' +
      'public labels (see README.md): never use them for anything but examples.',
    keys,
    valid: [
      {
        id: 'chain.inception',
        description: 'A chain of one event: its identifier is the chain prefix.',
        chain: texts.slice(0, 1),
        prefix: chain.prefix,
        generations: describeChain(await verifyKeyChain(texts.slice(0, 1), crypto)),
      },
      {
        id: 'chain.rotated-then-tainted',
        description:
          'Inception, two rotations, and a third rotation that declares key 2 compromised.',
        chain: texts,
        prefix: chain.prefix,
        generations: describeChain(chain),
      },
    ],
    invalid: await invalidChains(texts, [e0, e1, e2, e3]),
    endorsements: [
      {
        id: 'endorsement.trusted',
        description: 'A response key endorsed by root key 1, used inside its window.',
        endorsement: response1,
        purpose: 'response',
        at: instant(2),
        verdict: 'trusted',
      },
      {
        id: 'endorsement.outlives-rotation',
        description: 'Endorsed by root key 0; root rotations without taint leave it trusted.',
        endorsement: response0,
        purpose: 'response',
        at: instant(10),
        verdict: 'trusted',
      },
      {
        id: 'endorsement.after-taint',
        description: 'Endorsed by the current root key 3, after the taint.',
        endorsement: response3,
        purpose: 'response',
        at: instant(5),
        verdict: 'trusted',
      },
      {
        id: 'endorsement.tainted',
        description: 'Endorsed by root key 2, which event 3 declared compromised.',
        endorsement: stolen,
        purpose: 'response',
        at: instant(5),
        verdict: 'tainted',
      },
      {
        id: 'endorsement.expired',
        description: 'Used at the end of its window (notAfter is exclusive).',
        endorsement: response1,
        purpose: 'response',
        at: instant(4),
        verdict: 'expired',
      },
      {
        id: 'endorsement.not-yet-valid',
        description: 'Used before its window opens.',
        endorsement: access3,
        purpose: 'access',
        at: instant(2),
        verdict: 'not-yet-valid',
      },
      {
        id: 'endorsement.wrong-purpose',
        description: 'An access key presented as a response key.',
        endorsement: access1,
        purpose: 'response',
        at: instant(2),
        verdict: 'purpose',
      },
    ],
    keySet: serializeKeySet({
      chain: texts,
      keys: [response0, response1, access1, response3, access3],
    }),
  }
}

async function invalidChains(
  texts: readonly string[],
  events: readonly SignedKeyEvent[],
): Promise<InvalidChainExample[]> {
  const event = (i: number) => (events[i] as SignedKeyEvent).event
  const head = (i: number) => texts.slice(0, i)
  const later = (i: number, days: number) => ({ ...event(i), createdAt: at(days).toISOString() })
  return [
    {
      id: 'chain.empty',
      description: 'No events.',
      chain: [],
      fault: 'empty',
    },
    {
      id: 'chain.no-inception',
      description: 'The log starts at a rotation.',
      chain: texts.slice(1),
      fault: 'sequence',
      sequence: 1,
    },
    {
      id: 'chain.reordered',
      description: 'Events 1 and 2 swapped.',
      chain: [texts[0], texts[2], texts[1], texts[3]] as string[],
      fault: 'sequence',
      sequence: 2,
    },
    {
      id: 'chain.gap',
      description: 'Event 1 missing.',
      chain: [texts[0], texts[2]] as string[],
      fault: 'sequence',
      sequence: 2,
    },
    {
      id: 'chain.fork',
      description: 'Two different events with sequence 2, both signed by the committed key 2.',
      chain: [...head(3), await forged(later(2, 9), 2)],
      fault: 'fork',
      sequence: 2,
    },
    {
      id: 'chain.broken-link',
      description: 'Event 2 names an event that is not event 1 as its previous event.',
      chain: [...head(2), await forged({ ...event(2), previous: event(0).id }, 2)],
      fault: 'broken-link',
      sequence: 2,
    },
    {
      id: 'chain.time-regression',
      description: 'Event 2 is no later than event 1.',
      chain: [...head(2), await forged(later(2, 1), 2)],
      fault: 'time-regression',
      sequence: 2,
    },
    {
      id: 'chain.uncommitted-key',
      description: 'Event 2 introduces (and is signed by) a key event 1 did not commit to.',
      chain: [...head(2), await forged({ ...event(2), publicKey: await rootKey(7).public() }, 7)],
      fault: 'uncommitted-key',
      sequence: 2,
    },
    {
      id: 'chain.wrong-identifier',
      description: 'Event 1 carries the identifier of event 2.',
      chain: [
        texts[0] as string,
        await signPayloadText(rootKey(1), canonicalKeyEventText({ ...event(1), id: event(2).id })),
      ],
      fault: 'identifier',
      sequence: 1,
    },
    {
      id: 'chain.wrong-signer',
      description: 'Event 1 signed by key 0 instead of the key it introduces.',
      chain: [texts[0] as string, await forged(event(1), 0)],
      fault: 'signature',
      sequence: 1,
    },
  ]
}

/** The examples as committed: two-space JSON and a final newline. */
export function serializeKeyChainExamples(examples: KeyChainExamples): string {
  return JSON.stringify(examples, null, 2) + '\n'
}
