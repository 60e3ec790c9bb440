import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { BetterAuthError, InvalidMessageError } from '../errors.js'
import { parseEnvelope, parseEnvelopeAt, serializeEnvelope, type Envelope } from './envelope.js'
import {
  buildAccessRequestPayload,
  buildAccessResponsePayload,
  buildRequestPayload,
  buildResponsePayload,
  linkContainerOf,
  parseAccessRequest,
  parseAccessResponse,
  parseLinkContainer,
  parseRequest,
  parseResponse,
} from './parse.js'
import type { Validator } from '../schema.js'
import { accessRequestPayload, protocols, requestPayloadValidator } from './protocols.js'
import { MAX_JSON_DEPTH } from '../json/spans.js'

const KEY = '1AAIAkZeridwme6y4GpivAoI9sw5LNyj9BJD5USSAJu165AD'
const DIGEST = 'EOnMhfF6CIKCvXrZkRxwPMBRy6MwgwSBM0H6hb1uDezu'
const NONCE = '0ABic13dCJIYixhIS8fd6kfC'
const SIG =
  '0ID6mIMIBB9CGGygwW8rkAow4J7BgDKALJ-v2A86EmeicR7P304fcLEfRNcu_XI0oCmS-lSDUlFyKFzy9WY29EEY'

const rotation = { device: DIGEST, identity: DIGEST, publicKey: KEY, rotationHash: DIGEST }
const rotateText = serializeEnvelope(
  JSON.stringify({ access: { nonce: NONCE }, request: { authentication: rotation } }),
  SIG,
)

function fieldOf(fn: () => unknown): string {
  try {
    fn()
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidMessageError)
    return String((error as InvalidMessageError).context.field)
  }
  throw new Error('expected InvalidMessageError')
}

function mutate(edit: (payload: Record<string, unknown>) => void): string {
  const payload = JSON.parse(rotateText.slice(11, rotateText.indexOf(',"signature"'))) as Record<
    string,
    unknown
  >
  edit(payload)
  return serializeEnvelope(JSON.stringify(payload), SIG)
}

describe('parseRequest', () => {
  it('keeps the exact payload text and rebuilds the payload in canonical order', () => {
    const spaced = `{ "signature": "${SIG}", "payload": {"request":{"authentication":{"rotationHash":"${DIGEST}","publicKey":"${KEY}","identity":"${DIGEST}","device":"${DIGEST}"}},"access":{"nonce":"${NONCE}"}} }`
    const parsed = parseRequest('rotateDevice', spaced)
    expect(parsed.payloadText).toBe(spaced.slice(spaced.indexOf('{"request"'), spaced.length - 2))
    expect(parsed.signature).toBe(SIG)
    expect(JSON.stringify(parsed.payload)).toBe(
      JSON.stringify({ access: { nonce: NONCE }, request: { authentication: rotation } }),
    )
  })

  it.each([
    [
      'missing field',
      (p: Record<string, any>) => delete p.request.authentication.device,
      'payload.request.authentication.device',
    ],
    [
      'extra field',
      (p: Record<string, any>) => (p.request.authentication.extra = 1),
      'payload.request.authentication.extra',
    ],
    ['number for string', (p: Record<string, any>) => (p.access.nonce = 5), 'payload.access.nonce'],
    [
      'wrong CESR code',
      (p: Record<string, any>) => (p.request.authentication.publicKey = DIGEST),
      'payload.request.authentication.publicKey',
    ],
    [
      'truncated digest',
      (p: Record<string, any>) => (p.request.authentication.identity = DIGEST.slice(0, 43)),
      'payload.request.authentication.identity',
    ],
    ['array for object', (p: Record<string, any>) => (p.request = []), 'payload.request'],
    ['null access', (p: Record<string, any>) => (p.access = null), 'payload.access'],
    [
      'prototype key',
      (p: Record<string, any>) =>
        Object.defineProperty(p.request, '__proto__', { value: {}, enumerable: true }),
      'payload.request.__proto__',
    ],
  ])('rejects %s naming the field', (_name, edit, field) => {
    expect(fieldOf(() => parseRequest('rotateDevice', mutate(edit)))).toBe(field)
  })

  it.each([
    ['not JSON', 'hello', 'message'],
    ['a number', 42, 'message'],
    ['null', null, 'message'],
    ['missing signature', rotateText.replace(/,"signature":"[^"]+"/, ''), 'message.signature'],
    ['bad signature code', rotateText.replace(SIG, DIGEST), 'signature'],
    ['unknown top-level field', rotateText.replace('{"payload"', '{"x":1,"payload"'), 'message.x'],
    [
      'duplicate payload',
      rotateText.replace('{"payload"', '{"payload":{},"payload"'),
      'message.payload',
    ],
    ['payload not JSON', `{"payload":{"a":tru},"signature":"${SIG}"}`, 'message.payload.a'],
  ])('rejects %s', (_name, text, field) => {
    expect(fieldOf(() => parseRequest('rotateDevice', text))).toBe(field)
  })

  it('refuses oversized input before reading it', () => {
    const huge = `{"payload":"${'a'.repeat(70_000)}"}`
    expect(fieldOf(() => parseRequest('rotateDevice', huge))).toBe('message')
    expect(fieldOf(() => parseRequest('rotateDevice', rotateText, { maxLength: 100 }))).toBe(
      'message',
    )
  })

  it('rejects a signature on an unsigned request', () => {
    const text = serializeEnvelope(
      JSON.stringify({
        access: { nonce: NONCE },
        request: { authentication: { identity: DIGEST } },
      }),
      SIG,
    )
    expect(fieldOf(() => parseRequest('requestSession', text))).toBe('message.signature')
    expect(parseRequest('requestSession', text.replace(/,"signature":"[^"]+"/, '')).signature).toBe(
      undefined,
    )
  })

  it('survives deeply nested input with a typed error', () => {
    const deep = `{"payload":${'['.repeat(100_000)}${']'.repeat(100_000)},"signature":"${SIG}"}`
    expect(fieldOf(() => parseRequest('rotateDevice', deep, { maxLength: 1_000_000 }))).toMatch(
      /payload/,
    )
  })

  it('never throws anything but BetterAuthError on arbitrary input', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.json(), fc.anything()), (input) => {
        for (const parse of [
          () => parseRequest('createAccount', input),
          () => parseResponse('createSession', input),
          () => parseAccessRequest(input),
          () => parseLinkContainer(input),
        ]) {
          try {
            parse()
          } catch (error) {
            expect(error).toBeInstanceOf(BetterAuthError)
          }
        }
      }),
      { numRuns: 1000 },
    )
  })
})

describe('the compact envelope fast path', () => {
  const TOKEN = SIG + 'H4sIAAAAAAAAA6tWKkktLlGyUlAqS8wpTVWqBQBOxMBJEwAAAA'
  const accessText = serializeEnvelope(
    JSON.stringify({
      access: { nonce: NONCE, timestamp: '2025-10-19T17:26:07.097Z', token: TOKEN },
      request: { foo: 'a "},"signature":"x', bar: [1, { b: null }] },
    }),
    SIG,
  )

  /** What a parse produced, comparable across both paths. */
  function outcome(parse: () => Envelope<unknown>): unknown {
    try {
      const { payload, payloadText, signature } = parse()
      return { payload, payloadText, signature }
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidMessageError)
      return (error as InvalidMessageError).context
    }
  }

  const validators: readonly Validator<unknown>[] = [
    accessRequestPayload,
    requestPayloadValidator(protocols.requestSession.request),
  ]

  function agree(text: string): void {
    for (const validate of validators) {
      for (const signed of [true, false]) {
        expect(outcome(() => parseEnvelope(text, validate, signed))).toEqual(
          outcome(() => parseEnvelopeAt(text, [0, text.length], validate, signed, 'message')),
        )
      }
    }
  }

  it('parses what the structural scanner parses, exactly', () => {
    const parsed = parseAccessRequest(accessText)
    expect(parsed.signature).toBe(SIG)
    expect(parsed.payloadText).toBe(accessText.slice(11, accessText.length - 104))
    agree(accessText)
    const payloadText = accessText.slice(11, accessText.length - 104)
    const signature = `,"signature":"${SIG}"}`
    for (const text of [
      `{"payload":${payloadText}}`,
      `{"payload":${payloadText} }`,
      `{"payload":${payloadText} ${signature}`,
      `{"payload": ${payloadText}${signature}`,
      `{"payload":${payloadText}\n${signature}`,
      `{"payload":${payloadText}${signature} `,
      `{"payload":${payloadText},"signature":"${SIG}" }`,
      `{"payload":${payloadText},"signature":"${SIG.slice(0, -1)}\\u0041"}`,
      `{"payload":${payloadText}${signature}`.replace('"foo"', '"signature"'),
      `{"payload":${payloadText},"x":{}${signature}`,
    ]) {
      agree(text)
    }
  })

  it('agrees with the structural scanner on edited envelopes', () => {
    const pieces = ['{', '}', '"', ',', ':', ' ', '\\', '[', ']', ',"signature":"', SIG, 'x']
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            at: fc.nat({ max: accessText.length }),
            remove: fc.nat({ max: 3 }),
            insert: fc.oneof(fc.constantFrom(...pieces), fc.string({ maxLength: 3 })),
          }),
          { maxLength: 3 },
        ),
        (edits) => {
          let text = accessText
          for (const { at, remove, insert } of edits) {
            const index = Math.min(at, text.length)
            text = text.slice(0, index) + insert + text.slice(index + remove)
          }
          agree(text)
        },
      ),
      { numRuns: 3000 },
    )
  })
})

describe('link containers', () => {
  it('extracts the embedded container with its own exact payload bytes', () => {
    const containerPayload = ` {"authentication": ${JSON.stringify(rotation)}} `
    const container = `{"payload":${containerPayload},"signature":"${SIG}"}`
    const payloadText = `{"access":{"nonce":"${NONCE}"},"request":{"authentication":${JSON.stringify(rotation)},"link":${container}}}`
    const request = parseRequest('linkDevice', serializeEnvelope(payloadText, SIG))
    const link = linkContainerOf(request)
    expect(link.payloadText).toBe(containerPayload.trim())
    expect(link.signature).toBe(SIG)
    expect(link.payload.authentication.device).toBe(DIGEST)
  })
})

describe('linkContainerOf on a request it did not parse', () => {
  // parseRequest checks the container already; a hand-built envelope still gets named fields.
  const handBuilt = (payloadText: string) =>
    ({ payloadText }) as unknown as Parameters<typeof linkContainerOf>[0]

  it('names the missing link and the container field that was wrong', () => {
    expect(fieldOf(() => linkContainerOf(handBuilt('{"request":{}}')))).toBe('payload.request.link')
    const extra = `{"request":{"link":{"payload":{"authentication":${JSON.stringify(rotation)}},"signature":"${SIG}","x":1}}}`
    expect(fieldOf(() => linkContainerOf(handBuilt(extra)))).toBe('payload.request.link.x')
  })
})

describe('buildRequestPayload', () => {
  it('emits canonical key order whatever order the caller used', () => {
    const payload = buildRequestPayload('createSession', NONCE, {
      authentication: { nonce: NONCE, device: DIGEST },
      access: { rotationHash: DIGEST, publicKey: KEY },
    })
    expect(JSON.stringify(payload)).toBe(
      `{"access":{"nonce":"${NONCE}"},"request":{"access":{"publicKey":"${KEY}","rotationHash":"${DIGEST}"},"authentication":{"device":"${DIGEST}","nonce":"${NONCE}"}}}`,
    )
  })

  it('refuses to build a malformed request', () => {
    expect(
      fieldOf(() =>
        buildRequestPayload('rotateDevice', NONCE, {
          authentication: { ...rotation, publicKey: 'nope' },
        }),
      ),
    ).toBe('payload.request.authentication.publicKey')
  })
})

describe('one signature, one meaning', () => {
  const TOKEN = SIG + 'H4sIAAAAAAAAA6tWKkktLlGyUlAqS8wpTVWqBQBOxMBJEwAAAA'
  const TIME = '2025-10-19T17:26:07.097Z'
  const access = `"access":{"nonce":"${NONCE}","timestamp":"${TIME}","token":"${TOKEN}"}`
  const accessRequest = (request: string, accessText = access) =>
    serializeEnvelope(`{${accessText},"request":${request}}`, SIG)
  const rotationText = JSON.stringify(rotation)

  it.each([
    [
      'two identities',
      () =>
        parseRequest(
          'rotateDevice',
          serializeEnvelope(
            `{"access":{"nonce":"${NONCE}"},"request":{"authentication":${rotationText.replace('{', `{"identity":"${DIGEST}",`)}}}`,
            SIG,
          ),
        ),
      'message.payload.request.authentication.identity',
    ],
    [
      'two request members on /device/rotate',
      () =>
        parseRequest(
          'rotateDevice',
          serializeEnvelope(
            `{"access":{"nonce":"${NONCE}"},"request":{"authentication":${rotationText}},"request":{"authentication":${rotationText}}}`,
            SIG,
          ),
        ),
      'message.payload.request',
    ],
    [
      'two tokens',
      () => parseAccessRequest(accessRequest('{}', access.replace('{', `{"token":"${TOKEN}",`))),
      'message.payload.access.token',
    ],
    [
      'two nonces',
      () => parseAccessRequest(accessRequest('{}', access.replace('{', `{"nonce":"${NONCE}",`))),
      'message.payload.access.nonce',
    ],
    [
      'two timestamps',
      () => parseAccessRequest(accessRequest('{}', access.replace('{', `{"timestamp":"${TIME}",`))),
      'message.payload.access.timestamp',
    ],
    [
      'a duplicate deep in application data',
      () => parseAccessRequest(accessRequest('{"a":[{"b":{"c":1,"c":2}}]}')),
      'message.payload.request.a[0].b.c',
    ],
    [
      'a duplicate even when the route reads raw text',
      () => parseAccessRequest(accessRequest('{"a":1,"a":1}'), { request: 'text' }),
      'message.payload.request.a',
    ],
    [
      'a duplicate in a signed response',
      () =>
        parseAccessResponse(
          serializeEnvelope(
            `{"access":{"nonce":"${NONCE}","serverIdentity":"${KEY}"},"response":{"ok":true,"ok":false}}`,
            SIG,
          ),
        ),
      'message.payload.response.ok',
    ],
  ])('refuses %s, naming the key', (_name, parse, field) => {
    expect(fieldOf(parse)).toBe(field)
  })

  it('refuses a raw lone surrogate, which has no UTF-8 bytes to sign', () => {
    expect(fieldOf(() => parseAccessRequest(accessRequest('{"a":"\ud800"}')))).toBe(
      'message.payload.request.a',
    )
  })

  it(`reads ${MAX_JSON_DEPTH} levels of application data and refuses one more`, () => {
    const nested = (n: number) => '['.repeat(n) + ']'.repeat(n)
    expect(() => parseAccessRequest(accessRequest(nested(MAX_JSON_DEPTH)))).not.toThrow()
    expect(() =>
      parseAccessResponse(
        serializeEnvelope(
          `{"access":{"nonce":"${NONCE}","serverIdentity":"${KEY}"},"response":${nested(MAX_JSON_DEPTH)}}`,
          SIG,
        ),
      ),
    ).not.toThrow()
    const deeper = accessRequest(nested(MAX_JSON_DEPTH + 1))
    expect(fieldOf(() => parseAccessRequest(deeper))).toMatch(/^message\.payload\.request(\[0\])+$/)
    expect(fieldOf(() => parseAccessRequest(deeper, { request: 'text' }))).toMatch(/request/)
  })

  it('refuses imprecise numbers unless the route takes the raw text', () => {
    const data = '{ "id": 9007199254740993, "price": 0.30000000000000001 }'
    expect(fieldOf(() => parseAccessRequest(accessRequest(data)))).toBe(
      'message.payload.request.id',
    )
    const raw = parseAccessRequest(accessRequest(data), { request: 'text' })
    expect(raw.payload.request).toBe(data)
    expect(raw.payload.access.nonce).toBe(NONCE)
    expect(raw.payloadText).toBe(`{${access},"request":${data}}`)
    expect(
      parseAccessRequest(accessRequest('{"id":9007199254740991,"x":1.5e300}')).payload.request,
    ).toEqual({
      id: 9007199254740991,
      x: 1.5e300,
    })
  })
})

describe('signatures where the protocol requires them', () => {
  const TOKEN = SIG + 'H4sIAAAAAAAAA6tWKkktLlGyUlAqS8wpTVWqBQBOxMBJEwAAAA'
  const TIME = '2025-10-19T17:26:07.097Z'
  const serverAccess = { nonce: NONCE, serverIdentity: KEY }
  const unsigned = (payload: unknown) => serializeEnvelope(JSON.stringify(payload))
  const signed = (payload: unknown) => serializeEnvelope(JSON.stringify(payload), SIG)

  it('every response, link container and access message must carry one', () => {
    const accessRequest = { access: { nonce: NONCE, timestamp: TIME, token: TOKEN }, request: 1 }
    const accessResponse = { access: serverAccess, response: { ok: true } }
    const container = { authentication: rotation }
    const parsers: readonly (readonly [(text: string) => Envelope<unknown>, unknown])[] = [
      [(text) => parseResponse('rotateDevice', text), { access: serverAccess, response: {} }],
      [(text) => parseAccessResponse(text), accessResponse],
      [(text) => parseLinkContainer(text), container],
      [(text) => parseAccessRequest(text), accessRequest],
      [(text) => parseAccessRequest(text, { request: 'text' }), accessRequest],
    ]
    for (const [parse, payload] of parsers) {
      expect(parse(signed(payload)).signature).toBe(SIG)
      expect(fieldOf(() => parse(unsigned(payload)))).toBe('message.signature')
    }
  })

  it('every request but requestSession must carry one, and requestSession none', () => {
    for (const kind of Object.keys(protocols) as (keyof typeof protocols)[]) {
      const text = unsigned({ access: { nonce: NONCE }, request: {} })
      // An empty request is refused for its missing fields, after the signature check.
      const field = fieldOf(() => parseRequest(kind, text))
      if (kind === 'requestSession') {
        expect(protocols[kind].signed).toBe(false)
        expect(field).toBe('payload.request.authentication')
      } else {
        expect(protocols[kind].signed).toBe(true)
        expect(field).toBe('message.signature')
      }
    }
  })
})

describe('building responses and access messages', () => {
  const TOKEN = SIG + 'H4sIAAAAAAAAA6tWKkktLlGyUlAqS8wpTVWqBQBOxMBJEwAAAA'
  const TIME = '2025-10-19T17:26:07.097Z'

  it('emits canonical key order and refuses malformed parts', () => {
    const server = { serverIdentity: KEY, nonce: NONCE }
    expect(
      JSON.stringify(buildResponsePayload('createSession', server, { access: { token: TOKEN } })),
    ).toBe(
      `{"access":{"nonce":"${NONCE}","serverIdentity":"${KEY}"},"response":{"access":{"token":"${TOKEN}"}}}`,
    )
    expect(JSON.stringify(buildAccessResponsePayload(server, { b: 1, a: 2 }))).toBe(
      `{"access":{"nonce":"${NONCE}","serverIdentity":"${KEY}"},"response":{"b":1,"a":2}}`,
    )
    expect(
      JSON.stringify(
        buildAccessRequestPayload({ token: TOKEN, timestamp: TIME, nonce: NONCE }, [1, 'x']),
      ),
    ).toBe(
      `{"access":{"nonce":"${NONCE}","timestamp":"${TIME}","token":"${TOKEN}"},"request":[1,"x"]}`,
    )
    expect(
      fieldOf(() =>
        buildResponsePayload(
          'createSession',
          { ...server, serverIdentity: DIGEST },
          {
            access: { token: TOKEN },
          },
        ),
      ),
    ).toBe('payload.access.serverIdentity')
    expect(fieldOf(() => buildAccessResponsePayload({ nonce: NONCE } as never, null))).toBe(
      'payload.access.serverIdentity',
    )
    expect(
      fieldOf(() => buildAccessRequestPayload({ token: TOKEN, timestamp: 'now', nonce: NONCE }, 1)),
    ).toBe('payload.access.timestamp')
  })
})
