import { ConfigurationError, InvalidMessageError } from '@better-auth/protocol'
import type { Timestamper } from '@better-auth/protocol'

export interface Rfc3339TimestamperOptions {
  /** Milliseconds since the Unix epoch. Defaults to `Date.now`; inject a fixed clock in tests. */
  clock?: () => number
}

// RFC 3339 `date-time` with an upper-case T and Z, 0 to 9 fractional digits and a numeric offset.
const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:(Z)|([+-])(\d{2}):(\d{2}))$/

const MS_PER_MINUTE = 60_000

function invalid(details: string): InvalidMessageError {
  return new InvalidMessageError('timestamp', details)
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) {
    const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0
    return leap ? 29 : 28
  }
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31
}

/** Milliseconds since the epoch of a UTC calendar instant. */
function utcMillis(
  year: number,
  month: number,
  day: number,
  h: number,
  m: number,
  s: number,
  ms: number,
): number {
  // Date.UTC is the fast path but maps years 0–99 to 19xx; those take the setter route.
  if (year >= 100) return Date.UTC(year, month - 1, day, h, m, s, ms)
  const date = new Date(0)
  date.setUTCFullYear(year, month - 1, day)
  date.setUTCHours(h, m, s, ms)
  return date.getTime()
}

/**
 * RFC 3339 timestamps in UTC. `format` always writes milliseconds (`2025-10-19T17:26:07.097Z`).
 * `parse` accepts 0 to 9 fractional digits and `Z` or `±HH:MM` offsets; digits beyond the
 * millisecond are truncated because Date has millisecond precision, so
 * `2025-10-10T07:00:29.422999999Z` parses to …29.422. Leap seconds (`:60`) are rejected: Date
 * cannot represent them and no implementation of the protocol emits them.
 */
export class Rfc3339Timestamper implements Timestamper {
  readonly #clock: () => number

  constructor(options: Rfc3339TimestamperOptions = {}) {
    if (typeof options !== 'object' || options === null) {
      throw new ConfigurationError('options', 'expected an object')
    }
    const { clock = Date.now } = options
    if (typeof clock !== 'function') {
      throw new ConfigurationError('clock', 'expected a function returning milliseconds')
    }
    this.#clock = clock
  }

  /** The clock's instant; throws ConfigurationError when the clock returns a non-finite value. */
  now(): Date {
    const millis = this.#clock()
    const date = typeof millis === 'number' ? new Date(millis) : new Date(Number.NaN)
    if (Number.isNaN(date.getTime())) {
      throw new ConfigurationError('clock', 'returned a value that is not a valid instant')
    }
    return date
  }

  /**
   * `YYYY-MM-DDTHH:MM:SS.sssZ`. Throws InvalidMessageError for an invalid Date or one outside the
   * years 0000–9999, which RFC 3339 cannot express.
   */
  format(instant: Date): string {
    if (!(instant instanceof Date) || Number.isNaN(instant.getTime())) {
      throw invalid('expected a valid Date')
    }
    const year = instant.getUTCFullYear()
    if (year < 0 || year > 9999) throw invalid('year outside 0000-9999')
    // toISOString writes exactly this format for years 0000–9999.
    return instant.toISOString()
  }

  parse(text: string): Date {
    if (typeof text !== 'string') throw invalid('expected a string')
    const match = RFC3339.exec(text)
    if (match === null) throw invalid('not an RFC 3339 date-time')
    const [, y, mo, d, h, mi, s, fraction = '', zulu, sign, offsetH, offsetM] = match
    const year = Number(y)
    const month = Number(mo)
    const day = Number(d)
    const hour = Number(h)
    const minute = Number(mi)
    const second = Number(s)
    if (month < 1 || month > 12) throw invalid('month out of range')
    if (day < 1 || day > daysInMonth(year, month)) throw invalid('day out of range')
    if (hour > 23 || minute > 59 || second > 59) throw invalid('time out of range')
    let offsetMinutes = 0
    if (zulu === undefined) {
      const oh = Number(offsetH)
      const om = Number(offsetM)
      if (oh > 23 || om > 59) throw invalid('offset out of range')
      offsetMinutes = (sign === '-' ? -1 : 1) * (oh * 60 + om)
    }
    // Truncate to milliseconds: pad to 3 digits, drop the rest.
    const millis = Number(fraction.padEnd(3, '0').slice(0, 3))
    const local = utcMillis(year, month, day, hour, minute, second, millis)
    return new Date(local - offsetMinutes * MS_PER_MINUTE)
  }
}
