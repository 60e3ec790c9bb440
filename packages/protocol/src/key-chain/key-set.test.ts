import { describe, expect, it } from 'vitest'
import { BetterAuthError, InvalidEndorsementError } from '../errors.js'
import { signPayloadText } from '../messages/envelope.js'
import { verifyKeyChain, type KeyChain, type KeyGeneration } from './chain.js'
import { endorseKey, parseEndorsement, verifyEndorsement, type KeyPurpose } from './endorsement.js'
import { parseKeySet, serializeKeySet, trustedKey, verifyKeySet } from './key-set.js'
import { HOUR, START, buildChain, chainKey } from './testing-internal/chains.js'
import { crypto, testKey } from './testing-internal/suite.js'

async function outcome(run: () => unknown): Promise<string> {
  try {
    await run()
    return 'accepted'
  } catch (error) {
    if (error instanceof InvalidEndorsementError) return String(error.context.fault)
    if (error instanceof BetterAuthError) return error.code
    throw error
  }
}

async function setup(length = 3, taintAt: number[] = []) {
  const events = await buildChain(length, 'root', taintAt)
  const chain = await verifyKeyChain(
    events.map(({ text }) => text),
    crypto,
  )
  const generation = (i: number) => chain.generations[i] as KeyGeneration
  const endorse = async (
    i: number,
    service: string,
    purpose: KeyPurpose = 'response',
    from = START,
    to = START + 24 * HOUR,
  ) =>
    endorseKey({
      chain,
      generation: generation(i),
      signer: chainKey('root', i),
      purpose,
      publicKey: await testKey(service).public(),
      notBefore: new Date(from),
      notAfter: new Date(to),
    })
  return { events, chain, generation, endorse }
}

describe('endorsements', () => {
  it('verify against the chain key that signed them, also after later rotations', async () => {
    const { chain, endorse, generation } = await setup(3)
    const text = await endorse(0, 'service-a')
    const verified = await verifyEndorsement(text, chain, crypto.verifier)
    expect(verified.generation).toEqual(generation(0))
    expect(verified.endorsement.publicKey).toBe(await testKey('service-a').public())
    expect(verified.text).toBe(text)
  })

  it('are refused once their root key is tainted', async () => {
    const { chain, endorse } = await setup(3, [2])
    expect(await outcome(() => verifyEndorsement('', chain, crypto.verifier))).toBe('BA101')
    expect(
      await outcome(async () => verifyEndorsement(await endorse(1, 's'), chain, crypto.verifier)),
    ).toBe('tainted')
    expect(
      await outcome(async () => verifyEndorsement(await endorse(0, 's'), chain, crypto.verifier)),
    ).toBe('accepted')
    expect(
      await outcome(async () => verifyEndorsement(await endorse(2, 's'), chain, crypto.verifier)),
    ).toBe('accepted')
  })

  it('can be read without verifying, to name the key of a refused one', async () => {
    const { chain, endorse } = await setup(3, [2])
    const tainted = await endorse(1, 'service-b', 'access')
    expect(await outcome(() => verifyEndorsement(tainted, chain, crypto.verifier))).toBe('tainted')
    expect(parseEndorsement(tainted)).toEqual({
      chain: chain.prefix,
      event: chain.generations[1]?.id,
      purpose: 'access',
      publicKey: await testKey('service-b').public(),
      notBefore: new Date(START).toISOString(),
      notAfter: new Date(START + 24 * HOUR).toISOString(),
    })
    // Malformed or non-canonical text is refused as verifyEndorsement refuses it.
    expect(await outcome(() => parseEndorsement(''))).toBe('BA101')
    const spaced = tainted.replace('"purpose":"access"', '"purpose": "access"')
    expect(await outcome(() => parseEndorsement(spaced))).toBe('BA101')
  })

  it('are refused for another chain, an unknown event or a signature by another key', async () => {
    const { chain, endorse, generation } = await setup(2)
    const other = await verifyKeyChain(
      (await buildChain(1, 'other')).map(({ text }) => text),
      crypto,
    )
    const text = await endorse(0, 's')
    expect(await outcome(() => verifyEndorsement(text, other, crypto.verifier))).toBe('chain')
    const short: KeyChain = { ...chain, generations: chain.generations.slice(1) }
    expect(await outcome(() => verifyEndorsement(text, short, crypto.verifier))).toBe(
      'unknown-event',
    )
    const payload = text.slice('{"payload":'.length, text.indexOf(',"signature"'))
    const resigned = await signPayloadText(chainKey('root', 1), payload)
    expect(await outcome(() => verifyEndorsement(resigned, chain, crypto.verifier))).toBe(
      'signature',
    )
    expect(
      await outcome(() =>
        endorseKey({
          chain,
          generation: generation(0),
          signer: chainKey('root', 1),
          purpose: 'access',
          publicKey: chain.head.publicKey,
          notBefore: new Date(START),
          notAfter: new Date(START + 1),
        }),
      ),
    ).toBe('signature')
  })

  it('are refused with BA101 for an unknown purpose or a payload not in canonical form', async () => {
    const { chain, endorse } = await setup(1)
    const text = await endorse(0, 's')
    const payload = text.slice('{"payload":'.length, text.indexOf(',"signature"'))
    expect(payload).toContain('"purpose":"response"')
    for (const changed of [
      payload.replace('"purpose":"response"', '"purpose":"signing"'),
      payload.replace('"purpose":"response"', '"purpose": "response"'),
    ]) {
      const resigned = await signPayloadText(chainKey('root', 0), changed)
      expect(await outcome(() => verifyEndorsement(resigned, chain, crypto.verifier))).toBe('BA101')
    }
  })

  it('refuse an empty or inverted validity window when created', async () => {
    const { endorse } = await setup(1)
    expect(await outcome(() => endorse(0, 's', 'response', START, START))).toBe('BA101')
    expect(await outcome(() => endorse(0, 's', 'response', START + 1, START))).toBe('BA101')
  })
})

describe('key sets', () => {
  it('round-trip and answer which key may sign what, when', async () => {
    const { events, endorse } = await setup(2)
    const document = {
      chain: events.map(({ text }) => text),
      keys: [
        await endorse(0, 'response-1', 'response', START, START + 2 * HOUR),
        await endorse(1, 'response-2', 'response', START + HOUR, START + 3 * HOUR),
        await endorse(1, 'access-1', 'access'),
      ],
    }
    const text = serializeKeySet(document)
    expect(parseKeySet(text)).toEqual(document)
    const set = await verifyKeySet(text, crypto, {
      prefix: (events[0] as { event: { id: string } }).event.id,
    })
    const response1 = await testKey('response-1').public()
    const response2 = await testKey('response-2').public()
    const at = (ms: number) => new Date(START + ms)

    expect(trustedKey(set, response1, 'response', at(HOUR)).endorsement.publicKey).toBe(response1)
    expect(trustedKey(set, response2, 'response', at(HOUR)).endorsement.publicKey).toBe(response2)
    expect(await outcome(() => trustedKey(set, response2, 'response', at(0)))).toBe('not-yet-valid')
    expect(await outcome(() => trustedKey(set, response1, 'response', at(2 * HOUR)))).toBe(
      'expired',
    )
    expect(await outcome(() => trustedKey(set, response1, 'access', at(HOUR)))).toBe('purpose')
    expect(
      await outcome(async () => trustedKey(set, await testKey('x').public(), 'access', at(HOUR))),
    ).toBe('unknown-key')
  })

  it('leave out keys endorsed by a tainted root key and keep the rest', async () => {
    const { events, endorse } = await setup(3, [2])
    const set = await verifyKeySet(
      serializeKeySet({
        chain: events.map(({ text }) => text),
        keys: [await endorse(1, 'stolen'), await endorse(2, 'fresh')],
      }),
      crypto,
    )
    const stolen = await testKey('stolen').public()
    expect([...set.keys.keys()]).toEqual([await testKey('fresh').public()])
    expect([...set.tainted]).toEqual([stolen])
    expect(await outcome(() => trustedKey(set, stolen, 'response', new Date(START)))).toBe(
      'tainted',
    )
  })

  it('refuse the whole set for any other faulty endorsement', async () => {
    const { events, endorse } = await setup(2)
    const good = await endorse(0, 'a')
    const forged = good.replace(
      /"signature":"0I(.)/,
      (_, c: string) => `"signature":"0I${c === 'A' ? 'B' : 'A'}`,
    )
    const text = serializeKeySet({ chain: events.map(({ text }) => text), keys: [good, forged] })
    expect(await outcome(() => verifyKeySet(text, crypto))).not.toBe('accepted')
  })

  it('refuse malformed documents with BA101', async () => {
    for (const text of [
      '[]',
      '{"chain":[],"keys":[1]}',
      '{"chain":[]}',
      '{"chain":[],"keys":[],"x":1}',
      '{"chain":[],"keys":[],"keys":[]}',
      5,
      // Longer than the 1 MiB a key set may have, refused before it is parsed.
      `{"chain":[],"keys":[],"pad":"${'x'.repeat(1024 * 1024)}"}`,
    ]) {
      expect(await outcome(() => parseKeySet(text))).toBe('BA101')
    }
  })
})
