import { describe, expect, it } from 'vitest'
import { digest, nonce, object, publicKey, signature, timestamp, token } from './schema.js'

/** The message of what `run` throws, or 'accepted'. */
function refusal(run: () => unknown): unknown {
  try {
    run()
    return 'accepted'
  } catch (error) {
    return (error as { message?: unknown }).message
  }
}

const SIGNATURE = `0I${'A'.repeat(86)}`

describe('CESR validators', () => {
  it('say which primitive they expected and what they got', () => {
    const cases: [typeof digest, string][] = [
      [digest, 'a digest (E…)'],
      [publicKey, 'a P-256 public key (1AAI…)'],
      [signature, 'a P-256 signature (0I…)'],
      [nonce, 'a 128-bit nonce (0A…)'],
    ]
    for (const [validate, name] of cases) {
      for (const [value, got] of [
        [null, 'null'],
        [[], 'an array'],
        [{}, 'a object'],
        ['x', 'a string'],
        [1, 'a number'],
      ] as const) {
        expect(refusal(() => validate(value, 'f'))).toBe(
          `Invalid message: f: expected ${name}, got ${got}`,
        )
      }
    }
    expect(signature(SIGNATURE, 'f')).toBe(SIGNATURE)
    expect(nonce(`0A${'A'.repeat(22)}`, 'f')).toBe(`0A${'A'.repeat(22)}`)
  })
})

describe('timestamp', () => {
  it('accepts RFC 3339 date-times with Z or an offset and 0 to 9 fractional digits', () => {
    for (const text of [
      '2025-10-19T17:26:07Z',
      '2025-10-19T17:26:07.0Z',
      '2025-10-19T17:26:07.097Z',
      '2025-10-19T17:26:07.123456789Z',
      '2025-10-19T17:26:07+02:00',
      '2025-10-19T17:26:07.5-11:30',
    ]) {
      expect(timestamp(text, 't'), text).toBe(text)
    }
  })

  it('refuses anything else with one message', () => {
    for (const value of [
      '2025-10-19T17:26:07',
      '2025-10-19T17:26:07z',
      '2025-10-19 17:26:07Z',
      '2025-10-19t17:26:07Z',
      '2025-10-19T17:26:07.Z',
      '2025-10-19T17:26:07.1234567890Z',
      '2025-10-19T17:26:07+0200',
      '2025-10-19T17:26:07+02',
      '2025-10-19T17:26:07*02:00',
      '202-10-19T17:26:07Z',
      '20251-10-19T17:26:07Z',
      '2025-1-19T17:26:07Z',
      '2025-10-1T17:26:07Z',
      '2025-10-19T1:26:07Z',
      '2025-10-19T17:2:07Z',
      '2025-10-19T17:26:7Z',
      '2025/10/19T17:26:07Z',
      '2025-10-19T17-26-07Z',
      'x2025-10-19T17:26:07Z',
      '2025-10-19T17:26:07Zx',
      '2025-10-19T17:26:07+02:00x',
      'a025-10-19T17:26:07Z',
      '2025-10-19T17:26:07.a Z',
      '2025-10-19T17:26:07+a2:00',
      '',
      null,
      1,
      // Values whose string form is a timestamp are still not strings.
      ['2025-10-19T17:26:07Z'],
      { toString: () => '2025-10-19T17:26:07Z' },
    ]) {
      expect(
        refusal(() => timestamp(value, 't')),
        String(value),
      ).toBe('Invalid message: t: expected an RFC 3339 timestamp')
    }
  })
})

describe('token', () => {
  it('is an 0I signature followed by at least one base64url character', () => {
    for (const body of ['A', 'H4sI', 'az09-_'])
      expect(token(SIGNATURE + body, 't')).toBe(SIGNATURE + body)
    for (const value of [
      SIGNATURE,
      SIGNATURE.slice(0, -1),
      `${SIGNATURE}H4s=`,
      `${SIGNATURE}H4+/`,
      `${SIGNATURE} `,
      `${SIGNATURE}H4s.`,
      `${SIGNATURE}=H4sI`,
      `${SIGNATURE} H4sI`,
      `0J${'A'.repeat(86)}H4sI`,
      `${SIGNATURE.slice(0, -1)}!H4sI`,
      `${'A'.repeat(88)}H4sI`,
      null,
      88,
    ]) {
      expect(
        refusal(() => token(value, 't')),
        String(value),
      ).toBe('Invalid message: t: expected an access token')
    }
  })
})

describe('object', () => {
  const point = object({ x: digest, y: digest })
  const E = `E${'A'.repeat(43)}`

  it('names the unexpected or missing field and refuses non-objects', () => {
    expect(refusal(() => point({ x: E, y: E, z: E }, 'p'))).toBe(
      'Invalid message: p.z: unexpected field',
    )
    expect(refusal(() => point({ x: E }, 'p'))).toBe('Invalid message: p.y: missing')
    expect(refusal(() => point([], 'p'))).toBe(
      'Invalid message: p: expected an object, got an array',
    )
    expect(refusal(() => point(null, 'p'))).toBe('Invalid message: p: expected an object, got null')
    expect(refusal(() => point(() => ({ x: E, y: E }), 'p'))).toBe(
      'Invalid message: p: expected an object, got a function',
    )
    expect(refusal(() => point({ x: E, y: 1 }, 'p'))).toBe(
      'Invalid message: p.y: expected a digest (E…), got a number',
    )
  })

  it('rebuilds the object in the shape order', () => {
    expect(Object.keys(point({ y: E, x: E }, 'p'))).toEqual(['x', 'y'])
  })
})
