import { describe, expect, it } from 'vitest'
import { InvalidMessageError, InvalidSignatureError } from '../errors.js'
import type { SigningKey } from '../interfaces/crypto.js'
import { testKey, verifier } from '../key-chain/testing-internal/suite.js'
import { json, object, type Validator } from '../schema.js'
import {
  DEFAULT_MAX_MESSAGE_LENGTH,
  parseEnvelope,
  parseEnvelopeAt,
  readEnvelope,
  serializeEnvelope,
  signPayload,
  signPayloadText,
  verifyEnvelope,
} from './envelope.js'

const SIG =
  '0ID6mIMIBB9CGGygwW8rkAow4J7BgDKALJ-v2A86EmeicR7P304fcLEfRNcu_XI0oCmS-lSDUlFyKFzy9WY29EEY'
const anyPayload: Validator<unknown> = json
const signer = testKey('envelope')

/** The InvalidMessageError `run` throws, as its field and details. */
function refusal(run: () => unknown): { field: unknown; details: unknown } {
  try {
    run()
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidMessageError)
    const { field, details } = (error as InvalidMessageError).context
    return { field, details }
  }
  throw new Error('expected InvalidMessageError')
}

describe('verifyEnvelope', () => {
  it('verifies the signature over the payload bytes as received, not as re-serialized', async () => {
    const key = await signer.public()
    const payloadText = '{ "b" : 1,\n"a":[2, 3] }'
    const text = `{"payload":${payloadText},"signature":"${await signer.sign(payloadText)}"}`
    const envelope = parseEnvelope(text, anyPayload, true)
    expect(envelope.payloadText).toBe(payloadText)
    await expect(verifyEnvelope(envelope, verifier, key, 'request')).resolves.toBeUndefined()

    // The same value serialized another way is other bytes: its signature does not carry over.
    const respaced = { ...envelope, payloadText: JSON.stringify(envelope.payload) }
    await expect(verifyEnvelope(respaced, verifier, key, 'request')).rejects.toBeInstanceOf(
      InvalidSignatureError,
    )
  })

  it('refuses an unsigned envelope, another key and another signature, naming what was signed', async () => {
    const key = await signer.public()
    const other = await testKey('someone else').public()
    const text = await signPayload(signer, { a: 1 })
    const envelope = parseEnvelope(text, anyPayload, true)
    const unsigned = { ...envelope, signature: undefined }
    const calls: unknown[][] = []
    const recording = {
      verify: (...args: [string, string, string]) => {
        calls.push(args)
        return verifier.verify(...args)
      },
    }
    for (const [candidate, publicKey, signed] of [
      [unsigned, key, 'response'],
      [envelope, other, 'token'],
      [{ ...envelope, signature: SIG }, key, 'link-container'],
    ] as const) {
      const refused = verifyEnvelope(candidate, recording, publicKey, signed)
      await expect(refused).rejects.toBeInstanceOf(InvalidSignatureError)
      await expect(refused).rejects.toMatchObject({
        message: `Signature verification failed for ${signed}`,
        context: { signed },
      })
    }
    // An envelope without a signature is refused without asking the verifier.
    expect(calls).toEqual([
      [envelope.payloadText, envelope.signature, other],
      [envelope.payloadText, SIG, key],
    ])
  })
})

describe('signing', () => {
  it('signs the exact payload text and wraps it with its signature', async () => {
    const payloadText = '{"z":1, "a":"é"}'
    const text = await signPayloadText(signer, payloadText)
    const signature = await signer.sign(payloadText)
    expect(text).toBe(`{"payload":${payloadText},"signature":"${signature}"}`)
    await expect(verifier.verify(payloadText, signature, await signer.public())).resolves.toBe(true)
    await expect(signPayload(signer, { z: 1, a: 'é' })).resolves.toBe(
      serializeEnvelope('{"z":1,"a":"é"}', await signer.sign('{"z":1,"a":"é"}')),
    )
  })

  it('refuses signer output that is not a P-256 signature', async () => {
    const broken = { ...signer, sign: () => Promise.resolve('EOnMhfF6') } as SigningKey
    await expect(signPayloadText(broken, '{}')).rejects.toMatchObject({
      context: { field: 'signer output' },
    })
  })

  it('serializes with and without a signature', () => {
    expect(serializeEnvelope('{"a":1}')).toBe('{"payload":{"a":1}}')
    expect(serializeEnvelope('{"a":1}', SIG)).toBe(`{"payload":{"a":1},"signature":"${SIG}"}`)
  })
})

describe('readEnvelope', () => {
  it('refuses what is not a string', () => {
    for (const value of [undefined, null, 42, {}, new String('{"payload":{}}')]) {
      expect(refusal(() => parseEnvelope(value, anyPayload, false))).toEqual({
        field: 'message',
        details: 'expected a string',
      })
    }
  })

  it(`reads up to ${DEFAULT_MAX_MESSAGE_LENGTH} characters by default, or maxLength`, () => {
    expect(DEFAULT_MAX_MESSAGE_LENGTH).toBe(65_536)
    const frame = '{"payload":{"a":""}}'
    const sized = (length: number) => `{"payload":{"a":"${'x'.repeat(length - frame.length)}"}}`
    for (const [length, options] of [
      [DEFAULT_MAX_MESSAGE_LENGTH, {}],
      [100, { maxLength: 100 }],
    ] as const) {
      expect(sized(length)).toHaveLength(length)
      expect(parseEnvelope(sized(length), anyPayload, false, options).payloadText).toHaveLength(
        length - 12,
      )
      expect(refusal(() => parseEnvelope(sized(length + 1), anyPayload, false, options))).toEqual({
        field: 'message',
        details: `longer than ${length} characters`,
      })
    }
  })

  it('holds numbers to the exact-number rule unless the caller reads the text itself', () => {
    for (const text of ['{"payload":{"n":9007199254740993}}', '{ "payload": {"n":1e400} }']) {
      expect(refusal(() => readEnvelope(text, anyPayload, false, {}, true)).field).toBe(
        'message.payload.n',
      )
      expect(readEnvelope(text, anyPayload, false, {}, false).payloadText).toMatch(/^\{"n":/)
    }
  })

  it('reads a signed envelope in any key order and spacing, keeping the exact payload bytes', () => {
    const payloadText = '{"a":[1,{"b":null}]}'
    for (const text of [
      `{"payload":${payloadText},"signature":"${SIG}"}`,
      `{"signature":"${SIG}","payload":${payloadText}}`,
      ` {"payload" : ${payloadText} , "signature":"${SIG}"}\n`,
    ]) {
      expect(parseEnvelope(text, anyPayload, true)).toEqual({
        payload: { a: [1, { b: null }] },
        payloadText,
        signature: SIG,
      })
    }
  })

  it('refuses a compact-looking envelope whose frame is not exactly the signature member', () => {
    // Same length and layout as the compact form, so only the frame checks can tell.
    const payload = object({ a: json })
    for (const [text, field] of [
      [`{"payload":{"a":1},"signaturX":"${SIG}"}`, 'message.signaturX'],
      [`{"payload":{"a":1},"signature":"${SIG}"]`, 'message'],
      [`{"payload":{"a":1},"signature":"${SIG}"x`, 'message'],
    ] as const) {
      expect(refusal(() => parseEnvelope(text, payload, true)).field).toBe(field)
    }
  })

  it('reads an unsigned envelope as unsigned', () => {
    expect(parseEnvelope('{"payload":{"a":1}}', anyPayload, false)).toEqual({
      payload: { a: 1 },
      payloadText: '{"a":1}',
      signature: undefined,
    })
  })
})

describe('envelope fields', () => {
  const payload = object({ a: json })

  it('names the field that was wrong', () => {
    const cases: readonly (readonly [string, boolean, string, string])[] = [
      ['{"payload":{"a":1}}', true, 'message.signature', 'missing'],
      [`{"signature":"${SIG}"}`, true, 'message.payload', 'missing'],
      [`{"payload":{"a":1},"signature":"${SIG}"}`, false, 'message.signature', 'unexpected field'],
      [`{"payload":{"a":1},"signature":"${SIG}","x":1}`, true, 'message.x', 'unexpected field'],
      ['{"payload":{"a":1,"b":2}}', false, 'payload.b', 'unexpected field'],
      [`{"payload":{"a":1},"signature":"${SIG.slice(1)}"}`, true, 'signature', ''],
      [`{"payload":{"a":1},"signature":"E${SIG.slice(1)}"}`, true, 'signature', ''],
    ]
    for (const [text, signed, field, details] of cases) {
      const refused = refusal(() => parseEnvelope(text, payload, signed))
      expect(refused.field).toBe(field)
      if (details !== '') expect(refused.details).toBe(details)
    }
  })

  it('reads an envelope nested in a message at its span, under its own field name', () => {
    const inner = `{"payload":{"a":1},"signature":"${SIG}"}`
    const text = `{"link":${inner}}`
    const span = [8, 8 + inner.length] as const
    expect(parseEnvelopeAt(text, span, payload, true, 'payload.link')).toEqual({
      payload: { a: 1 },
      payloadText: '{"a":1}',
      signature: SIG,
    })
    const extra = `{"link":{"payload":{"a":1},"x":0}}`
    expect(
      refusal(() => parseEnvelopeAt(extra, [8, extra.length - 1], payload, false, 'payload.link')),
    ).toEqual({ field: 'payload.link.x', details: 'unexpected field' })
  })
})
