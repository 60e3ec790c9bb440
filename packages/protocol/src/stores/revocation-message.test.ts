import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  KEY_SET_NOTICE,
  decodeRevocation,
  deliverFeedMessage,
  encodeRevocation,
} from './revocation-message.js'

describe('revocation messages', () => {
  it('round-trip', () => {
    fc.assert(
      fc.property(fc.string(), fc.option(fc.string(), { nil: undefined }), (identity, device) => {
        const revocation = device === undefined ? { identity } : { identity, device }
        expect(decodeRevocation(encodeRevocation(revocation))).toEqual(revocation)
      }),
    )
  })

  it('are refused when they carry anything else', () => {
    for (const text of [
      '',
      'null',
      '[]',
      '{}',
      '{"identity":1}',
      '{"identity":"a","device":2}',
      '{"identity":"a","x":1}',
      'nope',
    ]) {
      expect(decodeRevocation(text)).toBeUndefined()
    }
    fc.assert(
      fc.property(fc.string(), (text) => {
        const decoded = decodeRevocation(text)
        if (decoded !== undefined) expect(typeof decoded.identity).toBe('string')
      }),
    )
  })
})

describe('feed messages', () => {
  const listener = () => {
    const calls: string[] = []
    return {
      calls,
      revoked: (revocation: { identity: string }) => calls.push(`revoked ${revocation.identity}`),
      reset: () => calls.push('reset'),
      keySetChanged: () => calls.push('key set'),
    }
  }

  it('go to the method they ask for', () => {
    const heard = listener()
    deliverFeedMessage(encodeRevocation({ identity: 'a' }), heard)
    deliverFeedMessage(KEY_SET_NOTICE, heard)
    deliverFeedMessage('{"keySet":"other"}', heard)
    deliverFeedMessage(undefined, heard)
    expect(heard.calls).toEqual(['revoked a', 'key set', 'reset', 'reset'])
  })

  it('leave a key set notice unheard by a listener that keeps no key set', () => {
    const { calls, revoked, reset } = listener()
    deliverFeedMessage(KEY_SET_NOTICE, { revoked, reset })
    expect(calls).toEqual([])
  })

  it('reset on anything that is neither a revocation nor the notice', () => {
    fc.assert(
      fc.property(fc.string(), (text) => {
        const heard = listener()
        deliverFeedMessage(text, heard)
        const [call] = heard.calls
        expect(heard.calls).toHaveLength(1)
        if (text === KEY_SET_NOTICE) expect(call).toBe('key set')
        else if (decodeRevocation(text) === undefined) expect(call).toBe('reset')
        else expect(call).toMatch(/^revoked /)
      }),
    )
  })
})
