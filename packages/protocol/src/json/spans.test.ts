import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { InvalidMessageError } from '../errors.js'
import { objectMembers, spanAt } from './spans.js'

const whole = (text: string) => [0, text.length] as const

describe('objectMembers', () => {
  it('reports the exact span of each member, whitespace and escapes included', () => {
    const text = ' { "payload" : {"a": "x\\"}" , "b":[1,{"c":2}]} , "signature":"0I" } '
    const members = objectMembers(text, whole(text), 'message')
    const [ps, pe] = members.get('payload')!
    expect(text.slice(ps, pe)).toBe('{"a": "x\\"}" , "b":[1,{"c":2}]}')
    const [ss, se] = members.get('signature')!
    expect(text.slice(ss, se)).toBe('"0I"')
  })

  it('decodes escaped keys', () => {
    const text = '{"pay\\u006coad":1}'
    expect([...objectMembers(text, whole(text), 'm').keys()]).toEqual(['payload'])
  })

  it.each([
    ['duplicate key', '{"payload":1,"payload":2}'],
    ['not an object', '[1,2]'],
    ['trailing characters', '{"a":1} x'],
    ['missing colon', '{"a" 1}'],
    ['missing value', '{"a":}'],
    ['unterminated string', '{"a":"abc}'],
    ['unterminated object', '{"a":{"b":1}'],
    ['control character', '{"a":"\u0001"}'],
    ['bad separator', '{"a":1;"b":2}'],
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
        for (const [key, [s, e]] of members) {
          expect(JSON.parse(text.slice(s, e))).toEqual(JSON.parse(JSON.stringify(value[key])))
        }
      }),
    )
  })

  it('never throws anything but InvalidMessageError on arbitrary text', () => {
    fc.assert(
      fc.property(fc.string(), (text) => {
        try {
          objectMembers(text, whole(text), 'm')
        } catch (error) {
          expect(error).toBeInstanceOf(InvalidMessageError)
        }
      }),
      { numRuns: 2000 },
    )
  })
})
