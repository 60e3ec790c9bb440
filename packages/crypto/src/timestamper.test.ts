import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { Rfc3339Timestamper } from './timestamper.js'

const timestamper = new Rfc3339Timestamper()

describe('Rfc3339Timestamper', () => {
  it('parses the spec examples with 3 and 9 fractional digits', () => {
    expect(timestamper.parse('2025-10-10T07:00:29.422000000Z').toISOString()).toBe(
      '2025-10-10T07:00:29.422Z',
    )
    expect(timestamper.parse('2025-10-19T17:26:07.097Z').getTime()).toBe(
      Date.UTC(2025, 9, 19, 17, 26, 7, 97),
    )
  })

  it('accepts 0 to 9 fractional digits and truncates below the millisecond', () => {
    const cases: [string, string][] = [
      ['2025-01-02T03:04:05Z', '2025-01-02T03:04:05.000Z'],
      ['2025-01-02T03:04:05.1Z', '2025-01-02T03:04:05.100Z'],
      ['2025-01-02T03:04:05.12Z', '2025-01-02T03:04:05.120Z'],
      ['2025-01-02T03:04:05.123456Z', '2025-01-02T03:04:05.123Z'],
      ['2025-01-02T03:04:05.999999999Z', '2025-01-02T03:04:05.999Z'],
    ]
    for (const [text, iso] of cases) expect(timestamper.parse(text).toISOString()).toBe(iso)
  })

  it('applies numeric offsets', () => {
    expect(timestamper.parse('2025-01-01T02:30:00+02:30').toISOString()).toBe(
      '2025-01-01T00:00:00.000Z',
    )
    expect(timestamper.parse('2024-12-31T23:00:00.5-01:00').toISOString()).toBe(
      '2025-01-01T00:00:00.500Z',
    )
    expect(timestamper.parse('2025-01-01T00:00:00-00:00').toISOString()).toBe(
      '2025-01-01T00:00:00.000Z',
    )
  })

  it('handles leap years and the years 0000-0099 (which Date.UTC would map to 19xx)', () => {
    expect(timestamper.parse('2024-02-29T00:00:00Z').toISOString()).toBe('2024-02-29T00:00:00.000Z')
    expect(timestamper.parse('2000-02-29T00:00:00Z').getUTCDate()).toBe(29)
    expect(timestamper.parse('0001-01-01T00:00:00Z').getUTCFullYear()).toBe(1)
    expect(timestamper.format(timestamper.parse('0050-06-15T12:00:00Z'))).toBe(
      '0050-06-15T12:00:00.000Z',
    )
  })

  it('formats with milliseconds in UTC', () => {
    expect(timestamper.format(new Date(Date.UTC(2025, 9, 19, 17, 26, 7, 97)))).toBe(
      '2025-10-19T17:26:07.097Z',
    )
    expect(timestamper.format(new Date(0))).toBe('1970-01-01T00:00:00.000Z')
  })

  it('now() reads the injected clock', () => {
    const fixed = new Rfc3339Timestamper({ clock: () => 1_760_000_000_123 })
    expect(fixed.now().getTime()).toBe(1_760_000_000_123)
    expect(fixed.format(fixed.now())).toBe('2025-10-09T08:53:20.123Z')
    const before = Date.now()
    const now = timestamper.now().getTime()
    expect(now).toBeGreaterThanOrEqual(before)
    expect(now).toBeLessThanOrEqual(Date.now())
  })

  it('property: format then parse is the identity for instants in years 0000-9999', () => {
    fc.assert(
      fc.property(
        fc.date({
          min: new Date('0000-01-01T00:00:00.000Z'),
          max: new Date('9999-12-31T23:59:59.999Z'),
          noInvalidDate: true,
        }),
        (date) => {
          const text = timestamper.format(date)
          expect(text).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/)
          expect(timestamper.parse(text).getTime()).toBe(date.getTime())
        },
      ),
    )
  })

  it('property: every offset names the same instant as its UTC form', () => {
    fc.assert(
      fc.property(
        fc.date({
          min: new Date('1000-01-01Z'),
          max: new Date('9000-01-01Z'),
          noInvalidDate: true,
        }),
        fc.integer({ min: -(23 * 60 + 59), max: 23 * 60 + 59 }),
        (date, offset) => {
          const local = new Date(date.getTime() + offset * 60_000).toISOString().slice(0, -1)
          const abs = Math.abs(offset)
          const sign = offset < 0 ? '-' : '+'
          const suffix = `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`
          expect(timestamper.parse(local + suffix).getTime()).toBe(date.getTime())
        },
      ),
    )
  })

  it('rejects invalid calendar values and other syntax with InvalidMessageError', () => {
    const bad = [
      '2025-13-01T00:00:00Z',
      '2025-00-01T00:00:00Z',
      '2025-02-30T00:00:00Z',
      '2025-02-29T00:00:00Z',
      '1900-02-29T00:00:00Z',
      '2025-04-31T00:00:00Z',
      '2025-01-00T00:00:00Z',
      '2025-01-32T00:00:00Z',
      '2025-01-01T24:00:00Z',
      '2025-01-01T00:60:00Z',
      '2025-01-01T00:00:60Z',
      '2025-01-01T00:00:00+24:00',
      '2025-01-01T00:00:00+01:60',
      '2025-01-01T00:00:00.1234567890Z',
      '2025-01-01T00:00:00.Z',
      '2025-01-01T00:00:00',
      '2025-01-01t00:00:00z',
      '2025-01-01 00:00:00Z',
      '2025-01-01T00:00:00+0100',
      '2025-1-01T00:00:00Z',
      '+02025-01-01T00:00:00Z',
      ' 2025-01-01T00:00:00Z',
      '2025-01-01T00:00:00Z ',
      '2025-01-01T00:00:00Z\n',
      '２０２５-01-01T00:00:00Z',
      '2025-01-01',
      '',
      'now',
    ]
    for (const text of bad) {
      expect(() => timestamper.parse(text), text).toThrow(
        expect.objectContaining({
          code: 'BA101',
          context: expect.objectContaining({ field: 'timestamp' }),
        }),
      )
    }
  })

  it('names what was wrong with a timestamp', () => {
    const details = (run: () => unknown) => {
      try {
        run()
        return 'accepted'
      } catch (error) {
        return (error as { message?: unknown }).message
      }
    }
    const parsed = {
      '2025-04-31T00:00:00Z': 'day out of range',
      '2025-06-31T00:00:00Z': 'day out of range',
      '2025-09-31T00:00:00Z': 'day out of range',
      '2025-11-31T00:00:00Z': 'day out of range',
      '2025-02-29T00:00:00Z': 'day out of range',
      '2025-13-01T00:00:00Z': 'month out of range',
      '2025-01-01T00:00:60Z': 'time out of range',
      '2025-01-01T00:00:00-00:60': 'offset out of range',
      '2025-01-01 00:00:00Z': 'not an RFC 3339 date-time',
    }
    for (const [text, expected] of Object.entries(parsed)) {
      expect(
        details(() => timestamper.parse(text)),
        text,
      ).toBe(`Invalid message: timestamp: ${expected}`)
    }
    for (const text of ['2025-01-31', '2025-03-31', '2025-05-31', '2025-07-31', '2025-08-31']) {
      expect(timestamper.parse(`${text}T00:00:00Z`).toISOString()).toBe(`${text}T00:00:00.000Z`)
    }
    expect(details(() => timestamper.parse(42 as never))).toBe(
      'Invalid message: timestamp: expected a string',
    )
    expect(details(() => timestamper.format(new Date(Number.NaN)))).toBe(
      'Invalid message: timestamp: expected a valid Date',
    )
    expect(details(() => timestamper.format(new Date(Date.UTC(10_000, 0, 1))))).toBe(
      'Invalid message: timestamp: year outside 0000-9999',
    )
    expect(details(() => new Rfc3339Timestamper(null as never))).toBe(
      'Invalid configuration: options: expected an object',
    )
    expect(details(() => new Rfc3339Timestamper({ clock: 42 as never }))).toBe(
      'Invalid configuration: clock: expected a function returning milliseconds',
    )
    expect(details(() => new Rfc3339Timestamper({ clock: () => Number.NaN }).now())).toBe(
      'Invalid configuration: clock: returned a value that is not a valid instant',
    )
  })

  it('rejects non-strings in parse and non-dates in format with InvalidMessageError', () => {
    for (const bad of [null, undefined, 42, {}, new Date(0)]) {
      expect(() => timestamper.parse(bad as string)).toThrow(
        expect.objectContaining({ code: 'BA101' }),
      )
    }
    for (const bad of [
      null,
      undefined,
      0,
      '2025-01-01T00:00:00Z',
      {},
      new Date(Number.NaN),
      new Date(Date.UTC(10_000, 0, 1)),
      new Date(Date.UTC(-1, 0, 1)),
    ]) {
      expect(() => timestamper.format(bad as Date)).toThrow(
        expect.objectContaining({ code: 'BA101' }),
      )
    }
  })

  it('rejects invalid options and clocks with ConfigurationError', () => {
    for (const options of [{ clock: 42 }, null, 'x']) {
      expect(() => new Rfc3339Timestamper(options as never)).toThrow(
        expect.objectContaining({ code: 'BA001' }),
      )
    }
    for (const value of [Number.NaN, Infinity, '123', 8.64e15 + 1]) {
      const broken = new Rfc3339Timestamper({ clock: () => value as number })
      expect(() => broken.now()).toThrow(expect.objectContaining({ code: 'BA001' }))
    }
  })
})
