import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { InvalidMessageError } from '../errors.js'
import type { JsonValue } from '../schema.js'
import { MAX_JSON_DEPTH, objectMembers, readJson, spanAt } from './spans.js'

const whole = (text: string) => [0, text.length] as const
const read = (text: string, options?: Parameters<typeof readJson>[3]) =>
  readJson(text, whole(text), 'm', options)

/** The error `run` throws, which must be an InvalidMessageError. */
function refusal(run: () => unknown): { field: string; details: string } {
  try {
    run()
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidMessageError)
    const { field, details } = (error as InvalidMessageError).context
    return { field: String(field), details: String(details) }
  }
  throw new Error('expected a refusal')
}

describe('objectMembers', () => {
  it('reports the exact span and the value of each member, whitespace and escapes included', () => {
    const text = ' { "payload" : {"a": "x\\"}" , "b":[1,{"c":2}]} , "signature":"0I" } '
    const members = objectMembers(text, whole(text), 'message')
    const [ps, pe] = members.get('payload')!.span
    expect(text.slice(ps, pe)).toBe('{"a": "x\\"}" , "b":[1,{"c":2}]}')
    expect(members.get('payload')!.value).toEqual({ a: 'x"}', b: [1, { c: 2 }] })
    const [ss, se] = members.get('signature')!.span
    expect(text.slice(ss, se)).toBe('"0I"')
  })

  it('decodes escaped keys', () => {
    const text = '{"pay\\u006coad":1}'
    expect([...objectMembers(text, whole(text), 'm').keys()]).toEqual(['payload'])
  })

  it.each([
    ['duplicate key', '{"payload":1,"payload":2}'],
    ['duplicate key spelled with an escape', '{"payload":1,"p\\u0061yload":2}'],
    ['not an object', '[1,2]'],
    ['trailing characters', '{"a":1} x'],
    ['missing colon', '{"a" 1}'],
    ['missing value', '{"a":}'],
    ['unterminated string', '{"a":"abc}'],
    ['unterminated object', '{"a":{"b":1}'],
    ['control character', '{"a":"\u0001"}'],
    ['bad separator', '{"a":1;"b":2}'],
    ['bad literal', '{"a":tru}'],
    ['empty', ''],
  ])('rejects %s with BA101', (_name, text) => {
    expect(() => objectMembers(text, whole(text), 'message')).toThrow(InvalidMessageError)
  })

  it('finds nested spans by path', () => {
    const text = '{"request":{"link":{"payload":{"x":1},"signature":"s"}}}'
    const [s, e] = spanAt(text, whole(text), ['request', 'link'], 'payload')
    expect(text.slice(s, e)).toBe('{"payload":{"x":1},"signature":"s"}')
    expect(() => spanAt(text, whole(text), ['request', 'nope'], 'payload')).toThrow(
      /payload\.request\.nope/,
    )
  })

  it('agrees with JSON.parse on the members of any JSON object', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue()), fc.boolean(), (value, pretty) => {
        const text = JSON.stringify(value, null, pretty ? 2 : undefined)
        const members = objectMembers(text, whole(text), 'm')
        expect([...members.keys()]).toEqual(Object.keys(value))
        for (const [key, { span, value: read }] of members) {
          const expected: unknown = JSON.parse(JSON.stringify(value[key]))
          expect(JSON.parse(text.slice(...span))).toEqual(expected)
          expect(read).toEqual(expected)
        }
      }),
    )
  })
})

/** A JSON text as a tree, where an object may repeat a key and a key may be written escaped. */
type Tree =
  | { readonly leaf: JsonValue }
  | { readonly items: readonly Tree[] }
  | { readonly entries: readonly (readonly [key: string, escaped: boolean, value: Tree])[] }

const leaf = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.string(),
)
// Few distinct keys, so that duplicates are common.
const key = fc.oneof(fc.constantFrom('a', 'b', 'nonce', '__proto__', ''), fc.string())
const { tree } = fc.letrec<{ tree: Tree }>((tie) => ({
  tree: fc.oneof(
    { depthSize: 'small' },
    leaf.map((value) => ({ leaf: value })),
    fc.array(tie('tree'), { maxLength: 4 }).map((items) => ({ items })),
    fc
      .array(fc.tuple(key, fc.boolean(), tie('tree')), { maxLength: 4 })
      .map((entries) => ({ entries })),
  ),
}))

function escapeAll(text: string): string {
  let out = '"'
  for (let i = 0; i < text.length; i++) {
    out += `\\u${text.charCodeAt(i).toString(16).padStart(4, '0')}`
  }
  return `${out}"`
}

function serialize(node: Tree): string {
  if ('leaf' in node) return JSON.stringify(node.leaf)
  if ('items' in node) return `[${node.items.map(serialize).join(',')}]`
  const members = node.entries.map(
    ([name, escaped, value]) =>
      `${escaped ? escapeAll(name) : JSON.stringify(name)}:${serialize(value)}`,
  )
  return `{${members.join(',')}}`
}

function hasDuplicate(node: Tree): boolean {
  if ('leaf' in node) return false
  if ('items' in node) return node.items.some(hasDuplicate)
  const names = node.entries.map(([name]) => name)
  return (
    new Set(names).size !== names.length || node.entries.some(([, , value]) => hasDuplicate(value))
  )
}

describe('readJson', () => {
  it('refuses a duplicate key at any depth, and otherwise reads exactly what JSON.parse reads', () => {
    fc.assert(
      fc.property(tree, (node) => {
        const text = serialize(node)
        if (hasDuplicate(node)) {
          expect(refusal(() => read(text)).details).toBe('duplicate key')
        } else {
          expect(read(text)).toEqual(JSON.parse(text))
        }
      }),
      { numRuns: 2000 },
    )
  })

  it('reads any JSON value as JSON.parse does, whatever the whitespace', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.constantFrom(undefined, 1, '\t', '\r\n '), (value, space) => {
        const text = JSON.stringify(value, null, space)
        expect(read(text)).toEqual(JSON.parse(text))
        expect(read(` ${text}\n`)).toEqual(JSON.parse(text))
      }),
    )
  })

  it('refuses, with our typed error only, every text JSON.parse refuses', () => {
    const unit = fc.constantFrom(...'{}[]",:0123456789-+.eE tfrulnas\\u\n'.split(''))
    fc.assert(
      fc.property(fc.string({ unit, maxLength: 24 }), (text) => {
        let expected: unknown
        let valid = true
        try {
          expected = JSON.parse(text)
        } catch {
          valid = false
        }
        let actual: unknown
        try {
          actual = read(text)
        } catch (error) {
          expect(error).toBeInstanceOf(InvalidMessageError)
          return
        }
        expect(valid).toBe(true)
        expect(actual).toEqual(expected)
      }),
      { numRuns: 5000 },
    )
  })

  it('never throws anything but InvalidMessageError on arbitrary text', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (text) => {
        try {
          read(text)
        } catch (error) {
          expect(error).toBeInstanceOf(InvalidMessageError)
        }
      }),
      { numRuns: 500 },
    )
  })

  it('names the path of the duplicate key', () => {
    expect(refusal(() => read('{"a":[0,{"b":1,"b":2}]}'))).toEqual({
      field: 'm.a[1].b',
      details: 'duplicate key',
    })
    expect(refusal(() => read('{"x":{"odd key":1,"odd key":2}}')).field).toBe('m.x["odd key"]')
    // Long keys are shortened in the path, identifiers or not.
    const long = `${'k'.repeat(60)} and more`
    expect(refusal(() => read(`{"${long}":1,"${long}":2}`)).field).toBe(
      `m[${JSON.stringify(`${long.slice(0, 64)}…`)}]`,
    )
    const identifier = 'k'.repeat(70)
    expect(refusal(() => read(`{"${identifier}":1,"${identifier}":2}`)).field).toBe(
      `m[${JSON.stringify(`${identifier.slice(0, 64)}…`)}]`,
    )
  })

  it('keeps __proto__ as an own member, as JSON.parse does', () => {
    const value = read('{"__proto__":{"polluted":true}}') as Record<string, unknown>
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype)
    expect(Object.hasOwn(value, '__proto__')).toBe(true)
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined()
    expect(refusal(() => read('{"__proto__":1,"__proto__":2}')).details).toBe('duplicate key')
  })

  it('refuses lone surrogates written raw, and accepts them escaped as JSON.parse does', () => {
    expect(refusal(() => read('"a\ud800b"')).details).toMatch(/lone surrogate/)
    expect(refusal(() => read('"\udc00"')).details).toMatch(/lone surrogate/)
    // A high surrogate as the last character of the text: there is no next one to pair with.
    expect(refusal(() => read('"\ud800')).details).toMatch(/lone surrogate/)
    expect(refusal(() => read('["\\n\ud800"]')).field).toBe('m[0]')
    expect(read('"\ud83d\ude00"')).toBe('😀')
    // A pair written raw after an escape (the escape-decoding loop has its own surrogate check).
    expect(read('"\\n\ud83d\ude00"')).toBe('\n😀')
    expect(refusal(() => read('"\\n\u0001"')).details).toMatch(/control character/)
    expect(read('"\\ud800"')).toBe('\ud800')
  })

  it(`allows ${MAX_JSON_DEPTH} levels of application data inside an envelope and payload`, () => {
    const nested = (n: number) => '['.repeat(n) + ']'.repeat(n)
    // The envelope and the payload enclose application data: two levels.
    expect(() => read(nested(MAX_JSON_DEPTH), { depth: 2 })).not.toThrow()
    expect(refusal(() => read(nested(MAX_JSON_DEPTH + 1), { depth: 2 })).details).toMatch(
      /nested deeper/,
    )
    // Deep enough to overflow a recursive reader's stack: refused at the limit instead.
    expect(refusal(() => read(nested(100_000))).details).toMatch(/nested deeper/)
    expect(refusal(() => read('{"a":'.repeat(100) + '1' + '}'.repeat(100))).details).toMatch(
      /nested deeper/,
    )
  })
})

/** Whether two number texts denote the same rational number (BigInt arithmetic, no doubles). */
function sameDecimal(a: string, b: string): boolean {
  const scaled = (text: string) => {
    const match = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/.exec(text)!
    const [, sign = '', whole = '', fraction = '', exponent = '0'] = match
    return {
      mantissa: BigInt(`${sign}${whole}${fraction}`),
      exponent: Number(exponent) - fraction.length,
    }
  }
  const x = scaled(a)
  const y = scaled(b)
  const shift = Math.min(x.exponent, y.exponent)
  return (
    x.mantissa * 10n ** BigInt(x.exponent - shift) ===
    y.mantissa * 10n ** BigInt(y.exponent - shift)
  )
}

describe('numbers', () => {
  it('accepts every finite double as JavaScript writes it', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (value) => {
        const text = JSON.stringify(value)
        expect(read(text)).toBe(value === 0 ? 0 : value)
      }),
    )
  })

  it('accepts an integer exactly when the double it parses to prints as the same integer', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }), (value) => {
        const text = value.toString()
        const roundTrips = String(Number(text)) === text
        if (value >= -(2n ** 53n) && value <= 2n ** 53n) expect(roundTrips).toBe(true)
        if (roundTrips) expect(read(text)).toBe(Number(text))
        else expect(refusal(() => read(text)).details).toMatch(/exactly/)
      }),
    )
  })

  it('accepts a decimal text exactly when the double it parses to prints as the same number', () => {
    const digits = fc.string({
      unit: fc.constantFrom(...'0123456789'),
      minLength: 1,
      maxLength: 20,
    })
    fc.assert(
      fc.property(
        fc.boolean(),
        fc.nat(99),
        digits,
        fc.option(fc.integer({ min: -400, max: 400 })),
        (negative, whole, fraction, exponent) => {
          const text = `${negative ? '-' : ''}${whole}.${fraction}${exponent === null ? '' : `e${exponent}`}`
          const value = Number(text)
          if (Number.isFinite(value) && sameDecimal(text, String(value))) {
            expect(read(text)).toBe(value)
          } else {
            expect(refusal(() => read(text)).details).toMatch(/exactly/)
          }
        },
      ),
      { numRuns: 2000 },
    )
  })

  it.each([
    ['2^53 + 1', '9007199254740993', false],
    ['2^53', '9007199254740992', true],
    // 2^60 is a double, but it prints as 1152921504606847000: a reader that re-serializes it
    // would send other digits than were signed.
    ['2^60 written out', '1152921504606846976', false],
    ['2^60 as JavaScript writes it', '1152921504606847000', true],
    ['a decimal that rounds', '0.30000000000000001', false],
    ['overflow', '1e400', false],
    ['underflow', '1e-400', false],
    ['a trailing zero', '1.0', true],
    ['an exponent', '1e2', true],
    ['negative zero', '-0', true],
    ['zero with a huge exponent', '0e999999', true],
    ['a long but exact integer', '1000000000000000000000', true],
  ])('%s: %s', (_name, text, accepted) => {
    if (accepted) expect(read(text)).toBe(Number(text))
    else expect(refusal(() => read(`{"amount":${text}}`)).field).toBe('m.amount')
  })

  it('reads imprecise numbers when the caller keeps the raw text', () => {
    expect(read('[9007199254740993, 1e400]', { exactNumbers: false })).toEqual([
      9007199254740992,
      Infinity,
    ])
  })
})
