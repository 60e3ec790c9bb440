import { InvalidMessageError } from '../errors.js'
import type { Validator } from '../schema.js'

const CANONICAL_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/

/**
 * An instant in the one spelling `Date.prototype.toISOString` produces (UTC, milliseconds), so
 * that each instant has exactly one text and times compare as numbers.
 */
export const instant: Validator<string> = (value, field) => {
  if (typeof value !== 'string' || !CANONICAL_INSTANT.test(value) || !roundTrips(value)) {
    throw new InvalidMessageError(field, 'expected a UTC instant as YYYY-MM-DDTHH:MM:SS.sssZ')
  }
  return value
}

// Rejects calendar-invalid text such as February 30th, which Date either refuses or rolls over.
function roundTrips(text: string): boolean {
  const ms = Date.parse(text)
  return !Number.isNaN(ms) && new Date(ms).toISOString() === text
}

export function instantMs(text: string): number {
  return Date.parse(text)
}
